// Package web is `attom-batch serve`: server-rendered pages over a JSON API for managing
// batch jobs (upload with an estimate first, watch, cancel, resume, work the leads, watch the
// spend), on either backend. It is the standard library only: net/http's routing patterns,
// html/template and embed, plus one small script of its own for live updates.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Options configure a Server.
type Options struct {
	Backend Backend
	// Token, when set, is required of every request (see requireToken). The serve command
	// refuses to listen beyond loopback without one.
	Token string
	// MaxUploadBytes bounds an uploaded CSV.
	MaxUploadBytes int64
	// DailyCapCents is the cap the spend page draws (the budget's own cap is per day).
	DailyCapCents int64
	// Backend name shown in the header: "embedded" or "aws".
	BackendName string
	Log         *slog.Logger
	// SweepEvery is how often the server looks for jobs whose driver is gone (embedded);
	// 0: a third of the lease's life.
	SweepEvery time.Duration
}

// Server serves the UI and the API, and drives the jobs it starts or picks up (embedded).
type Server struct {
	opts    Options
	b       Backend
	handler http.Handler
	pages   *pages

	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu        sync.Mutex
	running   map[string]*driver // jobs this process drives now
	lastError map[string]string  // why a job's last run here stopped with an error
	picked    map[string]bool    // jobs already picked up once: never looped on
}

// driver is one job run by this server.
type driver struct {
	cancel context.CancelFunc
	since  time.Time
	why    string // "started", "resumed" or "picked up"
	done   chan struct{}
}

// New builds the server; Start begins picking up jobs whose driver is gone.
func New(opts Options) (*Server, error) {
	if opts.Backend == nil {
		return nil, errors.New("web: no backend")
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 1 << 30
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.BackendName == "" {
		opts.BackendName = "embedded"
		if !opts.Backend.Drives() {
			opts.BackendName = "aws"
		}
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	life, stop := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, b: opts.Backend, pages: p, life: life, stop: stop,
		running: map[string]*driver{}, lastError: map[string]string{}, picked: map[string]bool{},
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the whole UI and API with its security checks.
func (s *Server) Handler() http.Handler { return s.handler }

// Start picks up, now and then every little while, the embedded jobs that should be running
// but whose driver is gone (a serve or run-all that was stopped or killed).
func (s *Server) Start() {
	if !s.b.Drives() {
		return
	}
	every := s.opts.SweepEvery
	if every <= 0 {
		every = min(max(s.b.Tasks().Settings.LeaseTTL/3, time.Second), 30*time.Second)
	}
	s.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			s.pickUp(s.life)
			select {
			case <-s.life.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// Close stops every driver of this server (its jobs stay resumable, and a later serve picks
// them up) and waits for them, at most until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// active tells the statuses of a job whose pipeline has not ended.
func active(status string) bool {
	return !slices.Contains([]string{batch.StatusCompleted, batch.StatusFailed, batch.StatusCancelled}, status)
}

// pickUp resumes each job that should be running and that no live driver holds. A job is
// picked up once per server: if that run stops with an error, the job page says why and a
// person resumes it.
func (s *Server) pickUp(ctx context.Context) {
	t := s.b.Tasks()
	jobs, err := t.Jobs.ListJobs(ctx, 0)
	if err != nil {
		s.opts.Log.Warn("pick up jobs: list", "error", err.Error())
		return
	}
	for _, job := range jobs {
		if !active(job.Status) || s.drives(job.ID) {
			continue
		}
		s.mu.Lock()
		picked := s.picked[job.ID]
		s.mu.Unlock()
		if picked {
			continue
		}
		if holder := s.liveHolder(ctx, job.ID); holder != nil {
			continue // another process drives it
		}
		run, err := s.b.Resume(ctx, job.ID)
		if err != nil {
			s.setError(job.ID, err)
			continue
		}
		s.mu.Lock()
		s.picked[job.ID] = true
		s.mu.Unlock()
		s.opts.Log.Info("picking up a job whose driver is gone", "job_id", job.ID, "status", job.Status)
		s.launch(job.ID, "picked up", run)
	}
}

// liveHolder returns the live lease on a job another driver holds, if any.
func (s *Server) liveHolder(ctx context.Context, id string) *batch.Lease {
	t := s.b.Tasks()
	lease, err := t.Leases.GetLease(ctx, batch.JobLeaseName(id))
	if err != nil {
		return nil
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	if !lease.Expires.After(now) {
		return nil
	}
	return &lease
}

// drives tells whether this server runs the job now.
func (s *Server) drives(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id] != nil
}

// driverOf returns this server's driver of a job, if it runs it.
func (s *Server) driverOf(id string) (driver, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.running[id]
	if d == nil {
		return driver{}, false
	}
	return *d, true
}

// launch runs a job's driver in the background, unless this server already runs it; it
// reports whether it started one.
func (s *Server) launch(id, why string, run Run) bool {
	if run == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[id] != nil || s.life.Err() != nil {
		return false
	}
	ctx, cancel := context.WithCancel(s.life)
	d := &driver{cancel: cancel, since: time.Now(), why: why, done: make(chan struct{})}
	s.running[id] = d
	delete(s.lastError, id)
	s.wg.Go(func() {
		defer close(d.done)
		defer cancel()
		err := run(ctx)
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.opts.Log.Warn("job run stopped", "job_id", id, "error", err.Error())
			s.setError(id, err)
		}
	})
	return true
}

// stopDriver stops this server's driver of a job (a cancelled job waiting for the cap's
// reset has no call in flight, so nothing is lost) and waits for it briefly.
func (s *Server) stopDriver(id string) {
	s.mu.Lock()
	d := s.running[id]
	s.mu.Unlock()
	if d == nil {
		return
	}
	d.cancel()
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
}

func (s *Server) setError(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastError[id] = err.Error()
}

func (s *Server) errorOf(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastError[id]
}
