package attomsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

func TestHTMLPageIsAFreeTwoHundred(t *testing.T) {
	s := New(Options{NotFoundRate: -1, HTMLRate: 1})
	code, hdr, body := get(t, s, attom.EndpointExpandedProfile, addr(1), "")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || json.Valid(body) || !strings.Contains(string(body), "<html>") {
		t.Fatalf("HTML fault sent %d %q: %s", code, hdr.Get("Content-Type"), body)
	}
	if s.BilledCount() != 0 {
		t.Errorf("an HTML page from the gateway was billed %d times", s.BilledCount())
	}
	if tr := s.Traffic(); tr.HTML != 1 || tr.ByStatus[200] != 1 || tr.Calls != 1 {
		t.Errorf("traffic = %+v", tr)
	}
}

func TestCutBodyIsBilled(t *testing.T) {
	s := New(Options{NotFoundRate: -1, MalformedRate: 1})
	q := addr(1)
	code, _, body := get(t, s, attom.EndpointExpandedProfile, q, "")
	if code != 200 || json.Valid(body) {
		t.Fatalf("malformed fault sent %d valid=%t", code, json.Valid(body))
	}
	k := AddressKey(q.Get("address1"), q.Get("address2"))
	if by := s.BilledBy(); s.BilledCount() != 1 || by[k][attom.EndpointExpandedProfile] != 1 {
		t.Errorf("a cut 200 must be billed once: count %d, by %v", s.BilledCount(), by)
	}
	if tr := s.Traffic(); tr.Malformed != 1 {
		t.Errorf("traffic = %+v", tr)
	}
}

func TestEndpointFailureHitsOnlyThatEndpoint(t *testing.T) {
	s := New(Options{NotFoundRate: -1, EndpointFailures: map[string]float64{attom.EndpointAVM: 1}})
	for i := range 20 {
		if code, _, _ := get(t, s, attom.EndpointAVM, addr(i), ""); code < 500 {
			t.Fatalf("avm call %d answered %d", i, code)
		}
		if code, _, _ := get(t, s, attom.EndpointExpandedProfile, addr(i), ""); code != 200 {
			t.Fatalf("expandedprofile call %d answered %d", i, code)
		}
	}
	for k, byEndpoint := range s.BilledBy() {
		if len(byEndpoint) != 1 || byEndpoint[attom.EndpointExpandedProfile] != 1 {
			t.Errorf("%s billed %v", k, byEndpoint)
		}
	}
	if s.BilledCount() != 20 {
		t.Errorf("billed %d, want 20", s.BilledCount())
	}
}

func TestOutageAnswers503ToEveryCall(t *testing.T) {
	s := New(Options{NotFoundRate: -1, APIKey: key, Outage: true})
	for _, k := range []string{key, "wrong"} {
		code, hdr, _ := get(t, s, attom.EndpointAVM, addr(1), k)
		if code != 503 || hdr.Get("Retry-After") == "" {
			t.Errorf("outage, key %q: %d Retry-After %q", k, code, hdr.Get("Retry-After"))
		}
	}
	s.SetFault(Fault{OutageUntil: time.Now().Add(time.Hour)})
	if code, _, _ := get(t, s, attom.EndpointAVM, addr(1), key); code != 503 {
		t.Errorf("within the outage window: %d", code)
	}
	s.SetFault(Fault{OutageUntil: time.Now().Add(-time.Second)})
	if code, _, _ := get(t, s, attom.EndpointAVM, addr(1), key); code != 200 {
		t.Errorf("after the outage window: %d", code)
	}
	if s.BilledCount() != 1 {
		t.Errorf("billed %d, want 1", s.BilledCount())
	}
}

// fates is what each of n calls got: status, and whether the body was HTML or invalid JSON.
func fates(t *testing.T, s *Server, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		code, hdr, body := get(t, s, attom.EndpointAVM, addr(i), "")
		fmt.Fprintf(&b, "%d/%t/%t ", code, strings.HasPrefix(hdr.Get("Content-Type"), "text/html"), json.Valid(body))
	}
	return b.String()
}

func TestFaultDrawsAreDeterministicPerSeed(t *testing.T) {
	opts := Options{Seed: 5, NotFoundRate: -1, FailureRate: 0.2, HTMLRate: 0.2, MalformedRate: 0.2,
		EndpointFailures: map[string]float64{attom.EndpointAVM: 0.1}}
	a, b := fates(t, New(opts), 60), fates(t, New(opts), 60)
	if a != b {
		t.Fatalf("same seed, different fates:\n%s\n%s", a, b)
	}
	opts.Seed = 6
	if c := fates(t, New(opts), 60); c == a {
		t.Errorf("another seed gave the same fates: %s", c)
	}
	for _, want := range []string{"/true/false", "/false/false", "200/false/true"} {
		if !strings.Contains(a, want) {
			t.Errorf("no call had fate %s in %s", want, a)
		}
	}
}

