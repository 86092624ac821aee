package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// lambdaSafeMinutes is how long one chunk may take inside a 15-minute Lambda invocation,
// leaving room for retries and the result write.
const lambdaSafeMinutes = 12

// Validate checks every setting and returns all problems at once, each naming the setting
// by its environment variable and config file key.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (%s): %s", env, key, fmt.Sprintf(format, args...)))
	}
	c.validateKey(bad)
	c.validateNumbers(bad)
	c.validateBackend(bad)
	if err := c.DistressWeights.Validate(); err != nil {
		bad("ATTOM_BATCH_DISTRESS_WEIGHTS", "distress_weights", "%v", err)
	}
	for name := range c.FeatureFlags {
		switch {
		case !featureName.MatchString(name):
			bad("ATTOM_BATCH_FEATURES", "feature_flags", "feature %q: want lower-case letters, digits and '_'", name)
		case !knownFeature(name):
			bad("ATTOM_BATCH_FEATURES", "feature_flags", "feature %q is unknown (known: %s)", name, featureNames())
		}
	}
	return errors.Join(errs...)
}

type reporter func(env, key, format string, args ...any)

func (c Config) validateKey(bad reporter) {
	// The value itself is never part of the message.
	if strings.ContainsAny(string(c.UIToken), " \t\r\n") {
		bad("ATTOM_BATCH_UI_TOKEN", "ui_token", "contains whitespace (value not shown); check for a stray newline or space")
	}
	if strings.ContainsAny(string(c.ATTOMAPIKey), " \t\r\n") {
		bad("ATTOM_API_KEY", "attom_api_key", "contains whitespace (value not shown); check for a stray newline or space")
	}
	u, err := url.Parse(c.ATTOMBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("ATTOM_BASE_URL", "attom_base_url", "must be an http(s) URL, got %q", c.ATTOMBaseURL)
	}
}

var endpointName = regexp.MustCompile(`^[a-z0-9]+(/[a-z0-9]+)*$`)

func (c Config) validateNumbers(bad reporter) {
	nonNegative := func(env, key string, n int64) {
		if n < 0 {
			bad(env, key, "must be a non-negative integer, got %d", n)
		}
	}
	positive := func(env, key string, n int) {
		if n < 1 {
			bad(env, key, "must be a positive integer, got %d", n)
		}
	}
	nonNegative("DAILY_CAP_ATTOM_CENTS", "daily_cap_cents", c.DailyCapCents)
	if c.CapPeriodSeconds < 1 || c.CapPeriodSeconds > 86400 {
		bad("ATTOM_BATCH_CAP_PERIOD_SECONDS", "cap_period_seconds", "must be between 1 and 86400, got %d", c.CapPeriodSeconds)
	} else if c.CapPeriodSeconds != 86400 && !c.SimulatorMode() && strings.TrimRight(c.ATTOMBaseURL, "/") == attomAPI {
		// Shorter "days" let the daily cap be spent once each: against ATTOM itself that
		// would be many caps a day. They are for tests against a simulator.
		bad("ATTOM_BATCH_CAP_PERIOD_SECONDS", "cap_period_seconds", "must be 86400 (the UTC day) with a key for ATTOM's own API, got %d: shorter days are for a simulator (ATTOM_BASE_URL)", c.CapPeriodSeconds)
	}
	if c.CostPerReportCents < 1 {
		bad("ATTOM_COST_PER_REPORT_CENTS", "cost_per_report_cents", "must be a positive integer, got %d", c.CostPerReportCents)
	}
	positive("ATTOM_RATE_PER_MINUTE", "rate_per_minute", c.RatePerMinute)
	positive("ATTOM_BATCH_CHUNK_SIZE", "chunk_size", c.ChunkSize)
	positive("ATTOM_BATCH_MAP_CONCURRENCY", "map_concurrency", c.MapConcurrency)
	positive("ATTOM_HTTP_TIMEOUT_SECONDS", "http_timeout_seconds", c.HTTPTimeoutSeconds)
	nonNegative("ATTOM_BATCH_POLL_MIN_SECONDS", "poll_min_seconds", int64(c.PollMinSeconds))
	if c.PollMaxSeconds < c.PollMinSeconds {
		bad("ATTOM_BATCH_POLL_MAX_SECONDS", "poll_max_seconds", "must be at least poll_min_seconds (%d), got %d", c.PollMinSeconds, c.PollMaxSeconds)
	}
	positive("ATTOM_BATCH_MAX_POLL_ATTEMPTS", "max_poll_attempts", c.MaxPollAttempts)
	positive("ATTOM_BATCH_REFRESH_AGE_DAYS", "refresh_age_days", c.RefreshAgeDays)
	c.validateWebhook(bad)
	nonNegative("ATTOM_REUSE_MAX_AGE_DAYS", "reuse_max_age_days", int64(c.ReuseMaxAgeDays))
	positive("ATTOM_BATCH_LEASE_SECONDS", "lease_seconds", c.LeaseSeconds)
	positive("ATTOM_BATCH_UI_MAX_UPLOAD_MB", "ui_max_upload_mb", c.UIMaxUploadMB)
	positive("ATTOM_BATCH_OUTAGE_WAIT_SECONDS", "outage_wait_seconds", c.OutageWaitSeconds)
	if c.OutageWaitMaxSeconds < c.OutageWaitSeconds {
		bad("ATTOM_BATCH_OUTAGE_WAIT_MAX_SECONDS", "outage_wait_max_seconds", "must be at least outage_wait_seconds (%d), got %d", c.OutageWaitSeconds, c.OutageWaitMaxSeconds)
	}
	if len(c.Endpoints) == 0 {
		bad("ATTOM_ENDPOINTS", "endpoints", "must list at least one endpoint")
	}
	for _, e := range c.Endpoints {
		if !endpointName.MatchString(e) {
			bad("ATTOM_ENDPOINTS", "endpoints", "endpoint %q: want lower-case path segments such as expandedprofile or attomavm/detail", e)
		}
	}
}

