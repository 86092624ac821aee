package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
)

// simulatorFlags are the `simulator` command's settings: the listen address and the
// simulator's options, faults included.
type simulatorFlags struct {
	addr             string
	endpointFailures []string
	opts             attomsim.Options
}

func (f *simulatorFlags) register(cmd *cobra.Command) {
	fs, o := cmd.Flags(), &f.opts
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8089", "listen address (port 0 picks a free one; the URL is printed first)")
	fs.Int64Var(&o.Seed, "seed", 0, "seed of the synthetic data and of the fault draws")
	fs.Float64Var(&o.NotFoundRate, "not-found-rate", 0, "share of addresses not found (default 0.08; negative for none)")
	fs.Float64Var(&o.DistressRate, "distress-rate", 0, "share of addresses in pre-foreclosure (default 0.06; negative for none)")
	fs.Float64Var(&o.FailureRate, "failure-rate", 0, "share of calls answered 5xx")
	fs.Float64Var(&o.TimeoutRate, "timeout-rate", 0, "share of calls that hang until the client gives up")
	fs.Float64Var(&o.MalformedRate, "malformed-rate", 0, "share of found answers cut short (a 200 with invalid JSON: billed)")
	fs.Float64Var(&o.HTMLRate, "html-rate", 0, "share of calls answered 200 with a gateway's HTML page (not billed)")
	fs.StringArrayVar(&f.endpointFailures, "endpoint-failure", nil, "ENDPOINT=SHARE: share of calls to that endpoint answered 5xx, e.g. avm=1 (repeatable)")
	fs.BoolVar(&o.Outage, "outage", false, "answer every call 503 (end it with PUT /_sim/fault)")
	fs.DurationVar(&o.Latency, "latency", 0, "added to every answer")
	fs.IntVar(&o.RatePerMinute, "rate-per-minute", 0, "answer 429 past this rate (0: off)")
	fs.IntVar(&o.Burst429, "burst-429", 0, "answer the first N calls 429")
	fs.DurationVar(&o.HangLimit, "hang-limit", 0, "longest a hanging call is held (default 2m)")
	fs.StringVar(&o.APIKey, "api-key", "", "accept only this key (default: any); never printed")
}

// options checks the flags and returns the simulator's options.
func (f *simulatorFlags) options() (attomsim.Options, error) {
	o := f.opts
	var err error
	if o.EndpointFailures, err = parseEndpointFailures(f.endpointFailures); err != nil {
		return o, err
	}
	return o, attomsim.FaultOf(o).Validate()
}

// parseEndpointFailures reads repeated ENDPOINT=SHARE values; ENDPOINT may list several
// endpoints separated by commas, which all get the share.
func parseEndpointFailures(values []string) (map[string]float64, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]float64{}
	for _, v := range values {
		names, share, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("--endpoint-failure %q: want ENDPOINT=SHARE, e.g. avm=1", v)
		}
		endpoints, err := attom.ParseEndpoints(names)
		if err != nil {
			return nil, fmt.Errorf("--endpoint-failure %q: %w", v, err)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(share), 64)
		if err != nil {
			return nil, fmt.Errorf("--endpoint-failure %q: share: %w", v, err)
		}
		for _, ep := range endpoints {
			out[ep] = rate
		}
	}
	return out, nil
}

func (c *cli) simulatorCmd() *cobra.Command {
	var f simulatorFlags
	cmd := &cobra.Command{
		Use:   "simulator",
		Short: "Serve the ATTOM simulator (ATTOM's wire format, simulated data) until stopped",
		Long: `Serves an ATTOM-compatible property API on --addr with deterministic SIMULATED properties,
for trying the system without a key (point ATTOM_BASE_URL at it and set any ATTOM_API_KEY)
and for tests that run the batch in another process.

The first line on stdout is the base URL, printed once it listens (with --addr 127.0.0.1:0
a test reads the port from it). It runs until SIGINT or SIGTERM.

Besides ATTOM's paths it serves, without a key and never billed:
  GET  /_sim/ledger   what ATTOM would have billed, per address and endpoint
  GET  /_sim/status   calls and answers per HTTP status
  GET  /_sim/fault    the faults in force; PUT replaces them, PATCH changes the fields sent`,
		Args: args(cobra.NoArgs),
	}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		opts, err := f.options()
		if err != nil {
			return usageError{err}
		}
		return c.serveSimulator(cmd.Context(), f.addr, opts)
	}
	return cmd
}

// serveSimulator listens, prints the base URL as the first line of stdout, and serves until
// ctx ends (main cancels it on SIGINT and SIGTERM).
func (c *cli) serveSimulator(ctx context.Context, addr string, opts attomsim.Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintln(c.stdout, base)
	fmt.Fprintf(c.stderr, "notice: ATTOM simulator serving SIMULATED data at %s (ledger: %s%s); Ctrl-C stops it\n",
		base, base, attomsim.LedgerPath)
	err = attomsim.New(opts).Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
