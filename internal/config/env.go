package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Setting documents one setting: its environment variable, its config file key and what
// it is for. `config show` and the README list them from here.
type Setting struct {
	Env string
	Key string // config file key; dotted for nested objects ("aws.bucket")
	Doc string
	set func(c *Config, raw string) error
}

// Settings lists every setting in the order `config show` prints them.
func Settings() []Setting {
	return []Setting{
		{"ATTOM_API_KEY", "attom_api_key", "ATTOM API key; empty runs the simulator", setSecret(func(c *Config) *Secret { return &c.ATTOMAPIKey })},
		{"ATTOM_API_KEY_PARAMETER", "attom_api_key_parameter", "SSM parameter holding the key (aws backend)", setString(func(c *Config) *string { return &c.ATTOMAPIKeyParameter })},
		{"ATTOM_BASE_URL", "attom_base_url", "ATTOM API gateway base URL", setString(func(c *Config) *string { return &c.ATTOMBaseURL })},
		{"BATCH_UPLOAD_DIR", "upload_dir", "directory of uploaded CSVs (embedded backend)", setString(func(c *Config) *string { return &c.UploadDir })},
		{"BATCH_RESULTS_DIR", "results_dir", "directory of chunks, results, rejects and exports (embedded backend)", setString(func(c *Config) *string { return &c.ResultsDir })},
		{"ATTOM_BATCH_DB", "db_path", "SQLite file (embedded backend)", setString(func(c *Config) *string { return &c.DBPath })},
		{"DAILY_CAP_ATTOM_CENTS", "daily_cap_cents", "most ATTOM spend per UTC day, in cents", setInt64(func(c *Config) *int64 { return &c.DailyCapCents })},
		{"ATTOM_BATCH_CAP_PERIOD_SECONDS", "cap_period_seconds", "length of the cap's day: 86400 is the UTC day from 00:00 UTC; fewer makes days of that many seconds from the Unix epoch (for tests)", setInt(func(c *Config) *int { return &c.CapPeriodSeconds })},
		{"ATTOM_COST_PER_REPORT_CENTS", "cost_per_report_cents", "price of one billed ATTOM report, in cents", setInt64(func(c *Config) *int64 { return &c.CostPerReportCents })},
		{"ATTOM_RATE_PER_MINUTE", "rate_per_minute", "ATTOM calls per minute allowed for the key", setInt(func(c *Config) *int { return &c.RatePerMinute })},
		{"ATTOM_ENDPOINTS", "endpoints", "comma-separated ATTOM endpoints called per address (each is billed)", setList(func(c *Config) *[]string { return &c.Endpoints })},
		{"ATTOM_BATCH_CHUNK_SIZE", "chunk_size", "addresses per lookup chunk", setInt(func(c *Config) *int { return &c.ChunkSize })},
		{"ATTOM_BATCH_MAP_CONCURRENCY", "map_concurrency", "chunks looked up at the same time", setInt(func(c *Config) *int { return &c.MapConcurrency })},
		{"ATTOM_HTTP_TIMEOUT_SECONDS", "http_timeout_seconds", "timeout of one ATTOM request", setInt(func(c *Config) *int { return &c.HTTPTimeoutSeconds })},
		{"ATTOM_BATCH_POLL_MIN_SECONDS", "poll_min_seconds", "shortest wait between status polls", setInt(func(c *Config) *int { return &c.PollMinSeconds })},
		{"ATTOM_BATCH_POLL_MAX_SECONDS", "poll_max_seconds", "longest wait between status polls", setInt(func(c *Config) *int { return &c.PollMaxSeconds })},
		{"ATTOM_BATCH_MAX_POLL_ATTEMPTS", "max_poll_attempts", "polls before a job is failed as stuck", setInt(func(c *Config) *int { return &c.MaxPollAttempts })},
		{"ATTOM_BATCH_REFRESH_AGE_DAYS", "refresh_age_days", "age after which a property record is refreshed", setInt(func(c *Config) *int { return &c.RefreshAgeDays })},
		{"ATTOM_REUSE_MAX_AGE_DAYS", "reuse_max_age_days", "reuse ATTOM answers younger than this many days, from any job (0 buys everything fresh)", setInt(func(c *Config) *int { return &c.ReuseMaxAgeDays })},
		{"ATTOM_BATCH_LEASE_SECONDS", "lease_seconds", "how long a driver's lease on a job or chunk lives unrenewed: how soon a dead driver's job can be taken over", setInt(func(c *Config) *int { return &c.LeaseSeconds })},
		{"ATTOM_BATCH_OUTAGE_WAIT_SECONDS", "outage_wait_seconds", "first wait after an ATTOM outage paused a job (doubles each time)", setInt(func(c *Config) *int { return &c.OutageWaitSeconds })},
		{"ATTOM_BATCH_OUTAGE_WAIT_MAX_SECONDS", "outage_wait_max_seconds", "longest wait between tries of an ATTOM outage", setInt(func(c *Config) *int { return &c.OutageWaitMaxSeconds })},
		{"ATTOM_BATCH_WEBHOOK_URL", "webhook_url", "receives every job event (completed, failed, paused, resumed, cancelled) as a signed JSON POST; https, or http on loopback", setString(func(c *Config) *string { return &c.WebhookURL })},
		{"ATTOM_BATCH_WEBHOOK_SECRET", "webhook_secret", "signs webhook deliveries (X-Attom-Batch-Signature: sha256=HMAC of the body); never printed", setSecret(func(c *Config) *Secret { return &c.WebhookSecret })},
		{"ATTOM_BATCH_EVENT_BUS", "event_bus", `EventBridge bus job events are put on (aws backend; source "attom-batch"); "none" for none`, setString(func(c *Config) *string { return &c.EventBus })},
		{"ATTOM_BATCH_BACKEND", "backend", `"embedded" (SQLite + directories) or "aws"`, setString(func(c *Config) *string { return &c.Backend })},
		{"ATTOM_BATCH_UI_TOKEN", "ui_token", "token `serve` requires of every request; needed to listen on any address but loopback", setSecret(func(c *Config) *Secret { return &c.UIToken })},
		{"ATTOM_BATCH_UI_MAX_UPLOAD_MB", "ui_max_upload_mb", "largest CSV `serve` accepts, in MiB", setInt(func(c *Config) *int { return &c.UIMaxUploadMB })},
		{"AWS_REGION", "aws.region", "AWS region (the SDK's default chain when empty)", setString(func(c *Config) *string { return &c.AWS.Region })},
		{"ATTOM_BATCH_BUCKET", "aws.bucket", "S3 bucket of uploads, chunks and results", setString(func(c *Config) *string { return &c.AWS.Bucket })},
		{"ATTOM_BATCH_JOBS_TABLE", "aws.jobs_table", "DynamoDB table of jobs", setString(func(c *Config) *string { return &c.AWS.JobsTable })},
		{"ATTOM_BATCH_LOOKUPS_TABLE", "aws.lookups_table", "DynamoDB table of per-address lookups", setString(func(c *Config) *string { return &c.AWS.LookupsTable })},
		{"ATTOM_BATCH_PROPERTIES_TABLE", "aws.properties_table", "DynamoDB table of property records", setString(func(c *Config) *string { return &c.AWS.PropertiesTable })},
		{"ATTOM_BATCH_LEADS_TABLE", "aws.leads_table", "DynamoDB table of leads", setString(func(c *Config) *string { return &c.AWS.LeadsTable })},
		{"ATTOM_BATCH_BUDGET_TABLE", "aws.budget_table", "DynamoDB table of daily budget counters", setString(func(c *Config) *string { return &c.AWS.BudgetTable })},
		{"ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN", "aws.pipeline_state_machine_arn", "ARN of the batch-pipeline state machine", setString(func(c *Config) *string { return &c.AWS.PipelineStateARN })},
		{"ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN", "aws.lookup_state_machine_arn", "ARN of the attom-lookup state machine", setString(func(c *Config) *string { return &c.AWS.LookupStateARN })},
		{"ATTOM_BATCH_DISTRESS_WEIGHTS", "distress_weights", "JSON object of the distress weights to change, e.g. {\"vacant\": 20}", setWeights},
		{"ATTOM_BATCH_FEATURES", "feature_flags", `feature flags: "a,b,-c" turns a and b on and c off`, setFeatures},
	}
}

