package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
	"github.com/leadflow/attom-batch/statemachine"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page, each with the layout.
type pages struct {
	sets    map[string]*template.Template
	version string // of the static files, so browsers fetch them again after an upgrade
}

var pageNames = []string{"jobs", "new", "job", "leads", "spend", "error"}

func loadPages() (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.sets[name] = t
	}
	h := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := staticFS.ReadFile(path)
		h.Write(raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.version = hex.EncodeToString(h.Sum(nil))[:12]
	return p, nil
}

// base is what every page's layout needs.
type base struct {
	Title     string
	Page      string
	JobID     string
	Backend   string
	Simulated bool
	Version   string
}

func (s *Server) base(title, page string) base {
	return base{Title: title, Page: page, Backend: s.opts.BackendName, Simulated: s.b.Simulated(), Version: s.pages.version}
}

// render executes a page into a buffer first, so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages.sets[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.opts.Log.Error("render", "page", page, "error", err.Error())
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	base
	Status  int
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", errorPage{base: s.base(http.StatusText(status), "error"), Status: status, Message: msg})
}

func (s *Server) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.pageJobs)
	mux.HandleFunc("GET /jobs/new", s.pageNew)
	mux.HandleFunc("POST /jobs", s.pageCreate)
	mux.HandleFunc("POST /jobs/estimate", s.pageEstimate)
	mux.HandleFunc("GET /jobs/{id}", s.pageJob)
	mux.HandleFunc("POST /jobs/{id}/cancel", s.pageCancel)
	mux.HandleFunc("POST /jobs/{id}/resume", s.pageResume)
	mux.HandleFunc("GET /jobs/{id}/leads", s.pageLeads)
	mux.HandleFunc("GET /spend", s.pageSpend)
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
}

type jobsPage struct {
	base
	Jobs []jobJSON
}

func (s *Server) pageJobs(w http.ResponseWriter, r *http.Request) {
	jobs, err := s.b.Tasks().Jobs.ListJobs(r.Context(), 200)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	p := jobsPage{base: s.base("Jobs", "jobs")}
	for _, j := range jobs {
		p.Jobs = append(p.Jobs, s.view(j))
	}
	s.render(w, r, http.StatusOK, "jobs", p)
}

type newPage struct {
	base
	Error         string
	Estimate      *estimateJSON
	DefaultMaxAge int
	MaxUpload     string
	CapCents      int64
}

func (s *Server) newPage() newPage {
	t := s.b.Tasks()
	return newPage{base: s.base("New job", "new"), DefaultMaxAge: t.Settings.ReuseMaxAgeDays,
		MaxUpload: size(s.opts.MaxUploadBytes), CapCents: t.Settings.DailyCapCents}
}

func (s *Server) pageNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "new", s.newPage())
}

// pageEstimate is the new-job form's estimate without the script: the page again, with the
// estimate (the file must be chosen again to start the job).
func (s *Server) pageEstimate(w http.ResponseWriter, r *http.Request) {
	p := s.newPage()
	e, err := s.estimate(w, r)
	if err != nil {
		status, msg := errorStatus(err)
		p.Error = msg
		s.render(w, r, status, "new", p)
		return
	}
	p.Estimate = &e
	s.render(w, r, http.StatusOK, "new", p)
}

func (s *Server) pageCreate(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.createJob(w, r)
	if err != nil {
		status, msg := errorStatus(err)
		if status == http.StatusInternalServerError {
			s.opts.Log.Error("create job", "error", msg)
		}
		p := s.newPage()
		p.Error = "The job was not started: " + msg
		s.render(w, r, status, "new", p)
		return
	}
	http.Redirect(w, r, "/jobs/"+v.ID, http.StatusSeeOther)
}

type jobPage struct {
	base
	Job       jobJSON
	Exec      *statemachineView
	Estimate  *batch.JobEstimate
	Rejects   *table
	HasLeads  bool
	Notice    string
	Error     string
	CanCancel bool
	CanResume bool
}

// notices are the messages a redirect after an action may ask for (never free text).
var notices = map[string]string{
	"cancelled": "Cancelled: no new lookups start; calls in flight finish and are kept. Resume continues the job.",
	"resumed":   "Resumed: this server drives the job again from where it stopped; nothing already bought is bought again.",
}

