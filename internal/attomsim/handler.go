package attomsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

// sentAddress is an address as a caller sent it, remembered by ATTOM id.
type sentAddress struct{ key, line1, line2 string }

// plan is what the simulator decided to do with one call before looking at the address.
type plan struct {
	opts       Options
	status     int // a refusal (401, 429, 5xx) or 0 to answer normally
	retryAfter int
	hang       bool
	html       bool
	malformed  bool
	txID       string
}

// ServeHTTP answers one ATTOM call, or a control request below ControlPrefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.serveControl(w, r)
		return
	}
	w.Header().Set(attom.SimulatedHeader, "true")
	w.Header().Set("Content-Type", "application/json")
	endpoint, ok := attom.EndpointForPath(r.URL.Path)
	p := s.plan(r, endpoint)
	if p.status != 0 {
		s.refuse(w, endpoint, p)
		return
	}
	if !wait(r, s.closed, p.opts.Latency) {
		return
	}
	switch {
	case p.hang:
		s.hang(w, r, p)
	case p.html:
		s.writeHTML(w)
	case !ok:
		s.writeStatus(w, endpoint, http.StatusNotFound, -1, "Resource not found", p.txID)
	default:
		s.answer(w, r, endpoint, p)
	}
}

// plan counts the call and applies, in ATTOM's order, an outage, the key check, the rate
// limit and the injected faults.
func (s *Server) plan(r *http.Request, endpoint string) plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.traffic.Calls++
	p := plan{opts: s.opts, txID: s.transactionID()}
	switch {
	case s.outage(time.Now()):
		p.status, p.retryAfter = http.StatusServiceUnavailable, 1
	case s.opts.APIKey != "" && r.Header.Get("apikey") != s.opts.APIKey:
		p.status = http.StatusUnauthorized
	case s.burst429 > 0:
		s.burst429--
		p.status, p.retryAfter = http.StatusTooManyRequests, 1
	case s.limiter != nil:
		if wait := s.limiterDelay(); wait > 0 {
			p.status, p.retryAfter = http.StatusTooManyRequests, int((wait+time.Second-1)/time.Second)
		}
	}
	if p.status == 0 {
		s.drawFault(&p, endpoint)
	}
	return p
}

// refuse answers a call the plan turned away (401, 429, 5xx) without looking at it.
func (s *Server) refuse(w http.ResponseWriter, endpoint string, p plan) {
	if p.status == http.StatusUnauthorized {
		s.writeUnauthorized(w, p.txID)
		return
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	s.writeStatus(w, endpoint, p.status, p.status, http.StatusText(p.status), p.txID)
}

// limiterDelay takes a token, or says how long until one is free (taking none).
func (s *Server) limiterDelay() time.Duration {
	res := s.limiter.Reserve()
	d := res.Delay()
	if d > 0 {
		res.Cancel()
	}
	return d
}

var serverErrors = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// drawFault rolls the dice for 5xx, hangs, HTML pages and cut bodies; callers hold s.mu.
// Every call that gets this far takes the same four draws whatever the rates, so that
// changing one rate does not shift which calls the others hit.
func (s *Server) drawFault(p *plan, endpoint string) {
	o := &s.opts
	x, e, y := s.rng.Float64(), s.rng.Float64(), s.rng.Float64()
	failure := serverErrors[s.rng.IntN(len(serverErrors))]
	switch {
	case x < o.FailureRate || e < o.EndpointFailures[endpoint]:
		p.status = failure
		if p.status == http.StatusServiceUnavailable {
			p.retryAfter = 1
		}
	case x < o.FailureRate+o.TimeoutRate:
		p.hang = true
		s.traffic.Hung++
	case y < o.HTMLRate:
		p.html = true
	default:
		p.malformed = y < o.HTMLRate+o.MalformedRate
	}
}

// wait sleeps d unless the client leaves or the server closes; false means stop.
func wait(r *http.Request, closed <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-closed:
	}
	return false
}

// hang holds the request until the client gives up (its timeout) or HangLimit passes.
func (s *Server) hang(w http.ResponseWriter, r *http.Request, p plan) {
	if wait(r, s.closed, p.opts.HangLimit) {
		s.writeStatus(w, "", http.StatusGatewayTimeout, http.StatusGatewayTimeout, "Gateway Timeout", p.txID)
	}
}