// applyEnv overlays every set environment variable onto cfg and reports all bad values.
func applyEnv(cfg *Config, getenv func(string) string) error {
	var errs []error
	for _, s := range Settings() {
		raw := getenv(s.Env)
		if raw == "" {
			continue
		}
		if err := s.set(cfg, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Env, err))
		}
	}
	return errors.Join(errs...)
}

func setString(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, raw string) error {
		*field(c) = strings.TrimSpace(raw)
		return nil
	}
}

// setSecret keeps the value as given: a key with stray whitespace is reported by Validate
// rather than silently trimmed.
func setSecret(field func(*Config) *Secret) func(*Config, string) error {
	return func(c *Config, raw string) error {
		*field(c) = Secret(raw)
		return nil
	}
}

func setInt64(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, raw string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer, got %q", raw)
		}
		*field(c) = n
		return nil
	}
}

func setInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, raw string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer, got %q", raw)
		}
		*field(c) = int(n)
		return nil
	}
}

func setList(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, raw string) error {
		var items []string
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		if len(items) == 0 {
			return fmt.Errorf("must list at least one name, got %q", raw)
		}
		*field(c) = items
		return nil
	}
}

// setWeights overlays a JSON object of weights on the current ones (defaults or the config
// file's), refusing unknown keys; Validate checks the values.
func setWeights(c *Config, raw string) error {
	if !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return fmt.Errorf("must be a JSON object, got %q", raw)
	}
	w := c.DistressWeights
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("must be a JSON object of distress weights: %v", err)
	}
	c.DistressWeights = w
	return nil
}

var featureName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// setFeatures applies "a,b,-c": names turn on, names prefixed with '-' turn off, flags not
// named keep their value from the defaults or the config file.
func setFeatures(c *Config, raw string) error {
	flags := make(map[string]bool, len(c.FeatureFlags))
	for k, v := range c.FeatureFlags {
		flags[k] = v
	}
	for item := range strings.SplitSeq(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		on := true
		switch item[0] {
		case '-':
			on, item = false, item[1:]
		case '+':
			item = item[1:]
		}
		if !featureName.MatchString(item) {
			return fmt.Errorf("feature %q: want lower-case letters, digits and '_', optionally prefixed by '-' or '+'", item)
		}
		flags[item] = on
	}
	c.FeatureFlags = flags
	return nil
}
