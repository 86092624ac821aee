package attom_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"golang.org/x/time/rate"
)

// foundBody is a minimal answer with one property.
const foundBody = `{"status":{"code":0,"msg":"SuccessWithResult","total":1,"transactionID":"tx1"},"property":[{"identifier":{"attomId":7}}]}`

// stubClient is a client of base whose sleeps are recorded, not waited.
func stubClient(t *testing.T, base string, cfg attom.Config) (*attom.Client, *[]time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var sleeps []time.Duration
	cfg.BaseURL, cfg.APIKey = base, testKey
	cfg.Rand = func() float64 { return 0.5 }
	if cfg.Sleep == nil {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			sleeps = append(sleeps, d)
			mu.Unlock()
			return ctx.Err()
		}
	}
	c, err := attom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, &sleeps
}

// countingServer serves h and counts the calls that reached it.
func countingServer(t *testing.T, h http.HandlerFunc) (string, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, &calls
}

// An HTML 200 is most likely the gateway's error page: Broken, kept, PossiblyBilled (not
// Billed), one call.
func TestHTML200IsBrokenAndPossiblyBilled(t *testing.T) {
	for _, tc := range []struct{ name, contentType, body string }{
		{"labeled", "text/html; charset=utf-8", "Service temporarily unavailable"},
		{"unlabeled", "application/json", "\n <html><body>502 Bad Gateway</body></html>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, calls := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.Write([]byte(tc.body))
			})
			c, sleeps := stubClient(t, base, attom.Config{})
			res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
			var brokenErr *attom.AttomBrokenAnswer
			if !errors.As(err, &brokenErr) || !strings.Contains(brokenErr.Msg, "HTML") {
				t.Fatalf("err = %v, want *AttomBrokenAnswer about HTML", err)
			}
			if res.Outcome != attom.Broken || res.Billed || !res.PossiblyBilled || string(res.Body) != tc.body {
				t.Errorf("result = %+v, want broken, possibly billed, body kept", res)
			}
			if calls.Load() != 1 || len(*sleeps) != 0 || c.Billed() != 0 || c.PossiblyBilled() != 1 {
				t.Errorf("calls %d sleeps %v billed %d possibly %d", calls.Load(), *sleeps, c.Billed(), c.PossiblyBilled())
			}
		})
	}
}

// Result.Body keeps at most MaxKeptBody bytes of an unreadable answer.
func TestBrokenBodyTruncated(t *testing.T) {
	big := `{"status":{},"property":[{"x":"` + strings.Repeat("a", 2*attom.MaxKeptBody)
	base, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) })
	c, _ := stubClient(t, base, attom.Config{})
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	if res.Outcome != attom.Broken || !res.Billed || len(res.Body) != attom.MaxKeptBody || string(res.Body) != big[:attom.MaxKeptBody] {
		t.Errorf("result outcome %s billed %t body %d bytes, %v; want broken, billed, %d bytes", res.Outcome, res.Billed, len(res.Body), err, attom.MaxKeptBody)
	}
}

// A connection refused never reached ATTOM: retried with backoff, never PossiblyBilled.
func TestRefusedConnectionIsRetried(t *testing.T) {
	base, calls := countingServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(foundBody)) })
	var dials atomic.Int32
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c, sleeps := stubClient(t, base, attom.Config{HTTPClient: &http.Client{Transport: transport}})
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	if err != nil || res.Outcome != attom.Found || res.Attempts != 3 || res.PossiblyBilled || !res.Billed {
		t.Fatalf("result = %+v, %v; want found on the third attempt, not possibly billed", res, err)
	}
	if calls.Load() != 1 || len(*sleeps) != 2 || c.PossiblyBilled() != 0 {
		t.Errorf("calls %d sleeps %v possibly %d; want 1 call after 2 backoffs", calls.Load(), *sleeps, c.PossiblyBilled())
	}
}

// A refused connection that never ends gives up after MaxRetries, not PossiblyBilled.
func TestRefusedConnectionGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	c, sleeps := stubClient(t, "http://"+addr, attom.Config{MaxRetries: 2})
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	var unavailable *attom.AttomUnavailable
	if !errors.As(err, &unavailable) || unavailable.PossiblyBilled || unavailable.Attempts != 3 {
		t.Fatalf("err = %+v, want *AttomUnavailable after 3 attempts, not possibly billed", err)
	}
	if res.PossiblyBilled || len(*sleeps) != 2 || c.PossiblyBilled() != 0 {
		t.Errorf("result = %+v sleeps %v", res, *sleeps)
	}
}

