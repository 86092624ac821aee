package batch

import (
	"time"

	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/distress"
)

// Settings are the knobs the task code reads; the composition roots fill them from config.
type Settings struct {
	// Bucket is the blob bucket name the pipeline passes to the lookup machine's ItemReader.
	Bucket string
	// Endpoints are the ATTOM endpoints each address is looked up on (each a billed call).
	Endpoints []string
	// ChunkSize is how many unique addresses one lookup task handles.
	ChunkSize int
	// CostPerReportCents is what ATTOM bills per property returned.
	CostPerReportCents int64
	// DailyCapCents is the day's cap, used for the completion estimate.
	DailyCapCents int64
	// RatePerMinute is ATTOM's call rate, used for the completion estimate.
	RatePerMinute int
	// LookupWorkers is how many addresses of one chunk are looked up at once; the shared
	// rate limiter still paces them.
	LookupWorkers int
	// PollMin and PollMax bound the wait between polls; the wait adapts to the estimate.
	PollMin, PollMax time.Duration
	// MaxPolls fails a job (PollTimeout) whose pipeline execution has polled this many
	// times: Step Functions' execution history holds about 2,500 poll loops. It also paces
	// the polls: a lookup run longer than MaxPolls/4 times PollMax is polled about MaxPolls/4
	// times whatever its length (see pollWait), so only many days at the cap reach it.
	MaxPolls int
	// CapPeriod is how long one "day" of the daily cap lasts; 0 or 24 hours is the UTC day
	// (see budget.Period).
	CapPeriod time.Duration
	// RefreshAge selects property records older than this for the scheduled refresh.
	RefreshAge time.Duration
	// RefreshLimit caps how many records one refresh file holds.
	RefreshLimit int
	// Weights score distress.
	Weights distress.Weights
	// LeaseTTL is how long a job's or a chunk's lease lives without renewal: how soon
	// another driver may take over from one that died.
	LeaseTTL time.Duration
	// LeaseCoversWaits extends a job's lease over the pipeline's waits (AWS, where nothing
	// renews it during a Wait state); on one machine the driver process renews it instead.
	LeaseCoversWaits bool
	// ReuseMaxAgeDays is the default answer cache window (0 buys everything fresh).
	ReuseMaxAgeDays int
	// OutageWait is the first wait after an ATTOM outage paused a job; it doubles with every
	// outage pause in a row, up to OutageWaitMax.
	OutageWait, OutageWaitMax time.Duration
	// WantLeadsByDefault applies to uploads that do not say (EventBridge uploads).
	WantLeadsByDefault bool
	// Feature flags (config.Feature*), all on by default. LeadsExport writes the leads CSV
	// next to a job's results; Refresh lets Refresh select records; Imports lets Import run.
	LeadsExport, Refresh, Imports bool
}

// DefaultSettings are sensible for ATTOM's real limits.
func DefaultSettings() Settings {
	return Settings{
		Bucket:             "local",
		Endpoints:          []string{"expandedprofile"},
		ChunkSize:          100,
		CostPerReportCents: 10,
		DailyCapCents:      10000,
		RatePerMinute:      200,
		LookupWorkers:      4,
		PollMin:            5 * time.Second,
		PollMax:            15 * time.Minute,
		MaxPolls:           5000,
		RefreshAge:         30 * 24 * time.Hour,
		RefreshLimit:       10000,
		Weights:            distress.DefaultWeights(),
		WantLeadsByDefault: true,
		LeadsExport:        true,
		Refresh:            true,
		Imports:            true,
		LeaseTTL:           time.Minute,
		ReuseMaxAgeDays:    30,
		OutageWait:         time.Minute,
		OutageWaitMax:      time.Hour,
	}
}

// capPeriod is the cap's day (budget.Period).
func (t *Tasks) capPeriod() time.Duration { return t.Settings.CapDays().Length() }

// budgetDay is the key of the cap's day holding at.
func (t *Tasks) budgetDay(at time.Time) string { return t.Settings.CapDays().Day(at) }

// nextReset is when the cap's next day begins after at.
func (t *Tasks) nextReset(at time.Time) time.Time {
	return t.Settings.CapDays().NextReset(at)
}

// CapDays is the cap's day (CapPeriod) as a budget.Period.
func (s Settings) CapDays() budget.Period { return budget.Period(s.CapPeriod) }