func TestAddingAFaultDoesNotMoveTheOthers(t *testing.T) {
	base := Options{Seed: 2, NotFoundRate: -1, HTMLRate: 0.3}
	withFailures := base
	withFailures.FailureRate = 0.3
	x, y := New(base), New(withFailures)
	failed, moved := 0, 0
	for i := range 100 {
		_, hx, _ := get(t, x, attom.EndpointAVM, addr(i), "")
		cy, hy, _ := get(t, y, attom.EndpointAVM, addr(i), "")
		if cy >= 500 {
			failed++
			continue
		}
		if hx.Get("Content-Type") != hy.Get("Content-Type") {
			moved++
		}
	}
	if failed == 0 || moved > 0 {
		t.Errorf("%d calls failed; %d of the others changed fate when failures were added", failed, moved)
	}
}

func TestFaultJSON(t *testing.T) {
	f := Fault{HTMLRate: 0.5, EndpointFailures: map[string]float64{"avm": 1}, Latency: 250 * time.Millisecond}
	raw, err := json.Marshal(f)
	if err != nil || !strings.Contains(string(raw), `"latency":"250ms"`) || strings.Contains(string(raw), "outage_until") {
		t.Fatalf("marshal: %s %v", raw, err)
	}
	var back Fault
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"latency":1000}`), &back); err != nil || back.Latency != time.Microsecond || back.HTMLRate != 0.5 {
		t.Errorf("nanoseconds, other fields kept: %+v %v", back, err)
	}
	bad := Fault{HTMLRate: 2, EndpointFailures: map[string]float64{"nope": 1}, Burst429: -1}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "html_rate") || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "negative") {
		t.Errorf("validate = %v", err)
	}
}

// started serves s on a loopback port and returns its base URL.
func started(t *testing.T, s *Server) string {
	t.Helper()
	base, stop, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(context.Background()) })
	return base
}

// call makes one ATTOM call over HTTP and returns the status.
func call(t *testing.T, base, endpoint string, q url.Values) int {
	t.Helper()
	path, _ := attom.EndpointPath(endpoint)
	resp, err := http.Get(base + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestLedgerJSONMatchesTheInProcessLedger(t *testing.T) {
	s := New(Options{Seed: 4})
	base := started(t, s)
	for i := range 15 {
		for _, ep := range []string{attom.EndpointExpandedProfile, attom.EndpointAVM} {
			call(t, base, ep, addr(i))
		}
	}
	call(t, base, attom.EndpointAVM, addr(1)) // bought twice
	got, err := Remote{BaseURL: base}.Ledger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := s.Statement()
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got.ByAddress, s.BilledBy()) {
		t.Fatalf("remote ledger differs:\n%+v\n%+v", got, want)
	}
	q := addr(1)
	k := AddressKey(q.Get("address1"), q.Get("address2"))
	if want.Billed == 0 || want.Billed != len(want.Charges) || got.BilledFor(strings.ToLower(k)) != s.BilledFor(k) {
		t.Errorf("billed %d, %d charges, for %q %d", want.Billed, len(want.Charges), k, got.BilledFor(k))
	}
	c := want.Charges[0]
	if c.Line1 != addr(0).Get("address1") || c.Line2 != addr(0).Get("address2") || c.AddressKey != AddressKey(c.Line1, c.Line2) {
		t.Errorf("charge does not carry the address as sent: %+v", c)
	}
	checkLedgerShape(t, base)
}

// checkLedgerShape reads the raw JSON, as a caller in another language would.
func checkLedgerShape(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + LedgerPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw struct {
		Billed    *int                      `json:"billed"`
		ByAddress map[string]map[string]int `json:"by_address"`
		Charges   []map[string]any          `json:"charges"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || raw.Billed == nil || len(raw.ByAddress) == 0 || len(raw.Charges) == 0 {
		t.Fatalf("ledger JSON: %+v %v", raw, err)
	}
	for _, k := range []string{"endpoint", "address_key", "line1", "line2", "attom_id", "transaction_id", "at"} {
		if _, ok := raw.Charges[0][k]; !ok {
			t.Errorf("charge lacks %q: %v", k, raw.Charges[0])
		}
	}
}

