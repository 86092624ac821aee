package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/embeddedapp"
	"github.com/leadflow/attom-batch/internal/web"
)

// env is one server on the embedded backend with the ATTOM simulator.
type env struct {
	t   *testing.T
	e   *embeddedapp.Embedded
	srv *web.Server
	ts  *httptest.Server
}

type envOptions struct {
	token     string
	maxUpload int64
	latency   time.Duration
	noStart   bool
	dir       string
}

func testConfig(dir string) config.Config {
	cfg := config.Defaults()
	cfg.DBPath = filepath.Join(dir, "attom-batch.db")
	cfg.UploadDir = filepath.Join(dir, "uploads")
	cfg.ResultsDir = filepath.Join(dir, "results")
	cfg.PollMinSeconds, cfg.PollMaxSeconds = 0, 1
	cfg.LeaseSeconds = 3
	return cfg
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	e, err := embeddedapp.OpenEmbedded(testConfig(o.dir), embeddedapp.EmbeddedOptions{
		Simulator:    attomsim.Options{Latency: o.latency},
		NoRetryDelay: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Backend: web.Embedded(e), Token: o.token, MaxUploadBytes: o.maxUpload, SweepEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !o.noStart {
		srv.Start()
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		e.Close()
	})
	return &env{t: t, e: e, srv: srv, ts: ts}
}

const exampleCSV = "address,city,state,zip,list_source\n" +
	"123 Main Street,Springfield,IL,62701,county\n" +
	"123 MAIN ST.,Springfield,Illinois,62701,dupe\n" +
	"456 N Oak Avenue Apt 4B,Austin,TX,78701,county\n" +
	"789 West Elm Blvd,Denver,CO,80202,probate\n" +
	"PO Box 1234,Phoenix,AZ,85001,mail\n" +
	"1313 Mockingbird Ln,Detroit,MI,48226,county\n" +
	"14 Maple Ct,Columbus,OH,43215,county\n"

// multipartBody builds a form: fields in order, then the file (when name is not empty).
func multipartBody(t *testing.T, fields [][2]string, fileName string, file []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if fileName != "" {
		w, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(file)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// do sends a request from a script (no browser headers) unless headers say otherwise.
func (v *env) do(method, path string, body io.Reader, contentType string, headers map[string]string) (*http.Response, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(method, v.ts.URL+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, val := range headers {
		if k == "Host" {
			req.Host = val
			continue
		}
		req.Header.Set(k, val)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, raw
}

func (v *env) upload(path string, fields [][2]string, fileName string, file []byte, headers map[string]string) (*http.Response, []byte) {
	v.t.Helper()
	body, ct := multipartBody(v.t, fields, fileName, file)
	return v.do(http.MethodPost, path, body, ct, headers)
}

type jobJSON struct {
	batch.Job
	PendingRecords int `json:"pending_records"`
	Driver         *struct {
		Here   bool   `json:"here"`
		Holder string `json:"holder"`
	} `json:"driver"`
	DriverError string `json:"driver_error"`
}

func (v *env) createJob(name string, leads bool, csvText string) jobJSON {
	v.t.Helper()
	res, raw := v.upload("/api/jobs", [][2]string{{"name", name}, {"leads", fmt.Sprint(leads)}}, name+".csv", []byte(csvText), nil)
	if res.StatusCode != http.StatusAccepted {
		v.t.Fatalf("POST /api/jobs: %d %s", res.StatusCode, raw)
	}
	var j jobJSON
	if err := json.Unmarshal(raw, &j); err != nil || j.ID == "" {
		v.t.Fatalf("POST /api/jobs answered %s (%v)", raw, err)
	}
	if loc := res.Header.Get("Location"); loc != "/api/jobs/"+j.ID {
		v.t.Errorf("Location %q", loc)
	}
	return j
}

func (v *env) getJob(id string) jobJSON {
	v.t.Helper()
	res, raw := v.do(http.MethodGet, "/api/jobs/"+id, nil, "", nil)
	if res.StatusCode != http.StatusOK {
		v.t.Fatalf("GET job: %d %s", res.StatusCode, raw)
	}
	var j jobJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		v.t.Fatal(err)
	}
	return j
}

// waitFor polls the job until cond holds, or fails after a while.
func (v *env) waitFor(id string, what string, cond func(jobJSON) bool) jobJSON {
	v.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j := v.getJob(id)
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("job %s never %s: status %s, error %q, driver error %q", id, what, j.Status, j.Error, j.DriverError)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func completed(j jobJSON) bool { return j.Status == batch.StatusCompleted && j.Driver == nil }

func addsUp(t *testing.T, j jobJSON) {
	t.Helper()
	if sum := j.RejectedRecords + j.DuplicateRecords + j.RecordsFound + j.NotFoundRecords + j.ErrorRecords + j.PendingRecords; sum != j.RecordCount {
		t.Errorf("counts do not add up: %d rows, %d accounted for (%+v)", j.RecordCount, sum, j)
	}
}

func TestJobRunsToCompletionThroughTheAPI(t *testing.T) {
	v := newEnv(t, envOptions{})
	res, raw := v.do(http.MethodGet, "/api/jobs", nil, "", nil)
	if res.StatusCode != 200 || strings.TrimSpace(string(raw)) != "[]" {
		t.Fatalf("empty list: %d %s", res.StatusCode, raw)
	}
	created := v.createJob("first", true, exampleCSV)
	j := v.waitFor(created.ID, "completed", completed)
	addsUp(t, j)
	if j.RecordCount != 7 || j.RejectedRecords != 1 || j.DuplicateRecords != 1 || j.LeadsCreated == 0 || j.CostSpentCents == 0 {
		t.Errorf("job %+v", j.Job)
	}
	var list []map[string]any
	_, raw = v.do(http.MethodGet, "/api/jobs", nil, "", nil)
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
		t.Fatalf("list: %s", raw)
	}
	for _, key := range []string{"id", "name", "status", "record_count", "records_found", "processed_records", "error_records", "leads_created", "progress_percent", "pending_records", "reused_records", "cost_spent_cents", "created_at"} {
		if _, ok := list[0][key]; !ok {
			t.Errorf("GET /api/jobs: no key %q", key)
		}
	}

	// The same file under the same name names the same, completed job: nothing starts.
	res, raw = v.upload("/api/jobs", [][2]string{{"name", "first"}, {"leads", "true"}}, "first.csv", []byte(exampleCSV), nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), created.ID) {
		t.Errorf("same upload again: %d %s", res.StatusCode, raw)
	}

	// Leads, sorted and filtered.
	leadsOf := func(query string) []struct {
		Score     int    `json:"score"`
		State     string `json:"state"`
		ZIP       string `json:"zip"`
		Breakdown []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"breakdown"`
	} {
		t.Helper()
		res, raw := v.do(http.MethodGet, "/api/jobs/"+created.ID+"/leads"+query, nil, "", nil)
		if res.StatusCode != 200 {
			t.Fatalf("leads%s: %d %s", query, res.StatusCode, raw)
		}
		var out []struct {
			Score     int    `json:"score"`
			State     string `json:"state"`
			ZIP       string `json:"zip"`
			Breakdown []struct {
				Name  string `json:"name"`
				State string `json:"state"`
			} `json:"breakdown"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := leadsOf("")
	if len(all) != j.LeadsCreated {
		t.Fatalf("%d leads, job says %d", len(all), j.LeadsCreated)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Score > all[i-1].Score {
			t.Errorf("leads not highest score first: %d after %d", all[i].Score, all[i-1].Score)
		}
		if len(all[i].Breakdown) == 0 {
			t.Errorf("lead without breakdown")
		}
	}
	asc := leadsOf("?sort=score")
	if asc[0].Score != all[len(all)-1].Score {
		t.Errorf("sort=score starts at %d, want the lowest %d", asc[0].Score, all[len(all)-1].Score)
	}
	for _, l := range leadsOf("?state=tx") {
		if l.State != "TX" {
			t.Errorf("state filter let %s through", l.State)
		}
	}
	for _, l := range leadsOf("?min_score=" + fmt.Sprint(all[0].Score)) {
		if l.Score < all[0].Score {
			t.Errorf("min_score let %d through", l.Score)
		}
	}
	if got := leadsOf("?zip=787"); len(got) != 1 || got[0].ZIP != "78701" {
		t.Errorf("zip=787: %+v", got)
	}
	for _, q := range []string{"?min_score=abc", "?min_score=101", "?state=Texas", "?zip=7a", "?sort=name", "?factor=Bad-Name"} {
		if res, _ := v.do(http.MethodGet, "/api/jobs/"+created.ID+"/leads"+q, nil, "", nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("leads%s: %d, want 400", q, res.StatusCode)
		}
	}

	// The export keeps the input's columns first.
	res, raw = v.do(http.MethodGet, "/api/jobs/"+created.ID+"/leads.csv", nil, "", nil)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if res.StatusCode != 200 || err != nil || len(rows) != len(all)+1 {
		t.Fatalf("leads.csv: %d %v %d rows", res.StatusCode, err, len(rows))
	}
	if strings.Join(rows[0][:5], ",") != "address,city,state,zip,list_source" || !strings.Contains(strings.Join(rows[0], ","), "score") {
		t.Errorf("leads.csv header %v", rows[0])
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "first-leads.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	res, raw = v.do(http.MethodGet, "/api/jobs/"+created.ID+"/leads.csv?state=TX", nil, "", nil)
	if rows, _ := csv.NewReader(bytes.NewReader(raw)).ReadAll(); res.StatusCode != 200 || len(rows) != 2 || rows[0][0] != "address" {
		t.Errorf("filtered leads.csv: %d %q", res.StatusCode, raw)
	}

	// Rejects with their reasons, and the results file.
	res, raw = v.do(http.MethodGet, "/api/jobs/"+created.ID+"/rejects.csv", nil, "", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(string(raw), "line,field,reason,address") || !strings.Contains(string(raw), "PO box") {
		t.Errorf("rejects.csv: %d %s", res.StatusCode, raw)
	}
	res, raw = v.do(http.MethodGet, "/api/jobs/"+created.ID+"/results.jsonl", nil, "", nil)
	if res.StatusCode != 200 || bytes.Count(raw, []byte("\n")) != 5 {
		t.Errorf("results.jsonl: %d, %d lines", res.StatusCode, bytes.Count(raw, []byte("\n")))
	}

	// Spend: today's counter holds the job's spend.
	res, raw = v.do(http.MethodGet, "/api/spend", nil, "", nil)
	var sp struct {
		CapCents   int64 `json:"cap_cents"`
		SpentCents int64 `json:"spent_cents"`
		Days       []struct {
			Day        string `json:"day"`
			SpentCents int64  `json:"spent_cents"`
		} `json:"days"`
	}
	if err := json.Unmarshal(raw, &sp); err != nil || res.StatusCode != 200 {
		t.Fatalf("spend: %d %s", res.StatusCode, raw)
	}
	if len(sp.Days) != 30 || sp.SpentCents != j.CostSpentCents || sp.Days[29].SpentCents != sp.SpentCents || sp.CapCents != 10000 {
		t.Errorf("spend %+v, job spent %d", sp, j.CostSpentCents)
	}

	// Every page renders.
	for _, p := range []string{"/", "/jobs/new", "/jobs/" + created.ID, "/jobs/" + created.ID + "/leads", "/jobs/" + created.ID + "/leads?sort=score&state=TX", "/spend"} {
		res, raw := v.do(http.MethodGet, p, nil, "", nil)
		if res.StatusCode != 200 || !strings.Contains(string(raw), "SIMULATED") {
			t.Errorf("GET %s: %d, SIMULATED shown %v", p, res.StatusCode, strings.Contains(string(raw), "SIMULATED"))
		}
	}
	if res, raw := v.do(http.MethodGet, "/jobs/"+created.ID+"/leads?min_score=abc", nil, "", nil); res.StatusCode != 400 || !strings.Contains(string(raw), "min_score: want a whole number") {
		t.Errorf("leads page with a bad filter: %d", res.StatusCode)
	}
	_, raw = v.do(http.MethodGet, "/spend", nil, "", nil)
	if !strings.Contains(string(raw), "<svg") || !strings.Contains(string(raw), `class="spent"`) {
		t.Errorf("spend page has no chart")
	}
}

func TestEstimateSpendsNothing(t *testing.T) {
	v := newEnv(t, envOptions{})
	res, raw := v.upload("/api/estimate", [][2]string{{"max_age_days", "7"}}, "list.csv", []byte(exampleCSV), nil)
	if res.StatusCode != 200 {
		t.Fatalf("estimate: %d %s", res.StatusCode, raw)
	}
	var e struct {
		batch.Estimate
		Columns []string `json:"columns"`
		Sample  []struct {
			Line    int    `json:"line"`
			Address string `json:"address"`
			Reject  string `json:"reject"`
		} `json:"sample"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	if e.Rows != 7 || e.Rejected != 1 || e.Duplicates != 1 || e.ToBuy != 5 || e.WorstCaseCents != 50 || e.MaxAgeDays != 7 || e.DaysAtCap != 1 {
		t.Errorf("estimate %+v", e.Estimate)
	}
	if len(e.Columns) != 5 || len(e.Sample) != 5 || e.Sample[0].Address != "123 MAIN ST, SPRINGFIELD, IL 62701" || e.Sample[0].Line != 2 {
		t.Errorf("preview %v %+v", e.Columns, e.Sample)
	}
	if _, raw := v.do(http.MethodGet, "/api/jobs", nil, "", nil); strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("an estimate created a job: %s", raw)
	}
	if u, _ := v.e.Tasks.Budget.Usage(context.Background(), time.Now().UTC().Format(time.DateOnly)); u.SpentCents+u.ReservedCents != 0 {
		t.Errorf("an estimate spent: %+v", u)
	}
	// The page's estimate without the script renders the same numbers.
	res, raw = v.upload("/jobs/estimate", [][2]string{{"max_age_days", "7"}}, "list.csv", []byte(exampleCSV), nil)
	if res.StatusCode != 200 || !strings.Contains(string(raw), "$0.50") || !strings.Contains(string(raw), "123 MAIN ST, SPRINGFIELD, IL 62701") {
		t.Errorf("POST /jobs/estimate: %d", res.StatusCode)
	}
}

func TestBadUploadsAreRefusedWithTheReason(t *testing.T) {
	v := newEnv(t, envOptions{maxUpload: 4 << 10})
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)
	big := []byte("address,city,state,zip\n" + strings.Repeat("1 Main St,Austin,TX,78701\n", 400))
	cases := []struct {
		name     string
		fields   [][2]string
		file     string
		body     []byte
		status   int
		contains string
	}{
		{"not CSV", nil, "photo.png", png, 400, "not a CSV file"},
		{"too big", nil, "big.csv", big, 413, "larger than the 4 KiB limit"},
		{"no address column", nil, "people.csv", []byte("name,phone\nJane,555-1234\n"), 400, "no address columns"},
		{"empty", nil, "empty.csv", []byte(""), 400, "empty"},
		{"no file", [][2]string{{"name", "x"}}, "", nil, 400, "no file"},
		{"bad max age", [][2]string{{"max_age_days", "soon"}}, "list.csv", []byte(exampleCSV), 400, "max_age_days"},
		{"bad leads", [][2]string{{"leads", "maybe"}}, "list.csv", []byte(exampleCSV), 400, "leads"},
	}
	for _, path := range []string{"/api/jobs", "/api/estimate"} {
		for _, c := range cases {
			res, raw := v.upload(path, c.fields, c.file, c.body, nil)
			var e struct{ Error string }
			_ = json.Unmarshal(raw, &e)
			if res.StatusCode != c.status || !strings.Contains(e.Error, c.contains) {
				t.Errorf("%s %s: %d %s, want %d with %q", path, c.name, res.StatusCode, raw, c.status, c.contains)
			}
		}
		res, raw := v.do(http.MethodPost, path, strings.NewReader(`{"file":"x"}`), "application/json", nil)
		if res.StatusCode != 400 || !strings.Contains(string(raw), "multipart/form-data") {
			t.Errorf("%s as JSON: %d %s", path, res.StatusCode, raw)
		}
	}
	if res, raw := v.upload("/api/estimate", [][2]string{{"max_age_days", "1"}}, "big.csv", big, nil); res.StatusCode != 413 || !strings.Contains(string(raw), "ATTOM_BATCH_UI_MAX_UPLOAD_MB") {
		t.Errorf("too big: %d %s", res.StatusCode, raw)
	}
	// An option after the file cannot apply to an estimate that already read it, nor to an
	// upload already stored with its job's options (on AWS, in the object's metadata).
	for _, c := range []struct{ path, field, value string }{
		{"/api/estimate", "max_age_days", "3"},
		{"/api/jobs", "max_age_days", "3"},
		{"/api/jobs", "name", "Late name"},
		{"/api/jobs", "leads", "false"},
	} {
		body, ct := multipartBody(t, nil, "list.csv", []byte(exampleCSV))
		var buf bytes.Buffer
		_, _ = io.Copy(&buf, body)
		boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
		after := strings.Replace(buf.String(), "--"+boundary+"--",
			"--"+boundary+"\r\nContent-Disposition: form-data; name=\""+c.field+"\"\r\n\r\n"+c.value+"\r\n--"+boundary+"--", 1)
		if res, raw := v.do(http.MethodPost, c.path, strings.NewReader(after), ct, nil); res.StatusCode != 400 || !strings.Contains(string(raw), c.field+": send it before the file") {
			t.Errorf("%s with %s after the file: %d %s", c.path, c.field, res.StatusCode, raw)
		}
	}
	// A refused upload is shown on the page, with the reason.
	res, raw := v.upload("/jobs", nil, "people.csv", []byte("name,phone\nJane,555\n"), nil)
	if res.StatusCode != 400 || !strings.Contains(string(raw), "no address columns") || !strings.Contains(string(raw), "<form") {
		t.Errorf("page upload refused: %d", res.StatusCode)
	}
	if _, raw := v.do(http.MethodGet, "/api/jobs", nil, "", nil); strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("a refused upload made a job: %s", raw)
	}
}

func TestUnknownIDs(t *testing.T) {
	v := newEnv(t, envOptions{})
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/jobs/job-0000000000000000"},
		{"POST", "/api/jobs/job-0000000000000000/cancel"},
		{"POST", "/api/jobs/job-0000000000000000/resume"},
		{"GET", "/api/jobs/job-0000000000000000/leads"},
		{"GET", "/api/jobs/job-0000000000000000/leads.csv"},
		{"GET", "/api/jobs/job-0000000000000000/rejects.csv"},
		{"GET", "/api/jobs/job-0000000000000000/results.jsonl"},
		{"GET", "/api/jobs/..%2F..%2Fetc%2Fpasswd"},
		{"GET", "/api/nothing"},
	} {
		res, raw := v.do(r.method, r.path, nil, "", nil)
		var e struct{ Error string }
		if res.StatusCode != 404 || json.Unmarshal(raw, &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d %s, want a 404 with a JSON error", r.method, r.path, res.StatusCode, raw)
		}
	}
	for _, p := range []string{"/jobs/job-0000000000000000", "/jobs/job-0000000000000000/leads", "/no/such/page"} {
		res, raw := v.do("GET", p, nil, "", nil)
		if res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(raw), "Back to the jobs") {
			t.Errorf("GET %s: %d, want a 404 page", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/jobs/job-0000000000000000/cancel", "/jobs/job-0000000000000000/resume"} {
		if res, _ := v.do("POST", p, nil, "", nil); res.StatusCode != 404 {
			t.Errorf("POST %s: %d, want 404", p, res.StatusCode)
		}
	}
}

func TestCrossSitePostsAreRefused(t *testing.T) {
	v := newEnv(t, envOptions{})
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		res, raw := v.upload("/api/jobs", [][2]string{{"name", "x"}}, "list.csv", []byte(exampleCSV), h)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(raw), "another site") {
			t.Errorf("POST /api/jobs with %v: %d %s", h, res.StatusCode, raw)
		}
		for _, p := range []string{"/api/estimate", "/jobs", "/api/jobs/job-0000000000000000/cancel", "/jobs/job-0000000000000000/resume"} {
			if res, _ := v.do("POST", p, nil, "", h); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %v: %d, want 403", p, h, res.StatusCode)
			}
		}
	}
	if _, raw := v.do(http.MethodGet, "/api/jobs", nil, "", nil); strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("a cross-site post made a job: %s", raw)
	}
	// The same page's own post goes through.
	res, _ := v.upload("/api/estimate", nil, "list.csv", []byte(exampleCSV), map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": v.ts.URL})
	if res.StatusCode != 200 {
		t.Errorf("same-origin estimate: %d", res.StatusCode)
	}
	// A name rebound to 127.0.0.1 is not loopback's: refused without a token.
	res, _ = v.do(http.MethodGet, "/api/jobs", nil, "", map[string]string{"Host": "attacker.example"})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %d, want 403", res.StatusCode)
	}
}

func TestTokenRule(t *testing.T) {
	v := newEnv(t, envOptions{token: "s3cret-token"})
	for _, c := range []struct {
		headers map[string]string
		status  int
	}{
		{nil, 401},
		{map[string]string{"Authorization": "Bearer wrong"}, 401},
		{map[string]string{"Authorization": "s3cret-token"}, 401},
		{map[string]string{"Cookie": "attom_batch_token=nope"}, 401},
		{map[string]string{"Authorization": "Bearer s3cret-token"}, 200},
		{map[string]string{"Cookie": "attom_batch_token=s3cret-token"}, 200},
		// With a token, other host names are fine: the token is the guard.
		{map[string]string{"Authorization": "Bearer s3cret-token", "Host": "batch.internal.example"}, 200},
	} {
		for _, p := range []string{"/api/jobs", "/", "/static/app.css"} {
			res, _ := v.do(http.MethodGet, p, nil, "", c.headers)
			if res.StatusCode != c.status {
				t.Errorf("GET %s with %v: %d, want %d", p, c.headers, res.StatusCode, c.status)
			}
		}
	}
	if res, _ := v.upload("/api/estimate", nil, "list.csv", []byte(exampleCSV), nil); res.StatusCode != 401 {
		t.Errorf("estimate without the token: %d", res.StatusCode)
	}
	// A link with the token sets the cookie and drops the token from the address.
	res, _ := v.do(http.MethodGet, "/spend?token=s3cret-token", nil, "", nil)
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/spend" ||
		!strings.Contains(cookie, "attom_batch_token=s3cret-token") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("token link: %d %q %q", res.StatusCode, res.Header.Get("Location"), cookie)
	}
	if res, _ := v.do(http.MethodGet, "/spend?token=wrong", nil, "", nil); res.StatusCode != 401 {
		t.Errorf("wrong token link: %d", res.StatusCode)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "127.0.0.2:0": true,
		":8080": false, "0.0.0.0:8080": false, "192.168.1.5:8080": false, "example.com:80": false, "nonsense": false,
	} {
		if got := web.LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestSecurityHeadersAndEscaping(t *testing.T) {
	v := newEnv(t, envOptions{})
	evil := `<script>alert("x")</script>`
	csvText := "address,city,state,zip,note\n1 Main St,Austin,TX,78701,\"" + strings.ReplaceAll(evil, `"`, `""`) + "\"\nPO Box 9,Austin,TX,78701,\"<img src=x onerror=alert(1)>\"\n"
	j := v.createJob(evil, true, csvText)
	v.waitFor(j.ID, "completed", completed)
	for _, p := range []string{"/", "/jobs/" + j.ID, "/jobs/" + j.ID + "/leads"} {
		res, raw := v.do(http.MethodGet, p, nil, "", nil)
		page := string(raw)
		if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
			t.Errorf("GET %s: user input rendered as markup", p)
		}
		if !strings.Contains(page, "&lt;script&gt;alert") {
			t.Errorf("GET %s: the job name is not shown escaped", p)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'", "require-trusted-types-for 'script'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: headers %v", p, res.Header)
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || strings.Contains(page, " onclick=") {
			t.Errorf("GET %s: inline script or style in the page", p)
		}
	}
	// The rejected row's cell is escaped on the job page too.
	_, raw := v.do(http.MethodGet, "/jobs/"+j.ID, nil, "", nil)
	if !strings.Contains(string(raw), "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("rejected row's note not shown escaped")
	}
}

func TestCancelAndResume(t *testing.T) {
	v := newEnv(t, envOptions{latency: 30 * time.Millisecond})
	var b strings.Builder
	b.WriteString("address,city,state,zip\n")
	for i := range 300 {
		fmt.Fprintf(&b, "%d Cedar Ln,Austin,TX,78701\n", 100+i)
	}
	j := v.createJob("long", true, b.String())
	v.waitFor(j.ID, "looking up", func(j jobJSON) bool {
		return j.Status == batch.StatusSubmitted || j.Status == batch.StatusProcessing
	})
	time.Sleep(300 * time.Millisecond)
	res, raw := v.do(http.MethodPost, "/api/jobs/"+j.ID+"/cancel", nil, "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(raw), `"status": "cancelled"`) {
		t.Fatalf("cancel: %d %s", res.StatusCode, raw)
	}
	stopped := v.waitFor(j.ID, "stopped", func(j jobJSON) bool { return j.Driver == nil })
	addsUp(t, stopped)
	if stopped.Status != batch.StatusCancelled || stopped.PendingRecords == 0 || stopped.CostReservedCents != 0 {
		t.Errorf("after cancel: %s, %d pending, %d reserved", stopped.Status, stopped.PendingRecords, stopped.CostReservedCents)
	}
	if res, _ := v.do(http.MethodPost, "/api/jobs/"+j.ID+"/cancel", nil, "", nil); res.StatusCode != 200 {
		t.Errorf("cancel twice: %d", res.StatusCode)
	}
	res, raw = v.do(http.MethodPost, "/api/jobs/"+j.ID+"/resume", nil, "", nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("resume: %d %s", res.StatusCode, raw)
	}
	if res, raw := v.do(http.MethodPost, "/api/jobs/"+j.ID+"/resume", nil, "", nil); res.StatusCode != http.StatusConflict || !strings.Contains(string(raw), "already running") {
		t.Errorf("resume while running: %d %s", res.StatusCode, raw)
	}
	done := v.waitFor(j.ID, "completed", completed)
	addsUp(t, done)
	if done.PendingRecords != 0 || done.RecordsFound+done.NotFoundRecords != 300 {
		t.Errorf("after resume: %+v", done.Job)
	}
	for _, action := range []string{"cancel", "resume"} {
		if res, raw := v.do(http.MethodPost, "/api/jobs/"+j.ID+"/"+action, nil, "", nil); res.StatusCode != http.StatusConflict {
			t.Errorf("%s a completed job: %d %s", action, res.StatusCode, raw)
		}
	}
	// The page's forms: a post, then a redirect back to the job.
	res, _ = v.do(http.MethodPost, "/jobs/"+j.ID+"/resume", nil, "", nil)
	if res.StatusCode != http.StatusConflict {
		t.Errorf("page resume of a completed job: %d", res.StatusCode)
	}
}

func TestResumeRefusesAJobAnotherDriverHolds(t *testing.T) {
	v := newEnv(t, envOptions{})
	j := v.createJob("held", false, exampleCSV)
	v.waitFor(j.ID, "completed", completed)
	ctx := context.Background()
	// Make it look like another process drives it now.
	if _, err := v.e.Tasks.Jobs.UpdateJob(ctx, j.ID, func(job *batch.Job) error { job.Status = batch.StatusProcessing; return nil }); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := v.e.Tasks.Leases.AcquireLease(ctx, batch.Lease{Name: batch.JobLeaseName(j.ID), Owner: "other", Holder: "attom-batch run-all (pid 4242 on elsewhere)", Since: now, Expires: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}
	res, raw := v.do(http.MethodPost, "/api/jobs/"+j.ID+"/resume", nil, "", nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(raw), "pid 4242 on elsewhere") {
		t.Errorf("resume of a held job: %d %s", res.StatusCode, raw)
	}
	got := v.getJob(j.ID)
	if got.Driver == nil || got.Driver.Here || !strings.Contains(got.Driver.Holder, "pid 4242") {
		t.Errorf("driver %+v", got.Driver)
	}
	// The server does not pick it up while the other driver's lease lives.
	time.Sleep(500 * time.Millisecond)
	if got := v.getJob(j.ID); got.Driver == nil || got.Driver.Here {
		t.Errorf("picked up a job another driver holds: %+v", got.Driver)
	}
}

func TestServePicksUpJobsWhoseDriverIsGone(t *testing.T) {
	dir := t.TempDir()
	// A driver that stopped half way: lookups done, no download, process or leads (as a
	// killed run-all, or `submit`, leaves it), and no lease.
	e, err := embeddedapp.OpenEmbedded(testConfig(dir), embeddedapp.EmbeddedOptions{NoRetryDelay: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(path, []byte(exampleCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	leads := true
	id, err := e.Submit(context.Background(), path, batch.SubmitOptions{Name: "orphan", Leads: &leads})
	if err != nil {
		t.Fatal(err)
	}
	if job, _ := e.Tasks.Jobs.GetJob(context.Background(), id); job.Status == batch.StatusCompleted {
		t.Fatalf("submit completed the job: nothing to pick up")
	}
	e.Close()

	v := newEnv(t, envOptions{dir: dir})
	done := v.waitFor(id, "completed", completed)
	addsUp(t, done)
	if done.LeadsCreated == 0 {
		t.Errorf("picked-up job made no leads: %+v", done.Job)
	}
}

// TestUploadsInOtherEncodingsAreReadAsPrepareReadsThem: a UTF-16 file with its byte-order
// mark and a Windows-1252 one (Excel's "CSV" and "Unicode text") are estimated, not refused,
// also when the first 64 KiB end mid-file.
func TestUploadsInOtherEncodingsAreReadAsPrepareReadsThem(t *testing.T) {
	v := newEnv(t, envOptions{})
	long := exampleCSV + strings.Repeat("77 Zürich Strasse,Austin,TX,78701,county\n", 2000)
	utf16le := []byte{0xff, 0xfe}
	for _, r := range long {
		utf16le = append(utf16le, byte(r), byte(r>>8))
	}
	cp1252 := []byte(strings.ReplaceAll(exampleCSV, "Main Street", "Main Stra\xdfe"))
	for name, body := range map[string][]byte{"utf16.csv": utf16le, "cp1252.csv": cp1252} {
		res, raw := v.upload("/api/estimate", nil, name, body, nil)
		var e struct {
			Rows    int      `json:"rows"`
			Columns []string `json:"columns"`
		}
		if err := json.Unmarshal(raw, &e); res.StatusCode != 200 || err != nil || e.Rows < 7 || len(e.Columns) != 5 || e.Columns[0] != "address" {
			t.Errorf("%s: %d %.300s", name, res.StatusCode, raw)
		}
	}
}
