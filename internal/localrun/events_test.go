package localrun_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/notify"
	"github.com/leadflow/attom-batch/statemachine"
)

const hookSecret = "whsec-localrun"

// hookReceiver keeps every verified delivery's event.
type hookReceiver struct {
	mu     sync.Mutex
	events []batch.JobEvent
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	var ev batch.JobEvent
	if !notify.Verify(hookSecret, body, r.Header.Get(notify.SignatureHeader)) || json.Unmarshal(body, &ev) != nil {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.events = append(h.events, ev)
}

func (h *hookReceiver) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		out = append(out, ev.Type)
	}
	return out
}

func withWebhook(url string) func(*config.Config) {
	return func(c *config.Config) {
		c.WebhookURL, c.WebhookSecret = url, hookSecret
		c.DailyCapCents = 100
	}
}

// A receiver on loopback gets one signed event per change of a job that the cap pauses, that
// resumes the next day and completes.
func TestAWebhookHearsEveryChangeOnce(t *testing.T) {
	rec := &hookReceiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	w := newWorldWith(t, withWebhook(srv.URL), attomsim.Options{NotFoundRate: -1})
	exec, job := w.runNamed(w.csvFile("hooked.csv", addresses(15)...), "hooked", batch.SubmitOptions{})
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s, job %s", exec.Status, job.Status)
	}
	w.sys.WaitForNotices()
	want := []string{"paused", "resumed", "completed"}
	if got := rec.types(); !slices.Equal(got, want) || rec.bad != 0 {
		t.Fatalf("events %v (want %v), %d unverified", got, want, rec.bad)
	}
	ids := map[string]bool{}
	for _, ev := range rec.events {
		if ids[ev.ID] || ev.Job.ID != job.ID || ev.Job.Name != "hooked" {
			t.Fatalf("event %+v", ev)
		}
		ids[ev.ID] = true
	}
	paused, done := rec.events[0], rec.events[2]
	if paused.Reason != batch.DeferredByCap || paused.ResumesAt == nil || paused.Job.RecordsFound != 10 {
		t.Fatalf("paused event %+v", paused)
	}
	if done.Job.RecordsFound != 15 || done.Job.CostSpentCents != 150 || done.LeadsExportPath == "" || done.ResultsPath == "" {
		t.Fatalf("completed event %+v", done)
	}
	last := w.job(job.ID)
	if !strings.HasPrefix(last.LastNotice, "completed delivered") {
		t.Fatalf("last notice %q", last.LastNotice)
	}
}

// A receiver that is down changes nothing about the job; the job says its events were not
// delivered.
func TestADownReceiverChangesNothingAboutTheJob(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	w := newWorldWith(t, withWebhook(down), attomsim.Options{NotFoundRate: -1})
	exec, job := w.runNamed(w.csvFile("unheard.csv", addresses(15)...), "unheard", batch.SubmitOptions{})
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted || job.CostSpentCents != 150 {
		t.Fatalf("status %s, job %s spent %d", exec.Status, job.Status, job.CostSpentCents)
	}
	w.sys.WaitForNotices()
	if last := w.job(job.ID).LastNotice; !strings.Contains(last, "NOT delivered") {
		t.Fatalf("last notice %q", last)
	}
}
