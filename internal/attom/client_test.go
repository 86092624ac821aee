package attom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
)

const testKey = "sk-test-5f3a9c1e-do-not-print"

var home = attom.Query{Line1: "4529 Winona Court", Line2: "Denver, CO 80212"}

// harness is a simulator behind a real HTTP server and a client whose sleeps are recorded
// instead of waited.
type harness struct {
	sim    *attomsim.Server
	client *attom.Client
	mu     sync.Mutex
	sleeps []time.Duration
	// onSleep runs at each recorded sleep (tests flip faults there).
	onSleep func(n int)
}

func newHarness(t *testing.T, opts attomsim.Options, cfg attom.Config) *harness {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	h := &harness{sim: attomsim.New(opts)}
	ts := httptest.NewServer(h.sim)
	t.Cleanup(ts.Close)
	t.Cleanup(h.sim.Close) // runs first: releases hanging handlers
	cfg.BaseURL = ts.URL
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	cfg.Rand = func() float64 { return 0.5 }
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.sleeps = append(h.sleeps, d)
		n := len(h.sleeps)
		h.mu.Unlock()
		if h.onSleep != nil {
			h.onSleep(n)
		}
		return ctx.Err()
	}
	c, err := attom.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.client = c
	return h
}

func (h *harness) recordedSleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

func TestLookupFoundDecodesEveryEndpoint(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1, DistressRate: 1}, attom.Config{})
	tests := []struct {
		endpoint string
		spelling string // a key as the endpoint spells it in the raw block
		check    func(p *attom.Property) error
	}{
		{attom.EndpointExpandedProfile, `"propClass"`, func(p *attom.Property) error {
			a := p.Assessment
			switch {
			case p.Summary == nil || p.Summary.PropClass == "" || !p.Summary.YearBuilt.Valid:
				return errors.New("summary not decoded")
			case a == nil || !a.Market.MktTtlValue.Valid || a.Owner == nil:
				return errors.New("assessment or owner not decoded")
			case !strings.HasSuffix(a.Owner.Owner1.FullName, " "):
				return fmt.Errorf("owner name %q lost its trailing space", a.Owner.Owner1.FullName)
			case p.Sale == nil || p.Sale.SaleTransDate == "":
				return errors.New("sale not decoded")
			}
			return nil
		}},
		{attom.EndpointAVM, `"propclass"`, func(p *attom.Property) error {
			if p.Summary == nil || p.Summary.PropClass == "" || !p.Summary.REOFlag.Valid {
				return errors.New("lower-case summary not decoded")
			}
			if p.AVM == nil || !p.AVM.Amount.Value.Valid || !p.AVM.Amount.Scr.Valid || p.AVM.EventDate == "" {
				return errors.New("avm not decoded")
			}
			return nil
		}},
		{attom.EndpointHomeEquity, `"ltv"`, func(p *attom.Property) error {
			if p.HomeEquity == nil || !p.HomeEquity.LTV.Valid || !p.HomeEquity.EstimatedAvailableEquity.Valid {
				return errors.New("home equity not decoded")
			}
			return nil
		}},
		{attom.EndpointPreforeclosure, `"documenttype"`, func(p *attom.Property) error {
			if len(p.Preforeclosure) == 0 || p.Preforeclosure[0].DocumentType == "" || p.Preforeclosure[0].RecordingDate == "" {
				return errors.New("filings not decoded")
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint, func(t *testing.T) {
			res, err := h.client.Lookup(context.Background(), tc.endpoint, home)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if res.Outcome != attom.Found || !res.Billed || res.StatusCode != 200 || res.Attempts != 1 || !res.Simulated {
				t.Fatalf("result = %+v, want found, billed, 200, 1 attempt, simulated", res)
			}
			if len(res.TransactionID) != 32 {
				t.Errorf("transaction id %q", res.TransactionID)
			}
			if res.Property.Address.Line1 != "4529 WINONA CT" || res.Property.Address.Postal1 != "80212" {
				t.Errorf("address = %+v", res.Property.Address)
			}
			if !strings.Contains(string(res.Raw), tc.spelling) {
				t.Errorf("raw block lacks %s: %s", tc.spelling, res.Raw)
			}
			if err := tc.check(res.Property); err != nil {
				t.Error(err)
			}
		})
	}
	if got := h.client.Billed(); got != int64(len(tests)) {
		t.Errorf("client billed %d, want %d", got, len(tests))
	}
	if got := h.sim.BilledCount(); got != len(tests) {
		t.Errorf("simulator ledger %d, want %d", got, len(tests))
	}
}

func TestLocationStringsDecode(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1}, attom.Config{})
	res, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Raw), `"latitude":"`) {
		t.Fatalf("simulator should send latitude as a string: %s", res.Raw)
	}
	loc := res.Property.Location
	if loc == nil || !loc.Latitude.Valid || loc.Latitude.Value < 37 || loc.Latitude.Value > 41 {
		t.Errorf("location = %+v, want a Colorado latitude", loc)
	}
}

