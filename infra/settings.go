package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Settings are the deploy-time knobs of the stack. They come from CDK context (cdk.json or
// `cdk deploy -c key=value`) so one template serves every environment without code edits.
type Settings struct {
	// LambdaDir holds one folder per function with its `bootstrap` binary
	// (`make lambdas` writes ../build/lambdas/<name>/bootstrap, relative to infra/).
	LambdaDir string
	// StateMachineDir holds pipeline.asl.json and lookup.asl.json.
	StateMachineDir string
	// ATTOMRatePerMinute is the call rate ATTOM allows for the whole API key.
	ATTOMRatePerMinute int
	// LookupConcurrency is how many lookup functions may run at once (their reserved
	// concurrency and the Distributed Map's intended MaxConcurrency).
	LookupConcurrency int
	// ChunkSize is how many addresses one lookup invocation handles.
	ChunkSize int
	// DailyCapCents is the most ATTOM spend per UTC day; the spend alarm fires at 80 %.
	DailyCapCents int
	// ATTOMAPIKeyParameter is the NAME of the SecureString parameter holding the key.
	ATTOMAPIKeyParameter string
	// ATTOMAPIKeyKMSKeyARN is the customer managed key encrypting that parameter; empty
	// means the AWS managed aws/ssm key, whose key policy already lets account principals
	// decrypt through SSM, so no kms:Decrypt grant is needed.
	ATTOMAPIKeyKMSKeyARN string
	// ATTOMBaseURL is the ATTOM gateway (a simulator's URL in a test account).
	ATTOMBaseURL string
	// RefreshSchedule is the EventBridge Scheduler expression of the stale-record refresh.
	RefreshSchedule string
	// RefreshMaxAgeDays and RefreshLimit go into the scheduled event's detail.
	RefreshMaxAgeDays int
	RefreshLimit      int
	// AlarmEmail, when set, subscribes an address to the alarm topic.
	AlarmEmail string
	// JobEventsEmail, when set, routes every job event (source attom-batch on the default
	// bus) to this address through an EventBridge rule and an SNS topic of its own.
	JobEventsEmail string
}

// Context keys, also listed in infra/README.md.
const (
	CtxLambdaDir            = "lambdaDir"
	CtxStateMachineDir      = "stateMachineDir"
	CtxATTOMRatePerMinute   = "attomRatePerMinute"
	CtxLookupConcurrency    = "lookupConcurrency"
	CtxChunkSize            = "chunkSize"
	CtxDailyCapCents        = "dailyCapCents"
	CtxATTOMAPIKeyParameter = "attomApiKeyParameter"
	CtxATTOMAPIKeyKMSKeyARN = "attomApiKeyKmsKeyArn"
	CtxATTOMBaseURL         = "attomBaseUrl"
	CtxRefreshSchedule      = "refreshSchedule"
	CtxRefreshMaxAgeDays    = "refreshMaxAgeDays"
	CtxRefreshLimit         = "refreshLimit"
	CtxAlarmEmail           = "alarmEmail"
	CtxJobEventsEmail       = "jobEventsEmail"
)

// LookupTimeoutSeconds is the lookup function's timeout; see lookupFunctionSpec.
const LookupTimeoutSeconds = 300

// DefaultSettings are the values used when the context does not say otherwise.
func DefaultSettings() Settings {
	return Settings{
		LambdaDir:            "../build/lambdas",
		StateMachineDir:      "../statemachine",
		ATTOMRatePerMinute:   200,
		LookupConcurrency:    1,
		ChunkSize:            100,
		DailyCapCents:        10000,
		ATTOMAPIKeyParameter: "/attom-batch/attom-api-key",
		ATTOMBaseURL:         "https://api.gateway.attomdata.com",
		RefreshSchedule:      "rate(1 day)",
		RefreshMaxAgeDays:    30,
		RefreshLimit:         5000,
	}
}

// SettingsFromContext reads every setting from the construct tree's context over the
// defaults and reports all bad values at once, each by its context key.
func SettingsFromContext(node constructs.Node) (Settings, error) {
	get := func(key string) any { return node.TryGetContext(jsii.String(key)) }
	return settingsFrom(get)
}

func settingsFrom(get func(string) any) (Settings, error) {
	s := DefaultSettings()
	var errs []error
	str := func(key string, dst *string) {
		if err := contextString(get(key), dst); err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
	}
	num := func(key string, dst *int) {
		if err := contextInt(get(key), dst); err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
	}
	str(CtxLambdaDir, &s.LambdaDir)
	str(CtxStateMachineDir, &s.StateMachineDir)
	num(CtxATTOMRatePerMinute, &s.ATTOMRatePerMinute)
	num(CtxLookupConcurrency, &s.LookupConcurrency)
	num(CtxChunkSize, &s.ChunkSize)
	num(CtxDailyCapCents, &s.DailyCapCents)
	str(CtxATTOMAPIKeyParameter, &s.ATTOMAPIKeyParameter)
	str(CtxATTOMAPIKeyKMSKeyARN, &s.ATTOMAPIKeyKMSKeyARN)
	str(CtxATTOMBaseURL, &s.ATTOMBaseURL)
	str(CtxRefreshSchedule, &s.RefreshSchedule)
	num(CtxRefreshMaxAgeDays, &s.RefreshMaxAgeDays)
	num(CtxRefreshLimit, &s.RefreshLimit)
	str(CtxAlarmEmail, &s.AlarmEmail)
	str(CtxJobEventsEmail, &s.JobEventsEmail)
	errs = append(errs, s.Validate())
	return s, errors.Join(errs...)
}

// contextString accepts a JSON string (cdk.json) or a `-c key=value` string; absent keeps dst.
func contextString(v any, dst *string) error {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		*dst = strings.TrimSpace(t)
		return nil
	default:
		return fmt.Errorf("must be a string, got %v", v)
	}
}