// driveFaults flips faults through a Controller and checks the simulator follows; it runs
// the same against the in-process and the remote controller.
func driveFaults(t *testing.T, c Controller, base string) {
	ctx := context.Background()
	if err := c.SetFault(ctx, Fault{EndpointFailures: map[string]float64{attom.EndpointAVM: 1}}); err != nil {
		t.Fatal(err)
	}
	if call(t, base, attom.EndpointAVM, addr(1)) < 500 || call(t, base, attom.EndpointExpandedProfile, addr(1)) != 200 {
		t.Fatal("endpoint failure set through the controller has no effect")
	}
	if err := c.SetFault(ctx, Fault{HTMLRate: 1, Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if f, err := c.Fault(ctx); err != nil || f.HTMLRate != 1 || f.Latency != time.Millisecond || f.EndpointFailures != nil {
		t.Fatalf("fault read back = %+v, %v", f, err)
	}
	if call(t, base, attom.EndpointAVM, addr(2)) != 200 {
		t.Fatal("HTML page not a 200")
	}
	if err := c.SetFault(ctx, Fault{MalformedRate: -0.5}); err == nil {
		t.Error("a negative rate was accepted")
	}
	if err := c.SetFault(ctx, Fault{}); err != nil {
		t.Fatal(err)
	}
	call(t, base, attom.EndpointAVM, addr(3))
	st, _ := c.Ledger(ctx)
	tr, _ := c.Status(ctx)
	if st.Billed != 2 || tr.Calls != 4 || tr.HTML != 1 || tr.ByStatus[200] != 3 {
		t.Errorf("billed %d (want 2: one profile, one avm after the faults), traffic %+v", st.Billed, tr)
	}
}

func TestControllersDriveFaults(t *testing.T) {
	t.Run("in process", func(t *testing.T) {
		s := New(Options{NotFoundRate: -1})
		driveFaults(t, s.Controller(), started(t, s))
	})
	t.Run("remote", func(t *testing.T) {
		base := started(t, New(Options{NotFoundRate: -1}))
		driveFaults(t, Remote{BaseURL: base}, base)
	})
}

func TestPatchFaultChangesOnlyTheFieldsSent(t *testing.T) {
	s := New(Options{NotFoundRate: -1, EndpointFailures: map[string]float64{"avm": 1}})
	req := httptest.NewRequest(http.MethodPatch, FaultPath, strings.NewReader(`{"html_rate":0.25,"latency":"5ms"}`))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	f := s.Fault()
	if rec.Code != 200 || f.HTMLRate != 0.25 || f.Latency != 5*time.Millisecond || f.EndpointFailures["avm"] != 1 {
		t.Fatalf("PATCH: %d %s -> %+v", rec.Code, rec.Body, f)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, FaultPath, strings.NewReader(`{"endpoint_failures":{"avn":1}}`)))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "avn") || s.Fault().HTMLRate != 0.25 {
		t.Errorf("a bad PUT: %d %s, fault now %+v", rec.Code, rec.Body, s.Fault())
	}
}

func TestControlPathsAreNeverBilledNorCounted(t *testing.T) {
	s := New(Options{Seed: 9, NotFoundRate: -1, APIKey: key, FailureRate: 0.5, Burst429: 1})
	before := s.Fault()
	for _, r := range []struct{ method, path, body string }{
		{"GET", LedgerPath, ""}, {"GET", StatusPath, ""}, {"GET", FaultPath, ""},
		{"PATCH", FaultPath, `{}`}, {"POST", LedgerPath, ""}, {"GET", ControlPrefix + "nope", ""},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(r.method, r.path, strings.NewReader(r.body)))
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusTooManyRequests || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s without a key: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
	if tr := s.Traffic(); tr.Calls != 0 || len(tr.ByStatus) != 0 || s.BilledCount() != 0 {
		t.Errorf("control requests counted: %+v, billed %d", tr, s.BilledCount())
	}
	if !reflect.DeepEqual(s.Fault(), before) {
		t.Errorf("control requests used up faults: %+v, was %+v", s.Fault(), before)
	}
	// Nor do they take random draws: the calls after them meet the fates a fresh server deals.
	fresh := New(Options{Seed: 9, NotFoundRate: -1, FailureRate: 0.5})
	s.SetOptions(Options{Seed: 9, NotFoundRate: -1, FailureRate: 0.5})
	if a, b := fates(t, s, 20), fates(t, fresh, 20); a != b {
		t.Errorf("fates differ after control requests:\n%s\n%s", a, b)
	}
}