func (s *Server) pageJob(w http.ResponseWriter, r *http.Request) {
	s.renderJob(w, r, http.StatusOK, notices[r.URL.Query().Get("done")], "")
}

func (s *Server) renderJob(w http.ResponseWriter, r *http.Request, status int, notice, errMsg string) {
	ctx := r.Context()
	job, err := s.job(ctx, r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	v, exec := s.detail(ctx, job)
	p := jobPage{base: s.base(job.Name, "job"), Job: v, Exec: exec, Notice: notice, Error: errMsg}
	p.JobID = job.ID
	var e batch.JobEstimate
	if job.Response != "" && json.Unmarshal([]byte(job.Response), &e) == nil {
		p.Estimate = &e
	}
	if job.RejectsPath != "" && job.RejectedRecords > 0 {
		p.Rejects = s.readTable(ctx, job.RejectsPath, 50)
	}
	p.HasLeads = job.LeadsCreated+job.LeadsUpdated > 0
	p.CanCancel = active(job.Status)
	p.CanResume = job.Status != batch.StatusCompleted && v.Driver == nil
	s.render(w, r, status, "job", p)
}

func (s *Server) pageCancel(w http.ResponseWriter, r *http.Request) {
	s.pageAction(w, r, s.cancelJob, "cancelled")
}

func (s *Server) pageResume(w http.ResponseWriter, r *http.Request) {
	s.pageAction(w, r, s.resumeJob, "resumed")
}

// pageAction runs a job's button (cancel, resume) and shows the job again: with what was
// done, or with why not.
func (s *Server) pageAction(w http.ResponseWriter, r *http.Request, act func(context.Context, string) (batch.Job, error), done string) {
	if _, err := act(r.Context(), r.PathValue("id")); err != nil {
		status, msg := errorStatus(err)
		if status == http.StatusNotFound {
			s.renderError(w, r, status, msg)
			return
		}
		s.renderJob(w, r, status, "", msg)
		return
	}
	http.Redirect(w, r, "/jobs/"+r.PathValue("id")+"?done="+done, http.StatusSeeOther)
}

// table is the start of a CSV blob for a page.
type table struct {
	Header []string
	Rows   [][]string
	More   bool
}

func (s *Server) readTable(ctx context.Context, key string, limit int) *table {
	body, err := s.b.Tasks().Blobs.Get(ctx, key)
	if err != nil {
		return nil
	}
	defer body.Close()
	cr := csv.NewReader(body)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil
	}
	t := &table{Header: header}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if len(t.Rows) == limit {
			t.More = true
			break
		}
		t.Rows = append(t.Rows, rec)
	}
	return t
}

type leadsPage struct {
	base
	Job        jobJSON
	Leads      []leadRow
	Total      int
	Shown      int
	Filter     leadFilter
	Factors    []string
	States     []string
	SortLink   string
	ExportLink string
	ClearLink  string
	Truncated  bool
	Error      string
}

// leadRow is one lead with its factors split for the table.
type leadRow struct {
	leads.Lead
	Signals []distress.Factor // factors that apply
	Unknown []distress.Factor
}

// leadsShown bounds the leads table; the export has them all.
const leadsShown = 500