func TestQueryFormsFindTheSameProperty(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1}, attom.Config{})
	ctx := context.Background()
	byParts, err := h.client.Lookup(ctx, attom.EndpointExpandedProfile, home)
	if err != nil {
		t.Fatal(err)
	}
	byLine, err := h.client.Lookup(ctx, attom.EndpointExpandedProfile, attom.Query{OneLine: "4529  winona court, Denver, CO 80212"})
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprint(byParts.Property.Identifier.AttomID.Int())
	byID, err := h.client.Lookup(ctx, attom.EndpointExpandedProfile, attom.Query{AttomID: id})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]attom.Result{"one-line": byLine, "attomid": byID} {
		if r.Property.Identifier.AttomID != byParts.Property.Identifier.AttomID || r.Property.Address.OneLine != byParts.Property.Address.OneLine {
			t.Errorf("%s lookup found %v %q, want %v %q", name, r.Property.Identifier.AttomID, r.Property.Address.OneLine,
				byParts.Property.Identifier.AttomID, byParts.Property.Address.OneLine)
		}
	}
}

func TestLookupNotFound(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: 1}, attom.Config{})
	res, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home)
	if err != nil {
		t.Fatalf("not found must not be an error: %v", err)
	}
	if res.Outcome != attom.NotFound || res.Billed || res.StatusCode != 400 || res.Property != nil || res.Raw != nil {
		t.Errorf("result = %+v, want not found, unbilled, HTTP 400", res)
	}
	if h.client.Billed() != 0 || h.sim.BilledCount() != 0 {
		t.Errorf("billed client=%d simulator=%d, want 0", h.client.Billed(), h.sim.BilledCount())
	}
}

func TestPreforeclosureWithoutFilingsIsNotFound(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1, DistressRate: -1}, attom.Config{})
	res, err := h.client.Lookup(context.Background(), attom.EndpointPreforeclosure, home)
	if err != nil || res.Outcome != attom.NotFound || res.Billed {
		t.Errorf("result = %+v, %v; want unbilled not found", res, err)
	}
}

func TestLookupUnauthorized(t *testing.T) {
	const wrongKey = "sk-wrong-4b8e-secret"
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := newHarness(t, attomsim.Options{}, attom.Config{APIKey: wrongKey, Now: func() time.Time { return now }})
	res, err := h.client.Lookup(context.Background(), attom.EndpointAVM, home)
	var unauth *attom.AttomUnauthorized
	if !errors.As(err, &unauth) {
		t.Fatalf("err = %v (%T), want *AttomUnauthorized", err, err)
	}
	if res.Outcome != attom.Unauthorized || res.Attempts != 1 || unauth.Status != 401 || unauth.Msg != "Unauthorized" || unauth.Endpoint != attom.EndpointAVM {
		t.Errorf("result = %+v, error = %+v", res, unauth)
	}
	if strings.Contains(err.Error(), wrongKey) {
		t.Errorf("error leaks the key: %v", err)
	}
	// A refused key is refused for every call: the next ones fail without asking again.
	calls := h.sim.StatusCounts()[401]
	if _, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home); !errors.As(err, &unauth) {
		t.Fatalf("second call: %v", err)
	}
	if again := h.sim.StatusCounts()[401]; again != calls {
		t.Fatalf("the second call asked ATTOM again (%d 401s, was %d)", again, calls)
	}
	// Once the hold is over, the client asks again: a passing refusal does not stick.
	now = now.Add(attom.RefusalHold)
	if _, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home); !errors.As(err, &unauth) {
		t.Fatalf("after the hold: %v", err)
	}
	if again := h.sim.StatusCounts()[401]; again != calls+1 {
		t.Fatalf("after the hold the client did not ask ATTOM (%d 401s, was %d)", again, calls)
	}
}

