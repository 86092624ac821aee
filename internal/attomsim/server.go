// Package attomsim is an ATTOM property API simulator for tests, benchmarks and the no-key
// local run. It speaks ATTOM's wire format on the same paths, makes up deterministic
// properties from the address (same address, same data, on every run), injects the faults
// ATTOM shows (5xx, hangs, malformed JSON, 429 past the rate, 401 for a wrong key), and keeps
// a ledger of the reports ATTOM would have billed.
//
// Everything it returns is synthetic: every answer carries the header X-Attom-Simulated: true
// (attom.Result.Simulated), and whatever shows such data (CLI output, exports, leads) must
// label it as simulated.
package attomsim

import (
	"context"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults applied by New and SetOptions to zero-valued fields.
const (
	// DefaultNotFoundRate is the share of addresses ATTOM does not know (about 8%).
	DefaultNotFoundRate = 0.08
	// DefaultDistressRate is the share of addresses with a pre-foreclosure filing; lead lists
	// are skewed towards distress, so it is higher than the national rate.
	DefaultDistressRate = 0.06
	// DefaultHangLimit bounds how long a simulated timeout holds a request.
	DefaultHangLimit = 2 * time.Minute
)

// DefaultReferenceDate is "today" for the synthetic data (sale dates, filings, auctions are
// placed relative to it). It is fixed so that the same address gives the same data on every
// run; set Options.ReferenceDate to move it.
var DefaultReferenceDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// Options shape the simulator. NotFoundRate and DistressRate take their defaults when zero;
// set them negative for "none".
type Options struct {
	Seed          int64
	NotFoundRate  float64
	DistressRate  float64
	FailureRate   float64       // share of calls answered 5xx
	Latency       time.Duration // added to every call
	TimeoutRate   float64       // share of calls that hang until the client gives up
	MalformedRate float64       // share of 200 answers cut short (invalid JSON)
	RatePerMinute int           // token bucket; past it 429 with Retry-After; 0 = off
	Burst429      int           // the next N calls get 429
	APIKey        string        // when set, a missing or different apikey gets the 401 wrapper
	ReferenceDate time.Time     // zero: DefaultReferenceDate
	HangLimit     time.Duration // zero: DefaultHangLimit
}

func (o Options) withDefaults() Options {
	switch {
	case o.NotFoundRate == 0:
		o.NotFoundRate = DefaultNotFoundRate
	case o.NotFoundRate < 0:
		o.NotFoundRate = 0
	}
	switch {
	case o.DistressRate == 0:
		o.DistressRate = DefaultDistressRate
	case o.DistressRate < 0:
		o.DistressRate = 0
	}
	if o.ReferenceDate.IsZero() {
		o.ReferenceDate = DefaultReferenceDate
	}
	if o.HangLimit <= 0 {
		o.HangLimit = DefaultHangLimit
	}
	return o
}

// Fault is the part of Options a test flips at run time (an outage on, then off).
type Fault struct {
	FailureRate   float64
	TimeoutRate   float64
	MalformedRate float64
	Latency       time.Duration
	Burst429      int
}

// Charge is one report ATTOM would bill: an HTTP 200 that carried a property.
type Charge struct {
	Endpoint      string
	AddressKey    string
	AttomID       int64
	TransactionID string
	At            time.Time
}

// Server is the simulator; it is an http.Handler safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	opts     Options
	rng      *rand.Rand
	limiter  *rate.Limiter
	burst429 int
	ledger   []Charge
	perKey   map[string]int
	byID     map[int64]sentAddress // attomId -> address, so attomid lookups find known homes
	statuses map[int]int

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a simulator with opts (defaults filled in).
func New(opts Options) *Server {
	s := &Server{
		perKey:   map[string]int{},
		byID:     map[int64]sentAddress{},
		statuses: map[int]int{},
		closed:   make(chan struct{}),
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
	}
	s.SetOptions(opts)
	return s
}

// SetOptions replaces the options at run time. Synthetic data depends on Seed,
// NotFoundRate, DistressRate and ReferenceDate: changing those changes every home.
func (s *Server) SetOptions(opts Options) {
	opts = opts.withDefaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts = opts
	s.burst429 = opts.Burst429
	s.limiter = nil
	if opts.RatePerMinute > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(float64(opts.RatePerMinute)/60), max(1, opts.RatePerMinute/12))
	}
}

// SetFault changes the injected faults, leaving data and rate options alone.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.FailureRate, s.opts.TimeoutRate, s.opts.MalformedRate = f.FailureRate, f.TimeoutRate, f.MalformedRate
	s.opts.Latency = f.Latency
	s.burst429 = f.Burst429
}

// Options returns the options in force.
func (s *Server) Options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// Close releases requests held by a simulated timeout; call it before closing the listener.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// Ledger returns the billed reports so far, oldest first.
func (s *Server) Ledger() []Charge {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Charge(nil), s.ledger...)
}

// BilledCount is the number of billed reports so far.
func (s *Server) BilledCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ledger)
}

// BilledFor is the number of billed reports for one address key (see AddressKey): a test
// checks with it that the batch never pays twice for the same address.
func (s *Server) BilledFor(addressKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perKey[normalizeKey(addressKey)]
}

// StatusCounts returns how many answers were sent per HTTP status.
func (s *Server) StatusCounts() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.statuses))
	for k, v := range s.statuses {
		out[k] = v
	}
	return out
}

// Start serves on addr (for example "127.0.0.1:0") in the background and returns the base
// URL to give attom.Config.BaseURL and a stop function.
func (s *Server) Start(addr string) (baseURL string, stop func(context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	stop = func(ctx context.Context) error {
		s.Close()
		return hs.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// ListenAndServe runs a simulator on addr until ctx ends; the CLI's `attom-batch simulator`
// calls it.
func ListenAndServe(ctx context.Context, addr string, opts Options) error {
	s := New(opts)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// transactionID draws a 32-hex-digit id like ATTOM's; callers hold s.mu.
func (s *Server) transactionID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	return hex.EncodeToString(b[:])
}