func (s *Server) pageLeads(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	job, err := s.job(ctx, r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	all, err := s.b.Tasks().Stores.Leads.LeadsByBatch(ctx, job.ID)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	p := leadsPage{base: s.base("Leads · "+job.Name, "leads"), Job: s.view(job), Total: len(all)}
	p.JobID = job.ID
	factors, states := map[string]bool{}, map[string]bool{}
	for _, l := range all {
		states[l.State] = true
		for _, f := range l.Breakdown {
			factors[f.Name] = true
		}
	}
	p.Factors, p.States = sortedKeys(factors), sortedKeys(states)
	f, ferr := parseLeadFilter(r.URL.Query())
	p.Filter = f
	status := http.StatusOK
	if ferr != nil {
		status = http.StatusBadRequest
	}
	list := f.apply(all)
	p.Shown = len(list)
	if len(list) > leadsShown {
		list, p.Truncated = list[:leadsShown], true
	}
	for _, l := range list {
		row := leadRow{Lead: l}
		for _, fac := range l.Breakdown {
			switch fac.State {
			case distress.Yes:
				row.Signals = append(row.Signals, fac)
			case distress.Unknown:
				row.Unknown = append(row.Unknown, fac)
			}
		}
		p.Leads = append(p.Leads, row)
	}
	next := "score"
	if f.Sort == "score" {
		next = "-score"
	}
	p.SortLink = "/jobs/" + job.ID + "/leads"
	if q := f.query(next); q != "" {
		p.SortLink += "?" + q
	}
	p.ExportLink = "/api/jobs/" + job.ID + "/leads.csv"
	if q := f.query(""); q != "" {
		p.ExportLink += "?" + q
	}
	p.ClearLink = "/jobs/" + job.ID + "/leads"
	if ferr != nil {
		_, p.Error = errorStatus(ferr)
	}
	s.render(w, r, status, "leads", p)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

type spendPage struct {
	base
	Spend spendJSON
	Chart chart
}

func (s *Server) pageSpend(w http.ResponseWriter, r *http.Request) {
	sp, err := s.spend(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "spend", spendPage{base: s.base("Spend", "spend"), Spend: sp, Chart: spendChart(sp)})
}

// statemachineView is the path a pipeline execution took, with repeated loops (Wait, Poll,
// Choice while lookups run) folded into counts.
type statemachineView struct {
	Status string
	Error  string
	Cause  string
	Start  time.Time
	Stop   time.Time
	Steps  []pathStep
}

type pathStep struct {
	State   string
	Type    string
	Count   int
	Entered time.Time
	Error   string
}

func pathOf(exec *statemachine.Execution) statemachineView {
	v := statemachineView{Status: string(exec.Status), Error: exec.Error, Cause: exec.Cause, Start: exec.StartTime, Stop: exec.StopTime}
	names := exec.Path()
	for i := 0; i < len(names); {
		folded := false
		for k := 1; k <= 4 && !folded; k++ {
			if len(v.Steps) < k || i+k > len(names) {
				continue
			}
			tail := v.Steps[len(v.Steps)-k:]
			same := true
			for j := range k {
				if tail[j].State != names[i+j] {
					same = false
					break
				}
			}
			if same {
				for j := range k {
					tail[j].Count++
					if e := exec.History[i+j].Error; e != "" {
						tail[j].Error = e
					}
				}
				i += k
				folded = true
			}
		}
		if !folded {
			ev := exec.History[i]
			v.Steps = append(v.Steps, pathStep{State: ev.State, Type: ev.Type, Count: 1, Entered: ev.Entered, Error: ev.Error})
			i++
		}
	}
	return v
}

var funcs = template.FuncMap{
	"dollars": dollars,
	"num": func(v any) string {
		switch v := v.(type) {
		case int:
			return num(v)
		case int64:
			return num(v)
		}
		return fmt.Sprint(v)
	},
	"when":     when,
	"unix":     func(sec int64) time.Time { return time.Unix(sec, 0).UTC() },
	"points":   func(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) },
	"active":   active,
	"label":    func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"money":    money,
	"ownerOf":  func(names []string) string { return strings.Join(names, "; ") },
	"pending":  func(j jobJSON) int { return j.PendingRecords },
	"addsUp":   addsUp,
	"deref":    func(t *time.Time) time.Time { return *t },
	"wantDays": func(n int) string { return strconv.Itoa(n) + " " + plural(n, "day", "days") },
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// dollars formats cents as "$1,234.56".
func dollars(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s$%s.%02d", sign, num(cents/100), cents%100)
}

// money formats a whole-dollar amount ("$206,900"), or "–" when unknown.
func money(v *float64) string {
	if v == nil {
		return "–"
	}
	return "$" + num(int64(*v+0.5))
}

// num formats an integer with thousands separators.
func num[T int | int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// when formats a time in UTC, the cap's clock.
func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// addsUp checks the job's counts: every row ends as exactly one outcome.
func addsUp(j jobJSON) bool {
	return j.RecordCount == j.RejectedRecords+j.DuplicateRecords+j.RecordsFound+j.NotFoundRecords+j.ErrorRecords+j.PendingRecords
}