func TestLookupInvalidRequest(t *testing.T) {
	h := newHarness(t, attomsim.Options{}, attom.Config{})
	tests := []struct {
		name       string
		endpoint   string
		query      attom.Query
		wantStatus int
	}{
		{"ATTOM refuses the parameters", attom.EndpointExpandedProfile, attom.Query{AttomID: "not-a-number"}, 400},
		{"nothing identifies a property", attom.EndpointExpandedProfile, attom.Query{Line1: "1 MAIN ST"}, 0},
		{"unknown endpoint", "basicprofile", home, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.client.Lookup(context.Background(), tc.endpoint, tc.query)
			var invalid *attom.AttomInvalidRequest
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v (%T), want *AttomInvalidRequest", err, err)
			}
			if res.Outcome != attom.InvalidRequest || invalid.Status != tc.wantStatus || res.Billed {
				t.Errorf("result = %+v, error = %+v", res, invalid)
			}
		})
	}
}

func TestRetryAfterHonouredOn429(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1, Burst429: 2}, attom.Config{})
	res, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home)
	if err != nil || res.Outcome != attom.Found || res.Attempts != 3 {
		t.Fatalf("result = %+v, %v; want found on the third attempt", res, err)
	}
	want := []time.Duration{time.Second, time.Second}
	if got := h.recordedSleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps = %v, want the server's Retry-After %v", got, want)
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1, FailureRate: 1}, attom.Config{})
	h.onSleep = func(int) { h.sim.SetFault(attomsim.Fault{}) } // the outage ends during the backoff
	res, err := h.client.Lookup(context.Background(), attom.EndpointAVM, home)
	if err != nil || res.Outcome != attom.Found || res.Attempts != 2 || !res.Billed {
		t.Fatalf("result = %+v, %v; want found on the second attempt", res, err)
	}
	if got := h.recordedSleeps(); len(got) != 1 || got[0] <= 0 {
		t.Errorf("sleeps = %v, want one positive backoff", got)
	}
	if h.sim.BilledCount() != 1 {
		t.Errorf("ledger = %d, want 1 (5xx is never billed)", h.sim.BilledCount())
	}
}

func TestServerErrorForeverIsUnavailable(t *testing.T) {
	h := newHarness(t, attomsim.Options{FailureRate: 1}, attom.Config{MaxRetries: 3, BaseBackoff: 100 * time.Millisecond})
	res, err := h.client.Lookup(context.Background(), attom.EndpointHomeEquity, home)
	var unavailable *attom.AttomUnavailable
	if !errors.As(err, &unavailable) {
		t.Fatalf("err = %v (%T), want *AttomUnavailable", err, err)
	}
	if res.Outcome != attom.Unavailable || res.Attempts != 4 || unavailable.Attempts != 4 || unavailable.Status < 500 ||
		res.PossiblyBilled || unavailable.PossiblyBilled || h.client.PossiblyBilled() != 0 {
		t.Errorf("result = %+v, error = %+v; want 4 attempts ending in 5xx, not billed", res, unavailable)
	}
	sleeps := h.recordedSleeps()
	if len(sleeps) != 3 {
		t.Fatalf("sleeps = %v, want 3", sleeps)
	}
	for i, d := range sleeps {
		jitter := time.Duration(0.5 * float64(100*time.Millisecond<<i)) // Rand() = 0.5 of the ceiling
		if d != jitter && d != time.Second {                            // 503 carries Retry-After: 1
			t.Errorf("sleep %d = %v, want %v (jitter) or 1s (Retry-After)", i, d, jitter)
		}
	}
}

