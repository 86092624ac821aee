// Package embeddedapp is the system wired on one machine (SQLite, two directories, the
// local state machine runner): the CLI's and the web UI's default backend. It is apart from
// package app, which the Lambdas import, so that they do not link SQLite (issue 12).
package embeddedapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/fsblob"
	"github.com/leadflow/attom-batch/internal/localrun"
	"github.com/leadflow/attom-batch/internal/sqlitestore"
	"github.com/leadflow/attom-batch/statemachine"
)

// Embedded is the whole system on one machine: SQLite for jobs, records, leads and the
// budget; BATCH_UPLOAD_DIR and BATCH_RESULTS_DIR for files; the local runner for the state
// machines.
type Embedded struct {
	Tasks  *batch.Tasks
	Runner *localrun.Runner
	Blobs  *fsblob.Split
	Attom  *app.Attom
	store  *sqlitestore.Store
	// current is the job this process drives (a string), for progress reports.
	current atomic.Value
	// closeNotifier waits a little for webhook deliveries still queued.
	closeNotifier func()
	notifierOnce  sync.Once
}

// EmbeddedOptions are what tests and benchmarks change; the CLI passes the zero value.
type EmbeddedOptions struct {
	Clock     statemachine.Clock // real clock when nil
	Simulator attomsim.Options
	// NoRetryDelay makes the ATTOM client retry at once: tests of outages never sleep.
	NoRetryDelay bool
}

// OpenEmbedded opens (creating if needed) the SQLite file and the two directories.
func OpenEmbedded(cfg config.Config, opts EmbeddedOptions) (*Embedded, error) {
	settings, err := app.Settings(cfg)
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
	at, err := app.NewAttom(cfg, opts.Simulator, opts.NoRetryDelay)
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
		Log:      app.Logger(),
		Holder:   processHolder(),
	}
	runner, err := localrun.New(tasks, clock)
	if err != nil {
		at.Close()
		store.Close()
		return nil, err
	}
	var closeNotifier func()
	tasks.Notifier, closeNotifier = app.EmbeddedNotifier(cfg, tasks.Jobs, tasks.Log, opts.NoRetryDelay)
	return &Embedded{Tasks: tasks, Runner: runner, Blobs: blobs, Attom: at, store: store, closeNotifier: closeNotifier}, nil
}

// processHolder names this process in the leases it takes: a refused second driver shows it.
func processHolder() string {
	host, _ := os.Hostname()
	name := "attom-batch"
	if len(os.Args) > 1 {
		name += " " + os.Args[1]
	}
	return fmt.Sprintf("%s (pid %d on %s)", name, os.Getpid(), host)
}

// WaitForNotices stops taking job events and waits a few seconds for the webhook deliveries
// still queued; Close calls it.
func (e *Embedded) WaitForNotices() { e.notifierOnce.Do(e.closeNotifier) }

// Close releases the database and stops the simulator.
func (e *Embedded) Close() {
	e.WaitForNotices()
	e.Attom.Close()
	_ = e.store.Close()
}

// Upload copies a local CSV into the upload directory (incoming/<file name>) and returns the
// S3-shaped "Object Created" event for it, with the CLI's options alongside.
func (e *Embedded) Upload(ctx context.Context, path string, opts batch.SubmitOptions) (json.RawMessage, error) {
	data, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer data.Close()
	key := fsblob.IncomingPrefix + filepath.Base(path)
	if err := e.Blobs.Put(ctx, key, data); err != nil {
		return nil, fmt.Errorf("upload %s: %w", path, err)
	}
	return e.EventFor(ctx, key, opts)
}

// EventFor builds the event AWS would send for an object already in the blob store. The
// ETag is the content's digest, so the same content under the same key names the same job.
func (e *Embedded) EventFor(ctx context.Context, key string, opts batch.SubmitOptions) (json.RawMessage, error) {
	body, err := e.Blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer body.Close()
	hash := sha256.New()
	size, err := io.Copy(hash, body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	etag := hex.EncodeToString(hash.Sum(nil))[:32]
	ev := events.NewObjectCreated(LocalBucket, key, etag, size, e.Tasks.Now())
	return batch.EventInput(ev, opts)
}

// LocalBucket is the bucket name local events carry; the embedded blob store has one.
const LocalBucket = "local"
