package statemachine

import (
	"fmt"
	"math"
	"time"
)

// retriers parses a state's Retry field with the AWS defaults
// (IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0).
func (p *parser) retriers(f *fields) []retrier {
	raw, ok := f.obj["Retry"]
	if !ok {
		return nil
	}
	arr, isArr := raw.([]any)
	if !isArr {
		f.fail("Retry", "must be an array of retriers")
		return nil
	}
	out := make([]retrier, 0, len(arr))
	for i, item := range arr {
		r, err := parseRetrier(item, fmt.Sprintf("%s: Retry[%d]", f.where, i), i == len(arr)-1)
		if err != nil {
			f.err = firstErr(f.err, err)
			return nil
		}
		out = append(out, r)
	}
	return out
}

func parseRetrier(v any, where string, last bool) (retrier, error) {
	f, err := newFields(v, where)
	if err != nil {
		return retrier{}, err
	}
	f.onlyAllowed("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
	r := retrier{errorEquals: f.stringList("ErrorEquals"), interval: time.Second, maxAttempts: 3, backoffRate: 2}
	checkErrorEquals(f, r.errorEquals, last, "Retry")
	if secs, ok := f.integer("IntervalSeconds", 1); ok {
		r.interval = time.Duration(secs) * time.Second
	}
	if n, ok := f.integer("MaxAttempts", 0); ok {
		r.maxAttempts = int(n)
	}
	if rate, ok := f.number("BackoffRate"); ok {
		if rate < 1 {
			f.fail("BackoffRate", "must be at least 1.0, got %v", rate)
		}
		r.backoffRate = rate
	}
	if secs, ok := f.integer("MaxDelaySeconds", 1); ok {
		r.maxDelay = time.Duration(secs) * time.Second
	}
	switch js := f.str("JitterStrategy"); js {
	case "", "NONE":
	case "FULL":
		r.fullJitter = true
	default:
		f.fail("JitterStrategy", "must be FULL or NONE, got %q", js)
	}
	return r, f.err
}

// checkErrorEquals enforces that States.ALL stands alone and comes last.
func checkErrorEquals(f *fields, names []string, last bool, kind string) {
	for _, n := range names {
		if n == StatesALL && (len(names) > 1 || !last) {
			f.fail("ErrorEquals", "States.ALL must be the only error name and must appear in the last %s", kind)
		}
	}
}

func (p *parser) catchers(f *fields) []catcher {
	raw, ok := f.obj["Catch"]
	if !ok {
		return nil
	}
	arr, isArr := raw.([]any)
	if !isArr {
		f.fail("Catch", "must be an array of catchers")
		return nil
	}
	out := make([]catcher, 0, len(arr))
	for i, item := range arr {
		cf, err := newFields(item, fmt.Sprintf("%s: Catch[%d]", f.where, i))
		if err != nil {
			f.err = firstErr(f.err, err)
			return nil
		}
		cf.onlyAllowed("ErrorEquals", "Next", "ResultPath", "Comment")
		c := catcher{errorEquals: cf.stringList("ErrorEquals"), next: cf.requiredStr("Next")}
		checkErrorEquals(cf, c.errorEquals, i == len(arr)-1, "Catch")
		c.resultPath, c.resultNull = cf.referencePath("ResultPath")
		if cf.err != nil {
			f.err = firstErr(f.err, cf.err)
			return nil
		}
		out = append(out, c)
	}
	return out
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// errorMatches applies ASL's matching rules: exact names, States.ALL for
// everything but States.Runtime and States.DataLimitExceeded (which nothing
// catches), and States.TaskFailed for everything but States.Timeout.
func errorMatches(names []string, errName string) bool {
	if !catchable(errName) {
		return false
	}
	for _, n := range names {
		switch {
		case n == errName, n == StatesALL:
			return true
		case n == StatesTaskFailed && errName != StatesTimeout:
			return true
		}
	}
	return false
}

func catchable(errName string) bool {
	return errName != StatesRuntime && errName != StatesDataLimitExceeded
}

// delay returns the wait before retry number attempt (0-based):
// IntervalSeconds * BackoffRate^attempt, capped by MaxDelaySeconds, then
// scaled by a random factor in [0,1) under FULL jitter.
func (r retrier) delay(attempt int, random func() float64) time.Duration {
	secs := r.interval.Seconds() * math.Pow(r.backoffRate, float64(attempt))
	if r.maxDelay > 0 {
		secs = math.Min(secs, r.maxDelay.Seconds())
	}
	if r.fullJitter {
		secs *= random()
	}
	return time.Duration(secs * float64(time.Second))
}
