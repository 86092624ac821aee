// Package localdeploy makes on a local cloud (internal/localcloud: moto, the real Lambda
// bootstraps, the router) what the CDK stack (infra/) makes on AWS: the bucket, the five
// tables, both state machines with their function ARNs substituted, every function with the
// environment the stack gives it, the lookup function's reserved concurrency, and the
// upload and import rules. `go run ./cmd/localcloud` and the integration suite both deploy
// through it, so what people try by hand is what the tests prove.
package localdeploy

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/dynamostore"
	"github.com/leadflow/attom-batch/internal/localcloud"
	"github.com/leadflow/attom-batch/internal/s3blob"
	"github.com/leadflow/attom-batch/statemachine"
)

// Stack names what is deployed. Region and AccountID are those the cloud puts in ARNs.
type Stack struct {
	Bucket       string
	TablePrefix  string
	PipelineName string
	LookupName   string
	Region       string
	AccountID    string
}

// Default is the stack `go run ./cmd/localcloud` deploys.
func Default() Stack {
	return Stack{
		Bucket:       "attom-batch-local",
		TablePrefix:  "attom-batch-local-",
		PipelineName: "attom-batch-pipeline",
		LookupName:   "attom-batch-lookup",
		Region:       localcloud.DefaultRegion,
		AccountID:    localcloud.AccountID,
	}
}

// Incoming and Imports are the prefixes the stack's rules watch (infra/workflows.go,
// infra/imports.go): a CSV created under incoming/ starts a pipeline through the start
// function; one under imports/<source>/ runs the import function.
const (
	Incoming = batch.IncomingPrefix
	Imports  = batch.ImportsPrefix
)

// ruleFunctions are the functions no state machine calls: rules invoke them.
var ruleFunctions = []string{"start", "import", "refresh"}

// Functions lists every function the stack runs.
func Functions() []string {
	names := slices.Collect(maps.Keys(statemachine.FunctionPlaceholders))
	return slices.Sorted(slices.Values(append(names, ruleFunctions...)))
}

// lookupConcurrency is the lookup function's reserved concurrency, as the stack's default
// lookupConcurrency context value sets it (infra/settings.go): one lookup at a time per
// ATTOM key, whatever the number of jobs.
const lookupConcurrency = 1

// ReservedConcurrency is each function's reserved concurrency in the stack.
func ReservedConcurrency() map[string]int { return map[string]int{"lookupchunk": lookupConcurrency} }

// Tables names the five tables.
func (s Stack) Tables() dynamostore.Tables { return dynamostore.PrefixedTables(s.TablePrefix) }

// StateMachineARN is the ARN a state machine of that name gets; the functions are told the
// ARNs before the machines exist.
func (s Stack) StateMachineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.Region, s.AccountID, name)
}

// PipelineARN and LookupARN are the two state machines' ARNs.
func (s Stack) PipelineARN() string { return s.StateMachineARN(s.PipelineName) }
func (s Stack) LookupARN() string   { return s.StateMachineARN(s.LookupName) }

// Rules are the stack's EventBridge rules on the bucket.
func (s Stack) Rules() []localcloud.ObjectRule {
	return []localcloud.ObjectRule{
		{Bucket: s.Bucket, Prefix: Incoming, Suffix: ".csv", Function: "start"},
		{Bucket: s.Bucket, Prefix: Imports, Suffix: ".csv", Function: "import"},
	}
}

// Env is what the stack gives every function to find its resources (infra/functions.go),
// and what the attom-batch CLI needs for --backend aws.
func (s Stack) Env() map[string]string {
	t := s.Tables()
	return map[string]string{
		"ATTOM_BATCH_BUCKET":                     s.Bucket,
		"ATTOM_BATCH_JOBS_TABLE":                 t.Jobs,
		"ATTOM_BATCH_PROPERTIES_TABLE":           t.Properties,
		"ATTOM_BATCH_LEADS_TABLE":                t.Leads,
		"ATTOM_BATCH_LOOKUPS_TABLE":              t.Lookups,
		"ATTOM_BATCH_BUDGET_TABLE":               t.Budget,
		"ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN":   s.LookupARN(),
		"ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN": s.PipelineARN(),
		"ATTOM_BATCH_MAP_CONCURRENCY":            strconv.Itoa(lookupConcurrency),
		// Job events go to the default bus, as the stack sets for the functions that emit them.
		"ATTOM_BATCH_EVENT_BUS": "default",
	}
}