// A call that hangs past the per-call timeout reached ATTOM, which may have billed it: it
// comes back at once, PossiblyBilled, and is not retried (the old client retried it).
func TestTimeoutIsPossiblyBilledNotRetried(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1, TimeoutRate: 1}, attom.Config{Timeout: 50 * time.Millisecond, MaxRetries: 3})
	res, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home)
	var unavailable *attom.AttomUnavailable
	if !errors.As(err, &unavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want *AttomUnavailable wrapping a deadline", err)
	}
	if res.Outcome != attom.Unavailable || !res.PossiblyBilled || res.Billed || res.Attempts != 1 {
		t.Errorf("result = %+v, want unavailable, possibly billed, one attempt", res)
	}
	if !unavailable.PossiblyBilled || unavailable.Attempts != 1 || unavailable.Status != 0 || !strings.Contains(unavailable.Msg, "timeout") {
		t.Errorf("error = %+v, want possibly billed timeout after one attempt", unavailable)
	}
	if len(h.recordedSleeps()) != 0 || h.client.PossiblyBilled() != 1 || h.client.Billed() != 0 {
		t.Errorf("sleeps %v, possibly billed %d, billed %d; want no retry and one possibly billed",
			h.recordedSleeps(), h.client.PossiblyBilled(), h.client.Billed())
	}
}

// A 200 cut short is billed by ATTOM: it comes back at once as Broken and Billed, with the
// body, after one call (the old client retried it once and counted it as not billed).
func TestCut200IsBrokenAndBilledOnce(t *testing.T) {
	h := newHarness(t, attomsim.Options{NotFoundRate: -1, MalformedRate: 1}, attom.Config{})
	res, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, home)
	var brokenErr *attom.AttomBrokenAnswer
	if !errors.As(err, &brokenErr) {
		t.Fatalf("err = %v (%T), want *AttomBrokenAnswer", err, err)
	}
	if res.Outcome != attom.Broken || !res.Billed || res.PossiblyBilled || res.Attempts != 1 || res.StatusCode != 200 {
		t.Errorf("result = %+v, want broken, billed, one attempt", res)
	}
	if len(res.Body) == 0 || !strings.HasPrefix(string(res.Body), `{"status"`) || res.Property != nil {
		t.Errorf("body = %q, property %v; want the cut body kept and no property", res.Body, res.Property)
	}
	if brokenErr.Status != 200 || brokenErr.Endpoint != attom.EndpointExpandedProfile {
		t.Errorf("error = %+v", brokenErr)
	}
	if got := h.sim.StatusCounts()[200]; got != 1 {
		t.Errorf("simulator answered %d times, want exactly one call", got)
	}
	if h.client.Billed() != 1 || h.sim.BilledCount() != 1 {
		t.Errorf("billed client=%d simulator=%d, want both 1", h.client.Billed(), h.sim.BilledCount())
	}
}

// The caller's ctx ends while the request is at ATTOM: the lookup stops with ctx's error
// (not *AttomUnavailable), and the result is PossiblyBilled because the request was sent.
// A caller cancelled (Ctrl-C, a Lambda near its deadline) with a call in flight lets that
// call finish and keeps its answer: ATTOM may already have billed it. The cancel still stops
// what comes after: a retry is not made.
func TestContextCancelLetsTheCallInFlightFinish(t *testing.T) {
	sim := attomsim.New(attomsim.Options{NotFoundRate: -1, APIKey: testKey})
	cancelled := make(chan struct{})
	calls := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			<-cancelled // the caller gives up while ATTOM is answering
			sim.ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	c, _ := stubClient(t, ts.URL, attom.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
		close(cancelled)
	}()
	res, err := c.Lookup(ctx, attom.EndpointExpandedProfile, home)
	if err != nil || res.Outcome != attom.Found || !res.Billed || sim.BilledCount() != 1 {
		t.Fatalf("result %+v, %v; want the billed answer kept", res, err)
	}
	res, err = c.Lookup(ctx, attom.EndpointExpandedProfile, home)
	if !errors.Is(err, context.Canceled) || calls > 2 {
		t.Fatalf("after the cancel: %+v, %v after %d calls; want context.Canceled and no retry", res, err, calls)
	}
}

