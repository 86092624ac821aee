package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/leads"
)

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jobView is a job as the CLI prints it in JSON: its columns plus the derived pending count,
// so record_count = rejected + duplicates + found + not found + errors + pending holds in
// every status.
type jobView struct {
	batch.Job
	PendingRecords int `json:"pending_records"`
}

func viewOf(j batch.Job) jobView { return jobView{Job: j, PendingRecords: j.PendingRecords()} }

// showJob prints one job: its seed columns as JSON with --json, a readable block otherwise.
func (c *cli) showJob(ctx context.Context, sys system, id string) error {
	job, err := sys.Tasks().Jobs.GetJob(ctx, id)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(viewOf(job))
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(w, "%s\t%v\n", k, v) }
	row("Job", job.ID)
	row("Name", job.Name)
	row("File", job.FileName)
	if job.Encoding != "" {
		row("Encoding", job.Encoding)
	}
	row("Status", job.Status)
	if job.AttomStatus != "" {
		row("Lookup", job.AttomStatus)
	}
	row("Progress", fmt.Sprintf("%d%%", job.ProgressPercent))
	row("Rows", job.RecordCount)
	row("Rejected", job.RejectedRecords)
	row("Duplicates", job.DuplicateRecords)
	row("Found", job.RecordsFound)
	row("Not found", job.NotFoundRecords)
	row("Errors", job.ErrorRecords)
	if pending := job.PendingRecords(); pending > 0 {
		row("Pending", pending)
	}
	row("Reused answers", fmt.Sprintf("%d (free; counted in found and not found)", job.ReusedRecords))
	row("Records written", job.ProcessedRecords)
	row("Leads", fmt.Sprintf("%d created, %d updated", job.LeadsCreated, job.LeadsUpdated))
	row("Cost", costLine(job))
	if job.EstimatedCompletionTime > 0 && job.Status != batch.StatusCompleted {
		row("Estimated completion", time.Unix(job.EstimatedCompletionTime, 0).UTC().Format(time.RFC3339))
	}
	if lease, err := sys.Tasks().Leases.GetLease(ctx, batch.JobLeaseName(job.ID)); err == nil && lease.Expires.After(time.Now()) {
		row("Driven by", fmt.Sprintf("%s since %s", lease.Holder, lease.Since.UTC().Format(time.RFC3339)))
	}
	if job.ExternalBatchID != "" {
		row("Lookup execution", job.ExternalBatchID)
	}
	if job.ResultFilePath != "" {
		row("Results", job.ResultFilePath)
	}
	if job.Error != "" {
		row("Error", job.Error)
	}
	if job.LastNotice != "" {
		row("Webhook", job.LastNotice)
	}
	return w.Flush()
}

func cents(n int64) float64 { return float64(n) / 100 }

// costLine shows spend with its possibly billed part (calls abandoned at their timeout, or in
// flight when a driver died) apart.
func costLine(j batch.Job) string {
	s := fmt.Sprintf("$%.2f spent, $%.2f reserved", cents(j.CostSpentCents), cents(j.CostReservedCents))
	if j.CostUncertainCents > 0 {
		s += fmt.Sprintf(" ($%.2f of the spent possibly billed: calls ATTOM may not have answered)", cents(j.CostUncertainCents))
	}
	return s
}

// showEstimate prints what a file would cost.
func (c *cli) showEstimate(e batch.Estimate) error {
	if c.json {
		return c.printJSON(e)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(w, "%s\t%v\n", k, v) }
	row("File", e.File)
	row("Rows", e.Rows)
	row("Rejected", e.Rejected)
	row("Duplicates", e.Duplicates)
	row("Unique addresses", e.Unique)
	row("Already known (free)", fmt.Sprintf("%d (answers younger than %d days)", e.AlreadyKnown, e.MaxAgeDays))
	row("To buy", e.ToBuy)
	row("Worst-case cost", fmt.Sprintf("$%.2f (%d calls)", cents(e.WorstCaseCents), e.Calls))
	row("Days at the daily cap", e.DaysAtCap)
	row("Expected finish", e.ExpectedFinish.UTC().Format(time.RFC3339))
	fmt.Fprintln(w, "\nNothing was spent and no job was created.")
	return w.Flush()
}

// printJobs prints the jobs table (listBatchJobs).
func (c *cli) printJobs(jobs []batch.Job) error {
	if c.json {
		views := make([]jobView, len(jobs))
		for i, j := range jobs {
			views[i] = viewOf(j)
		}
		return c.printJSON(views)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(c.stdout, "No jobs yet.")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATUS\tROWS\tFOUND\tNOT FOUND\tREUSED\tLEADS\tCOST\tCREATED")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t$%.2f\t%s\n", j.ID, j.Name, j.Status, j.RecordCount,
			j.RecordsFound, j.NotFoundRecords, j.ReusedRecords, j.LeadsCreated+j.LeadsUpdated, cents(j.CostSpentCents),
			j.CreatedAt.Format(time.DateTime))
	}
	return w.Flush()
}

