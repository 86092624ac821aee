package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/csvin"
	"github.com/leadflow/attom-batch/internal/leads"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/jobs", s.apiListJobs)
	mux.HandleFunc("POST /api/jobs", s.apiCreateJob)
	mux.HandleFunc("GET /api/jobs/{id}", s.apiGetJob)
	mux.HandleFunc("POST /api/jobs/{id}/cancel", s.apiCancel)
	mux.HandleFunc("POST /api/jobs/{id}/resume", s.apiResume)
	mux.HandleFunc("GET /api/jobs/{id}/leads", s.apiLeads)
	mux.HandleFunc("GET /api/jobs/{id}/leads.csv", s.apiLeadsCSV)
	mux.HandleFunc("GET /api/jobs/{id}/rejects.csv", s.apiRejectsCSV)
	mux.HandleFunc("GET /api/jobs/{id}/results.jsonl", s.apiResults)
	mux.HandleFunc("POST /api/estimate", s.apiEstimate)
	mux.HandleFunc("GET /api/spend", s.apiSpend)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path)
	})
	s.pageRoutes(mux)
	return s.secure(mux)
}

// jobJSON is a job as the API shows it: the seed's columns (as `--json` prints them), the
// derived pending count, and who drives it.
type jobJSON struct {
	batch.Job
	PendingRecords int         `json:"pending_records"`
	Driver         *driverJSON `json:"driver,omitempty"`
	DriverError    string      `json:"driver_error,omitempty"`
	ConsoleURL     string      `json:"console_url,omitempty"`
	Path           []string    `json:"path,omitempty"`
}

// driverJSON says who drives a job: this server, or another process holding its lease.
type driverJSON struct {
	Here    bool       `json:"here"`
	Holder  string     `json:"holder"`
	Since   time.Time  `json:"since"`
	Expires *time.Time `json:"expires,omitempty"`
}

func (s *Server) view(j batch.Job) jobJSON {
	// progress_percent is written when the pipeline polls; on one machine the lookups run
	// inside Submit, so count the addresses already answered while it has not caught up.
	if j.UniqueRecords > 0 && j.Status != batch.StatusCompleted {
		done := (j.UniqueRecords - j.PendingRecords()) * 100 / j.UniqueRecords
		j.ProgressPercent = max(j.ProgressPercent, min(done, 99))
	}
	v := jobJSON{Job: j, PendingRecords: j.PendingRecords(), DriverError: s.errorOf(j.ID)}
	if !s.b.Drives() {
		v.ConsoleURL = consoleURL(j.ExecutionID)
	}
	if d, ok := s.driverOf(j.ID); ok {
		v.Driver = &driverJSON{Here: true, Holder: "this server (" + d.why + ")", Since: d.since}
	}
	return v
}

// detail adds what one job's page needs beyond the list: the lease of another driver and
// the path of states its last execution took.
func (s *Server) detail(ctx context.Context, j batch.Job) (jobJSON, *statemachineView) {
	v := s.view(j)
	if v.Driver == nil {
		if l := s.liveHolder(ctx, j.ID); l != nil {
			exp := l.Expires
			v.Driver = &driverJSON{Holder: l.Holder, Since: l.Since, Expires: &exp}
			if v.Driver.Holder == "" {
				v.Driver.Holder = l.Owner
			}
		}
	}
	exec, err := s.b.History(ctx, j.ID)
	if err != nil || exec == nil {
		return v, nil
	}
	ev := pathOf(exec)
	for _, st := range ev.Steps {
		v.Path = append(v.Path, st.State)
	}
	return v, &ev
}

// consoleURL links a Step Functions execution to its page in the AWS console.
func consoleURL(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution" {
		return ""
	}
	region := parts[3]
	return "https://" + region + ".console.aws.amazon.com/states/home?region=" + region + "#/v2/executions/details/" + arn
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail answers an error: JSON under /api/, a page elsewhere.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	s.renderError(w, r, status, msg)
}

// failErr answers err with its status: a refusal's own, 404 for a missing job, else 500.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := errorStatus(err)
	if status == http.StatusInternalServerError {
		s.opts.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	s.fail(w, r, status, msg)
}

