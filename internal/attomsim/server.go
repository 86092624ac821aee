// Package attomsim is an ATTOM property API simulator for tests, benchmarks and the no-key
// local run. It speaks ATTOM's wire format on the same paths, makes up deterministic
// properties from the address (same address, same data, on every run), injects the faults
// ATTOM and the gateway in front of it show (5xx, hangs, cut-short JSON, HTML error pages,
// one endpoint down, outages, 429 past the rate, 401 for a wrong key), and keeps a ledger of
// the reports ATTOM would have billed.
//
// Tests count money by that ledger, not by what the client believes it spent. So that they
// can do so when the simulator runs in another process (a CLI killed and run again), the
// ledger, the call counts and the faults are also served over HTTP below ControlPrefix, and
// Remote reads and sets them (see control.go).
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
// set them negative for "none". The fault fields are those of Fault (see there); SetFault
// changes them at run time.
type Options struct {
	Seed          int64
	NotFoundRate  float64
	DistressRate  float64
	FailureRate   float64       // share of calls answered 5xx
	Latency       time.Duration // added to every call
	TimeoutRate   float64       // share of calls that hang until the client gives up
	MalformedRate float64       // share of 200 answers cut short (invalid JSON, billed)
	HTMLRate      float64       // share of calls answered 200 with an HTML page (not billed)
	// EndpointFailures is the share of calls to one endpoint answered 5xx, by endpoint name
	// (attom.EndpointAVM, ...): {"avm": 1} fails every AVM call while the others work.
	EndpointFailures map[string]float64
	Outage           bool          // every call gets 503, whatever it asks
	OutageUntil      time.Time     // every call before this instant gets 503
	RatePerMinute    int           // token bucket; past it 429 with Retry-After; 0 = off
	Burst429         int           // the next N calls get 429
	APIKey           string        // when set, a missing or different apikey gets the 401 wrapper
	ReferenceDate    time.Time     // zero: DefaultReferenceDate
	HangLimit        time.Duration // zero: DefaultHangLimit
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

// Charge is one report ATTOM would bill: an HTTP 200 that carried a property. Line1 and
// Line2 are the address as the caller sent it (empty for an attomid lookup of a home the
// simulator has not seen by address), so a test that does not compute AddressKey can still
// find its addresses.
type Charge struct {
	Endpoint      string    `json:"endpoint"`
	AddressKey    string    `json:"address_key"`
	Line1         string    `json:"line1,omitempty"`
	Line2         string    `json:"line2,omitempty"`
	AttomID       int64     `json:"attom_id"`
	TransactionID string    `json:"transaction_id"`
	At            time.Time `json:"at"`
}

// Server is the simulator; it is an http.Handler safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	opts     Options
	rng      *rand.Rand
	limiter  *rate.Limiter
	burst429 int
	ledger   []Charge
	perKey   map[string]map[string]int // address key -> endpoint -> billed reports
	byID     map[int64]sentAddress     // attomId -> address, so attomid lookups find known homes
	traffic  Traffic

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a simulator with opts (defaults filled in).
func New(opts Options) *Server {
	s := &Server{
		perKey:  map[string]map[string]int{},
		byID:    map[int64]sentAddress{},
		traffic: Traffic{ByStatus: map[int]int{}},
		closed:  make(chan struct{}),
		rng:     rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
	}
	s.SetOptions(opts)
	return s
}

// SetOptions replaces the options at run time. Synthetic data depends on Seed,
// NotFoundRate, DistressRate and ReferenceDate: changing those changes every home.
func (s *Server) SetOptions(opts Options) {
	opts = opts.withDefaults()
	opts.EndpointFailures = copyRates(opts.EndpointFailures)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts = opts
	s.burst429 = opts.Burst429
	s.limiter = newLimiter(opts.RatePerMinute)
}

// newLimiter is ATTOM's rate as a token bucket (a burst of 5 seconds' calls), or nil when off.
func newLimiter(perMinute int) *rate.Limiter {
	if perMinute <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(float64(perMinute)/60), max(1, perMinute/12))
}

// Options returns the options in force (Burst429 as set, not what is left of it).
func (s *Server) Options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts
	o.EndpointFailures = copyRates(o.EndpointFailures)
	return o
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

// BilledFor is the number of billed reports for one address key (see AddressKey), over all
// endpoints: a test checks with it that the batch never pays twice for the same address.
func (s *Server) BilledFor(addressKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.perKey[normalizeKey(addressKey)] {
		n += c
	}
	return n
}

// BilledBy returns the billed reports per address key and endpoint, the shape a test needs
// to see that a batch of several endpoints bought each one once per address.
func (s *Server) BilledBy() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCounts(s.perKey)
}

// Statement returns the ledger in the shape GET /_sim/ledger serves.
func (s *Server) Statement() Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Statement{
		Billed:    len(s.ledger),
		ByAddress: copyCounts(s.perKey),
		Charges:   append([]Charge{}, s.ledger...),
	}
}

// StatusCounts returns how many answers were sent per HTTP status.
func (s *Server) StatusCounts() map[int]int {
	return s.Traffic().ByStatus
}

// Traffic returns the call counts GET /_sim/status serves.
func (s *Server) Traffic() Traffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.traffic
	t.ByStatus = make(map[int]int, len(s.traffic.ByStatus))
	for k, v := range s.traffic.ByStatus {
		t.ByStatus[k] = v
	}
	return t
}

func copyCounts(in map[string]map[string]int) map[string]map[string]int {
	out := make(map[string]map[string]int, len(in))
	for k, byEndpoint := range in {
		out[k] = make(map[string]int, len(byEndpoint))
		for ep, n := range byEndpoint {
			out[k][ep] = n
		}
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

// ListenAndServe runs a simulator on addr until ctx ends.
func ListenAndServe(ctx context.Context, addr string, opts Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return New(opts).Serve(ctx, ln)
}

// Serve answers on ln until ctx ends, then releases held calls and shuts down. The CLI's
// `attom-batch simulator` listens first so that it can print the address (port 0 picks one)
// before serving.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
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
