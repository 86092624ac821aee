package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/embeddedapp"
	"github.com/leadflow/attom-batch/statemachine"
)

// system is what the batch commands need from a backend.
type system interface {
	Tasks() *batch.Tasks
	Submit(ctx context.Context, path string, opts batch.SubmitOptions) (string, error)
	RunAll(ctx context.Context, path string, opts batch.SubmitOptions) (string, *statemachine.Execution, error)
	RunKey(ctx context.Context, key string, opts batch.SubmitOptions) (string, *statemachine.Execution, error)
	// Resume continues a job through to completed (or to its next pause).
	Resume(ctx context.Context, jobID string) (*statemachine.Execution, error)
	Cancel(ctx context.Context, jobID string) error
	// CurrentJob is the job this process drives, when known, for progress reports.
	CurrentJob() string
	History(ctx context.Context, jobID string) (*statemachine.Execution, error)
	// Download assembles or fetches a job's result files and returns where they are.
	Download(ctx context.Context, job batch.Job) ([]string, error)
	// Drives is true when the CLI runs the pipeline's steps itself (embedded); on AWS the
	// deployed state machine does, and the CLI only reads.
	Drives() bool
	Simulated() bool
	Close()
}

// embedded adapts embeddedapp.Embedded to system.
type embedded struct{ *embeddedapp.Embedded }

func (e embedded) Tasks() *batch.Tasks { return e.Embedded.Tasks }
func (e embedded) Drives() bool        { return true }

// Download runs downloadBatchResults here: the chunk results become one results file.
func (e embedded) Download(ctx context.Context, job batch.Job) ([]string, error) {
	if _, err := e.Embedded.Tasks.Download(ctx, batch.Step{JobID: job.ID}); err != nil {
		return nil, err
	}
	return []string{e.ResultsPath(job.ID)}, nil
}

// cloud adapts app.Cloud to system.
type cloud struct{ *app.Cloud }

func (c cloud) Tasks() *batch.Tasks { return c.Cloud.Tasks }
func (c cloud) Drives() bool        { return false }

// open builds the configured backend and tells the user when data is simulated.
func (c *cli) open() (system, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, err
	}
	if cfg.Backend == config.BackendAWS {
		c, err := app.OpenCloud(context.Background(), cfg, app.Logger())
		if err != nil {
			return nil, err
		}
		return cloud{c}, nil
	}
	sys, err := embeddedapp.OpenEmbedded(cfg, embeddedapp.EmbeddedOptions{})
	if err != nil {
		return nil, err
	}
	if sys.Simulated() {
		fmt.Fprintln(c.stderr, "notice:", app.SimulatorNotice)
	}
	return embedded{sys}, nil
}

// withSystem opens the backend for one command and closes it after.
func (c *cli) withSystem(fn func(ctx context.Context, sys system) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		limitMemory()
		sys, err := c.open()
		if err != nil {
			return err
		}
		defer sys.Close()
		return fn(cmd.Context(), sys)
	}
}

// withJob is withSystem for commands that act on one job: the ID argument, or the latest.
func (c *cli) withJob(fn func(ctx context.Context, sys system, job batch.Job) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, a []string) error {
		return c.withSystem(func(ctx context.Context, sys system) error {
			job, err := c.pickJob(ctx, sys, a)
			if err != nil {
				return err
			}
			return fn(ctx, sys, job)
		})(cmd, a)
	}
}

type submitFlags struct {
	name  string
	leads bool
	maxAge
}

func (f *submitFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "name", "", "batch name (default: the file name); another name makes another job")
	cmd.Flags().BoolVar(&f.leads, "leads", false, "turn the properties into leads")
	f.maxAge.register(cmd)
}

func (f *submitFlags) options(cmd *cobra.Command) batch.SubmitOptions {
	leads := f.leads
	return batch.SubmitOptions{Name: f.name, Leads: &leads, MaxAgeDays: f.maxAge.value(cmd)}
}

// maxAge is --max-age-days: the answer cache window for one command.
type maxAge struct{ days int }

func (m *maxAge) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&m.days, "max-age-days", 0,
		"reuse ATTOM answers younger than this many days, from any job; 0 buys everything fresh (default: ATTOM_REUSE_MAX_AGE_DAYS)")
}

// value is nil unless the flag was given, so the configured window applies.
func (m *maxAge) value(cmd *cobra.Command) *int {
	if !cmd.Flags().Changed("max-age-days") {
		return nil
	}
	days := m.days
	return &days
}

