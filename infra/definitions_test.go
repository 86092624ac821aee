package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPlaceholders(t *testing.T) {
	cases := []struct {
		name, definition string
		want             []string
	}{
		{"none", `{"States":{}}`, []string{}},
		{"one", `{"Resource":"${PrepareFunctionArn}"}`, []string{"PrepareFunctionArn"}},
		{"distinct and sorted", `"${B}" "${A}" "${B}" "x${C}y"`, []string{"A", "B", "C"}},
		{"JSONPath dollar is no placeholder", `{"Payload.$":"$","Key.$":"$.manifest_key"}`, []string{}},
		{"unterminated", `"${Open"`, []string{}},
		{"empty name", `"${}"`, []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Placeholders(tc.definition)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Placeholders(%q) = %q, want %q", tc.definition, got, tc.want)
			}
		})
	}
}

func TestCheckSubstitutions(t *testing.T) {
	def := `{"A":"${PrepareFunctionArn}","B":"${BucketName}","C":"${Typo}"}`
	m := CheckSubstitutions("x.asl.json", def, []string{"PrepareFunctionArn", "FailFunctionArn"}, []string{"BucketName", "Other"})
	if m == nil {
		t.Fatal("want a mismatch, got none")
	}
	if !reflect.DeepEqual(m.Missing, []string{"Typo"}) || !reflect.DeepEqual(m.Unused, []string{"FailFunctionArn"}) {
		t.Errorf("got missing %v unused %v, want [Typo] and [FailFunctionArn]", m.Missing, m.Unused)
	}
	if msg := m.Error(); !strings.Contains(msg, "x.asl.json") || !strings.Contains(msg, "Typo") {
		t.Errorf("error %q should name the file and the placeholder", msg)
	}
	if m := CheckSubstitutions("ok", `"${A}${B}"`, []string{"B", "A"}, nil); m != nil {
		t.Errorf("exact match reported %v", m)
	}
	if m := CheckSubstitutions("optional unused", `"${A}"`, []string{"A"}, []string{"BucketName"}); m != nil {
		t.Errorf("an unused optional substitution reported %v", m)
	}
}

// checkDefinitionDir asserts each definition in dir uses exactly the stack's substitutions.
func checkDefinitionDir(t *testing.T, dir string) {
	t.Helper()
	for file, functions := range map[string][]string{
		PipelineDefinitionFile: pipelineFunctions,
		LookupDefinitionFile:   lookupFunctions,
	} {
		path := filepath.Join(dir, file)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if m := CheckSubstitutions(path, string(raw), substitutionNames(functions), optionalSubstitutions); m != nil {
			t.Errorf("%v", m)
		}
	}
}

func TestTestdataDefinitionsUseEverySubstitution(t *testing.T) {
	checkDefinitionDir(t, "testdata")
}

// TestRealDefinitionsUseEverySubstitution guards the deployed workflows: CDK passes
// DefinitionSubstitutions to CloudFormation unchecked, so a renamed placeholder would only
// fail when an execution calls "${Name}".
func TestRealDefinitionsUseEverySubstitution(t *testing.T) {
	dir := filepath.Join("..", "statemachine")
	for _, file := range []string{PipelineDefinitionFile, LookupDefinitionFile} {
		if _, err := os.Stat(filepath.Join(dir, file)); os.IsNotExist(err) {
			t.Skipf("%s does not exist yet: the real definitions are checked once statemachine/*.asl.json is committed", filepath.Join(dir, file))
		}
	}
	checkDefinitionDir(t, dir)
	if _, err := LoadDefinitions(dir); err != nil {
		t.Errorf("LoadDefinitions: %v", err)
	}
}

func TestLoadDefinitionsNamesTheBadFile(t *testing.T) {
	dir := t.TempDir()
	must := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(PipelineDefinitionFile, `{"StartAt":"A",`)
	must(LookupDefinitionFile, `{"StartAt":"A"}`)
	_, err := LoadDefinitions(dir)
	if err == nil {
		t.Fatal("want an error for broken JSON and a missing States")
	}
	for _, want := range []string{PipelineDefinitionFile + ": not a JSON object", LookupDefinitionFile + ": no States field"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := LoadDefinitions(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing directory: got %v", err)
	}
}

func TestCheckBootstraps(t *testing.T) {
	s := DefaultSettings()
	s.LambdaDir = dummyLambdaDir(t)
	if err := CheckBootstraps(s); err != nil {
		t.Fatalf("complete dir: %v", err)
	}
	if err := os.Remove(filepath.Join(s.LambdaDir, FnRefresh, "bootstrap")); err != nil {
		t.Fatal(err)
	}
	err := CheckBootstraps(s)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(FnRefresh, "bootstrap")) || strings.Contains(err.Error(), FnPrepare) {
		t.Errorf("want an error naming only refresh/bootstrap, got %v", err)
	}
}
