package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/fsblob"
	"github.com/leadflow/attom-batch/internal/localrun"
	"github.com/leadflow/attom-batch/internal/sqlitestore"
	"github.com/leadflow/attom-batch/statemachine"
)

var logWriter io.Writer = os.Stderr

// Embedded is the whole system on one machine: SQLite for jobs, records, leads and the
// budget; BATCH_UPLOAD_DIR and BATCH_RESULTS_DIR for files; the local runner for the state
// machines.
type Embedded struct {
	Tasks  *batch.Tasks
	Runner *localrun.Runner
	Blobs  *fsblob.Split
	Attom  *Attom
	store  *sqlitestore.Store
}

// EmbeddedOptions are what tests and benchmarks change; the CLI passes the zero value.
type EmbeddedOptions struct {
	Clock     statemachine.Clock // real clock when nil
	Simulator attomsim.Options
}

// OpenEmbedded opens (creating if needed) the SQLite file and the two directories.
func OpenEmbedded(cfg config.Config, opts EmbeddedOptions) (*Embedded, error) {
	settings, err := Settings(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DBPath), 0o755); err != nil {
		return nil, fmt.Errorf("database directory: %w", err)
	}
	store, err := sqlitestore.Open(cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.DBPath, err)
	}
	blobs, err := fsblob.NewSplit(cfg.UploadDir, cfg.ResultsDir)
	if err != nil {
		store.Close()
		return nil, err
	}
	at, err := NewAttom(cfg, opts.Simulator)
	if err != nil {
		store.Close()
		return nil, err
	}
	clock := opts.Clock
	if clock == nil {
		clock = statemachine.RealClock{}
	}
	tasks := &batch.Tasks{
		Stores:   store.Stores(blobs, cfg.DailyCapCents),
		Attom:    at.Client,
		Settings: settings,
		Now:      clock.Now,
		Log:      Logger(),
	}
	runner, err := localrun.New(tasks, clock)
	if err != nil {
		at.Close()
		store.Close()
		return nil, err
	}
	return &Embedded{Tasks: tasks, Runner: runner, Blobs: blobs, Attom: at, store: store}, nil
}

// Close releases the database and stops the simulator.
func (e *Embedded) Close() {
	e.Attom.Close()
	_ = e.store.Close()
}