func (c *cli) submitCmd() *cobra.Command {
	var flags submitFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Create and submit a batch request from a CSV (createBatchRequest + submitBatchRequest)",
		Long: `Reads FILE (columns address/street, city, state, zip, or one full_address column),
rejects bad rows to a rejects file, dedupes addresses and looks them up on ATTOM under the
daily cap, buying only what no recent answer already says. Submitting the same file under
the same name again names the same job; under another --name it makes a new one.`,
		Args: args(cobra.ExactArgs(1)),
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only estimate (as `attom-batch estimate`): spend nothing, create no job")
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		if dryRun {
			return c.withSystem(func(ctx context.Context, sys system) error {
				return c.estimate(ctx, sys, a[0], flags.maxAge.value(cmd))
			})(cmd, a)
		}
		return c.withSystem(func(ctx context.Context, sys system) error {
			stopProgress := c.progress(ctx, sys, a[0])
			id, err := sys.Submit(ctx, a[0], flags.options(cmd))
			stopProgress()
			if err != nil {
				return err
			}
			if job, err := sys.Tasks().Jobs.GetJob(ctx, id); err == nil {
				_, _ = checkStatus(ctx, sys, job) // show paused or done now, not at the next status
			}
			return c.showJob(ctx, sys, id)
		})(cmd, a)
	}
	return cmd
}

func (c *cli) statusCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "status [ID]",
		Short: "Check a batch's status (checkBatchStatus); the latest job without ID",
		Args:  args(cobra.MaximumNArgs(1)),
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print the path the state machine took, state by state")
	cmd.RunE = c.withJob(func(ctx context.Context, sys system, job batch.Job) error {
		if _, err := checkStatus(ctx, sys, job); err != nil {
			return err
		}
		if err := c.showJob(ctx, sys, job.ID); err != nil {
			return err
		}
		if verbose {
			return c.showHistory(ctx, sys, job.ID)
		}
		return nil
	})

	return cmd
}

// checkStatus polls an in-flight job, records a failed lookup on the job, and returns the
// lookup state (running, paused or done).
func checkStatus(ctx context.Context, sys system, job batch.Job) (string, error) {
	if !sys.Drives() {
		return lookupStateOf(job), nil
	}
	switch job.Status {
	case batch.StatusSubmitted, batch.StatusProcessing, batch.StatusPaused:
	case batch.StatusCreated:
		return batch.LookupRunning, nil
	default:
		return batch.LookupDone, nil
	}
	step, err := sys.Tasks().Poll(ctx, batch.Step{JobID: job.ID})
	var failed *batch.LookupFailed
	if errors.As(err, &failed) {
		_, _ = sys.Tasks().Fail(ctx, batch.FailInput{JobID: job.ID, Error: batch.CaughtError{Error: "LookupFailed", Cause: failed.Error()}})
		return "", err
	}
	return step.Lookup, err
}

// lookupStateOf reads the lookup state from a job the cloud is driving.
func lookupStateOf(job batch.Job) string {
	switch {
	case job.Status == batch.StatusPaused:
		return batch.LookupPaused
	case job.DownloadedAt != nil || job.Status == batch.StatusFailed:
		return batch.LookupDone
	default:
		return batch.LookupRunning
	}
}

func (c *cli) downloadCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "download [ID]",
		Short: "Download a batch's results into one results file (downloadBatchResults)",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: c.withJob(func(ctx context.Context, sys system, job batch.Job) error {
			if err := requireLookupsDone(ctx, sys, job); err != nil {
				return err
			}
			paths, err := sys.Download(ctx, job)
			if err != nil {
				return err
			}
			if err := c.showJob(ctx, sys, job.ID); err != nil || c.json {
				return err
			}
			for _, p := range paths {
				fmt.Fprintln(c.stdout, "Saved", p)
			}
			return nil
		}),
	}
}

// requireLookupsDone refuses to download while lookups are running or paused by the cap.
func requireLookupsDone(ctx context.Context, sys system, job batch.Job) error {
	state, err := checkStatus(ctx, sys, job)
	if err != nil {
		return err
	}
	switch state {
	case batch.LookupDone:
		if job.Status == batch.StatusFailed {
			return fmt.Errorf("job %s failed: %s (run it again with run-all to re-drive it)", job.ID, job.Error)
		}
		return nil
	case batch.LookupPaused:
		job, _ = sys.Tasks().Jobs.GetJob(ctx, job.ID)
		return fmt.Errorf("job %s is %s; run `attom-batch resume %s` after the reset", job.ID, job.AttomStatus, job.ID)
	default:
		return fmt.Errorf("job %s is still looking up addresses (%d%%); try again later", job.ID, job.ProgressPercent)
	}
}

