package attom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fault says how an attempt ended, and so whether Lookup may try again.
type fault int

const (
	// final: an answer or a failure to hand to the caller as is. Every call that may have
	// cost money ends here, so that the caller, who reserved the money, sees it.
	final fault = iota
	// rateLimited: a 429. Never billed; waited out for up to MaxRateLimitWait.
	rateLimited
	// unbillable: a 5xx, or a request that never reached the wire. Retried up to MaxRetries.
	unbillable
)

// step is what one HTTP attempt came to.
type step struct {
	result     Result
	err        error
	fault      fault
	retryAfter time.Duration
	msg        string
	transport  error
	// answered is true when ATTOM sent an answer that was neither 429 nor 5xx, which tells
	// the limiter the current pace is accepted.
	answered bool
	// resent is true when the HTTP transport sent the request more than once.
	resent bool
}

// lookupState is what one Lookup remembers across its attempts.
type lookupState struct {
	attempts  int           // HTTP calls made
	failures  int           // unbillable failures, counted against MaxRetries
	limited   int           // 429s received
	limitWait time.Duration // pauses after 429s
	resent    bool          // some attempt was re-sent by the transport: possibly billed
}

// Lookup asks one endpoint about one property. Only failures that cannot have cost money
// are retried inside it (429, 5xx, requests that never reached the wire); every call that
// may have been billed returns at once so the caller, who reserved money for it, decides.
//
// Found and NotFound return a nil error. Unauthorized, InvalidRequest, Broken and
// Unavailable return *AttomUnauthorized, *AttomInvalidRequest, *AttomBrokenAnswer and
// *AttomUnavailable; a Broken result is Billed (or PossiblyBilled for an HTML page) and
// keeps Body; an Unavailable result after a timeout or a connection lost once the request
// was sent is PossiblyBilled. When ctx ends first, the outcome is Unavailable, the error
// wraps ctx.Err(), and the result is PossiblyBilled if a request was in flight.
func (c *Client) Lookup(ctx context.Context, endpoint string, q Query) (Result, error) {
	target, err := c.target(endpoint, q)
	if err != nil {
		return Result{Endpoint: endpoint, Outcome: InvalidRequest}, err
	}
	if refused := c.refusedNow(); refused != nil {
		return Result{Endpoint: endpoint, Outcome: Unauthorized}, refused
	}
	var st lookupState
	for {
		gen, err := c.limiter.wait(ctx, c.cfg.Now, c.cfg.Sleep)
		if err != nil {
			return c.cancelled(ctx, endpoint, &st, err)
		}
		st.attempts++
		s := c.attempt(ctx, endpoint, target)
		st.resent = st.resent || s.resent
		c.teachLimiter(gen, s)
		if s.fault == final {
			var refused *AttomUnauthorized
			if errors.As(s.err, &refused) {
				c.refused.Store(&refusal{err: refused, at: c.cfg.Now()})
			}
			return c.settle(s.result, s.err, &st)
		}
		d, err := c.retryDelay(s, &st)
		if err != nil {
			return c.settle(s.result, err, &st)
		}
		if err := c.cfg.Sleep(ctx, d); err != nil {
			return c.cancelled(ctx, endpoint, &st, err)
		}
	}
}

// target is the URL of one endpoint for one query, or *AttomInvalidRequest.
func (c *Client) target(endpoint string, q Query) (string, error) {
	path, ok := endpointPaths[endpoint]
	if !ok {
		return "", &AttomInvalidRequest{Endpoint: endpoint, Msg: "unknown endpoint (known: " + strings.Join(Endpoints(), ", ") + ")"}
	}
	params, err := q.values()
	if err != nil {
		return "", &AttomInvalidRequest{Endpoint: endpoint, Msg: err.Error()}
	}
	return c.base + path + "?" + params.Encode(), nil
}

// teachLimiter tells the shared limiter what the call's answer says about the pace.
func (c *Client) teachLimiter(gen uint64, s step) {
	switch {
	case s.fault == rateLimited:
		c.limiter.throttled(c.cfg.Now(), gen)
	case s.answered:
		c.limiter.passed(c.cfg.Now(), gen)
	}
}