// Options are the local cloud's options for the stack: every function's bootstrap, env
// with the stack's own environment over it, reserved concurrency and rules.
func (s Stack) Options(bootstraps map[string]string, env map[string]string, logDir string) localcloud.Options {
	all := maps.Clone(env)
	if all == nil {
		all = map[string]string{}
	}
	maps.Copy(all, s.Env())
	return localcloud.Options{
		Functions:           bootstraps,
		Env:                 all,
		LogDir:              logDir,
		ReservedConcurrency: ReservedConcurrency(),
		Rules:               s.Rules(),
	}
}

// Cloud is what Create needs of the cloud: the local cloud or another engine.
type Cloud interface {
	AWSConfig() aws.Config
	FunctionARN(name string) string
	RoleARN(name string) string
}

// Create makes the bucket, the tables and both state machines.
func (s Stack) Create(ctx context.Context, cloud Cloud) error {
	cfg := cloud.AWSConfig()
	if err := s3blob.CreateBucket(ctx, s3blob.NewClient(cfg), s.Bucket); err != nil {
		return err
	}
	if err := dynamostore.CreateTables(ctx, dynamostore.NewClient(cfg), s.Tables()); err != nil {
		return err
	}
	client := sfn.NewFromConfig(cfg)
	for _, m := range []struct {
		name, arn  string
		definition []byte
	}{
		{s.LookupName, s.LookupARN(), statemachine.LookupDefinition},
		{s.PipelineName, s.PipelineARN(), statemachine.PipelineDefinition},
	} {
		definition, err := Substitute(m.definition, cloud.FunctionARN)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		out, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String(m.name),
			Definition: aws.String(definition),
			RoleArn:    aws.String(cloud.RoleARN("attom-batch-states")),
		})
		if err != nil {
			return fmt.Errorf("create state machine %s: %w", m.name, err)
		}
		if got := aws.ToString(out.StateMachineArn); got != m.arn {
			return fmt.Errorf("state machine %s has ARN %s; the functions were told %s", m.name, got, m.arn)
		}
	}
	return nil
}

// Substitute does what the CDK stack's DefinitionSubstitutions do.
func Substitute(definition []byte, functionARN func(string) string) (string, error) {
	out := string(definition)
	for name, placeholder := range statemachine.FunctionPlaceholders {
		out = strings.ReplaceAll(out, "${"+placeholder+"}", functionARN(name))
	}
	if i := strings.Index(out, "${"); i >= 0 {
		return "", fmt.Errorf("placeholder left unsubstituted at byte %d: %.40s", i, out[i:])
	}
	return out, nil
}

// Bootstraps puts every function's bootstrap for this machine under dir, at
// dir/NAME/bootstrap (a path of its own, so the processes running it are easy to find).
// With prebuilt, each is a copy of build/lambdas-host/NAME/bootstrap when `make
// lambdas-host` made one (the integration suite: make builds them first); otherwise all are
// built now, in one go build (seconds with a warm build cache), so a hand-run cloud never
// runs stale code.
func Bootstraps(ctx context.Context, dir string, prebuilt bool) (map[string]string, error) {
	root, err := localcloud.ModuleRoot()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var build []string
	for _, name := range Functions() {
		out[name] = filepath.Join(dir, name, "bootstrap")
		src := filepath.Join(root, "build", "lambdas-host", name, "bootstrap")
		if _, err := os.Stat(src); err != nil || !prebuilt {
			build = append(build, name)
			continue
		}
		if err := copyExecutable(src, out[name]); err != nil {
			return nil, err
		}
	}
	return out, buildAll(ctx, root, dir, build)
}

// buildAll builds ./functions/NAME for each name into dir/NAME/bootstrap, as `make
// lambdas-host` does (no cgo, lambda.norpc).
func buildAll(ctx context.Context, root, dir string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	bin, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-o", bin + "/"}
	for _, name := range names {
		args = append(args, "./functions/"+name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	// Empty GOOS/GOARCH mean this machine, whatever the caller exported for a release build.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=", "GOARCH=")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the functions: %w\n%s", err, output)
	}
	for _, name := range names {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(bin, name), filepath.Join(dir, name, "bootstrap")); err != nil {
			return err
		}
	}
	return nil
}

func copyExecutable(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o755)
}