func (c *cli) processCmd() *cobra.Command {
	var leads bool
	cmd := &cobra.Command{
		Use:   "process [ID]",
		Short: "Process downloaded results into property records, and leads with --leads (processBatchResults)",
		Args:  args(cobra.MaximumNArgs(1)),
	}
	cmd.Flags().BoolVar(&leads, "leads", false, "convert the properties to leads")
	cmd.RunE = c.withJob(func(ctx context.Context, sys system, job batch.Job) error {
		if job.DownloadedAt == nil {
			return fmt.Errorf("job %s has no downloaded results yet: run `attom-batch download %s` first", job.ID, job.ID)
		}
		if err := processJob(ctx, sys.Tasks(), job.ID, leads); err != nil {
			return err
		}
		return c.showSummary(ctx, sys, job.ID)
	})

	return cmd
}

func processJob(ctx context.Context, t *batch.Tasks, id string, leads bool) error {
	if err := eachSegment(ctx, t.Process, id); err != nil {
		return err
	}
	if leads {
		if err := eachSegment(ctx, t.Leads, id); err != nil {
			return err
		}
	}
	_, err := t.Complete(ctx, batch.Step{JobID: id})
	return err
}

// eachSegment runs a segmented step until no segment is left, as the state machine does.
func eachSegment(ctx context.Context, step func(context.Context, batch.Step) (batch.Step, error), id string) error {
	s := batch.Step{JobID: id}
	for {
		var err error
		if s, err = step(ctx, s); err != nil || !s.More {
			return err
		}
	}
}

func (c *cli) listCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List batch jobs, newest first (listBatchJobs)",
		Args:  args(cobra.NoArgs),
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many jobs to show (0 for all)")
	cmd.RunE = c.withSystem(func(ctx context.Context, sys system) error {
		jobs, err := sys.Tasks().Jobs.ListJobs(ctx, limit)
		if err != nil {
			return err
		}
		return c.printJobs(jobs)
	})
	return cmd
}

func (c *cli) runAllCmd() *cobra.Command {
	var flags submitFlags
	cmd := &cobra.Command{
		Use:   "run-all FILE",
		Short: "Run the full process: create, submit, wait, download, process and (with --leads) leads",
		Long: `Runs the batch-pipeline state machine for FILE from start to finish, the same definition
AWS runs. If the daily cap pauses the lookups it waits for the reset at 00:00 UTC; stop it
with Ctrl-C and run it again later to resume where it stopped (nothing is paid twice).`,
		Args: args(cobra.ExactArgs(1)),
	}
	flags.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		return c.withSystem(func(ctx context.Context, sys system) error {
			stopProgress := c.progress(ctx, sys, a[0])
			id, exec, err := sys.RunAll(ctx, a[0], flags.options(cmd))
			stopProgress()
			if ctx.Err() != nil {
				return interrupted(id)
			}
			if job, jerr := sys.Tasks().Jobs.GetJob(ctx, id); jerr == nil && job.Status == batch.StatusCancelled {
				_ = c.showJob(ctx, sys, id)
				return fmt.Errorf("job %s was cancelled; `attom-batch resume %s` continues it", id, id)
			}
			if err != nil {
				return err
			}
			if err := c.showSummary(ctx, sys, id); err != nil {
				return err
			}
			return executionError(exec)
		})(cmd, a)
	}
	return cmd
}

// interrupted says how to continue a job whose driver was stopped (Ctrl-C, SIGTERM).
func interrupted(id string) error {
	return fmt.Errorf("interrupted: job %s stopped where it was and can be resumed: run the same command again, or `attom-batch resume %s` (nothing is paid twice)", id, id)
}

// executionError turns a failed execution into the command's failure.
func executionError(exec *statemachine.Execution) error {
	if exec == nil || exec.Status == statemachine.StatusSucceeded {
		if exec != nil && slices.Contains(exec.Path(), "Cancelled") {
			return errors.New("the job was cancelled; `attom-batch resume` continues it")
		}
		return nil
	}
	return fmt.Errorf("pipeline %s: %s (the job's error says why)", exec.Status, exec.Error)
}