// A connection reset after the request was written may have been billed: one call, returned
// at once, PossiblyBilled.
func TestConnectionResetAfterWriteIsPossiblyBilled(t *testing.T) {
	base, calls := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	c, sleeps := stubClient(t, base, attom.Config{MaxRetries: 3})
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	var unavailable *attom.AttomUnavailable
	if !errors.As(err, &unavailable) || !unavailable.PossiblyBilled {
		t.Fatalf("err = %v, want possibly billed *AttomUnavailable", err)
	}
	if !res.PossiblyBilled || res.Attempts != 1 || calls.Load() != 1 || len(*sleeps) != 0 {
		t.Errorf("result = %+v, calls %d, sleeps %v; want one possibly billed call", res, calls.Load(), *sleeps)
	}
}

// net/http re-sends a GET by itself when a reused connection dies before the answer. The
// answer read is Billed; the lost copy may have been billed too, and the result says so.
func TestTransportResendIsPossiblyBilled(t *testing.T) {
	var n atomic.Int32
	base, calls := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 { // the second call arrives on the kept-alive connection: drop it
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.Write([]byte(foundBody))
	})
	c, _ := stubClient(t, base, attom.Config{})
	if res, err := c.Lookup(context.Background(), attom.EndpointAVM, home); err != nil || res.PossiblyBilled {
		t.Fatalf("first lookup = %+v, %v", res, err)
	}
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	if calls.Load() != 3 {
		t.Skipf("the transport did not re-send (%d calls); nothing to check", calls.Load())
	}
	if err != nil || res.Outcome != attom.Found || !res.Billed || !res.PossiblyBilled || res.Attempts != 1 {
		t.Errorf("result = %+v, %v; want found, billed and possibly billed, one attempt", res, err)
	}
	if c.Billed() != 2 || c.PossiblyBilled() != 1 {
		t.Errorf("billed %d possibly %d, want 2 and 1", c.Billed(), c.PossiblyBilled())
	}
}

// 429s never count against MaxRetries: ten in a row with MaxRetries 1 still end in Found.
func TestRateLimitDoesNotUseRetries(t *testing.T) {
	var n atomic.Int32
	base, calls := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 10 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(foundBody))
	})
	c, sleeps := stubClient(t, base, attom.Config{MaxRetries: 1, BaseBackoff: time.Second})
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	if err != nil || res.Outcome != attom.Found || res.Attempts != 11 || calls.Load() != 11 {
		t.Fatalf("result = %+v, %v, calls %d; want found on the 11th attempt", res, err, calls.Load())
	}
	for i, d := range *sleeps { // no Retry-After: jittered backoff, never under BaseBackoff
		if d < time.Second || d > attom.DefaultMaxBackoff {
			t.Errorf("sleep %d = %v, want within [1s, %v]", i, d, attom.DefaultMaxBackoff)
		}
	}
}

// Retry-After is slept as given (capped at MaxRetryAfter).
func TestRetryAfterSlept(t *testing.T) {
	var n atomic.Int32
	base, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Write([]byte(foundBody))
		}
	})
	c, sleeps := stubClient(t, base, attom.Config{})
	if _, err := c.Lookup(context.Background(), attom.EndpointAVM, home); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{7 * time.Second, attom.MaxRetryAfter}; fmt.Sprint(*sleeps) != fmt.Sprint(want) {
		t.Errorf("sleeps = %v, want %v", *sleeps, want)
	}
}

// Sustained 429 gives up only after MaxRateLimitWait, with a "rate limited" *AttomUnavailable.
func TestSustainedRateLimitGivesUpAfterMaxWait(t *testing.T) {
	base, calls := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c, sleeps := stubClient(t, base, attom.Config{MaxRetries: 1})
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	var unavailable *attom.AttomUnavailable
	if !errors.As(err, &unavailable) || !strings.Contains(unavailable.Msg, "rate limited") || unavailable.Status != 429 {
		t.Fatalf("err = %v, want a rate-limited *AttomUnavailable", err)
	}
	var total time.Duration
	for _, d := range *sleeps {
		total += d
	}
	if total != attom.DefaultMaxRateLimitWait || calls.Load() != 11 || res.Attempts != 11 || res.PossiblyBilled {
		t.Errorf("waited %v over %d calls (%+v), want %v over 11 calls", total, calls.Load(), res, attom.DefaultMaxRateLimitWait)
	}
}

