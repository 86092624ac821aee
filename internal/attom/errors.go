package attom

import "fmt"

// The error types below are caught by Step Functions: aws-lambda-go reports the Go type
// name as the error type, so each name is an ASL ErrorEquals string. None of them ever
// carries the API key.

// AttomUnauthorized means ATTOM rejected the key (HTTP 401). Retrying cannot help; the
// batch must stop until the key is fixed.
type AttomUnauthorized struct {
	Endpoint string
	Status   int
	Msg      string
}

func (e *AttomUnauthorized) Error() string {
	return fmt.Sprintf("attom %s: unauthorized (HTTP %d): %s", e.Endpoint, e.Status, e.Msg)
}

// AttomInvalidRequest means ATTOM refused this one request (a 4xx other than 401, 429 and
// "not found"); the address is recorded as an error and the batch goes on.
type AttomInvalidRequest struct {
	Endpoint string
	Status   int
	Msg      string
}

func (e *AttomInvalidRequest) Error() string {
	return fmt.Sprintf("attom %s: invalid request (HTTP %d): %s", e.Endpoint, e.Status, e.Msg)
}

// AttomBrokenAnswer means ATTOM answered HTTP 200 with a body that cannot be decoded (cut
// short, an HTML page, not JSON). ATTOM bills a 200 whether or not we can read it, so the
// client never retries one: the Result (Outcome Broken) says whether it was billed or
// possibly billed and keeps the body, and the batch decides whether a second report is
// worth buying.
type AttomBrokenAnswer struct {
	Endpoint string
	Status   int
	Msg      string
}

func (e *AttomBrokenAnswer) Error() string {
	return fmt.Sprintf("attom %s: unreadable answer (HTTP %d): %s", e.Endpoint, e.Status, e.Msg)
}

// AttomUnavailable means ATTOM could not be asked: 5xx or unsent requests until MaxRetries
// ran out, 429s for longer than MaxRateLimitWait, or (PossiblyBilled) a call abandoned
// after its request was sent, which the client does not retry because ATTOM may have
// billed it; the state machine backs off and re-drives.
type AttomUnavailable struct {
	Endpoint string
	Status   int // last HTTP status, 0 when no response arrived
	Msg      string
	Attempts int
	// PossiblyBilled is true when the last request reached ATTOM and its answer was lost
	// (timeout, connection reset): ATTOM may have billed a report for it.
	PossiblyBilled bool
	Err            error // the last transport error, if any
}

func (e *AttomUnavailable) Error() string {
	s := fmt.Sprintf("attom %s: unavailable after %d attempts", e.Endpoint, e.Attempts)
	if e.Status != 0 {
		s += fmt.Sprintf(" (last HTTP %d)", e.Status)
	}
	if e.PossiblyBilled {
		s += " (possibly billed)"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Unwrap exposes the last transport error (for example context.DeadlineExceeded).
func (e *AttomUnavailable) Unwrap() error { return e.Err }
