package main

import (
	"strings"
	"testing"
)

func TestSettingsFromContext(t *testing.T) {
	cases := []struct {
		name    string
		context map[string]any
		check   func(t *testing.T, s Settings)
	}{
		{"defaults", nil, func(t *testing.T, s Settings) {
			if s != DefaultSettings() {
				t.Errorf("got %+v, want the defaults", s)
			}
			if s.PerFunctionRatePerMinute() != 200 || s.DailyCapAlarmThresholdCents() != 8000 {
				t.Errorf("rate %d threshold %v", s.PerFunctionRatePerMinute(), s.DailyCapAlarmThresholdCents())
			}
		}},
		{"cdk.json numbers", map[string]any{CtxATTOMRatePerMinute: float64(300), CtxLookupConcurrency: float64(2), CtxDailyCapCents: float64(5000)}, func(t *testing.T, s Settings) {
			if s.PerFunctionRatePerMinute() != 150 || s.DailyCapAlarmThresholdCents() != 4000 {
				t.Errorf("rate %d threshold %v, want 150 and 4000", s.PerFunctionRatePerMinute(), s.DailyCapAlarmThresholdCents())
			}
		}},
		{"-c strings", map[string]any{CtxATTOMRatePerMinute: "200", CtxLookupConcurrency: "3", CtxLambdaDir: " /tmp/l ", CtxRefreshSchedule: "cron(0 6 * * ? *)"}, func(t *testing.T, s Settings) {
			// 200 / 3 rounds down: the three functions together stay under the key's rate.
			if s.PerFunctionRatePerMinute() != 66 || s.LambdaDir != "/tmp/l" || s.RefreshSchedule != "cron(0 6 * * ? *)" {
				t.Errorf("got %+v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := settingsFrom(func(k string) any { return tc.context[k] })
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.check(t, s)
		})
	}
}

func TestSettingsRejectBadContext(t *testing.T) {
	cases := []struct {
		name    string
		context map[string]any
		want    []string
	}{
		{"not a number", map[string]any{CtxDailyCapCents: "lots"}, []string{`context dailyCapCents: must be a non-negative integer, got "lots"`}},
		{"fraction", map[string]any{CtxChunkSize: 1.5}, []string{"context chunkSize: must be a non-negative integer, got 1.5"}},
		{"zero concurrency", map[string]any{CtxLookupConcurrency: float64(0)}, []string{"context lookupConcurrency: must be at least 1"}},
		{"rate below concurrency", map[string]any{CtxATTOMRatePerMinute: float64(2), CtxLookupConcurrency: float64(3)}, []string{"context attomRatePerMinute: must be at least lookupConcurrency (3), got 2"}},
		{"chunk too slow for the timeout", map[string]any{CtxChunkSize: float64(1000)}, []string{"context chunkSize: 1000 addresses at 200 calls/min take 300 s"}},
		{"relative parameter", map[string]any{CtxATTOMAPIKeyParameter: "attom-key"}, []string{"context attomApiKeyParameter: must be an absolute SSM parameter name"}},
		{"bad schedule", map[string]any{CtxRefreshSchedule: "daily"}, []string{`context refreshSchedule: must be rate(...), cron(...) or at(...), got "daily"`}},
		{"bad URL", map[string]any{CtxATTOMBaseURL: "api.gateway.attomdata.com"}, []string{"context attomBaseUrl: must be an http(s) URL"}},
		{"wrong type", map[string]any{CtxLambdaDir: float64(3)}, []string{"context lambdaDir: must be a string"}},
		{"two addresses", map[string]any{CtxJobEventsEmail: "a@example.com,b@example.com"}, []string{"context jobEventsEmail: must be one e-mail address"}},
		{"no address", map[string]any{CtxJobEventsEmail: "ops"}, []string{"context jobEventsEmail: must be one e-mail address"}},
		{"every error at once", map[string]any{CtxDailyCapCents: float64(0), CtxRefreshSchedule: "x"}, []string{"context dailyCapCents", "context refreshSchedule"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settingsFrom(func(k string) any { return tc.context[k] })
			if err == nil {
				t.Fatal("want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}