// answer looks the address up and writes the property, or "SuccessWithoutResult".
func (s *Server) answer(w http.ResponseWriter, r *http.Request, endpoint string, p plan) {
	sent, attomID, ok := s.readQuery(r)
	if !ok {
		s.writeStatus(w, endpoint, http.StatusBadRequest, -1, "Invalid Parameter Combination", p.txID)
		return
	}
	h := synthesize(p.opts, sent.key, sent.line1, sent.line2)
	if attomID != 0 {
		h.attomID = attomID
	}
	prop, has := h.propertyFor(endpoint)
	if h.notFound || !has {
		s.writeStatus(w, endpoint, http.StatusBadRequest, 1, "SuccessWithoutResult", p.txID)
		return
	}
	body, err := s.encodeFound(endpoint, prop, p.txID)
	if err != nil {
		s.writeStatus(w, endpoint, http.StatusInternalServerError, 500, "simulator: "+err.Error(), p.txID)
		return
	}
	if p.malformed {
		body = body[:len(body)/2]
	}
	s.bill(endpoint, sent, h.attomID, p)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// readQuery reads attomid, address1 + address2, or a one-line address.
func (s *Server) readQuery(r *http.Request) (sent sentAddress, attomID int64, ok bool) {
	q := r.URL.Query()
	if id := strings.TrimSpace(q.Get("attomid")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return sentAddress{}, 0, false
		}
		s.mu.Lock()
		known, found := s.byID[n]
		s.mu.Unlock()
		if !found {
			known = sentAddress{key: "ATTOMID:" + id}
		}
		return known, n, true
	}
	line1, line2 := strings.TrimSpace(q.Get("address1")), strings.TrimSpace(q.Get("address2"))
	if line1 == "" || line2 == "" {
		line1, line2 = splitOneLine(q.Get("address"))
	}
	if line1 == "" || line2 == "" {
		return sentAddress{}, 0, false
	}
	return sentAddress{key: AddressKey(line1, line2), line1: line1, line2: line2}, 0, true
}

// bill records a 200 that carries a property, read or not: ATTOM charges for it.
func (s *Server) bill(endpoint string, sent sentAddress, attomID int64, p plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ledger = append(s.ledger, Charge{
		Endpoint: endpoint, AddressKey: sent.key, Line1: sent.line1, Line2: sent.line2,
		AttomID: attomID, TransactionID: p.txID, At: time.Now().UTC(),
	})
	if s.perKey[sent.key] == nil {
		s.perKey[sent.key] = map[string]int{}
	}
	s.perKey[sent.key][endpoint]++
	s.byID[attomID] = sent
	s.traffic.ByStatus[http.StatusOK]++
	if p.malformed {
		s.traffic.Malformed++
	}
}

func statusBlock(endpoint string, code int, msg string, total int, txID string) attom.Status {
	version := "1.0.0"
	if endpoint == attom.EndpointPreforeclosure {
		version = "3.0.0"
	}
	return attom.Status{
		Version: version, Code: attom.NewNum(float64(code)), Msg: msg, Total: attom.NewNum(float64(total)),
		Page: attom.NewNum(1), PageSize: attom.NewNum(10), TransactionID: txID,
	}
}

func (s *Server) encodeFound(endpoint string, prop attom.Property, txID string) ([]byte, error) {
	resp := attom.Response{Status: statusBlock(endpoint, 0, "SuccessWithResult", 1, txID), Property: []attom.Property{prop}}
	raw, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	return toWire(raw, attom.IsDetailEndpoint(endpoint))
}

// writeStatus writes a status-only answer (not found, invalid, 429, 5xx).
func (s *Server) writeStatus(w http.ResponseWriter, endpoint string, httpStatus, code int, msg, txID string) {
	body, _ := json.Marshal(struct {
		Status attom.Status `json:"status"`
	}{statusBlock(endpoint, code, msg, 0, txID)})
	s.count(httpStatus)
	w.WriteHeader(httpStatus)
	w.Write(body)
}

// UnauthorizedBody is ATTOM's odd 401 envelope, byte for byte what the simulator sends.
const UnauthorizedBody = `{"Response":{"status":{"code":"401","msg":"Unauthorized"}}}`

func (s *Server) writeUnauthorized(w http.ResponseWriter, _ string) {
	s.count(http.StatusUnauthorized)
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(UnauthorizedBody))
}

// GatewayPage is the HTML body of the HTMLRate fault: what a proxy or gateway in front of
// ATTOM sends with status 200 when it cannot reach it. ATTOM never saw the call, so it is
// not billed.
const GatewayPage = `<!DOCTYPE html>
<html><head><title>Service Temporarily Unavailable</title></head>
<body><h1>Service Temporarily Unavailable</h1>
<p>The server is temporarily unable to service your request. Please try again later.</p>
</body></html>
`

func (s *Server) writeHTML(w http.ResponseWriter) {
	s.mu.Lock()
	s.traffic.HTML++
	s.traffic.ByStatus[http.StatusOK]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(GatewayPage))
}

func (s *Server) count(status int) {
	s.mu.Lock()
	s.traffic.ByStatus[status]++
	s.mu.Unlock()
}
