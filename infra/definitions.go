package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
)

// Definition file names under the state machine directory.
const (
	PipelineDefinitionFile = "pipeline.asl.json"
	LookupDefinitionFile   = "lookup.asl.json"
)

// Definitions are the two workflow files, read by Go (os.ReadFile) rather than by CDK's
// Node side, so Go's test cache notices when they change.
type Definitions struct {
	Pipeline string
	Lookup   string
}

// LoadDefinitions reads and JSON-checks both definitions from dir.
func LoadDefinitions(dir string) (Definitions, error) {
	pipeline, errP := loadDefinition(filepath.Join(dir, PipelineDefinitionFile))
	lookup, errL := loadDefinition(filepath.Join(dir, LookupDefinitionFile))
	return Definitions{Pipeline: pipeline, Lookup: lookup}, errors.Join(errP, errL)
}

func loadDefinition(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("state machine definition: %w", err)
	}
	var probe map[string]any
	if err := json.Unmarshal(raw, &probe); err != nil {
		return "", fmt.Errorf("state machine definition %s: not a JSON object: %w", path, err)
	}
	if _, ok := probe["States"]; !ok {
		return "", fmt.Errorf("state machine definition %s: no States field", path)
	}
	return string(raw), nil
}

// placeholderPattern matches DefinitionSubstitutions' ${Name} syntax.
var placeholderPattern = regexp.MustCompile(`\$\{([^{}]*)\}`)

// Placeholders lists the distinct ${Name} placeholders of a definition, sorted. CDK passes
// DefinitionSubstitutions to CloudFormation unchecked, so this is what tests compare.
func Placeholders(definition string) []string {
	seen := map[string]bool{}
	for _, m := range placeholderPattern.FindAllStringSubmatch(definition, -1) {
		seen[m[1]] = true
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// SubstitutionMismatch reports placeholders of a definition that no substitution fills
// (Missing: the deployed workflow would call a literal "${Name}") and required
// substitutions the definition never references (Unused: usually a renamed placeholder).
type SubstitutionMismatch struct {
	Definition string
	Missing    []string
	Unused     []string
}

func (m *SubstitutionMismatch) Error() string {
	return fmt.Sprintf("%s: placeholders without a substitution %v, substitutions without a placeholder %v",
		m.Definition, m.Missing, m.Unused)
}

// CheckSubstitutions compares a definition's placeholders with the substitutions the stack
// offers: every required one (the workflow's function ARNs) must be referenced, optional ones
// (values a definition may also take from its input, like the bucket name) may be. nil
// means every placeholder is filled and every required substitution is used.
func CheckSubstitutions(name, definition string, required, optional []string) *SubstitutionMismatch {
	used := Placeholders(definition)
	m := &SubstitutionMismatch{Definition: name}
	for _, p := range used {
		if !slices.Contains(required, p) && !slices.Contains(optional, p) {
			m.Missing = append(m.Missing, p)
		}
	}
	for _, s := range required {
		if !slices.Contains(used, s) {
			m.Unused = append(m.Unused, s)
		}
	}
	sort.Strings(m.Unused)
	if len(m.Missing) == 0 && len(m.Unused) == 0 {
		return nil
	}
	return m
}
