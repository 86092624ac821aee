// Command attom-batch turns CSVs of US property addresses into scored real-estate leads with
// ATTOM property data. It runs the whole pipeline on this machine (the embedded default) or
// drives the deployed AWS stack (--backend aws).
//
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/leadflow/attom-batch/internal/config"
)

func main() {
	memoryLimit = defaultMemoryLimit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultMemoryLimit is the Go runtime's soft memory limit while a command runs the
// pipeline, unless GOMEMLIMIT sets one. Prepare's duplicate set (about 38 B per unique
// address: 36-44 MB at a million rows) is the largest live object of a run, and with the
// collector's default headroom (GOGC=100 lets the heap grow to twice the live data before a
// collection) it took a million-row run-all to 113 MB of RSS, past issue 12's 100 MB. Under
// the limit the collector runs sooner instead. It is soft: a file whose live data passes it
// only makes the collector busier (at most about half the CPU), it never fails.
const defaultMemoryLimit = 64 << 20

// memoryLimit is what withSystem sets; main sets it, so tests that call run in their own
// process keep the runtime's defaults.
var memoryLimit int64

// limitMemory sets memoryLimit as the runtime's soft limit, unless it is 0 or GOMEMLIMIT
// chose one.
func limitMemory() {
	if memoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// usageError marks a mistake in how the command was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// run executes one command line and returns the exit code. Tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "attom-batch:", err)
	var usage usageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}

// cli holds what every command shares: the global flags and the output streams.
type cli struct {
	stdout, stderr io.Writer
	configFile     string
	backend        string
	json           bool
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	c := &cli{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "attom-batch",
		Short: "Turn lists of US property addresses into scored leads with ATTOM property data",
		Long: `attom-batch turns CSVs of US property addresses into scored real-estate leads.

It normalizes and dedupes the addresses, looks each one up on ATTOM's property API at the
allowed rate and never past the daily cap (DAILY_CAP_ATTOM_CENTS), merges the answers into a
unified property model, scores distress and writes one lead per property.

Without ATTOM_API_KEY it uses a built-in ATTOM simulator and says so: its data is simulated.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&c.configFile, "config", "", "JSON config file (default $"+config.ConfigFileEnv+")")
	root.PersistentFlags().StringVar(&c.backend, "backend", "", `"embedded" (default) or "aws" (overrides ATTOM_BATCH_BACKEND)`)
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print JSON for scripts instead of tables")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		c.submitCmd(), c.statusCmd(), c.downloadCmd(), c.processCmd(), c.listCmd(), c.runAllCmd(),
		c.resumeCmd(), c.cancelCmd(), c.estimateCmd(), c.refreshCmd(),
		c.normalizeCmd(), c.lookupCmd(), c.simulatorCmd(), c.configCmd(), c.serveCmd(),
		c.importCmd(), c.leadsCmd(),
	)
	return root
}

// args wraps a cobra argument check so a wrong count is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// loadConfig reads defaults, the config file and the environment, then applies --backend.
func (c *cli) loadConfig() (config.Config, error) {
	cfg, err := config.Load(config.LoadOptions{ConfigFile: c.configFile})
	if err != nil {
		return cfg, err
	}
	if c.backend != "" {
		cfg.Backend = c.backend
		if err := cfg.Validate(); err != nil {
			return cfg, usageError{err}
		}
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(c.stderr, "warning:", w)
	}
	return cfg, nil
}