func errorStatus(err error) (int, string) {
	var refused *httpError
	switch {
	case errors.As(err, &refused):
		return refused.status, refused.msg
	case errors.Is(err, batch.ErrNotFound):
		return http.StatusNotFound, err.Error()
	}
	return http.StatusInternalServerError, err.Error()
}

// job reads the job named by the path, or refuses with 404.
func (s *Server) job(ctx context.Context, id string) (batch.Job, error) {
	job, err := s.b.Tasks().Jobs.GetJob(ctx, id)
	if errors.Is(err, batch.ErrNotFound) {
		return job, refuse(http.StatusNotFound, "no job %q", id)
	}
	return job, err
}

func (s *Server) apiListJobs(w http.ResponseWriter, r *http.Request) {
	jobs, err := s.b.Tasks().Jobs.ListJobs(r.Context(), 200)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	out := make([]jobJSON, len(jobs))
	for i, j := range jobs {
		out[i] = s.view(j)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiGetJob(w http.ResponseWriter, r *http.Request) {
	job, err := s.job(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	v, _ := s.detail(r.Context(), job)
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiCreateJob(w http.ResponseWriter, r *http.Request) {
	v, started, err := s.createJob(w, r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	status := http.StatusOK
	if started {
		status = http.StatusAccepted
		w.Header().Set("Location", "/api/jobs/"+v.ID)
	}
	writeJSON(w, status, v)
}

// jobWait is how long creating a job waits for Prepare to record it, so the answer (and the
// page the browser lands on) shows the job.
const jobWait = 10 * time.Second

// createJob streams the upload into incoming/ and starts its job; started is false when the
// same file under the same name names a job that is completed or already running here.
func (s *Server) createJob(w http.ResponseWriter, r *http.Request) (jobJSON, bool, error) {
	ctx := r.Context()
	t := s.b.Tasks()
	form, err := s.readUpload(w, r, true, func(f *uploadForm, body io.Reader) error {
		return t.PutUpload(ctx, "incoming/"+f.fileName, body, f.options())
	})
	if err != nil {
		return jobJSON{}, false, err
	}
	id, run, err := s.b.Start(ctx, "incoming/"+form.fileName, form.options())
	if err != nil {
		return jobJSON{}, false, err
	}
	if s.drives(id) {
		job, err := s.awaitJob(ctx, id) // the same upload again while this server runs it
		return s.view(job), false, err
	}
	if job, err := t.Jobs.GetJob(ctx, id); err == nil && job.Status == batch.StatusCompleted {
		return s.view(job), false, nil
	}
	if run != nil {
		if l := s.liveHolder(ctx, id); l != nil {
			return jobJSON{}, false, busy(id, l)
		}
		s.launch(id, "started", run)
	}
	job, err := s.awaitJob(ctx, id)
	if err != nil {
		return jobJSON{}, false, err
	}
	return s.view(job), true, nil
}

// awaitJob waits until Prepare has recorded the job, or its run stopped with an error.
func (s *Server) awaitJob(ctx context.Context, id string) (batch.Job, error) {
	deadline := time.Now().Add(jobWait)
	for {
		job, err := s.b.Tasks().Jobs.GetJob(ctx, id)
		if !errors.Is(err, batch.ErrNotFound) {
			return job, err
		}
		if msg := s.errorOf(id); msg != "" && !s.drives(id) {
			return job, refuse(http.StatusBadRequest, "%s", msg)
		}
		if time.Now().After(deadline) {
			// Prepare is still reading a large file: answer with what is known.
			return batch.Job{ID: id, Status: batch.StatusCreated, CreatedAt: time.Now().UTC()}, nil
		}
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// busy refuses a second driver, naming the holder.
func busy(id string, l *batch.Lease) error {
	return refuse(http.StatusConflict, "job %s is being run by %s since %s: not starting a second driver (nothing is ever looked up twice); if that process is gone, try again after %s",
		id, l.Holder, l.Since.UTC().Format(time.RFC3339), l.Expires.UTC().Format(time.RFC3339))
}

func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request) {
	job, err := s.cancelJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(job))
}

// cancelJob stops feeding the job's lookups; calls in flight finish and are kept.
func (s *Server) cancelJob(ctx context.Context, id string) (batch.Job, error) {
	job, err := s.job(ctx, id)
	if err != nil {
		return job, err
	}
	switch job.Status {
	case batch.StatusCancelled:
		return job, nil
	case batch.StatusCompleted, batch.StatusFailed:
		return job, refuse(http.StatusConflict, "job %s is %s: nothing runs, nothing to cancel", id, job.Status)
	}
	if err := s.b.Cancel(ctx, id); err != nil {
		return job, err
	}
	if job.Status == batch.StatusPaused {
		s.stopDriver(id) // waiting for a reset: no call is in flight
	}
	return s.job(ctx, id)
}

func (s *Server) apiResume(w http.ResponseWriter, r *http.Request) {
	job, err := s.resumeJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.view(job))
}

// resumeJob continues a job in the background, unless it is completed or driven already.
func (s *Server) resumeJob(ctx context.Context, id string) (batch.Job, error) {
	job, err := s.job(ctx, id)
	if err != nil {
		return job, err
	}
	if job.Status == batch.StatusCompleted {
		return job, refuse(http.StatusConflict, "job %s is already completed", id)
	}
	if d, ok := s.driverOf(id); ok {
		return job, refuse(http.StatusConflict, "this server is already running job %s (%s at %s)", id, d.why, d.since.UTC().Format(time.RFC3339))
	}
	if l := s.liveHolder(ctx, id); l != nil {
		return job, busy(id, l)
	}
	run, err := s.b.Resume(ctx, id)
	if err != nil {
		return job, err
	}
	s.launch(id, "resumed", run)
	return job, nil
}

func (s *Server) apiLeads(w http.ResponseWriter, r *http.Request) {
	job, list, _, err := s.leadsOf(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	_ = job
	if list == nil {
		list = []leads.Lead{}
	}
	writeJSON(w, http.StatusOK, list)
}

// leadsOf reads the job's leads, filtered and sorted as the query asks.
func (s *Server) leadsOf(r *http.Request) (batch.Job, []leads.Lead, leadFilter, error) {
	job, err := s.job(r.Context(), r.PathValue("id"))
	if err != nil {
		return job, nil, leadFilter{}, err
	}
	f, err := parseLeadFilter(r.URL.Query())
	if err != nil {
		return job, nil, f, err
	}
	all, err := s.b.Tasks().Stores.Leads.LeadsByBatch(r.Context(), job.ID)
	if err != nil {
		return job, nil, f, err
	}
	return job, f.apply(all), f, nil
}

func (s *Server) apiLeadsCSV(w http.ResponseWriter, r *http.Request) {
	job, err := s.job(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	name := downloadName(job, "leads.csv")
	if !filtered(r) {
		// The export the Leads step wrote: every lead, the input's columns first.
		if s.serveBlob(w, r, "exports/"+job.ID+"/leads.csv", name, "text/csv; charset=utf-8") {
			return
		}
	}
	_, list, _, err := s.leadsOf(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	columns := s.inputColumns(r.Context(), job)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := leads.WriteCSV(w, list, columns); err != nil {
		s.opts.Log.Warn("leads csv", "job_id", job.ID, "error", err.Error())
	}
}

// filtered tells whether the query narrows or orders the leads, so the stored export (every
// lead, in the order they were saved) will not do.
func filtered(r *http.Request) bool {
	q := r.URL.Query()
	for _, k := range []string{"min_score", "factor", "state", "zip"} {
		if q.Get(k) != "" {
			return true
		}
	}
	return q.Get("sort") != ""
}

// inputColumns reads the upload's header so an export keeps the input's columns; none when
// the upload is gone.
func (s *Server) inputColumns(ctx context.Context, job batch.Job) []string {
	body, err := s.b.Tasks().Blobs.Get(ctx, job.FilePath)
	if err != nil {
		return nil
	}
	defer body.Close()
	r, err := csvin.NewReader(body, job.FileName, csvin.Options{})
	if err != nil {
		return nil
	}
	defer r.Close()
	return r.Header()
}

func (s *Server) apiRejectsCSV(w http.ResponseWriter, r *http.Request) {
	job, err := s.job(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if job.RejectsPath == "" || !s.serveBlob(w, r, job.RejectsPath, downloadName(job, "rejects.csv"), "text/csv; charset=utf-8") {
		s.fail(w, r, http.StatusNotFound, "job "+job.ID+" has no rejects file (yet)")
	}
}

func (s *Server) apiResults(w http.ResponseWriter, r *http.Request) {
	job, err := s.job(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if job.ResultFilePath == "" || !s.serveBlob(w, r, job.ResultFilePath, downloadName(job, "results.jsonl"), "application/x-ndjson") {
		s.fail(w, r, http.StatusNotFound, "job "+job.ID+" has no results file yet (it is written once the lookups are done)")
	}
}

// serveBlob streams a blob as a download; false when it does not exist.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, key, name, contentType string) bool {
	body, err := s.b.Tasks().Blobs.Get(r.Context(), key)
	if errors.Is(err, batch.ErrNotFound) {
		return false
	}
	if err != nil {
		s.failErr(w, r, err)
		return true
	}
	defer body.Close()
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, body); err != nil {
		s.opts.Log.Warn("download", "key", key, "error", err.Error())
	}
	return true
}

// downloadName is "<job name>-<what>", with only safe characters.
func downloadName(job batch.Job, what string) string {
	base := safeFileName(strings.TrimSuffix(job.Name, ".csv"))
	if base == "upload.csv" {
		base = job.ID
	}
	return base + "-" + what
}

// estimateJSON is POST /api/estimate's answer: the estimate (as `estimate --json`), the
// file's columns and first rows as they will be read, and the cap the days are counted at.
type estimateJSON struct {
	batch.Estimate
	preview
	DailyCapCents      int64 `json:"daily_cap_cents"`
	CostPerReportCents int64 `json:"cost_per_report_cents"`
	Simulated          bool  `json:"simulated"`
}

func (s *Server) apiEstimate(w http.ResponseWriter, r *http.Request) {
	e, err := s.estimate(w, r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// estimate reads the uploaded file as Prepare would, against the answer cache: it spends
// nothing, stores nothing and creates no job.
func (s *Server) estimate(w http.ResponseWriter, r *http.Request) (estimateJSON, error) {
	t := s.b.Tasks()
	var est batch.Estimate
	form, err := s.readUpload(w, r, true, func(f *uploadForm, body io.Reader) error {
		var err error
		est, err = t.EstimateFile(r.Context(), body, f.fileName, f.maxAgeDays)
		return err
	})
	if err != nil {
		return estimateJSON{}, err
	}
	return estimateJSON{Estimate: est, preview: form.preview, DailyCapCents: t.Settings.DailyCapCents,
		CostPerReportCents: t.Settings.CostPerReportCents, Simulated: s.b.Simulated()}, nil
}

// spendJSON is today's counter against the cap and the last 30 UTC days, oldest first.
type spendJSON struct {
	Day            string         `json:"day"`
	CapCents       int64          `json:"cap_cents"`
	ReservedCents  int64          `json:"reserved_cents"`
	SpentCents     int64          `json:"spent_cents"`
	RemainingCents int64          `json:"remaining_cents"`
	NextReset      time.Time      `json:"next_reset"`
	Days           []budget.Usage `json:"days"`
}

func (s *Server) apiSpend(w http.ResponseWriter, r *http.Request) {
	sp, err := s.spend(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sp)
}

func (s *Server) spend(ctx context.Context) (spendJSON, error) {
	t := s.b.Tasks()
	now := time.Now().UTC()
	if t.Now != nil {
		now = t.Now().UTC()
	}
	days := t.Settings.CapDays()
	sp := spendJSON{Day: days.Day(now), CapCents: t.Settings.DailyCapCents, NextReset: days.NextReset(now)}
	for i := 29; i >= 0; i-- {
		day := days.Day(now.Add(-time.Duration(i) * days.Length()))
		u, err := t.Budget.Usage(ctx, day)
		if err != nil && !errors.Is(err, batch.ErrNotFound) {
			return sp, fmt.Errorf("spend of %s: %w", day, err)
		}
		u.Day = day
		if u.CapCents == 0 {
			u.CapCents = sp.CapCents
		}
		sp.Days = append(sp.Days, u)
	}
	today := sp.Days[len(sp.Days)-1]
	sp.ReservedCents, sp.SpentCents = today.ReservedCents, today.SpentCents
	sp.RemainingCents = max(sp.CapCents-sp.ReservedCents-sp.SpentCents, 0)
	return sp, nil
}
