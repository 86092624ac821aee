package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/leadflow/attom-batch/internal/batch"
)

// TestBrowser uses the UI the way a person does, in real headless Chromium (Debian's
// chromium; .ci/run installs it): upload a CSV through the page's file input, see the
// estimate, run the job to completion, open its leads, sort them by score, download the
// export, and cancel a second job. Any console error or uncaught exception fails it (a CSP
// violation is one). Screenshots go to build/screenshots/; with ATTOM_BATCH_UPDATE_DOCS=1
// the jobs and leads ones are also copied to docs/screenshots/ for the README.
func TestBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on this CI machine: .ci/run installs Debian's chromium package")
		}
		t.Skip("no chromium (apt-get install -y chromium)")
	}
	start := time.Now()
	v := newEnv(t, envOptions{latency: 15 * time.Millisecond})
	shots := screenshotDir(t)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	// Every console error and uncaught exception, from the first page on.
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
				mu.Unlock()
			}
		}
	}()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	shot := func(name string) {
		t.Helper()
		capture := chromedp.FullScreenshot(100)
		if strings.Contains(name, "viewport") {
			capture = chromedp.CaptureScreenshot()
		}
		png, err := chromedp.Run(ctx, capture)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitStatus waits for the job page's status, across the reloads the page does itself.
	waitStatus := func(want ...string) string {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for {
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("job-status") || {}).textContent || ""`))
			s = strings.TrimSpace(s)
			if err == nil && slices.Contains(want, s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("job page status %q, want one of %v", s, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// 1. No jobs yet: the empty state says what to do.
	do("jobs page", chromedp.Navigate(v.ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("no-jobs")))
	if !strings.Contains(text("#simulated"), "SIMULATED") {
		t.Error("the simulator's data is not labelled SIMULATED")
	}

	// 2. Upload through the file input: the estimate and the first rows show up before
	// anything is spent.
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", "properties.csv"))
	if err != nil {
		t.Fatal(err)
	}
	do("new job", chromedp.Click(chromedp.CSS(`a[href="/jobs/new"]`)), chromedp.WaitVisible(chromedp.ID("drop")),
		chromedp.SendKeys(chromedp.ID("name"), "Springfield list"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{example}),
		chromedp.WaitVisible(chromedp.ID("estimate")),
		chromedp.WaitEnabled(chromedp.ID("start")))
	if rows := text(`[data-e="rows"]`); rows != "30" {
		t.Errorf("estimate rows %q, want 30", rows)
	}
	if cost := text(`[data-e="worst_case_cost_cents"]`); !strings.HasPrefix(cost, "$") {
		t.Errorf("worst-case cost %q, want dollars", cost)
	}
	if preview := text("#preview"); !strings.Contains(preview, "123 MAIN ST, SPRINGFIELD, IL 62701") {
		t.Errorf("preview does not show the normalized address: %q", preview)
	}
	shot("02-new-job-estimate.png")
	if jobs, _ := v.e.Tasks.Jobs.ListJobs(ctx, 0); len(jobs) != 0 {
		t.Fatalf("the estimate created a job")
	}

	// 3. Start it and watch it run to completion, no reload by hand.
	do("start", chromedp.Click(chromedp.ID("start")), chromedp.WaitVisible(chromedp.ID("job-status")))
	waitStatus("completed")
	do("job page", chromedp.WaitVisible(chromedp.ID("open-leads")))
	shot("03-job-completed.png")
	if path := text("#path"); !strings.Contains(path, "Prepare") || !strings.Contains(path, "Leads") {
		t.Errorf("path of states %q", path)
	}

	// 4. Its leads, highest score first; sort by score the other way.
	do("leads", chromedp.Click(chromedp.ID("open-leads")), chromedp.WaitVisible(chromedp.ID("leads")))
	scores := func() []int {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll("#leads td.score")].map(td => Number(td.dataset.score))`))
		if err != nil || len(s) == 0 {
			t.Fatalf("scores: %v %v", s, err)
		}
		return s
	}
	desc := scores()
	if !slices.IsSortedFunc(desc, func(a, b int) int { return b - a }) {
		t.Errorf("leads not highest score first: %v", desc)
	}
	shot("04-leads.png")
	do("breakdown", chromedp.Click(chromedp.CSS("#leads details summary")), chromedp.WaitVisible(chromedp.CSS("#leads details table.breakdown")))
	if b := text("#leads details table.breakdown"); !strings.Contains(b, "unknown") {
		t.Errorf("breakdown shows no unknown factor: %q", b)
	}
	shot("04-leads-viewport.png")
	do("sort", chromedp.Click(chromedp.ID("sort-score")), chromedp.WaitVisible(chromedp.CSS(`a#sort-score[data-sort="score"]`)))
	if asc := scores(); !slices.IsSorted(asc) || len(asc) != len(desc) {
		t.Errorf("sorted by score: %v", asc)
	}

	// 5. Download the export: the input's columns first.
	downloads := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	do("export", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		yes := true
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &yes,
		})
		return err
	}), chromedp.Click(chromedp.ID("export")))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download cancelled")
		}
		if ev.State != browser.DownloadProgressStateCompleted {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(downloads, ev.GUID))
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(string(raw), "\n")
		if !strings.HasPrefix(header, "address,city,state,zip,list_source,notes,") || !strings.Contains(header, "score") {
			t.Errorf("export header %q", header)
		}
		if n := strings.Count(string(raw), "\n"); n != len(desc)+1 {
			t.Errorf("export has %d lines for %d leads", n, len(desc))
		}
		break
	}

	// 6. A second, longer job: cancel it from its page while it looks up.
	long := filepath.Join(t.TempDir(), "long-list.csv")
	var b strings.Builder
	b.WriteString("address,city,state,zip\n")
	for i := range 600 {
		fmt.Fprintf(&b, "%d Cedar Ln,Austin,TX,78701\n", 100+i)
	}
	if err := os.WriteFile(long, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	do("second job", chromedp.Navigate(v.ts.URL+"/jobs/new"), chromedp.WaitVisible(chromedp.ID("drop")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{long}),
		chromedp.WaitVisible(chromedp.ID("estimate")), chromedp.WaitEnabled(chromedp.ID("start")),
		chromedp.Click(chromedp.ID("start")), chromedp.WaitVisible(chromedp.ID("job-status")))
	waitStatus("submitted", "processing")
	do("cancel", chromedp.Click(chromedp.ID("cancel")), chromedp.WaitVisible(chromedp.ID("resume")))
	waitStatus("cancelled")
	jobs, err := v.e.Tasks.Jobs.ListJobs(ctx, 0)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("jobs: %v %v", len(jobs), err)
	}
	second := v.waitFor(jobs[0].ID, "stopped", func(j jobJSON) bool { return j.Driver == nil })
	if second.Status != batch.StatusCancelled || second.PendingRecords == 0 {
		t.Errorf("second job %s with %d pending, want cancelled half way", second.Status, second.PendingRecords)
	}
	addsUp(t, second)
	do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("resume")))
	shot("05-job-cancelled.png")

	// 7. The jobs list and the spend page.
	do("jobs", chromedp.Navigate(v.ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("jobs")))
	if rows := text("#jobs tbody"); !strings.Contains(rows, "Springfield list") || !strings.Contains(rows, "cancelled") {
		t.Errorf("jobs list: %q", rows)
	}
	shot("01-jobs.png")
	do("spend", chromedp.Navigate(v.ts.URL+"/spend"), chromedp.WaitVisible(chromedp.ID("spend-chart")))
	shot("06-spend.png")
	time.Sleep(200 * time.Millisecond) // let the last console messages arrive

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
	t.Logf("browser test took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
	if os.Getenv("ATTOM_BATCH_UPDATE_DOCS") != "" {
		docs := filepath.Join("..", "..", "docs", "screenshots")
		for from, to := range map[string]string{"01-jobs.png": "jobs.png", "04-leads-viewport.png": "leads.png", "02-new-job-estimate.png": "new-job.png"} {
			raw, err := os.ReadFile(filepath.Join(shots, from))
			if err == nil {
				err = os.WriteFile(filepath.Join(docs, to), raw, 0o644)
			}
			if err != nil {
				t.Errorf("docs screenshot %s: %v", to, err)
			}
		}
	}
}

// findChromium finds Debian's chromium, or another Chrome on the PATH.
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is build/screenshots at the module's root.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "build", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