// validateWebhook wants a signed https receiver, or plain http only on this machine.
func (c Config) validateWebhook(bad reporter) {
	if c.WebhookURL == "" {
		return
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || u.Host == "" {
		bad("ATTOM_BATCH_WEBHOOK_URL", "webhook_url", "not a URL: %q", c.WebhookURL)
		return
	}
	loopback := u.Hostname() == "localhost"
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		loopback = ip.IsLoopback()
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		bad("ATTOM_BATCH_WEBHOOK_URL", "webhook_url", "must be https (http only on loopback), got %s://%s", u.Scheme, u.Host)
	}
	if c.WebhookSecret == "" {
		bad("ATTOM_BATCH_WEBHOOK_SECRET", "webhook_secret", "must be set with a webhook URL: every delivery is signed")
	}
}

func (c Config) validateBackend(bad reporter) {
	switch c.Backend {
	case BackendEmbedded:
		for _, s := range []struct{ env, key, value string }{
			{"BATCH_UPLOAD_DIR", "upload_dir", c.UploadDir},
			{"BATCH_RESULTS_DIR", "results_dir", c.ResultsDir},
			{"ATTOM_BATCH_DB", "db_path", c.DBPath},
		} {
			if s.value == "" {
				bad(s.env, s.key, "must not be empty with the embedded backend")
			}
		}
	case BackendAWS:
		if c.AWS.Bucket == "" {
			bad("ATTOM_BATCH_BUCKET", "aws.bucket", "must be set with the aws backend")
		}
		c.validateChunkFitsLambda(bad)
	default:
		bad("ATTOM_BATCH_BACKEND", "backend", "must be %q or %q, got %q", BackendEmbedded, BackendAWS, c.Backend)
	}
}

// validateChunkFitsLambda refuses chunks whose calls cannot finish inside one Lambda
// invocation at the ATTOM rate.
func (c Config) validateChunkFitsLambda(bad reporter) {
	if c.RatePerMinute < 1 || c.ChunkSize < 1 {
		return
	}
	calls := c.ChunkSize * max(1, len(c.Endpoints))
	if minutes := float64(calls) / float64(c.RatePerMinute); minutes > lambdaSafeMinutes {
		bad("ATTOM_BATCH_CHUNK_SIZE", "chunk_size",
			"%d addresses x %d endpoints at %d calls/min take %.0f min, over the %d min a Lambda invocation may spend on one chunk",
			c.ChunkSize, max(1, len(c.Endpoints)), c.RatePerMinute, minutes, lambdaSafeMinutes)
	}
}