// retryDelay says how long to wait before trying again, or returns the *AttomUnavailable
// to give up with: 429s wait out MaxRateLimitWait, other unbillable faults MaxRetries.
func (c *Client) retryDelay(s step, st *lookupState) (time.Duration, error) {
	if s.fault == rateLimited {
		st.limited++
		d := c.rateLimitPause(st.limited, s.retryAfter)
		if st.limitWait+d > c.cfg.MaxRateLimitWait {
			return 0, &AttomUnavailable{Endpoint: s.result.Endpoint, Status: s.result.StatusCode,
				Msg: fmt.Sprintf("rate limited: gave up after waiting %s for ATTOM's limit (max %s)", st.limitWait, c.cfg.MaxRateLimitWait)}
		}
		st.limitWait += d
		return d, nil
	}
	st.failures++
	if st.failures > c.cfg.MaxRetries {
		return 0, &AttomUnavailable{Endpoint: s.result.Endpoint, Status: s.result.StatusCode, Msg: s.msg, Err: s.transport}
	}
	return c.backoff(st.failures, s.retryAfter), nil
}

// rateLimitPause is the wait after the nth 429 in a row: the server's Retry-After when it
// gives one, else backoff with jitter but never under BaseBackoff, so that a run of 429s
// always adds up to MaxRateLimitWait in the end.
func (c *Client) rateLimitPause(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, MaxRetryAfter)
	}
	return max(c.backoff(n, 0), c.cfg.BaseBackoff)
}

// settle completes the lookup's result and counts what it may have cost, so that Billed()
// and PossiblyBilled() add up exactly what the callers were told.
func (c *Client) settle(r Result, err error, st *lookupState) (Result, error) {
	r.Attempts = st.attempts
	r.PossiblyBilled = r.PossiblyBilled || st.resent
	var unavailable *AttomUnavailable
	if errors.As(err, &unavailable) {
		unavailable.Attempts = st.attempts
		unavailable.PossiblyBilled = unavailable.PossiblyBilled || r.PossiblyBilled
	}
	if r.Billed {
		c.billed.Add(1)
	}
	if r.PossiblyBilled {
		c.possiblyBilled.Add(1)
	}
	return r, err
}

// cancelled ends a lookup whose ctx ended while it waited (nothing in flight).
func (c *Client) cancelled(ctx context.Context, endpoint string, st *lookupState, err error) (Result, error) {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return c.settle(Result{Endpoint: endpoint, Outcome: Unavailable},
		fmt.Errorf("attom %s: lookup stopped: %w", endpoint, err), st)
}

// backoff is exponential with full jitter, capped; a server's Retry-After wins when given.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, MaxRetryAfter)
	}
	ceiling := c.cfg.BaseBackoff << min(attempt-1, 20)
	if ceiling <= 0 || ceiling > c.cfg.MaxBackoff {
		ceiling = c.cfg.MaxBackoff
	}
	return time.Duration(c.cfg.Rand() * float64(ceiling))
}

// classify maps an HTTP answer to an outcome, following how ATTOM really answers. readErr
// is the error that cut the body short, if any.
func (c *Client) classify(endpoint string, resp *http.Response, body []byte, readErr error) step {
	res := Result{Endpoint: endpoint}
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		return classifyOK(res, resp, body, readErr)
	case code == http.StatusUnauthorized:
		res.Outcome = Unauthorized
		return step{result: res, answered: true, err: &AttomUnauthorized{Endpoint: endpoint, Status: code, Msg: unauthorizedMsg(body)}}
	case code == http.StatusTooManyRequests || code >= 500:
		return retryable(res, code, body, resp.Header.Get("Retry-After"))
	case code >= 400 && readErr != nil:
		// Only a 200 is billed, so a cut 4xx is safe to ask again.
		res.Outcome = Unavailable
		return step{result: res, fault: unbillable, msg: fmt.Sprintf("HTTP %d answer cut short", code), transport: readErr}
	case code >= 400:
		return classify4xx(res, code, body)
	default:
		res.Outcome = Unavailable
		return step{result: res, answered: true, err: &AttomUnavailable{Endpoint: endpoint, Status: code, Msg: "unexpected HTTP status"}}
	}
}

// retryable reads a 429 or 5xx: never billed, so Lookup may ask again.
func retryable(res Result, code int, body []byte, retryAfter string) step {
	d, _ := DecodeBody(body)
	res.Outcome = Unavailable
	res.TransactionID = d.Status.TransactionID
	f := unbillable
	if code == http.StatusTooManyRequests {
		f = rateLimited
	}
	return step{result: res, fault: f, msg: statusMsg(d.Status.Msg, code), retryAfter: parseRetryAfter(retryAfter)}
}