// showSummary prints what a finished run did and its best leads.
func (c *cli) showSummary(ctx context.Context, sys system, id string) error {
	t := sys.Tasks()
	job, err := t.Jobs.GetJob(ctx, id)
	if err != nil {
		return err
	}
	top, err := t.Stores.Leads.TopLeads(ctx, id, 10)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(map[string]any{"job": viewOf(job), "top_leads": top})
	}
	if err := c.showJob(ctx, sys, id); err != nil {
		return err
	}
	c.printPaths(job, t.Settings.LeadsExport)
	if len(top) > 0 {
		c.printLeads(top, sys.Simulated())
	}
	return nil
}

// printPaths tells where the job's files are (relative to the results directory).
func (c *cli) printPaths(job batch.Job, export bool) {
	if job.RejectedRecords > 0 {
		fmt.Fprintf(c.stdout, "Rejected rows, with reasons: %s\n", job.RejectsPath)
	}
	if export && (job.LeadsCreated > 0 || job.Status == batch.StatusCompleted && job.WantLeads) {
		fmt.Fprintf(c.stdout, "Leads export: %s\n", filepath.ToSlash(filepath.Join("exports", job.ID, "leads.csv")))
	}
}

func (c *cli) printLeads(top []leads.Lead, simulated bool) {
	title := "Top leads"
	if simulated {
		title += " (SIMULATED data)"
	}
	fmt.Fprintf(c.stdout, "\n%s\n", title)
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SCORE\tADDRESS\tOWNER\tVALUE\tEQUITY\tWHY")
	for _, l := range top {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", l.Score, l.Address, strings.Join(l.OwnerNames, " & "),
			money(l.Value), money(l.Equity), leads.BreakdownSummary(l.Breakdown))
	}
	w.Flush()
}

func money(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("$%.0f", *v)
}

// showHistory prints the state machine's path, state by state (status --verbose).
func (c *cli) showHistory(ctx context.Context, sys system, id string) error {
	exec, err := sys.History(ctx, id)
	if err != nil {
		return err
	}
	if exec == nil {
		fmt.Fprintln(c.stdout, "No recorded execution for this job (it was not run with run-all).")
		return nil
	}
	if c.json {
		return c.printJSON(exec)
	}
	fmt.Fprintf(c.stdout, "\nExecution %s: %s\n", exec.Name, exec.Status)
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STATE\tTYPE\tENTERED\tOUTPUT / ERROR")
	for _, ev := range exec.History {
		detail := string(ev.Output)
		if ev.Error != "" {
			detail = ev.Error + ": " + ev.Cause
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ev.State, ev.Type, ev.Entered.Format(time.TimeOnly), clip(detail, 100))
	}
	return w.Flush()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// progress reports on the job this command drives while long work runs: a progress bar
// when stdout is a terminal, and on stderr, terminal or not, a line whenever the job pauses
// saying what paused it, until when, and how to continue. It returns a func that stops it.
func (c *cli) progress(ctx context.Context, sys system, _ string) func() {
	var bar *progressbar.ProgressBar
	if !c.json && isTerminal(c.stdout) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(c.stderr),
			progressbar.OptionSetDescription("looking up addresses"), progressbar.OptionShowCount())
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		var told string
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				job, ok := watchedJob(ctx, sys)
				if !ok {
					continue
				}
				if bar != nil && job.UniqueRecords > 0 {
					showProgress(bar, job)
				}
				told = c.notePause(job, told)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(c.stderr)
		}
	}
}

// watchedJob is the job this process drives, or else the newest job.
func watchedJob(ctx context.Context, sys system) (batch.Job, bool) {
	if id := sys.CurrentJob(); id != "" {
		job, err := sys.Tasks().Jobs.GetJob(ctx, id)
		return job, err == nil
	}
	jobs, err := sys.Tasks().Jobs.ListJobs(ctx, 1)
	if err != nil || len(jobs) == 0 {
		return batch.Job{}, false
	}
	return jobs[0], true
}

// notePause tells, once per pause, why the job waits; told is the pause last told about.
func (c *cli) notePause(job batch.Job, told string) string {
	if job.Status != batch.StatusPaused || job.PausedUntil == nil {
		return ""
	}
	pause := job.PauseReason + "@" + job.PausedUntil.String()
	if pause == told {
		return told
	}
	fmt.Fprintf(c.stderr, "\npaused: job %s waits (%s) until %s; this command continues by itself then. "+
		"Or stop it (Ctrl-C) and run `attom-batch resume %s` later: nothing is paid twice.\n",
		job.ID, job.PauseReason, job.PausedUntil.UTC().Format(time.RFC3339), job.ID)
	return pause
}

// showProgress moves the bar to the job's lookups and says when a pause holds them, so a
// bar that stops moving says why.
func showProgress(bar *progressbar.ProgressBar, j batch.Job) {
	bar.ChangeMax(j.UniqueRecords)
	_ = bar.Set(min(j.LookedUpRecords, j.UniqueRecords))
	if j.Status == batch.StatusPaused {
		bar.Describe(j.AttomStatus + " (Ctrl-C stops; resume continues later)")
	} else {
		bar.Describe("looking up addresses")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
