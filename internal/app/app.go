// Package app is the composition root shared by the CLI and the Lambdas: it turns the
// configuration into task code wired to AWS and an ATTOM client (the real API, or the
// simulator when no key is set). The embedded backend's wiring is package embeddedapp,
// which builds on this one; this package must not import SQLite, since every Lambda
// links it (TestLambdasDoNotLinkSQLite).
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
)

// SimulatorNotice is printed whenever the simulator stands in for ATTOM.
const SimulatorNotice = "ATTOM_API_KEY is not set: using the built-in ATTOM simulator. " +
	"All property data below is SIMULATED, not real."

// simulatorKey is the key the client sends to the simulator, which accepts any key unless
// told otherwise.
const simulatorKey = "simulated"

// Settings turns the configuration into the task code's settings.
func Settings(cfg config.Config) (batch.Settings, error) {
	s := batch.DefaultSettings()
	s.Endpoints = cfg.Endpoints
	s.ChunkSize = cfg.ChunkSize
	s.CostPerReportCents = cfg.CostPerReportCents
	s.DailyCapCents = cfg.DailyCapCents
	s.RatePerMinute = cfg.RatePerMinute
	s.PollMin = time.Duration(cfg.PollMinSeconds) * time.Second
	s.PollMax = time.Duration(cfg.PollMaxSeconds) * time.Second
	s.MaxPolls = cfg.MaxPollAttempts
	s.CapPeriod = time.Duration(cfg.CapPeriodSeconds) * time.Second
	s.RefreshAge = time.Duration(cfg.RefreshAgeDays) * 24 * time.Hour
	s.ReuseMaxAgeDays = cfg.ReuseMaxAgeDays
	s.LeaseTTL = time.Duration(cfg.LeaseSeconds) * time.Second
	s.OutageWait = time.Duration(cfg.OutageWaitSeconds) * time.Second
	s.OutageWaitMax = time.Duration(cfg.OutageWaitMaxSeconds) * time.Second
	if cfg.AWS.Bucket != "" {
		s.Bucket = cfg.AWS.Bucket
	}
	s.LeadsExport = cfg.Enabled(config.FeatureLeadsExport)
	s.Refresh = cfg.Enabled(config.FeatureRefresh)
	s.Imports = cfg.Enabled(config.FeatureImports)
	s.Weights = cfg.DistressWeights
	if err := s.Weights.Validate(); err != nil {
		return s, fmt.Errorf("distress_weights: %w", err)
	}
	return s, nil
}

// Attom is the ATTOM client the tasks use, and the simulator behind it when there is one.
type Attom struct {
	Client    *attom.Client
	Simulator *attomsim.Server // nil when talking to the real API
	stop      func(context.Context) error
}

// Simulated tells whether the data comes from the simulator.
func (a *Attom) Simulated() bool { return a.Simulator != nil }

// Close stops the simulator, if one was started.
func (a *Attom) Close() {
	if a.stop != nil {
		_ = a.stop(context.Background())
	}
}

// NewAttom builds the ATTOM client: against ATTOM_BASE_URL with the key when one is set,
// otherwise against an in-process simulator on a loopback port (with the rate limit off,
// since the simulator does not bill).
func NewAttom(cfg config.Config, sim attomsim.Options, noRetryDelay bool) (*Attom, error) {
	a := &Attom{}
	acfg := attom.Config{
		BaseURL:       cfg.ATTOMBaseURL,
		APIKey:        cfg.ATTOMAPIKey.Reveal(),
		Timeout:       time.Duration(cfg.HTTPTimeoutSeconds) * time.Second,
		RatePerMinute: cfg.RatePerMinute,
		HTTPClient:    &http.Client{Transport: http.DefaultTransport},
	}
	if noRetryDelay {
		acfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}
	if cfg.SimulatorMode() {
		a.Simulator = attomsim.New(sim)
		base, stop, err := a.Simulator.Start("127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("start ATTOM simulator: %w", err)
		}
		a.stop = stop
		acfg.BaseURL = base
		acfg.APIKey = simulatorKey
		acfg.RatePerMinute = sim.RatePerMinute
	}
	client, err := attom.New(acfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Client = client
	return a, nil
}

var logWriter io.Writer = os.Stderr

// Logger is the CLI's structured logger: JSON to stderr, so logs never mix with a command's
// output on stdout, and warnings only, so progress records (the Lambdas' metrics) stay out
// of a person's terminal. ATTOM_BATCH_LOG_LEVEL=info shows everything.
func Logger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("ATTOM_BATCH_LOG_LEVEL") == "info" {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(logWriter, &slog.HandlerOptions{Level: level}))
}
