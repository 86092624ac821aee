package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/distress"
)

const testKey = "abcdef0123456789secretKEY42"

func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func writeFile(t *testing.T, body string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "attom-batch.json")
	if err := os.WriteFile(path, []byte(body), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	return path
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(LoadOptions{Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	if cfg.String() != want.String() {
		t.Errorf("Load with nothing set:\n got %s\nwant %s", cfg, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"base URL", cfg.ATTOMBaseURL, "https://api.gateway.attomdata.com"},
		{"upload dir", cfg.UploadDir, "./data/uploads"},
		{"results dir", cfg.ResultsDir, "./data/results"},
		{"db path", cfg.DBPath, "./data/attom-batch.db"},
		{"cap", cfg.DailyCapCents, int64(10000)},
		{"cost", cfg.CostPerReportCents, int64(10)},
		{"rate", cfg.RatePerMinute, 200},
		{"endpoints", strings.Join(cfg.Endpoints, ","), "expandedprofile"},
		{"chunk", cfg.ChunkSize, 100},
		{"refresh", cfg.RefreshAgeDays, 30},
		{"backend", cfg.Backend, BackendEmbedded},
		{"simulator", cfg.SimulatorMode(), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, `{
		"daily_cap_cents": 500,
		"rate_per_minute": 100,
		"upload_dir": "/srv/in",
		"endpoints": ["expandedprofile", "attomavm/detail"],
		"aws": {"jobs_table": "file-jobs"},
		"feature_flags": {"refresh": false, "imports": false}
	}`, 0o600)
	env := map[string]string{
		"DAILY_CAP_ATTOM_CENTS":  "700",
		"ATTOM_BATCH_JOBS_TABLE": "env-jobs",
		"ATTOM_BATCH_FEATURES":   "refresh,-leads_export",
	}
	tests := []struct {
		name       string
		opts       LoadOptions
		wantCap    int64
		wantRate   int
		wantUpload string
		wantTable  string
	}{
		{"file via option, env wins", LoadOptions{ConfigFile: file, Getenv: envOf(env)}, 700, 100, "/srv/in", "env-jobs"},
		{"file via ATTOM_BATCH_CONFIG", LoadOptions{Getenv: envOf(map[string]string{ConfigFileEnv: file})}, 500, 100, "/srv/in", "file-jobs"},
		{"env alone over defaults", LoadOptions{Getenv: envOf(env)}, 700, 200, "./data/uploads", "env-jobs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DailyCapCents != tc.wantCap || cfg.RatePerMinute != tc.wantRate ||
				cfg.UploadDir != tc.wantUpload || cfg.AWS.JobsTable != tc.wantTable {
				t.Errorf("cap %d rate %d upload %q table %q; want %d %d %q %q",
					cfg.DailyCapCents, cfg.RatePerMinute, cfg.UploadDir, cfg.AWS.JobsTable,
					tc.wantCap, tc.wantRate, tc.wantUpload, tc.wantTable)
			}
			if cfg.AWS.LeadsTable != "attom-batch-leads" {
				t.Errorf("a nested key the file leaves out keeps its default, got %q", cfg.AWS.LeadsTable)
			}
		})
	}
	cfg, _ := Load(LoadOptions{ConfigFile: file, Getenv: envOf(env)})
	if !cfg.Enabled(FeatureRefresh) || cfg.Enabled(FeatureLeadsExport) || cfg.Enabled(FeatureImports) || cfg.Enabled("nope") {
		t.Errorf("flags = %v: want refresh on (env over file), leads_export off (env), imports off (file)", cfg.FeatureFlags)
	}
	var listed []string
	for _, f := range cfg.Features() {
		listed = append(listed, fmt.Sprintf("%s=%t", f.Name, f.Enabled))
	}
	if got := strings.Join(listed, ","); got != "imports=false,leads_export=false,refresh=true" {
		t.Errorf("Features() = %s", got)
	}
	if got := strings.Join(cfg.Endpoints, ","); got != "expandedprofile,attomavm/detail" {
		t.Errorf("endpoints = %q", got)
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		file string
		want []string
	}{
		{"non-integer cap", map[string]string{"DAILY_CAP_ATTOM_CENTS": "abc"}, "",
			[]string{`DAILY_CAP_ATTOM_CENTS: must be a non-negative integer, got "abc"`}},
		{"negative rate", map[string]string{"ATTOM_RATE_PER_MINUTE": "-5"}, "",
			[]string{`ATTOM_RATE_PER_MINUTE: must be a non-negative integer, got "-5"`}},
		{"every bad value at once", map[string]string{"ATTOM_BATCH_CHUNK_SIZE": "x", "ATTOM_BATCH_BACKEND": "cloud"}, "",
			[]string{`ATTOM_BATCH_CHUNK_SIZE: must be a non-negative integer, got "x"`, `ATTOM_BATCH_BACKEND (backend): must be "embedded" or "aws", got "cloud"`}},
		{"zero rate", map[string]string{"ATTOM_RATE_PER_MINUTE": "0"}, "",
			[]string{"ATTOM_RATE_PER_MINUTE (rate_per_minute): must be a positive integer, got 0"}},
		{"unknown backend", map[string]string{"ATTOM_BATCH_BACKEND": "cloud"}, "",
			[]string{`ATTOM_BATCH_BACKEND (backend): must be "embedded" or "aws", got "cloud"`}},
		{"aws without bucket", map[string]string{"ATTOM_BATCH_BACKEND": "aws"}, "",
			[]string{"ATTOM_BATCH_BUCKET (aws.bucket): must be set with the aws backend"}},
		{"chunk too big for a Lambda", map[string]string{"ATTOM_BATCH_BACKEND": "aws", "ATTOM_BATCH_BUCKET": "b", "ATTOM_BATCH_CHUNK_SIZE": "3000"}, "",
			[]string{"ATTOM_BATCH_CHUNK_SIZE (chunk_size): 3000 addresses x 1 endpoints at 200 calls/min take 15 min"}},
		{"poll max below min", map[string]string{"ATTOM_BATCH_POLL_MIN_SECONDS": "60", "ATTOM_BATCH_POLL_MAX_SECONDS": "10"}, "",
			[]string{"ATTOM_BATCH_POLL_MAX_SECONDS (poll_max_seconds): must be at least poll_min_seconds (60), got 10"}},
		{"cap period of none", map[string]string{"ATTOM_BATCH_CAP_PERIOD_SECONDS": "0"}, "",
			[]string{"ATTOM_BATCH_CAP_PERIOD_SECONDS (cap_period_seconds): must be between 1 and 86400, got 0"}},
		{"cap period past a day", map[string]string{"ATTOM_BATCH_CAP_PERIOD_SECONDS": "90000"}, "",
			[]string{"ATTOM_BATCH_CAP_PERIOD_SECONDS (cap_period_seconds): must be between 1 and 86400, got 90000"}},
		{"short cap days against ATTOM itself", map[string]string{"ATTOM_BATCH_CAP_PERIOD_SECONDS": "60", "ATTOM_API_KEY": "k"}, "",
			[]string{"ATTOM_BATCH_CAP_PERIOD_SECONDS (cap_period_seconds): must be 86400 (the UTC day) with a key for ATTOM's own API, got 60"}},
		{"bad base URL", map[string]string{"ATTOM_BASE_URL": "api.gateway.attomdata.com"}, "",
			[]string{`ATTOM_BASE_URL (attom_base_url): must be an http(s) URL, got "api.gateway.attomdata.com"`}},
		{"bad endpoint", map[string]string{"ATTOM_ENDPOINTS": "expandedprofile, Bad Name"}, "",
			[]string{`ATTOM_ENDPOINTS (endpoints): endpoint "Bad Name"`}},
		{"bad feature", map[string]string{"ATTOM_BATCH_FEATURES": "refresh,-Not-OK"}, "",
			[]string{`ATTOM_BATCH_FEATURES: feature "Not-OK"`}},
		{"unknown feature", map[string]string{"ATTOM_BATCH_FEATURES": "-refesh"}, "",
			[]string{`ATTOM_BATCH_FEATURES (feature_flags): feature "refesh" is unknown (known: imports, leads_export, refresh)`}},
		{"weights not an object", map[string]string{"ATTOM_BATCH_DISTRESS_WEIGHTS": "[1,2]"}, "",
			[]string{`ATTOM_BATCH_DISTRESS_WEIGHTS: must be a JSON object, got "[1,2]"`}},
		{"unknown file key", nil, `{"daily_cap": 5}`, []string{`unknown key "daily_cap"`}},
		{"unknown nested file key", nil, `{"aws": {"bukket": "x"}}`, []string{`unknown key "bukket"`}},
		{"wrong type in file", nil, "{\n\"rate_per_minute\": \"fast\"\n}", []string{`line 2: key "rate_per_minute": want int, got a JSON string`}},
		{"syntax error in file", nil, "{\n\"rate_per_minute\": 5,\n}", []string{"line 3:"}},
		{"negative cap in file", nil, `{"daily_cap_cents": -1}`, []string{"DAILY_CAP_ATTOM_CENTS (daily_cap_cents): must be a non-negative integer, got -1"}},
		{"weights not an object in file", nil, `{"distress_weights": 3}`, []string{`key "distress_weights": want distress.Weights, got a JSON number`}},
		{"unknown weight in file", nil, `{"distress_weights": {"vacancy": 3}}`, []string{`unknown key "vacancy"`}},
		{"unknown weight in env", map[string]string{"ATTOM_BATCH_DISTRESS_WEIGHTS": `{"vacancy": 3}`}, "",
			[]string{`ATTOM_BATCH_DISTRESS_WEIGHTS: must be a JSON object of distress weights`, `"vacancy"`}},
		{"weight out of range", map[string]string{"ATTOM_BATCH_DISTRESS_WEIGHTS": `{"equity_multiplier": 9}`}, "",
			[]string{"ATTOM_BATCH_DISTRESS_WEIGHTS (distress_weights): distress weights: equity_multiplier = 9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := LoadOptions{Getenv: envOf(tc.env)}
			if tc.file != "" {
				opts.ConfigFile = writeFile(t, tc.file, 0o600)
			}
			_, err := Load(opts)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nlacks %q", err, want)
				}
			}
			if tc.file != "" && !strings.Contains(err.Error(), opts.ConfigFile) && !strings.Contains(err.Error(), "(") {
				t.Errorf("file error %q does not name the file", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.json")
	_, err := Load(LoadOptions{ConfigFile: path, Getenv: envOf(nil)})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
}

func TestAPIKeyNeverPrinted(t *testing.T) {
	file := writeFile(t, `{"attom_api_key": "`+testKey+`"}`, 0o600)
	cfg, err := Load(LoadOptions{ConfigFile: file, Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ATTOMAPIKey.Reveal() != testKey || cfg.SimulatorMode() {
		t.Fatal("the key did not load")
	}
	redactedJSON, err := json.Marshal(cfg.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	configJSON, _ := json.Marshal(cfg)
	outputs := map[string]string{
		"String":        cfg.String(),
		"GoString":      cfg.GoString(),
		"%v":            fmt.Sprintf("%v", cfg),
		"%+v":           fmt.Sprintf("%+v", cfg),
		"%#v":           fmt.Sprintf("%#v", cfg),
		"%s":            fmt.Sprintf("%s", cfg), //lint:ignore S1025 the %s verb itself is under test
		"%v pointer":    fmt.Sprintf("%v", &cfg),
		"%+v in struct": fmt.Sprintf("%+v", struct{ C Config }{cfg}),
		"key %s":        fmt.Sprintf("%s", cfg.ATTOMAPIKey),
		"key %q":        fmt.Sprintf("%q", cfg.ATTOMAPIKey),
		"key %x":        fmt.Sprintf("%x", cfg.ATTOMAPIKey),
		"key %#v":       fmt.Sprintf("%#v", cfg.ATTOMAPIKey),
		"JSON Redacted": string(redactedJSON),
		"JSON Config":   string(configJSON),
	}
	for name, out := range outputs {
		if strings.Contains(out, testKey) || strings.Contains(out, testKey[:10]) {
			t.Errorf("%s leaks the key: %s", name, out)
		}
	}
	if got := cfg.Redacted()["attom_api_key"]; got != "****42" {
		t.Errorf("Redacted key = %v, want ****42", got)
	}
	if !strings.Contains(cfg.String(), `"attom_api_key":"****42"`) {
		t.Errorf("String() = %s, want the masked key", cfg.String())
	}
}

func TestSecretMask(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"", ""},
		{"short", "****"},
		{"12345678", "****"},
		{"123456789", "****89"},
	} {
		if got := Secret(tc.key).Masked(); got != tc.want {
			t.Errorf("Masked(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestKeyWithWhitespaceIsRejectedWithoutShowingIt(t *testing.T) {
	_, err := Load(LoadOptions{Getenv: envOf(map[string]string{"ATTOM_API_KEY": testKey + "\n"})})
	if err == nil || !strings.Contains(err.Error(), "ATTOM_API_KEY") {
		t.Fatalf("got %v, want an ATTOM_API_KEY error", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("the error leaks the key: %v", err)
	}
}

func TestWorldReadableKeyFileWarns(t *testing.T) {
	tests := []struct {
		name string
		body string
		perm os.FileMode
		warn bool
	}{
		{"key, world-readable", `{"attom_api_key": "` + testKey + `"}`, 0o644, true},
		{"key, owner only", `{"attom_api_key": "` + testKey + `"}`, 0o600, false},
		{"no key, world-readable", `{"daily_cap_cents": 5}`, 0o644, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, tc.body, tc.perm)
			cfg, err := Load(LoadOptions{ConfigFile: file, Getenv: envOf(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cfg.Warnings) > 0; got != tc.warn {
				t.Fatalf("warnings %q, want warning=%v", cfg.Warnings, tc.warn)
			}
			for _, w := range cfg.Warnings {
				if !strings.Contains(w, file) || strings.Contains(w, testKey) {
					t.Errorf("warning %q should name the file and not the key", w)
				}
			}
		})
	}
}

func TestSimulatorMode(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, true},
		{map[string]string{"ATTOM_API_KEY": testKey}, false},
		{map[string]string{"ATTOM_API_KEY_PARAMETER": "/attom-batch/api-key"}, false},
	} {
		cfg, err := Load(LoadOptions{Getenv: envOf(tc.env)})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.SimulatorMode() != tc.want {
			t.Errorf("env %v: SimulatorMode = %v, want %v", tc.env, cfg.SimulatorMode(), tc.want)
		}
	}
}

func TestEverySettingIsReachableFromEnvAndFile(t *testing.T) {
	keys := make(map[string]bool)
	raw, _ := json.Marshal(Defaults())
	var top map[string]json.RawMessage
	_ = json.Unmarshal(raw, &top)
	for k, v := range top {
		if k == "aws" {
			var nested map[string]any
			_ = json.Unmarshal(v, &nested)
			for nk := range nested {
				keys["aws."+nk] = true
			}
			continue
		}
		keys[k] = true
	}
	seenEnv := make(map[string]bool)
	for _, s := range Settings() {
		if seenEnv[s.Env] {
			t.Errorf("environment variable %s listed twice", s.Env)
		}
		seenEnv[s.Env] = true
		if !keys[s.Key] {
			t.Errorf("setting %s names key %q, which is not a config file key", s.Env, s.Key)
		}
		delete(keys, s.Key)
	}
	for k := range keys {
		t.Errorf("config file key %q has no environment variable in Settings", k)
	}
}

func TestDistressWeightsLayer(t *testing.T) {
	file := writeFile(t, `{"distress_weights": {"vacant": 20, "absentee_owner": 12}}`, 0o600)
	cfg, err := Load(LoadOptions{ConfigFile: file, Getenv: envOf(map[string]string{
		"ATTOM_BATCH_DISTRESS_WEIGHTS": `{"absentee_owner": 14}`,
	})})
	if err != nil {
		t.Fatal(err)
	}
	w, def := cfg.DistressWeights, distress.DefaultWeights()
	if w.Vacant != 20 || w.AbsenteeOwner != 14 || w.PreForeclosure != def.PreForeclosure {
		t.Errorf("weights vacant %v (file 20), absentee %v (env 14), pre-foreclosure %v (default %v)",
			w.Vacant, w.AbsenteeOwner, w.PreForeclosure, def.PreForeclosure)
	}
}
