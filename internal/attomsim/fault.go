package attomsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

// Fault is the part of Options a test flips at run time (an outage on, then off), in process
// with Server.SetFault or in another process with Remote.SetFault (PUT /_sim/fault).
//
// Each call meets them in this order: Outage (503), the key check (401), Burst429 and
// RatePerMinute (429), then FailureRate or EndpointFailures (5xx), TimeoutRate (hang), then
// HTMLRate (a 200 HTML page) or MalformedRate (a found property's 200 cut short). Only a 200 that carries a property is billed, cut short or not; an HTML page
// comes from a gateway in front of ATTOM and never reached it, so it is free. The draws come
// from one generator seeded by Options.Seed, so a sequence of calls made one at a time gets
// the same fates on every run (concurrent calls take the draws in arrival order).
type Fault struct {
	FailureRate      float64            `json:"failure_rate"`
	TimeoutRate      float64            `json:"timeout_rate"`
	MalformedRate    float64            `json:"malformed_rate"`
	HTMLRate         float64            `json:"html_rate"`
	EndpointFailures map[string]float64 `json:"endpoint_failures,omitempty"`
	Outage           bool               `json:"outage"`
	OutageUntil      time.Time          `json:"outage_until,omitzero"`
	Latency          time.Duration      `json:"latency"` // JSON: "250ms" (a number is nanoseconds)
	Burst429         int                `json:"burst_429"`
	RatePerMinute    int                `json:"rate_per_minute"`
}

// Fault returns the faults in force; Burst429 is what is left of the burst.
func (s *Server) Fault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts
	return Fault{
		FailureRate: o.FailureRate, TimeoutRate: o.TimeoutRate, MalformedRate: o.MalformedRate,
		HTMLRate: o.HTMLRate, EndpointFailures: copyRates(o.EndpointFailures),
		Outage: o.Outage, OutageUntil: o.OutageUntil, Latency: o.Latency,
		Burst429: s.burst429, RatePerMinute: o.RatePerMinute,
	}
}

// SetFault replaces every fault (Fault{} ends them all), leaving the data options alone. The
// rate limiter starts afresh only when RatePerMinute changes.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &s.opts
	o.FailureRate, o.TimeoutRate, o.MalformedRate = f.FailureRate, f.TimeoutRate, f.MalformedRate
	o.HTMLRate, o.EndpointFailures = f.HTMLRate, copyRates(f.EndpointFailures)
	o.Outage, o.OutageUntil, o.Latency = f.Outage, f.OutageUntil, f.Latency
	s.burst429 = f.Burst429
	if f.RatePerMinute != o.RatePerMinute {
		o.RatePerMinute = f.RatePerMinute
		s.limiter = newLimiter(f.RatePerMinute)
	}
}

// FaultOf is the fault part of opts, for checking it with Validate.
func FaultOf(opts Options) Fault {
	return Fault{
		FailureRate: opts.FailureRate, TimeoutRate: opts.TimeoutRate, MalformedRate: opts.MalformedRate,
		HTMLRate: opts.HTMLRate, EndpointFailures: opts.EndpointFailures,
		Outage: opts.Outage, OutageUntil: opts.OutageUntil, Latency: opts.Latency,
		Burst429: opts.Burst429, RatePerMinute: opts.RatePerMinute,
	}
}

// Validate rejects what would silently do nothing or something else than meant: a rate
// outside [0, 1], a negative count or latency, an endpoint name ATTOM does not have.
func (f Fault) Validate() error {
	var errs []error
	rates := map[string]float64{"failure_rate": f.FailureRate, "timeout_rate": f.TimeoutRate,
		"malformed_rate": f.MalformedRate, "html_rate": f.HTMLRate}
	for _, ep := range sortedKeys(f.EndpointFailures) {
		if _, ok := attom.EndpointPath(ep); !ok {
			errs = append(errs, fmt.Errorf("endpoint_failures: unknown endpoint %q (known: %s)", ep, strings.Join(attom.Endpoints(), ", ")))
		}
		rates["endpoint_failures["+ep+"]"] = f.EndpointFailures[ep]
	}
	for _, name := range sortedKeys(rates) {
		if r := rates[name]; !(r >= 0 && r <= 1) {
			errs = append(errs, fmt.Errorf("%s %v is not a share in [0, 1]", name, r))
		}
	}
	if f.Latency < 0 || f.Burst429 < 0 || f.RatePerMinute < 0 {
		errs = append(errs, errors.New("latency, burst_429 and rate_per_minute cannot be negative"))
	}
	return errors.Join(errs...)
}

// faultFields is Fault without its methods, so the JSON methods can use the default encoding.
type faultFields Fault

// MarshalJSON writes Latency as a duration string ("250ms"), which a person can read and
// write with curl.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		faultFields
		Latency string `json:"latency"`
	}{faultFields(f), f.Latency.String()})
}

// UnmarshalJSON reads Latency as a duration string or as nanoseconds. Fields absent from the
// JSON keep their value, which is what PATCH /_sim/fault relies on.
func (f *Fault) UnmarshalJSON(b []byte) error {
	aux := struct {
		*faultFields
		Latency json.RawMessage `json:"latency"`
	}{faultFields: (*faultFields)(f)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if len(aux.Latency) == 0 || string(aux.Latency) == "null" {
		return nil
	}
	var text string
	if json.Unmarshal(aux.Latency, &text) == nil {
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
		return nil
	}
	var ns int64
	if err := json.Unmarshal(aux.Latency, &ns); err != nil {
		return fmt.Errorf("latency: want a duration like \"250ms\" or nanoseconds: %w", err)
	}
	f.Latency = time.Duration(ns)
	return nil
}

// outage reports whether every call gets 503 now; callers hold s.mu.
func (s *Server) outage(now time.Time) bool {
	return s.opts.Outage || now.Before(s.opts.OutageUntil)
}

func copyRates(in map[string]float64) map[string]float64 {
	if in == nil {
		return nil
	}
	out := make(map[string]float64, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
