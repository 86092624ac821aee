package attomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

const key = "sim-test-key"

// get calls the simulator in-process and returns status, headers and body.
func get(t *testing.T, s *Server, endpoint string, q url.Values, apiKey string) (int, http.Header, []byte) {
	t.Helper()
	path, _ := attom.EndpointPath(endpoint)
	req := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
	if apiKey != "" {
		req.Header.Set("apikey", apiKey)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

func addr(i int) url.Values {
	return url.Values{"address1": {fmt.Sprintf("%d Elm Street", 100+i)}, "address2": {"Columbus, OH 43215"}}
}

// propertyJSON strips the per-call status block so answers can be compared.
func propertyJSON(t *testing.T, body []byte) string {
	t.Helper()
	var env struct {
		Property json.RawMessage `json:"property"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return string(env.Property)
}

func TestSameAddressSameDataAcrossServers(t *testing.T) {
	a, b := New(Options{Seed: 7, NotFoundRate: -1}), New(Options{Seed: 7, NotFoundRate: -1})
	other := New(Options{Seed: 8, NotFoundRate: -1})
	for _, ep := range []string{attom.EndpointExpandedProfile, attom.EndpointAVM, attom.EndpointHomeEquity} {
		_, _, ba := get(t, a, ep, addr(1), "")
		_, _, bb := get(t, b, ep, addr(1), "")
		_, _, bo := get(t, other, ep, addr(1), "")
		if propertyJSON(t, ba) != propertyJSON(t, bb) {
			t.Errorf("%s: same seed and address gave different data:\n%s\n%s", ep, ba, bb)
		}
		if propertyJSON(t, ba) == propertyJSON(t, bo) {
			t.Errorf("%s: a different seed gave identical data", ep)
		}
	}
	// Spelling and spacing of the same address do not matter.
	_, _, x := get(t, a, attom.EndpointAVM, url.Values{"address": {"101  elm street,columbus, oh 43215"}}, "")
	_, _, y := get(t, a, attom.EndpointAVM, addr(1), "")
	if propertyJSON(t, x) != propertyJSON(t, y) {
		t.Error("one-line and two-line forms of one address gave different data")
	}
}

func TestSharesOverAThousandAddresses(t *testing.T) {
	opts := Options{}.withDefaults()
	var notFound, distressed, absentee, outOfState, estates, trusts, companies, freeAndClear int
	const n = 1000
	for i := range n {
		line1 := fmt.Sprintf("%d %s AVE", 10+i*7, streetNames[i%len(streetNames)])
		h := synthesize(opts, AddressKey(line1, "TAMPA, FL 33602"), line1, "TAMPA, FL 33602")
		if h.notFound {
			notFound++
		}
		if len(h.filings) > 0 {
			distressed++
		}
		name := h.owner1.FullName
		switch {
		case strings.HasPrefix(name, "ESTATE OF "):
			estates++
		case strings.Contains(name, " TRUST"):
			trusts++
		case strings.Contains(name, " LLC") || strings.Contains(name, " LP") || strings.Contains(name, " INC"):
			companies++
		}
		if !strings.HasSuffix(name, " ") {
			t.Fatalf("owner %q has no trailing space", name)
		}
		if h.absentee {
			absentee++
		}
		if h.outOfState {
			outOfState++
		}
		if h.mortgageAmt == 0 {
			freeAndClear++
		}
	}
	within := func(name string, got int, lo, hi float64) {
		if share := float64(got) / n; share < lo || share > hi {
			t.Errorf("%s share %.3f outside [%.2f, %.2f]", name, share, lo, hi)
		}
	}
	within("not found", notFound, 0.05, 0.11)
	within("pre-foreclosure", distressed, 0.03, 0.10)
	within("absentee", absentee, 0.20, 0.50)
	within("out of state", outOfState, 0.03, 0.20)
	within("estate", estates, 0.015, 0.07)
	within("trust", trusts, 0.05, 0.14)
	within("company", companies, 0.06, 0.15)
	within("free and clear", freeAndClear, 0.15, 0.50)
}

func TestDistressedHomesHaveFilingsAndSomeAuctions(t *testing.T) {
	opts := Options{DistressRate: 1, NotFoundRate: -1}.withDefaults()
	auctions := 0
	for i := range 200 {
		h := synthesize(opts, fmt.Sprint(i), fmt.Sprintf("%d MAIN ST", i), "MIAMI, FL 33101")
		if len(h.filings) == 0 || h.filings[0].DocumentType != "LIS" { // Florida is judicial
			t.Fatalf("filings = %+v", h.filings)
		}
		if len(h.filings) > 1 {
			auctions++
			if h.filings[1].AuctionDate <= date(opts.ReferenceDate) {
				t.Errorf("auction %s is not after the reference date", h.filings[1].AuctionDate)
			}
		}
		if h.ltv < 70 {
			t.Errorf("distressed home with LTV %v", h.ltv)
		}
	}
	if auctions == 0 || auctions == 200 {
		t.Errorf("%d of 200 distressed homes have an auction; want a share", auctions)
	}
}

func TestEverySimulatedAnswerIsLabeled(t *testing.T) {
	s := New(Options{APIKey: key, NotFoundRate: 1})
	for _, k := range []string{key, "wrong"} {
		_, hdr, _ := get(t, s, attom.EndpointAVM, addr(1), k)
		if hdr.Get(attom.SimulatedHeader) != "true" {
			t.Errorf("answer with key %q lacks %s", k, attom.SimulatedHeader)
		}
	}
}

func TestFoundAnswerShape(t *testing.T) {
	s := New(Options{NotFoundRate: -1})
	code, _, body := get(t, s, attom.EndpointAVM, addr(3), "")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var env struct {
		Status   map[string]any   `json:"status"`
		Property []map[string]any `json:"property"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "code", "msg", "total", "page", "pagesize", "transactionID"} {
		if _, ok := env.Status[k]; !ok {
			t.Errorf("status block lacks %q", k)
		}
	}
	if env.Status["msg"] != "SuccessWithResult" || env.Status["total"] != float64(1) {
		t.Errorf("status = %v", env.Status)
	}
	for _, want := range []string{`"propclass"`, `"yearbuilt"`, `"eventdate"`, `"countrySubd"`, `"attomId"`, `"latitude":"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("detail answer lacks %s", want)
		}
	}
	if bytes.Contains(body, []byte("null")) {
		t.Errorf("answer carries null members; ATTOM omits them: %s", body)
	}
}

func TestNotFoundAnswer(t *testing.T) {
	s := New(Options{NotFoundRate: 1})
	code, _, body := get(t, s, attom.EndpointExpandedProfile, addr(1), "")
	var env attom.Response
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if code != 400 || env.Status.Code.Int() != 1 || env.Status.Msg != "SuccessWithoutResult" || env.Status.Total.Int() != 0 || !env.Status.Total.Valid {
		t.Errorf("not found = %d %s", code, body)
	}
	if s.BilledCount() != 0 {
		t.Errorf("not found was billed")
	}
}

func TestUnauthorizedWrapperExactShape(t *testing.T) {
	s := New(Options{APIKey: key})
	for _, k := range []string{"", "wrong-key"} {
		code, _, body := get(t, s, attom.EndpointExpandedProfile, addr(1), k)
		if code != 401 || string(body) != `{"Response":{"status":{"code":"401","msg":"Unauthorized"}}}` {
			t.Errorf("key %q: %d %s", k, code, body)
		}
	}
	if code, _, _ := get(t, s, attom.EndpointExpandedProfile, addr(1), key); code == 401 {
		t.Error("the right key was refused")
	}
}

func TestInvalidParameters(t *testing.T) {
	s := New(Options{})
	for _, q := range []url.Values{{}, {"address1": {"1 MAIN ST"}}, {"attomid": {"x"}}} {
		code, _, body := get(t, s, attom.EndpointAVM, q, "")
		if code != 400 || !bytes.Contains(body, []byte("Invalid Parameter Combination")) {
			t.Errorf("query %v: %d %s", q, code, body)
		}
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	s := New(Options{RatePerMinute: 60, NotFoundRate: -1}) // burst 5
	var codes []int
	var retryAfter string
	for i := range 8 {
		code, hdr, _ := get(t, s, attom.EndpointAVM, addr(i), "")
		codes = append(codes, code)
		if code == 429 {
			retryAfter = hdr.Get("Retry-After")
		}
	}
	want := []int{200, 200, 200, 200, 200, 429, 429, 429}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
	if retryAfter != "1" {
		t.Errorf("Retry-After = %q, want 1", retryAfter)
	}
	if s.BilledCount() != 5 {
		t.Errorf("billed %d, want 5 (429 is free)", s.BilledCount())
	}
}

func TestBurst429ThenNormal(t *testing.T) {
	s := New(Options{NotFoundRate: -1})
	s.SetFault(Fault{Burst429: 3})
	var codes []int
	for i := range 5 {
		code, _, _ := get(t, s, attom.EndpointAVM, addr(i), "")
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[429 429 429 200 200]" {
		t.Errorf("codes = %v", codes)
	}
}

func TestFailureFaultAndRecovery(t *testing.T) {
	s := New(Options{NotFoundRate: -1, FailureRate: 1})
	for i := range 20 {
		code, hdr, _ := get(t, s, attom.EndpointAVM, addr(i), "")
		if code < 500 {
			t.Fatalf("outage answered %d", code)
		}
		if code == 503 && hdr.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	s.SetFault(Fault{})
	if code, _, _ := get(t, s, attom.EndpointAVM, addr(1), ""); code != 200 {
		t.Errorf("after the outage: %d", code)
	}
	if s.BilledCount() != 1 {
		t.Errorf("billed %d, want 1", s.BilledCount())
	}
}

func TestMalformedFault(t *testing.T) {
	s := New(Options{NotFoundRate: -1, MalformedRate: 1})
	code, _, body := get(t, s, attom.EndpointExpandedProfile, addr(1), "")
	if code != 200 || json.Valid(body) {
		t.Errorf("malformed fault sent %d valid=%t", code, json.Valid(body))
	}
}

func TestTimeoutFaultHangsUntilTheClientLeaves(t *testing.T) {
	s := New(Options{NotFoundRate: -1, TimeoutRate: 1})
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	path, _ := attom.EndpointPath(attom.EndpointAVM)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path+"?"+addr(1).Encode(), nil)
	resp, err := ts.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("hanging call answered %d", resp.StatusCode)
	}
	if ctx.Err() == nil {
		t.Errorf("call ended before the client's deadline: %v", err)
	}
}

func TestLatencyFaultRespectsTheClient(t *testing.T) {
	s := New(Options{NotFoundRate: -1, Latency: time.Hour})
	req := httptest.NewRequest(http.MethodGet, "/propertyapi/v1.0.0/attomavm/detail?"+addr(1).Encode(), nil)
	ctx, cancel := context.WithCancel(req.Context())
	cancel()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req.WithContext(ctx))
	if s.BilledCount() != 0 || rec.Body.Len() != 0 {
		t.Errorf("a call the client left was answered: %s", rec.Body)
	}
}

func TestLedgerCountsOnlyBilledAnswers(t *testing.T) {
	s := New(Options{APIKey: key, Seed: 3})
	found := map[string]int{}
	var missing []string
	for i := range 100 {
		q := addr(i)
		code, _, body := get(t, s, attom.EndpointExpandedProfile, q, key)
		k := AddressKey(q.Get("address1"), q.Get("address2"))
		switch code {
		case 200:
			found[k]++
			var env attom.Response
			if err := json.Unmarshal(body, &env); err != nil || len(env.Property) != 1 {
				t.Fatalf("200 without a property: %s", body)
			}
		case 400:
			missing = append(missing, k)
		default:
			t.Fatalf("unexpected %d", code)
		}
	}
	get(t, s, attom.EndpointExpandedProfile, addr(0), "wrong") // 401: free
	if len(missing) == 0 {
		t.Fatal("no address was missing in 100; cannot check that misses are free")
	}
	if s.BilledCount() != len(found) {
		t.Errorf("ledger %d, 200 answers %d", s.BilledCount(), len(found))
	}
	for k := range found {
		if s.BilledFor(strings.ToLower(k)) != 1 {
			t.Errorf("BilledFor(%q) = %d, want 1", k, s.BilledFor(k))
		}
	}
	for _, k := range missing {
		if s.BilledFor(k) != 0 {
			t.Errorf("missing %q billed", k)
		}
	}
	for _, c := range s.Ledger() {
		if c.Endpoint != attom.EndpointExpandedProfile || len(c.TransactionID) != 32 || c.At.IsZero() || c.AttomID == 0 {
			t.Errorf("charge = %+v", c)
		}
	}
	if counts := s.StatusCounts(); counts[200] != len(found) || counts[400] != len(missing) || counts[401] != 1 {
		t.Errorf("status counts = %v", counts)
	}
}

func TestListenAndServeUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ListenAndServe(ctx, address, Options{NotFoundRate: -1}) }()
	path, _ := attom.EndpointPath(attom.EndpointAVM)
	var resp *http.Response
	for range 100 {
		resp, err = http.Get("http://" + address + path + "?" + addr(1).Encode())
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("simulator never answered: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(attom.SimulatedHeader) != "true" {
		t.Errorf("answer %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe after cancel = %v", err)
	}
}

func TestStartGivesABaseURL(t *testing.T) {
	s := New(Options{NotFoundRate: -1})
	base, stop, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	c, err := attom.New(attom.Config{BaseURL: base, APIKey: "any"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Lookup(context.Background(), attom.EndpointExpandedProfile, attom.Query{OneLine: "1 Main St, Springfield, IL 62701"})
	if err != nil || res.Outcome != attom.Found || !res.Simulated {
		t.Errorf("lookup through Start = %+v, %v", res, err)
	}
}