// classify4xx tells ATTOM's "not found" (HTTP 400, SuccessWithoutResult) from a refusal.
func classify4xx(res Result, code int, body []byte) step {
	d, _ := DecodeBody(body)
	res.TransactionID = d.Status.TransactionID
	if isWithoutResult(d.Status) {
		res.Outcome = NotFound
		return step{result: res, answered: true}
	}
	res.Outcome = InvalidRequest
	return step{result: res, answered: true, err: &AttomInvalidRequest{Endpoint: res.Endpoint, Status: code, Msg: statusMsg(d.Status.Msg, code)}}
}

// classifyOK reads a 200. ATTOM bills a 200 that carries a property whether or not we can
// read it, so one we cannot decode is Broken, and never retried here.
func classifyOK(res Result, resp *http.Response, body []byte, readErr error) step {
	d, err := DecodeBody(body)
	switch {
	case err != nil && readErr != nil:
		return broken(res, resp, body, "answer cut short: "+readErr.Error())
	case err != nil:
		return broken(res, resp, body, "undecodable JSON: "+err.Error())
	}
	res.TransactionID = d.Status.TransactionID
	if d.Property == nil {
		res.Outcome = NotFound
		return step{result: res, answered: true}
	}
	res.Outcome = Found
	res.Property = d.Property
	res.Raw = d.Raw
	res.Billed = true
	return step{result: res, answered: true}
}

// broken builds the Broken result of an undecodable 200, keeping its body. An HTML page is
// most likely the gateway's own error page, which ATTOM may not bill, so it is only
// PossiblyBilled; anything else (cut JSON, garbage) is Billed.
func broken(res Result, resp *http.Response, body []byte, why string) step {
	res.Outcome = Broken
	res.Body = keepBody(body)
	if looksHTML(resp, body) {
		res.PossiblyBilled = true
		why = "HTML page instead of JSON (" + why + ")"
	} else {
		res.Billed = true
	}
	return step{result: res, answered: true, err: &AttomBrokenAnswer{Endpoint: res.Endpoint, Status: resp.StatusCode, Msg: why}}
}

// keepBody returns at most MaxKeptBody bytes of body, copied so that a large answer's
// buffer is not kept alive by the slice.
func keepBody(body []byte) []byte {
	if len(body) <= MaxKeptBody {
		return body
	}
	return bytes.Clone(body[:MaxKeptBody])
}

// looksHTML reports whether an answer is an HTML page: by its Content-Type, or by a body
// starting with '<' (gateways do not always label their pages).
func looksHTML(resp *http.Response, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == "text/html" {
		return true
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return len(trimmed) > 0 && trimmed[0] == '<'
}

// isWithoutResult recognizes ATTOM's "not found": status code 1, "SuccessWithoutResult".
func isWithoutResult(s Status) bool {
	return (s.Code.Valid && s.Code.Value == 1) || strings.EqualFold(s.Msg, "SuccessWithoutResult")
}

func unauthorizedMsg(body []byte) string {
	var u UnauthorizedResponse
	if json.Unmarshal(body, &u) == nil && u.Response.Status.Msg != "" {
		return u.Response.Status.Msg
	}
	if d, err := DecodeBody(body); err == nil && d.Status.Msg != "" {
		return d.Status.Msg
	}
	return http.StatusText(http.StatusUnauthorized)
}

func statusMsg(msg string, code int) string {
	if msg != "" {
		return msg
	}
	return http.StatusText(code)
}

// parseRetryAfter reads Retry-After in seconds (the form ATTOM and the simulator send) or
// as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// Decoded is one answer body: its status block, the first property block decoded and raw,
// and how many property blocks came.
type Decoded struct {
	Status   Status
	Property *Property
	Raw      json.RawMessage
	Count    int
}

// DecodeBody reads an ATTOM answer body. Detail (lower-case) and profile (camelCase)
// spellings both decode, because encoding/json matches names case-insensitively.
func DecodeBody(body []byte) (Decoded, error) {
	var env struct {
		Status   Status            `json:"status"`
		Property []json.RawMessage `json:"property"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Decoded{}, err
	}
	d := Decoded{Status: env.Status, Count: len(env.Property)}
	if len(env.Property) == 0 {
		return d, nil
	}
	var p Property
	if err := json.Unmarshal(env.Property[0], &p); err != nil {
		return Decoded{}, fmt.Errorf("property block: %w", err)
	}
	d.Property = &p
	d.Raw = env.Property[0]
	return d, nil
}