func (c *cli) resumeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "resume [ID]",
		Short: "Continue a job through to completed: paused, cancelled, failed, or whose run was killed",
		Long: `Continues the job from where it stopped, through lookups, download, process and leads,
as running the same run-all again would. A job whose driver died (kill -9, a reboot) can be
resumed once that driver's lease has expired (ATTOM_BATCH_LEASE_SECONDS); a job another live
run is driving is refused, naming it. Nothing already bought is bought again.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: c.withJob(func(ctx context.Context, sys system, job batch.Job) error {
			if job.Status == batch.StatusCompleted {
				fmt.Fprintf(c.stderr, "Job %s is already completed.\n", job.ID)
				return c.showJob(ctx, sys, job.ID)
			}
			stopProgress := c.progress(ctx, sys, "")
			exec, err := sys.Resume(ctx, job.ID)
			stopProgress()
			if ctx.Err() != nil {
				return interrupted(job.ID)
			}
			if err != nil {
				return err
			}
			if err := c.showSummary(ctx, sys, job.ID); err != nil {
				return err
			}
			return executionError(exec)
		}),
	}
}

func (c *cli) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel [ID]",
		Short: "Cancel a job: stop feeding lookups (calls in flight finish and are kept); resume continues it",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: c.withJob(func(ctx context.Context, sys system, job batch.Job) error {
			if err := sys.Cancel(ctx, job.ID); err != nil {
				return err
			}
			return c.showJob(ctx, sys, job.ID)
		}),
	}
}

func (c *cli) estimateCmd() *cobra.Command {
	var age maxAge
	cmd := &cobra.Command{
		Use:   "estimate FILE",
		Short: "Estimate a file before spending: rows, already known (free), to buy, worst-case cost, days at the cap",
		Args:  args(cobra.ExactArgs(1)),
	}
	age.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		return c.withSystem(func(ctx context.Context, sys system) error {
			return c.estimate(ctx, sys, a[0], age.value(cmd))
		})(cmd, a)
	}
	return cmd
}

// estimate reads the file locally against the backend's answer cache; nothing is spent and
// no job is created.
func (c *cli) estimate(ctx context.Context, sys system, path string, maxAgeDays *int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	e, err := sys.Tasks().EstimateFile(ctx, f, filepath.Base(path), maxAgeDays)
	if err != nil {
		return err
	}
	return c.showEstimate(e)
}

func (c *cli) refreshCmd() *cobra.Command {
	var days, limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Look up again the property records older than the refresh age (what the schedule runs)",
		Args:  args(cobra.NoArgs),
	}
	cmd.Flags().IntVar(&days, "max-age-days", 0, "refresh records older than this many days (default: ATTOM_BATCH_REFRESH_AGE_DAYS)")
	cmd.Flags().IntVar(&limit, "limit", 0, "most records in one refresh")
	cmd.Flags().BoolVar(&all, "all", false, "refresh every record, whatever its age")
	cmd.RunE = c.withSystem(func(ctx context.Context, sys system) error {
		if days < 0 || limit < 0 {
			return usageError{errors.New("--max-age-days and --limit must not be negative")}
		}
		var in batch.RefreshInput
		in.Detail.MaxAgeDays, in.Detail.Limit, in.Detail.All = days, limit, all
		res, err := sys.Tasks().Refresh(ctx, in)
		if err != nil {
			return err
		}
		if res.Disabled {
			return errors.New("refresh is switched off (ATTOM_BATCH_FEATURES has -refresh): nothing was looked up")
		}
		if res.Key == "" {
			if c.json {
				return c.printJSON(res)
			}
			fmt.Fprintln(c.stdout, "Nothing to refresh: no property record is older than the refresh age.")
			return nil
		}
		fmt.Fprintf(c.stderr, "Refreshing %d properties from %s\n", res.Records, res.Key)
		// The options the file carries (on AWS the upload rule starts the same job with them).
		id, exec, err := sys.RunKey(ctx, res.Key, res.Options)
		if err != nil {
			return err
		}
		if err := c.showSummary(ctx, sys, id); err != nil {
			return err
		}
		return executionError(exec)
	})
	return cmd
}

// pickJob returns the job named by the argument, or the latest job.
func (c *cli) pickJob(ctx context.Context, sys system, a []string) (batch.Job, error) {
	t := sys.Tasks()
	if len(a) == 1 {
		job, err := t.Jobs.GetJob(ctx, a[0])
		if errors.Is(err, batch.ErrNotFound) {
			return job, fmt.Errorf("no job %q (see `attom-batch list`)", a[0])
		}
		return job, err
	}
	jobs, err := t.Jobs.ListJobs(ctx, 1)
	if err != nil {
		return batch.Job{}, err
	}
	if len(jobs) == 0 {
		return batch.Job{}, errors.New("no jobs yet: start one with `attom-batch submit FILE` or `run-all FILE`")
	}
	return jobs[0], nil
}