func TestSharedLimiterPacesEveryClient(t *testing.T) {
	sim := attomsim.New(attomsim.Options{NotFoundRate: -1})
	ts := httptest.NewServer(sim)
	defer ts.Close()
	shared := attom.NewLimiter(1) // one call a minute, burst 1
	var clients []*attom.Client
	for range 2 {
		c, err := attom.New(attom.Config{BaseURL: ts.URL, APIKey: testKey, Limiter: shared})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	if _, err := clients[0].Lookup(context.Background(), attom.EndpointAVM, home); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := clients[1].Lookup(ctx, attom.EndpointAVM, home)
	if err == nil || res.Attempts != 0 || res.PossiblyBilled {
		t.Errorf("second call in the minute went out (%+v, %v); the two clients must share one bucket", res, err)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	cfg := attom.Config{BaseURL: "http://127.0.0.1:1", APIKey: testKey, Timeout: 100 * time.Millisecond, MaxRetries: -1}
	c, err := attom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, lookupErr := c.Lookup(context.Background(), attom.EndpointAVM, home) // connection refused
	printed := []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg),
		fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(lookupErr),
	}
	for _, s := range printed {
		if strings.Contains(s, testKey) {
			t.Errorf("key printed: %s", s)
		}
	}
	if !strings.Contains(printed[0], "[REDACTED]") {
		t.Errorf("config string %q should say the key is redacted", printed[0])
	}
}

func TestErrorsNeverCarryTheKey(t *testing.T) {
	for _, opts := range []attomsim.Options{
		{APIKey: "another-key"}, {FailureRate: 1}, {MalformedRate: 1, NotFoundRate: -1}, {Burst429: 100},
	} {
		h := newHarness(t, opts, attom.Config{MaxRetries: 1, MaxRateLimitWait: 5 * time.Second})
		_, err := h.client.Lookup(context.Background(), attom.EndpointAVM, home)
		if err == nil {
			t.Fatalf("options %+v: want an error", opts)
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(fmt.Sprintf("%+v", err), testKey) {
			t.Errorf("error carries the key: %v", err)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []attom.Config{
		{APIKey: ""},
		{APIKey: "k", BaseURL: "api.gateway.attomdata.com"},
	}
	for _, cfg := range tests {
		if _, err := attom.New(cfg); err == nil {
			t.Errorf("New(%v) = nil error", cfg)
		}
	}
}

// A plain handler answering 200 with a status and no property: ATTOM's other spelling of
// "nothing found", which is not billed.
func TestOKWithoutPropertyIsNotFound(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":{"version":"1.0.0","code":0,"msg":"SuccessWithResult","total":0},"property":[]}`))
	}))
	defer ts.Close()
	c, err := attom.New(attom.Config{BaseURL: ts.URL, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Lookup(context.Background(), attom.EndpointAVM, home)
	if err != nil || res.Outcome != attom.NotFound || res.Billed || c.Billed() != 0 || res.Simulated {
		t.Errorf("result = %+v, %v; want unbilled not found, not simulated", res, err)
	}
}

func TestConcurrentLookupsBillExactlyWhatTheSimulatorCharged(t *testing.T) {
	h := newHarness(t, attomsim.Options{Seed: 11}, attom.Config{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				q := attom.Query{Line1: fmt.Sprintf("%d Birch Lane", w*100+i), Line2: "Austin, TX 78701"}
				if _, err := h.client.Lookup(context.Background(), attom.EndpointExpandedProfile, q); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if got, want := h.client.Billed(), int64(h.sim.BilledCount()); got != want || got == 0 || got == 200 {
		t.Errorf("client billed %d, simulator charged %d (of 200, some not found)", got, want)
	}
}
