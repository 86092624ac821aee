package attom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// step is what one HTTP attempt came to: either a final answer or a reason to retry.
type step struct {
	result     Result
	err        error
	retry      bool
	malformed  bool
	retryAfter time.Duration
	msg        string
	transport  error
}

// Lookup asks one endpoint about one property. Found and NotFound return a nil error;
// Unauthorized, InvalidRequest and Unavailable return *AttomUnauthorized,
// *AttomInvalidRequest and *AttomUnavailable. When ctx ends first, the error wraps ctx.Err()
// and the outcome is Unavailable.
func (c *Client) Lookup(ctx context.Context, endpoint string, q Query) (Result, error) {
	path, ok := endpointPaths[endpoint]
	if !ok {
		return Result{Endpoint: endpoint, Outcome: InvalidRequest},
			&AttomInvalidRequest{Endpoint: endpoint, Msg: "unknown endpoint (known: " + strings.Join(Endpoints(), ", ") + ")"}
	}
	params, err := q.values()
	if err != nil {
		return Result{Endpoint: endpoint, Outcome: InvalidRequest},
			&AttomInvalidRequest{Endpoint: endpoint, Msg: err.Error()}
	}
	target := c.base + path + "?" + params.Encode()
	malformed := 0
	for attempt := 1; ; attempt++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return c.cancelled(ctx, endpoint, attempt-1, err)
		}
		s := c.attempt(ctx, endpoint, target)
		s.result.Attempts = attempt
		if ctx.Err() != nil {
			return c.cancelled(ctx, endpoint, attempt, ctx.Err())
		}
		if !s.retry {
			return s.result, s.err
		}
		if s.malformed {
			malformed++
		}
		if attempt > c.cfg.MaxRetries || malformed > 1 {
			return c.giveUp(endpoint, attempt, s)
		}
		if err := c.cfg.Sleep(ctx, c.backoff(attempt, s.retryAfter)); err != nil {
			return c.cancelled(ctx, endpoint, attempt, err)
		}
	}
}

func (c *Client) cancelled(ctx context.Context, endpoint string, attempts int, err error) (Result, error) {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return Result{Endpoint: endpoint, Outcome: Unavailable, Attempts: attempts},
		fmt.Errorf("attom %s: lookup stopped: %w", endpoint, err)
}

func (c *Client) giveUp(endpoint string, attempts int, s step) (Result, error) {
	r := s.result
	r.Outcome = Unavailable
	r.Attempts = attempts
	return r, &AttomUnavailable{Endpoint: endpoint, Status: r.StatusCode, Msg: s.msg, Attempts: attempts, Err: s.transport}
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

// attempt makes one HTTP call, bounded by the per-call timeout.
func (c *Client) attempt(ctx context.Context, endpoint, target string) step {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return step{result: Result{Endpoint: endpoint, Outcome: InvalidRequest},
			err: &AttomInvalidRequest{Endpoint: endpoint, Msg: "cannot build request: " + err.Error()}}
	}
	req.Header.Set("apikey", c.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return transportStep(endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return transportStep(endpoint, err)
	}
	s := c.classify(endpoint, resp, body)
	s.result.StatusCode = resp.StatusCode
	s.result.Simulated = resp.Header.Get(SimulatedHeader) == "true"
	return s
}

func transportStep(endpoint string, err error) step {
	msg := "transport error"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "timeout"
	}
	return step{result: Result{Endpoint: endpoint, Outcome: Unavailable}, retry: true, msg: msg, transport: err}
}

// classify maps an HTTP answer to an outcome, following how ATTOM really answers.
func (c *Client) classify(endpoint string, resp *http.Response, body []byte) step {
	res := Result{Endpoint: endpoint}
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		return c.classifyOK(res, body)
	case code == http.StatusUnauthorized:
		msg := unauthorizedMsg(body)
		res.Outcome = Unauthorized
		return step{result: res, err: &AttomUnauthorized{Endpoint: endpoint, Status: code, Msg: msg}}
	case code == http.StatusTooManyRequests || code >= 500:
		d, _ := DecodeBody(body)
		res.Outcome = Unavailable
		res.TransactionID = d.Status.TransactionID
		return step{result: res, retry: true, msg: statusMsg(d.Status.Msg, code), retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	case code >= 400:
		d, _ := DecodeBody(body)
		res.TransactionID = d.Status.TransactionID
		if isWithoutResult(d.Status) {
			res.Outcome = NotFound
			return step{result: res}
		}
		res.Outcome = InvalidRequest
		return step{result: res, err: &AttomInvalidRequest{Endpoint: endpoint, Status: code, Msg: statusMsg(d.Status.Msg, code)}}
	default:
		res.Outcome = Unavailable
		return step{result: res, err: &AttomUnavailable{Endpoint: endpoint, Status: code, Msg: "unexpected HTTP status", Attempts: 1}}
	}
}

func (c *Client) classifyOK(res Result, body []byte) step {
	d, err := DecodeBody(body)
	if err != nil {
		res.Outcome = Unavailable
		return step{result: res, retry: true, malformed: true, msg: "malformed JSON: " + err.Error()}
	}
	res.TransactionID = d.Status.TransactionID
	if d.Property == nil {
		res.Outcome = NotFound
		return step{result: res}
	}
	res.Outcome = Found
	res.Property = d.Property
	res.Raw = d.Raw
	res.Billed = true
	c.billed.Add(1)
	return step{result: res}
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
