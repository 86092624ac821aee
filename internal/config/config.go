// Package config is the configuration service: every setting of attom-batch with its default,
// an optional JSON config file and environment overrides, validated with errors that name the
// setting. The ATTOM API key is a Secret and never prints.
//
// Precedence, lowest first: defaults, the JSON config file (LoadOptions.ConfigFile, else
// $ATTOM_BATCH_CONFIG), the environment. An environment variable set to "" counts as unset.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/distress"
)

// Backends: where jobs, properties, leads and files live.
const (
	BackendEmbedded = "embedded" // one SQLite file and two directories on this machine
	BackendAWS      = "aws"      // DynamoDB, S3 and Step Functions
)

// Config is every setting. Its JSON form is the config file's format (see Settings for the
// key and environment variable of each field).
type Config struct {
	ATTOMAPIKey          Secret   `json:"attom_api_key"`
	ATTOMAPIKeyParameter string   `json:"attom_api_key_parameter"`
	ATTOMBaseURL         string   `json:"attom_base_url"`
	UploadDir            string   `json:"upload_dir"`
	ResultsDir           string   `json:"results_dir"`
	DBPath               string   `json:"db_path"`
	DailyCapCents        int64    `json:"daily_cap_cents"`
	CostPerReportCents   int64    `json:"cost_per_report_cents"`
	RatePerMinute        int      `json:"rate_per_minute"`
	Endpoints            []string `json:"endpoints"`
	ChunkSize            int      `json:"chunk_size"`
	MapConcurrency       int      `json:"map_concurrency"`
	HTTPTimeoutSeconds   int      `json:"http_timeout_seconds"`
	PollMinSeconds       int      `json:"poll_min_seconds"`
	PollMaxSeconds       int      `json:"poll_max_seconds"`
	MaxPollAttempts      int      `json:"max_poll_attempts"`
	CapPeriodSeconds     int      `json:"cap_period_seconds"`
	RefreshAgeDays       int      `json:"refresh_age_days"`
	ReuseMaxAgeDays      int      `json:"reuse_max_age_days"`
	LeaseSeconds         int      `json:"lease_seconds"`
	OutageWaitSeconds    int      `json:"outage_wait_seconds"`
	OutageWaitMaxSeconds int      `json:"outage_wait_max_seconds"`
	WebhookURL           string   `json:"webhook_url"`
	WebhookSecret        Secret   `json:"webhook_secret"`
	EventBus             string   `json:"event_bus"`
	Backend              string   `json:"backend"`
	// UIToken is what `attom-batch serve` requires of every request (Authorization: Bearer,
	// or the cookie its ?token= link sets); serving on any address but loopback needs one.
	UIToken Secret `json:"ui_token"`
	// UIMaxUploadMB is the largest CSV `serve` accepts, in MiB.
	UIMaxUploadMB int `json:"ui_max_upload_mb"`
	AWS           AWS `json:"aws"`
	// DistressWeights are the distress score's points and thresholds; the file and the
	// environment name only the keys they change, over distress.DefaultWeights.
	DistressWeights distress.Weights `json:"distress_weights"`
	// FeatureFlags switches optional behaviour on or off by name (see Enabled).
	FeatureFlags map[string]bool `json:"feature_flags"`

	// Warnings are problems worth telling the user that do not stop the program, such as a
	// world-readable config file holding the API key. Load returns them; the caller prints.
	Warnings []string `json:"-"`
}

// AWS names the cloud resources of the aws backend. The CDK stack passes them to every
// function as environment variables.
type AWS struct {
	Region           string `json:"region"`
	Bucket           string `json:"bucket"`
	JobsTable        string `json:"jobs_table"`
	LookupsTable     string `json:"lookups_table"`
	PropertiesTable  string `json:"properties_table"`
	LeadsTable       string `json:"leads_table"`
	BudgetTable      string `json:"budget_table"`
	PipelineStateARN string `json:"pipeline_state_machine_arn"`
	LookupStateARN   string `json:"lookup_state_machine_arn"`
}

// Feature flags: each switches one behaviour, and every one is on by default. A name not
// listed here is refused, so a typo ("-refesh") cannot silently switch nothing.
const (
	// FeatureLeadsExport writes exports/<job>/leads.csv when a job makes leads; off, the
	// leads are still saved (and listed by `leads`), only the CSV file is not written.
	FeatureLeadsExport = "leads_export"
	// FeatureRefresh lets `refresh` and the scheduled refresh function look records up
	// again; off, they buy nothing and say so.
	FeatureRefresh = "refresh"
	// FeatureImports lets `import` (and the imports/<source>/ path) merge other sources'
	// lists into the property records; off, imports are refused.
	FeatureImports = "imports"
)

// Feature describes one feature flag for `config show`.
type Feature struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Meaning string `json:"meaning"`
}

