package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestMain closes the jsii kernel once, after every test: closing it per test would restart
// Node for each one.
func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "attom-batch-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testRoot = root
	code := m.Run()
	jsii.Close()
	os.RemoveAll(root)
	os.Exit(code)
}

// testRoot holds the dummy bootstraps and cloud assemblies of every test stack. It outlives
// single tests because the shared default stack may synthesize again (annotations).
var testRoot string

// tempDir makes a directory under testRoot.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(testRoot, "")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// check runs one assertions call. A failed assertions check panics (the jsii error crosses
// into Go as a panic), which would kill the whole test binary; this turns it into a test
// failure naming what was checked.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// cdkJSONContext is the context of the repo's cdk.json (feature flags): NewApp(nil) in a
// test ignores cdk.json, and the template must be the one the CLI synthesizes.
func cdkJSONContext(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		t.Fatalf("read cdk.json: %v", err)
	}
	var file struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return file.Context
}

// dummyLambdaDir creates <dir>/<name>/bootstrap for every function, so tests need no
// `make lambdas`.
func dummyLambdaDir(t *testing.T) string {
	t.Helper()
	dir := tempDir(t)
	for _, spec := range functionSpecs(DefaultSettings()) {
		if err := os.MkdirAll(filepath.Join(dir, spec.name), 0o755); err != nil {
			t.Fatal(err)
		}
		body := []byte("#!/bin/sh\necho dummy " + spec.name + "\n")
		if err := os.WriteFile(filepath.Join(dir, spec.name, "bootstrap"), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synthesized is one synthesized stack with its template, as Go data and as assertions.
type synthesized struct {
	stack    awscdk.Stack
	template assertions.Template
	json     map[string]any
	settings Settings
	defs     Definitions
}

// synthOptions vary a test stack: extra context and replacement definitions.
type synthOptions struct {
	context     map[string]any
	definitions *Definitions
	mutate      func(awscdk.Stack) // changes the stack before synthesis
}

// synth builds the stack the way main does (context -> settings, definitions, nag checks)
// with cdk.json's context, dummy bootstraps and the testdata definitions.
func synth(t *testing.T, opts synthOptions) *synthesized {
	t.Helper()
	ctx := cdkJSONContext(t)
	ctx[CtxLambdaDir] = dummyLambdaDir(t)
	ctx[CtxStateMachineDir] = "testdata"
	// As under the CLI (which sets it so it can report every error itself): error
	// annotations stay readable instead of aborting the synthesis.
	ctx["@aws-cdk/core:failSynthOnValidationErrors"] = false
	for k, v := range opts.context {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(tempDir(t))})
	settings, err := SettingsFromContext(app.Node())
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	defs, err := LoadDefinitions(settings.StateMachineDir)
	if err != nil {
		t.Fatalf("definitions: %v", err)
	}
	if opts.definitions != nil {
		defs = *opts.definitions
	}
	stack := NewAttomBatchStack(app, StackID, &AttomBatchStackProps{Settings: settings, Definitions: defs})
	if opts.mutate != nil {
		opts.mutate(stack)
	}
	ApplyNagChecks(app)
	out := &synthesized{stack: stack, settings: settings, defs: defs}
	check(t, "synthesize", func() {
		out.template = assertions.Template_FromStack(stack, nil)
		raw, err := json.Marshal(out.template.ToJSON())
		if err != nil {
			panic(err)
		}
		if err := json.Unmarshal(raw, &out.json); err != nil {
			panic(err)
		}
	})
	if out.json == nil {
		t.FailNow()
	}
	return out
}

var (
	defaultOnce  sync.Once
	defaultStack *synthesized
)

// defaultSynth is the stack with default settings, synthesized once for the tests that only
// read it (synthesis takes seconds).
func defaultSynth(t *testing.T) *synthesized {
	t.Helper()
	defaultOnce.Do(func() { defaultStack = synth(t, synthOptions{}) })
	if defaultStack == nil {
		t.Fatal("the default stack did not synthesize (see the first test's failure)")
	}
	return defaultStack
}

// resources returns the template's resources of one type, by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// logicalID finds the one resource of a type whose logical id starts with prefix.
func (s *synthesized) logicalID(t *testing.T, typ, prefix string) string {
	t.Helper()
	var found []string
	for id := range s.resources(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s with logical id %s*, got %v", typ, prefix, found)
	}
	return found[0]
}

// props returns a resource's Properties.
func (s *synthesized) props(t *testing.T, logicalID string) map[string]any {
	t.Helper()
	r, ok := s.json["Resources"].(map[string]any)[logicalID].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", logicalID)
	}
	p, _ := r["Properties"].(map[string]any)
	return p
}

// functionLogicalID is the logical id of one of the stack's functions.
func (s *synthesized) functionLogicalID(t *testing.T, name string) string {
	t.Helper()
	id := functionID(name)
	for logical := range s.resources("AWS::Lambda::Function") {
		// Logical ids are the construct id plus an 8-hex hash.
		if strings.HasPrefix(logical, id) && len(logical) == len(id)+8 {
			return logical
		}
	}
	t.Fatalf("no function %s", id)
	return ""
}

// policyStatements returns every statement of the IAM policies attached to a role.
func (s *synthesized) policyStatements(t *testing.T, roleLogicalID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range s.resources("AWS::IAM::Policy") {
		props := p["Properties"].(map[string]any)
		attached := false
		for _, r := range props["Roles"].([]any) {
			if ref, ok := r.(map[string]any)["Ref"]; ok && ref == roleLogicalID {
				attached = true
			}
		}
		if !attached {
			continue
		}
		for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

// referencedIDs lists the logical ids a JSON fragment refers to (Ref and Fn::GetAtt).
func referencedIDs(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["Ref"].(string); ok {
				out[ref] = true
			}
			if ga, ok := t["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
				out[fmt.Sprint(ga[0])] = true
			}
			for _, x := range t {
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// strs converts a JSON string or list of strings to []string.
func strs(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}
