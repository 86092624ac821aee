package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// findings returns the error or warning annotations of a stack whose text matches pattern.
func findings(t *testing.T, s *synthesized, level, pattern string) []string {
	t.Helper()
	var out []string
	check(t, "annotations "+level, func() {
		annotations := assertions.Annotations_FromStack(s.stack)
		msg := assertions.Match_StringLikeRegexp(jsii.String(pattern))
		found := annotations.FindError(jsii.String("*"), msg)
		if level == "warning" {
			found = annotations.FindWarning(jsii.String("*"), msg)
		}
		for _, m := range *found {
			out = append(out, *m.Id+": "+strings.SplitN(toString(m.Entry.Data), "\n", 2)[0])
		}
	})
	return out
}

func toString(v any) string {
	if s, ok := v.(*string); ok && s != nil {
		return *s
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// TestNoUnsuppressedNagFindings: every AwsSolutions finding is fixed or suppressed with a
// reason, so `cdk synth` (which exits 1 on nag errors) passes.
func TestNoUnsuppressedNagFindings(t *testing.T) {
	s := defaultSynth(t)
	for _, level := range []string{"error", "warning"} {
		for _, f := range findings(t, s, level, "AwsSolutions-.*") {
			t.Errorf("unsuppressed cdk-nag %s: %s", level, f)
		}
	}
	for _, f := range findings(t, s, "error", ".*") {
		t.Errorf("error annotation: %s", f)
	}
}

// TestNagSuppressionsHaveReasons guards the reasons themselves: cdk-nag wants 10+ characters,
// reviewers want a sentence.
func TestNagSuppressionsHaveReasons(t *testing.T) {
	for _, r := range []string{reasonBucketGrants, reasonTableIndexes, reasonLookupExecutions, reasonStatesServiceWildcard,
		reasonPutMetricData, reasonNotificationsHandler, reasonDLQ} {
		if len(r) < 60 {
			t.Errorf("reason too short to explain anything: %q", r)
		}
	}
}

// TestNagCatchesAnUnsuppressedWildcard proves the nag test can fail: a role with a wildcard
// no suppression covers must show up as an AwsSolutions-IAM5 error.
func TestNagCatchesAnUnsuppressedWildcard(t *testing.T) {
	s := synth(t, synthOptions{mutate: func(stack awscdk.Stack) {
		role := awsiam.NewRole(stack, jsii.String("TooBroad"), &awsiam.RoleProps{
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		})
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("s3:*"), Resources: jsii.Strings("*"),
		}))
	}})
	got := strings.Join(findings(t, s, "error", "AwsSolutions-IAM5.*"), "\n")
	if !strings.Contains(got, "TooBroad") {
		t.Errorf("an s3:* on * grant produced no IAM5 finding on TooBroad; findings: %q", got)
	}
}

// TestDefinitionMismatchFailsSynth: a placeholder the stack does not substitute is a synth
// error (the CLI stops), a missing function placeholder too.
func TestDefinitionMismatchFailsSynth(t *testing.T) {
	defs, err := LoadDefinitions("testdata")
	if err != nil {
		t.Fatal(err)
	}
	defs.Pipeline = strings.Replace(defs.Pipeline, "${PollFunctionArn}", "${PollFnArn}", 1)
	s := synth(t, synthOptions{definitions: &defs})
	got := strings.Join(findings(t, s, "error", ".*"+PipelineDefinitionFile+".*"), "\n")
	if !strings.Contains(got, "PollFnArn") {
		t.Errorf("want a synth error naming PollFnArn, got %q", got)
	}
	warnings := strings.Join(findings(t, s, "warning", ".*never referenced.*"), "\n")
	if !strings.Contains(warnings, "PollFunctionArn") {
		t.Errorf("want a warning naming the unused PollFunctionArn, got %q", warnings)
	}
}

// TestRealDefinitionsSynthesize builds the stack from statemachine/*.asl.json, as `cdk
// synth` does, once they exist.
func TestRealDefinitionsSynthesize(t *testing.T) {
	dir := filepath.Join("..", "statemachine")
	if _, err := os.Stat(filepath.Join(dir, PipelineDefinitionFile)); os.IsNotExist(err) {
		t.Skipf("%s does not exist yet", filepath.Join(dir, PipelineDefinitionFile))
	}
	s := synth(t, synthOptions{context: map[string]any{CtxStateMachineDir: dir}})
	for _, f := range findings(t, s, "error", ".*") {
		t.Errorf("error annotation: %s", f)
	}
	for _, f := range findings(t, s, "warning", ".*") {
		t.Errorf("warning annotation: %s", f)
	}
}
