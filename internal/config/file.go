package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// applyFile overlays the JSON config file at path onto cfg. Keys the file leaves out keep
// their current value; an unknown key is an error naming it, so a typo never silently falls
// back to a default.
func applyFile(cfg *Config, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("config file %s: %s", path, describeJSONError(raw, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("config file %s: unexpected data after the JSON object", path)
	}
	if warning := keyFileWarning(path, raw); warning != "" {
		cfg.Warnings = append(cfg.Warnings, warning)
	}
	return nil
}

// describeJSONError turns encoding/json's errors into messages naming the key and line.
func describeJSONError(raw []byte, err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("line %d: %v", lineOf(raw, syntax.Offset), syntax)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("line %d: key %q: want %s, got a JSON %s",
			lineOf(raw, typeErr.Offset), typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Sprintf("unknown key %s", name)
	case errors.Is(err, io.EOF):
		return "empty file, want a JSON object"
	default:
		return err.Error()
	}
}

// lineOf is the 1-based line holding byte offset.
func lineOf(raw []byte, offset int64) int {
	if offset > int64(len(raw)) {
		offset = int64(len(raw))
	}
	return bytes.Count(raw[:offset], []byte("\n")) + 1
}

// keyFileWarning warns when a file holding the API key can be read by every user.
func keyFileWarning(path string, raw []byte) string {
	var probe struct {
		Key string `json:"attom_api_key"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.Key == "" {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o004 == 0 {
		return ""
	}
	return fmt.Sprintf("config file %s holds the ATTOM API key and is readable by every user; run: chmod 600 %s", path, path)
}
