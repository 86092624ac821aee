package statemachine

import (
	"encoding/json"
	"time"
)

// Status is an execution's (or a Map iteration's) final status, spelled as
// Step Functions spells it.
type Status string

// The statuses an execution can end in.
const (
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
	StatusAborted   Status = "ABORTED"
)

// Execution is the record of one run: its outcome and the path it took.
// It marshals to JSON for the CLI's status --verbose.
type Execution struct {
	ID          string          `json:"executionArn"`
	Name        string          `json:"name"`
	Status      Status          `json:"status"`
	StartTime   time.Time       `json:"startDate"`
	StopTime    time.Time       `json:"stopDate"`
	Input       json.RawMessage `json:"input"`
	Output      json.RawMessage `json:"output,omitempty"`
	Error       string          `json:"error,omitempty"`
	Cause       string          `json:"cause,omitempty"`
	Transitions int64           `json:"transitions"`
	History     []Event         `json:"history"`
}

// Path returns the names of the top-level states the execution entered, in
// order, which is what tests usually assert.
func (e *Execution) Path() []string {
	out := make([]string, len(e.History))
	for i, ev := range e.History {
		out[i] = ev.State
	}
	return out
}

// Event is one state the execution entered: its input and output, the
// error it raised (if any), the retries it took, where it went next and,
// for a Map, each iteration's own history.
type Event struct {
	State      string          `json:"state"`
	Type       string          `json:"type"`
	Entered    time.Time       `json:"entered"`
	Exited     time.Time       `json:"exited"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      string          `json:"error,omitempty"`
	Cause      string          `json:"cause,omitempty"`
	Caught     bool            `json:"caught,omitempty"` // the error went to a Catch's Next
	Next       string          `json:"next,omitempty"`
	Retries    []Retry         `json:"retries,omitempty"`
	Iterations []Iteration     `json:"iterations,omitempty"`
}

// Retry records one failed attempt that a Retrier retried.
type Retry struct {
	Error        string  `json:"error"`
	Cause        string  `json:"cause"`
	DelaySeconds float64 `json:"delaySeconds"`
}

// Iteration is one Map item's run through the ItemProcessor.
type Iteration struct {
	Index  int     `json:"index"`
	Status Status  `json:"status"`
	Error  string  `json:"error,omitempty"`
	Cause  string  `json:"cause,omitempty"`
	Events []Event `json:"events"`
}

// Path returns the state names the iteration entered, in order.
func (it Iteration) Path() []string {
	out := make([]string, len(it.Events))
	for i, ev := range it.Events {
		out[i] = ev.State
	}
	return out
}
