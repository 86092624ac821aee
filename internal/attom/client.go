// Package attom is the HTTP client for ATTOM's property API (v1, plus the v3
// pre-foreclosure endpoint). ATTOM answers one address per call and bills every property it
// returns, so the client paces calls with a shared rate limiter, retries only what is worth
// retrying, counts billed reports, and turns every answer into one of five outcomes the batch
// can act on.
package attom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults used when a Config field is left at its zero value.
const (
	DefaultBaseURL       = "https://api.gateway.attomdata.com"
	DefaultTimeout       = 15 * time.Second
	DefaultMaxRetries    = 4
	DefaultRatePerMinute = 200
	// DefaultLimiterBurst keeps the pace smooth: at 200/min a burst of 3 never lets more than
	// 3 calls leave back to back.
	DefaultLimiterBurst = 3
	DefaultBaseBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	// MaxRetryAfter caps a server's Retry-After so a bogus header cannot park a Lambda.
	MaxRetryAfter = 2 * time.Minute
	// SimulatedHeader marks answers from the project's ATTOM simulator. Data that carries it
	// is synthetic and must be labeled as simulated wherever it is shown.
	SimulatedHeader = "X-Attom-Simulated"
	// maxBody bounds how much of an answer is read; real answers are a few KiB.
	maxBody = 8 << 20
)

// Outcome is what one lookup came to, in the batch's vocabulary.
type Outcome string

// The five outcomes. Found and NotFound are normal answers; the other three come with an
// error of the matching named type.
const (
	Found          Outcome = "found"
	NotFound       Outcome = "not_found"
	Unauthorized   Outcome = "unauthorized"
	InvalidRequest Outcome = "invalid_request"
	Unavailable    Outcome = "unavailable"
)

// Result is one lookup's answer with what the batch needs to store and to account for money.
type Result struct {
	Endpoint string
	Outcome  Outcome
	// Property is the first property block, decoded; nil unless Found.
	Property *Property
	// Raw is that property block exactly as ATTOM sent it, for storage and re-reading.
	Raw json.RawMessage
	// Billed is true when ATTOM charges a report: HTTP 200 with at least one property.
	Billed        bool
	StatusCode    int
	Attempts      int
	TransactionID string
	// Simulated is true when the answer came from the ATTOM simulator (SimulatedHeader).
	Simulated bool
}

// Config configures a Client. Zero values take the defaults above, except RatePerMinute,
// where 0 means unlimited (tests, the simulator); production passes DefaultRatePerMinute or a
// shared Limiter.
type Config struct {
	BaseURL string // scheme and host, no path
	APIKey  string
	// Timeout bounds each call (not the whole lookup with its retries).
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt; negative means none.
	MaxRetries int
	// RatePerMinute paces this client when Limiter is nil; 0 means unlimited.
	RatePerMinute int
	// Limiter, when set, is shared by every client built with it: ATTOM's limit is per key,
	// so a process should hold one limiter (see NewLimiter).
	Limiter    *rate.Limiter
	HTTPClient *http.Client
	// BaseBackoff and MaxBackoff shape the exponential backoff with full jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Rand returns a number in [0,1) for jitter; tests make it deterministic.
	Rand func() float64
	// Sleep waits between retries; tests record the delays instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// String describes the config without the API key, so printing a config never leaks it.
func (c Config) String() string {
	return fmt.Sprintf("attom.Config{BaseURL:%q APIKey:%s Timeout:%s MaxRetries:%d RatePerMinute:%d SharedLimiter:%t}",
		c.BaseURL, redact(c.APIKey), c.Timeout, c.MaxRetries, c.RatePerMinute, c.Limiter != nil)
}

// GoString keeps %#v from printing the key too.
func (c Config) GoString() string { return c.String() }

func redact(key string) string {
	if key == "" {
		return "(unset)"
	}
	return "[REDACTED]"
}

// NewLimiter returns a smooth limiter of perMinute calls (burst DefaultLimiterBurst) to share
// between clients; perMinute <= 0 means unlimited.
func NewLimiter(perMinute int) *rate.Limiter {
	if perMinute <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	burst := DefaultLimiterBurst
	if perMinute < burst {
		burst = perMinute
	}
	return rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)
}

// Client calls ATTOM. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    string
	limiter *rate.Limiter
	http    *http.Client
	billed  atomic.Int64
}

// New checks the config, fills defaults and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("attom: base URL %q must start with http:// or https://", cfg.BaseURL)
	}
	if cfg.APIKey == "" {
		return nil, errors.New("attom: API key is empty")
	}
	applyDefaults(&cfg)
	limiter := cfg.Limiter
	if limiter == nil {
		limiter = NewLimiter(cfg.RatePerMinute)
	}
	return &Client{cfg: cfg, base: base, limiter: limiter, http: cfg.HTTPClient}, nil
}

func applyDefaults(cfg *Config) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepContext
	}
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32
		cfg.HTTPClient = &http.Client{Transport: t}
	}
}

// String describes the client without its key.
func (c *Client) String() string { return "attom.Client(" + c.cfg.String() + ")" }

// GoString keeps %#v from printing the key.
func (c *Client) GoString() string { return c.String() }

// Billed returns how many reports ATTOM billed to this client's calls so far.
func (c *Client) Billed() int64 { return c.billed.Load() }

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
