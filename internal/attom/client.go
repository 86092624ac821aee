// Package attom is the HTTP client for ATTOM's property API (v1, plus the v3
// pre-foreclosure endpoint). ATTOM answers one address per call and bills every property it
// returns, so the client paces calls with a shared, adaptive rate limiter, retries only what
// cannot have cost money (429, 5xx, requests that never left), returns at once every call
// that may have been billed, counts billed and possibly billed reports, and turns every
// answer into one of six outcomes the batch can act on.
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
	// DefaultMaxRateLimitWait is how long one lookup keeps waiting out 429s: a sustained
	// 429 means the key is shared or the limit is lower than configured, which the
	// adaptive limiter absorbs in far less time; failing sooner would fail whole jobs.
	DefaultMaxRateLimitWait = 10 * time.Minute
	// SimulatedHeader marks answers from the project's ATTOM simulator. Data that carries it
	// is synthetic and must be labeled as simulated wherever it is shown.
	SimulatedHeader = "X-Attom-Simulated"
	// maxBody bounds how much of an answer is read; real answers are a few KiB.
	maxBody = 8 << 20
	// MaxKeptBody bounds Result.Body, the unreadable answer kept for diagnosis.
	MaxKeptBody = 64 << 10
)

// Outcome is what one lookup came to, in the batch's vocabulary.
type Outcome string

// The six outcomes. Found and NotFound are normal answers; the other four come with an
// error of the matching named type (Broken: *AttomBrokenAnswer).
const (
	Found          Outcome = "found"
	NotFound       Outcome = "not_found"
	Unauthorized   Outcome = "unauthorized"
	InvalidRequest Outcome = "invalid_request"
	Unavailable    Outcome = "unavailable"
	// Broken is an HTTP 200 whose body cannot be decoded: billed (or possibly billed, for
	// an HTML page) and never retried inside Lookup.
	Broken Outcome = "broken"
)

// Result is one lookup's answer with what the batch needs to store and to account for money.
type Result struct {
	Endpoint string
	Outcome  Outcome
	// Property is the first property block, decoded; nil unless Found.
	Property *Property
	// Raw is that property block exactly as ATTOM sent it, for storage and re-reading.
	Raw json.RawMessage
	// Billed is true when ATTOM charges a report: HTTP 200 with at least one property, or an
	// HTTP 200 with a body we could not decode (Broken), since ATTOM bills it all the same.
	Billed bool
	// PossiblyBilled is true when ATTOM may have charged a report we cannot prove: a request
	// that reached ATTOM and whose answer was lost (per-call timeout, connection reset, the
	// caller's ctx ending), or a Broken 200 that is an HTML page (a gateway error page is
	// likely not billed, but we cannot tell). It can come with Billed when the HTTP
	// transport silently re-sent the request after a lost answer: Billed for the answer we
	// read, PossiblyBilled for the one we did not. The batch reckons it as one report.
	PossiblyBilled bool
	// Body is the raw body of a Broken answer (at most MaxKeptBody bytes), kept because it
	// was paid for; nil otherwise.
	Body       []byte
	StatusCode int
	// Attempts is the number of HTTP calls this lookup made (429s and retries included).
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
	// MaxRetries is the number of retries after 5xx answers or requests that never left;
	// negative means none. 429s do not count (see MaxRateLimitWait).
	MaxRetries int
	// MaxRateLimitWait bounds the pauses one lookup takes after 429s (Retry-After, or
	// backoff of at least BaseBackoff) before it gives up with *AttomUnavailable. Time
	// queued in the shared limiter does not count: that is our own pacing, not ATTOM
	// refusing us, and it grows with the number of callers.
	MaxRateLimitWait time.Duration
	// RatePerMinute paces this client when Limiter is nil; 0 means unlimited.
	RatePerMinute int
	// Limiter, when set, is shared by every client built with it: ATTOM's limit is per key,
	// so a process should hold one limiter (see NewLimiter); it adapts to 429s for all.
	Limiter    *Limiter
	HTTPClient *http.Client
	// BaseBackoff and MaxBackoff shape the exponential backoff with full jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Rand returns a number in [0,1) for jitter; tests make it deterministic.
	Rand func() float64
	// Sleep waits between retries and for the limiter; tests record the delays instead of
	// waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the limiter's clock; a test whose Sleep advances a fake clock passes its Now,
	// so that pacing runs on the fake time too.
	Now func() time.Time
}

// String describes the config without the API key, so printing a config never leaks it.
func (c Config) String() string {
	return fmt.Sprintf("attom.Config{BaseURL:%q APIKey:%s Timeout:%s MaxRetries:%d MaxRateLimitWait:%s RatePerMinute:%d SharedLimiter:%t}",
		c.BaseURL, redact(c.APIKey), c.Timeout, c.MaxRetries, c.MaxRateLimitWait, c.RatePerMinute, c.Limiter != nil)
}

// GoString keeps %#v from printing the key too.
func (c Config) GoString() string { return c.String() }

func redact(key string) string {
	if key == "" {
		return "(unset)"
	}
	return "[REDACTED]"
}

// Client calls ATTOM. It is safe for concurrent use.
type Client struct {
	cfg            Config
	base           string
	limiter        *Limiter
	http           *http.Client
	billed         atomic.Int64
	possiblyBilled atomic.Int64
	// refused is the last 401 ATTOM sent: a refused key is refused for every call, so the
	// calls for RefusalHold after it fail at once instead of each asking again. The hold
	// ends so that a long-lived process (a warm Lambda) recovers from a passing refusal.
	refused atomic.Pointer[refusal]
}

// RefusalHold is how long a 401 makes the client refuse every call without asking ATTOM.
const RefusalHold = time.Minute

type refusal struct {
	err *AttomUnauthorized
	at  time.Time
}

// refusedNow returns the 401 still held, if any.
func (c *Client) refusedNow() *AttomUnauthorized {
	r := c.refused.Load()
	if r == nil || c.cfg.Now().Sub(r.at) >= RefusalHold {
		return nil
	}
	return r.err
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
	if cfg.MaxRateLimitWait <= 0 {
		cfg.MaxRateLimitWait = DefaultMaxRateLimitWait
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
	if cfg.Now == nil {
		cfg.Now = time.Now
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

// Billed returns how many of this client's results so far were Billed.
func (c *Client) Billed() int64 { return c.billed.Load() }

// PossiblyBilled returns how many of this client's results so far were PossiblyBilled.
func (c *Client) PossiblyBilled() int64 { return c.possiblyBilled.Load() }

// CurrentRate is the pace the client's (possibly shared) limiter allows now, in calls per
// minute: lower than configured after 429s, back up after runs of successes; +Inf when
// unlimited.
func (c *Client) CurrentRate() float64 { return c.limiter.PerMinute() }

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
