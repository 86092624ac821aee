package attom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// attempt makes one HTTP call, bounded by the per-call timeout, and classifies what came
// back. It watches the call on the wire (wireTrace) because whether a lost call may be
// retried depends on whether ATTOM can have received it.
//
// Once started, a call is never cancelled by its caller (Ctrl-C, a Lambda nearing its
// deadline): ATTOM may already have billed it, and an answer thrown away is paid for again.
// Only the per-call timeout ends it; the caller's context still ends waits and retries.
func (c *Client) attempt(ctx context.Context, endpoint, target string) step {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	defer cancel()
	var w wireTrace
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, w.trace()), http.MethodGet, target, nil)
	if err != nil {
		return step{result: Result{Endpoint: endpoint, Outcome: InvalidRequest},
			err: &AttomInvalidRequest{Endpoint: endpoint, Msg: "cannot build request: " + err.Error()}}
	}
	req.Header.Set("apikey", c.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return lost(ctx, endpoint, err, &w)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	s := c.classify(endpoint, resp, body, readErr)
	s.result.StatusCode = resp.StatusCode
	s.result.Simulated = resp.Header.Get(SimulatedHeader) == "true"
	s.resent = w.resent()
	return s
}

// lost classifies a call that got no HTTP answer. A request that never reached the wire
// (DNS, dial, connection refused) cannot have been billed and is retried; one that may
// have reached ATTOM is returned at once as PossiblyBilled, since asking again may buy a
// second report and only the caller knows whether that is worth it.
func lost(ctx context.Context, endpoint string, err error, w *wireTrace) step {
	res := Result{Endpoint: endpoint, Outcome: Unavailable}
	msg := "transport error"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "timeout"
	}
	sent := w.mayHaveSent()
	switch {
	case ctx.Err() != nil: // the caller gave up, not the per-call timeout
		res.PossiblyBilled = sent
		note := ""
		if sent {
			note = " with a request in flight (possibly billed)"
		}
		return step{result: res, err: fmt.Errorf("attom %s: lookup stopped%s: %w", endpoint, note, ctx.Err())}
	case !sent:
		return step{result: res, fault: unbillable, msg: msg + " before the request was sent", transport: err}
	}
	res.PossiblyBilled = true
	return step{result: res, err: &AttomUnavailable{Endpoint: endpoint, Msg: msg + " after the request was sent",
		PossiblyBilled: true, Err: err}}
}

// wireTrace follows one call through net/http/httptrace: which connections it got and
// which requests were written. The callbacks may run on the transport's goroutines.
type wireTrace struct {
	conns       atomic.Int32 // connections obtained (one per try of the transport)
	wrote       atomic.Int32 // requests written completely
	writeFailed atomic.Int32 // requests whose write failed, so ATTOM got no whole request
}

func (w *wireTrace) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { w.conns.Add(1) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err != nil {
				w.writeFailed.Add(1)
			} else {
				w.wrote.Add(1)
			}
		},
	}
}

// mayHaveSent is false only when no request can have reached ATTOM: no connection, or
// every write failed. A connection whose write has not reported yet counts as sent: the
// transport can return (on a timeout) while its write goroutine is still finishing.
func (w *wireTrace) mayHaveSent() bool {
	return w.wrote.Load() > 0 || w.conns.Load() > w.writeFailed.Load()
}

// resent reports that the transport wrote the request more than once: net/http silently
// re-sends a GET when a reused connection dies before the answer, and the first copy may
// have been billed.
func (w *wireTrace) resent() bool { return w.wrote.Load() > 1 }