// knownFeatures are the flags in the order `config show` lists them.
var knownFeatures = []Feature{
	{Name: FeatureImports, Meaning: "import FILE --source NAME merges other sources' lists into the property records and leads"},
	{Name: FeatureLeadsExport, Meaning: "jobs that make leads write exports/<job>/leads.csv"},
	{Name: FeatureRefresh, Meaning: "refresh (and the scheduled refresh) look stale records up again on ATTOM"},
}

// Features lists every known flag with its state in c.
func (c Config) Features() []Feature {
	out := make([]Feature, len(knownFeatures))
	for i, f := range knownFeatures {
		f.Enabled = c.Enabled(f.Name)
		out[i] = f
	}
	return out
}

func knownFeature(name string) bool {
	for _, f := range knownFeatures {
		if f.Name == name {
			return true
		}
	}
	return false
}

func featureNames() string {
	names := make([]string, len(knownFeatures))
	for i, f := range knownFeatures {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// Defaults returns the settings used when neither the config file nor the environment says
// otherwise.
func Defaults() Config {
	return Config{
		ATTOMBaseURL:       attomAPI,
		UploadDir:          "./data/uploads",
		ResultsDir:         "./data/results",
		DBPath:             "./data/attom-batch.db",
		DailyCapCents:      10000,
		CostPerReportCents: 10,
		RatePerMinute:      200,
		Endpoints:          []string{"expandedprofile"},
		ChunkSize:          100,
		MapConcurrency:     4,
		HTTPTimeoutSeconds: 30,
		PollMinSeconds:     5,
		PollMaxSeconds:     300,
		// About 9 history events per poll loop keeps 2000 polls under Step Functions'
		// 25,000-event execution history limit.
		MaxPollAttempts: 2000,
		// The cap's day is the UTC day; tests against real waits shorten it.
		CapPeriodSeconds: 86400,
		RefreshAgeDays:   30,
		ReuseMaxAgeDays:  30,
		// A driver renews its lease every third of this; another driver may take a job over
		// this long after the first one died.
		LeaseSeconds:         60,
		OutageWaitSeconds:    60,
		OutageWaitMaxSeconds: 3600,
		EventBus:             "default",
		Backend:              BackendEmbedded,
		UIMaxUploadMB:        1024,
		AWS: AWS{
			JobsTable:       "attom-batch-jobs",
			LookupsTable:    "attom-batch-lookups",
			PropertiesTable: "attom-batch-properties",
			LeadsTable:      "attom-batch-leads",
			BudgetTable:     "attom-batch-budget",
		},
		DistressWeights: distress.DefaultWeights(),
		FeatureFlags:    map[string]bool{FeatureLeadsExport: true, FeatureRefresh: true, FeatureImports: true},
	}
}

// LoadOptions tells Load where to look. Getenv defaults to os.Getenv; tests pass a map's
// lookup so they never depend on the machine's environment.
type LoadOptions struct {
	ConfigFile string // from a --config flag; empty falls back to $ATTOM_BATCH_CONFIG
	Getenv     func(string) string
}

// ConfigFileEnv names the environment variable holding the config file path.
const ConfigFileEnv = "ATTOM_BATCH_CONFIG"

// Load builds the configuration (defaults < config file < environment) and validates it.
// The error lists every bad setting at once, each by name.
func Load(opts LoadOptions) (Config, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := Defaults()
	path := opts.ConfigFile
	if path == "" {
		path = getenv(ConfigFileEnv)
	}
	if path != "" {
		if err := applyFile(&cfg, path); err != nil {
			return Config{}, err
		}
	}
	envErr := applyEnv(&cfg, getenv)
	if err := errors.Join(envErr, cfg.Validate()); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// attomAPI is ATTOM's own API, the default base URL.
const attomAPI = "https://api.gateway.attomdata.com"

// SimulatorMode reports that no ATTOM key is configured (neither the key nor an SSM
// parameter holding it), so the CLI runs against the ATTOM simulator and says so.
func (c Config) SimulatorMode() bool {
	return c.ATTOMAPIKey == "" && c.ATTOMAPIKeyParameter == ""
}

// Enabled reports whether the named feature flag is on; unknown flags are off.
func (c Config) Enabled(feature string) bool { return c.FeatureFlags[feature] }

// HTTPTimeout is the ATTOM client's per-request timeout.
func (c Config) HTTPTimeout() time.Duration {
	return time.Duration(c.HTTPTimeoutSeconds) * time.Second
}

// Redacted returns the configuration as a JSON-shaped map for `config show`: every setting,
// with the API key masked (see Secret.Masked). Numbers stay exact (json.Number).
func (c Config) Redacted() map[string]any {
	raw, err := json.Marshal(c) // Secret marshals masked
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return map[string]any{"error": err.Error()}
	}
	return m
}

// String prints the redacted settings as JSON, so logging a Config never leaks the key.
func (c Config) String() string {
	raw, err := json.Marshal(c.Redacted())
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	return string(raw)
}

// GoString makes %#v print the redacted form too.
func (c Config) GoString() string { return "config.Config" + c.String() }
