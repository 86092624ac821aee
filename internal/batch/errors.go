package batch

import "fmt"

// The error types below cross the Lambda boundary: aws-lambda-go reports the Go type name as
// the error type, and the state machines match these names in Retry and Catch. Return them
// unwrapped from task handlers.

// InvalidInput means the uploaded file cannot be used at all (no address header, too large,
// unreadable). Bad rows are not errors: they go to the rejects file.
type InvalidInput struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (e *InvalidInput) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d", e.Line)
	}
	if e.Field != "" {
		s += ": field " + e.Field
	}
	return s + ": " + e.Reason
}

// LookupFailed means the lookup workflow for a job ended in failure (ATTOM kept failing,
// the key was refused). The job can be re-driven once the cause is fixed.
type LookupFailed struct {
	JobID string
	Cause string
}

func (e *LookupFailed) Error() string { return "lookup for job " + e.JobID + " failed: " + e.Cause }

// PollTimeout means a job was polled more times than allowed without finishing.
type PollTimeout struct {
	JobID string
	Polls int
}

func (e *PollTimeout) Error() string {
	return fmt.Sprintf("job %s still not done after %d polls", e.JobID, e.Polls)
}

// JobNotFound is returned when a task names a job that does not exist.
type JobNotFound struct{ JobID string }

func (e *JobNotFound) Error() string { return "job " + e.JobID + " not found" }

// StoreUnavailable wraps a storage failure (a database or bucket error) so the state machine
// can retry it by name rather than by an SDK's internal type name.
type StoreUnavailable struct {
	Op  string
	Err error
}

func (e *StoreUnavailable) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *StoreUnavailable) Unwrap() error { return e.Err }