// contextInt accepts a JSON number (cdk.json) or a decimal string (`-c key=200`).
func contextInt(v any, dst *int) error {
	switch t := v.(type) {
	case nil:
		return nil
	case float64:
		if t != math.Trunc(t) || t < 0 || t > math.MaxInt32 {
			return fmt.Errorf("must be a non-negative integer, got %v", t)
		}
		*dst = int(t)
		return nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer, got %q", t)
		}
		*dst = n
		return nil
	default:
		return fmt.Errorf("must be a number, got %v", v)
	}
}

// Validate rejects settings that would deploy a stack that cannot work.
func (s Settings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: "+format, append([]any{key}, args...)...))
	}
	if s.LookupConcurrency < 1 {
		bad(CtxLookupConcurrency, "must be at least 1, got %d", s.LookupConcurrency)
	}
	if s.ATTOMRatePerMinute < s.LookupConcurrency {
		bad(CtxATTOMRatePerMinute, "must be at least %s (%d), got %d", CtxLookupConcurrency, s.LookupConcurrency, s.ATTOMRatePerMinute)
	}
	if s.ChunkSize < 1 {
		bad(CtxChunkSize, "must be at least 1, got %d", s.ChunkSize)
	} else if s.LookupConcurrency >= 1 && s.ATTOMRatePerMinute >= s.LookupConcurrency && s.chunkSeconds() > LookupTimeoutSeconds/2 {
		bad(CtxChunkSize, "%d addresses at %d calls/min take %d s, more than half the lookup function's %d s timeout",
			s.ChunkSize, s.PerFunctionRatePerMinute(), s.chunkSeconds(), LookupTimeoutSeconds)
	}
	if s.DailyCapCents < 1 {
		bad(CtxDailyCapCents, "must be at least 1, got %d", s.DailyCapCents)
	}
	if !strings.HasPrefix(s.ATTOMAPIKeyParameter, "/") || strings.ContainsAny(s.ATTOMAPIKeyParameter, " *") {
		bad(CtxATTOMAPIKeyParameter, "must be an absolute SSM parameter name like /attom-batch/attom-api-key, got %q", s.ATTOMAPIKeyParameter)
	}
	if !strings.HasPrefix(s.ATTOMBaseURL, "https://") && !strings.HasPrefix(s.ATTOMBaseURL, "http://") {
		bad(CtxATTOMBaseURL, "must be an http(s) URL, got %q", s.ATTOMBaseURL)
	}
	if !strings.HasPrefix(s.RefreshSchedule, "rate(") && !strings.HasPrefix(s.RefreshSchedule, "cron(") && !strings.HasPrefix(s.RefreshSchedule, "at(") {
		bad(CtxRefreshSchedule, "must be rate(...), cron(...) or at(...), got %q", s.RefreshSchedule)
	}
	if s.JobEventsEmail != "" && (!strings.Contains(s.JobEventsEmail, "@") || strings.ContainsAny(s.JobEventsEmail, " ,;")) {
		bad(CtxJobEventsEmail, "must be one e-mail address, got %q", s.JobEventsEmail)
	}
	if s.LambdaDir == "" {
		bad(CtxLambdaDir, "must not be empty")
	}
	return errors.Join(errs...)
}

// PerFunctionRatePerMinute is each lookup function's share of the key's rate:
// floor(attomRatePerMinute / lookupConcurrency). Reserved concurrency caps the number of
// lookup functions running at once at lookupConcurrency, so their in-process limiters
// together never exceed the key's rate; with concurrency 1 the in-process limiter is the
// global one and the whole rate is used.
func (s Settings) PerFunctionRatePerMinute() int {
	if s.LookupConcurrency < 1 {
		return s.ATTOMRatePerMinute
	}
	return s.ATTOMRatePerMinute / s.LookupConcurrency
}

// chunkSeconds is how long one pass over a chunk takes at the function's share of the rate
// (one endpoint per address).
func (s Settings) chunkSeconds() int {
	return int(math.Ceil(float64(s.ChunkSize) * 60 / float64(s.PerFunctionRatePerMinute())))
}

// DailyCapAlarmThresholdCents is 80 % of the cap: early enough to act before jobs pause.
func (s Settings) DailyCapAlarmThresholdCents() float64 {
	return math.Floor(float64(s.DailyCapCents) * 0.8)
}
