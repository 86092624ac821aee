package attom

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoffIsFullJitterCapped(t *testing.T) {
	c, err := New(Config{APIKey: "k", BaseBackoff: time.Second, MaxBackoff: 10 * time.Second, Rand: func() float64 { return 0.999 }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		ceiling    time.Duration
	}{
		{1, 0, time.Second},
		{2, 0, 2 * time.Second},
		{4, 0, 8 * time.Second},
		{5, 0, 10 * time.Second},  // capped
		{60, 0, 10 * time.Second}, // no overflow
		{1, 7 * time.Second, 7 * time.Second},
		{1, time.Hour, MaxRetryAfter},
	}
	for _, tc := range tests {
		got := c.backoff(tc.attempt, tc.retryAfter)
		want := time.Duration(0.999 * float64(tc.ceiling))
		if tc.retryAfter > 0 {
			want = tc.ceiling
		}
		if got != want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tc.attempt, tc.retryAfter, got, want)
		}
	}
	c.cfg.Rand = func() float64 { return 0 }
	if got := c.backoff(3, 0); got != 0 {
		t.Errorf("full jitter must reach 0, got %v", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := map[string]time.Duration{"": 0, "3": 3 * time.Second, " 1 ": time.Second, "-2": 0, "soon": 0}
	for in, want := range tests {
		if got := parseRetryAfter(in); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
	future := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	if got := parseRetryAfter(future); got <= 0 || got > 31*time.Second {
		t.Errorf("HTTP-date Retry-After = %v", got)
	}
}