// fakeClock is time for the client's limiter and the stub server's bucket: Sleep moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

// limitedServer answers foundBody at most perMinute times a minute of clock time (429
// past it, without Retry-After, so only the client's own pacing can help); perMinute 0
// lifts the limit.
type limitedServer struct {
	clock   *fakeClock
	mu      sync.Mutex
	bucket  *rate.Limiter
	ok, tmr int
}

func (s *limitedServer) setLimit(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket = nil
	if perMinute > 0 {
		s.bucket = rate.NewLimiter(rate.Limit(float64(perMinute)/60), 1)
	}
}

func (s *limitedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	allowed := s.bucket == nil || s.bucket.AllowN(s.clock.Now(), 1)
	if allowed {
		s.ok++
	} else {
		s.tmr++
	}
	s.mu.Unlock()
	if !allowed {
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	w.Write([]byte(foundBody))
}

func (s *limitedServer) counts() (ok, tooMany int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok, s.tmr
}

func newLimited(t *testing.T, perMinute, clientPerMinute int) (*limitedServer, *attom.Client) {
	t.Helper()
	clock := newFakeClock()
	srv := &limitedServer{clock: clock}
	srv.setLimit(perMinute)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := attom.New(attom.Config{BaseURL: ts.URL, APIKey: testKey, RatePerMinute: clientPerMinute,
		MaxRetries: 1, Sleep: clock.Sleep, Now: clock.Now, Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// A server allowing 30 calls a minute, a client configured for 120: every lookup
// succeeds, the limiter settles under 120 and keeps 429s rare, then climbs back to 120
// once the server lifts its limit.
func TestAdaptiveRateUnderSustained429(t *testing.T) {
	srv, c := newLimited(t, 30, 120)
	const lookups = 100
	for i := range lookups {
		if res, err := c.Lookup(context.Background(), attom.EndpointAVM, home); err != nil || res.Outcome != attom.Found {
			t.Fatalf("lookup %d = %+v, %v; want found", i, res, err)
		}
	}
	ok, tooMany := srv.counts()
	if rate := c.CurrentRate(); rate >= 120 || rate < attom.MinRatePerMinute {
		t.Errorf("rate after sustained 429s = %.1f/min, want below the configured 120", rate)
	}
	if ok != lookups || tooMany > lookups/4 {
		t.Errorf("server answered %d, refused %d; want %d answers and 429s kept rare (a fixed 120/min pace gets 3 in 4 refused)", ok, tooMany, lookups)
	}
	t.Logf("after %d lookups at a 30/min server: rate %.1f/min, %d 429s", lookups, c.CurrentRate(), tooMany)

	srv.setLimit(0)
	for range 10 * attom.RaiseAfter {
		if _, err := c.Lookup(context.Background(), attom.EndpointAVM, home); err != nil {
			t.Fatal(err)
		}
	}
	if rate := c.CurrentRate(); rate != 120 {
		t.Errorf("rate after %d successes = %.1f/min, want back at 120", 10*attom.RaiseAfter, rate)
	}
}

// Concurrent callers share the adaptive limiter: all succeed and the rate comes down (run
// with -race).
func TestAdaptiveRateConcurrent(t *testing.T) {
	srv, c := newLimited(t, 60, 600)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if _, err := c.Lookup(context.Background(), attom.EndpointAVM, home); err != nil {
					t.Errorf("worker %d lookup %d: %v", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	ok, tooMany := srv.counts()
	if ok != 120 || c.CurrentRate() >= 600 || tooMany == 0 {
		t.Errorf("answers %d, 429s %d, rate %.1f; want 120 answers and a lowered rate", ok, tooMany, c.CurrentRate())
	}
}

// An unlimited client does not adapt: CurrentRate stays +Inf.
func TestUnlimitedRateIsInfinite(t *testing.T) {
	c, err := attom.New(attom.Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(c.CurrentRate(), 1) {
		t.Errorf("CurrentRate = %v, want +Inf", c.CurrentRate())
	}
}
