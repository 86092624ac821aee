package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadflow/attom-batch/internal/address"
	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/property"
)

// normalized is one line of `normalize` output.
type normalized struct {
	Input string `json:"input"`
	*address.Address
	Key   string `json:"key,omitempty"`
	Error string `json:"error,omitempty"`
}

func (c *cli) normalizeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "normalize [FILE|-]",
		Short: "Normalize addresses (USPS Pub 28), one per line, to JSON lines with their dedupe key",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			in, closeIn, err := openInput(cmd.InOrStdin(), a)
			if err != nil {
				return err
			}
			defer closeIn()
			return normalizeLines(in, c.stdout)
		},
	}
}

func openInput(stdin io.Reader, a []string) (io.Reader, func(), error) {
	if len(a) == 0 || a[0] == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(a[0])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// normalizeLines writes one JSON object per non-empty input line; a bad address gets an
// error field instead of stopping the run. The output is buffered: one write a line made it
// cost twenty times reading the same file as CSV.
func normalizeLines(in io.Reader, out io.Writer) (err error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	buf := bufio.NewWriter(out)
	defer func() {
		if flushErr := buf.Flush(); err == nil {
			err = flushErr
		}
	}()
	enc := json.NewEncoder(buf)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		res := normalized{Input: line}
		a, err := address.Normalize(address.Input{OneLine: line})
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Address, res.Key = &a, a.Key()
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return sc.Err()
}

func (c *cli) lookupCmd() *cobra.Command {
	var endpoints string
	cmd := &cobra.Command{
		Use:   `lookup "ADDRESS"`,
		Short: "Look one address up on ATTOM and print the unified property with its distress score",
		Long: `Looks one address up (the simulator, with a notice, when ATTOM_API_KEY is unset; the real
API otherwise; each endpoint is one billed call) and prints the unified property with its
distress score and breakdown as JSON.`,
		Args: args(cobra.ExactArgs(1)),
	}
	cmd.Flags().StringVar(&endpoints, "endpoints", "", "comma-separated ATTOM endpoints (default: ATTOM_ENDPOINTS)")
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		cfg, err := c.loadConfig()
		if err != nil {
			return err
		}
		if endpoints != "" {
			if cfg.Endpoints, err = attom.ParseEndpoints(endpoints); err != nil {
				return usageError{err}
			}
		}
		return c.lookupOne(cmd.Context(), cfg, a[0])
	}
	return cmd
}

// lookupResult is what `lookup` prints.
type lookupResult struct {
	Simulated bool               `json:"simulated"`
	Notice    string             `json:"notice,omitempty"`
	Found     bool               `json:"found"`
	Property  *property.Property `json:"property,omitempty"`
	Distress  *distress.Result   `json:"distress,omitempty"`
}

func (c *cli) lookupOne(ctx context.Context, cfg config.Config, oneLine string) error {
	addr, err := address.Normalize(address.Input{OneLine: oneLine})
	if err != nil {
		return usageError{fmt.Errorf("address %q: %w", oneLine, err)}
	}
	at, err := app.NewAttom(cfg, attomsim.Options{}, false)
	if err != nil {
		return err
	}
	defer at.Close()
	res := lookupResult{Simulated: at.Simulated()}
	if res.Simulated {
		res.Notice = app.SimulatorNotice
		fmt.Fprintln(c.stderr, "notice:", app.SimulatorNotice)
	}
	var parts []property.Property
	if res.Simulated {
		parts, _, err = lookupEndpoints(ctx, at.Client, cfg.Endpoints, addr)
	} else {
		parts, err = c.lookupUnderTheCap(ctx, cfg, at.Client, addr)
	}
	if err != nil {
		return err
	}
	if len(parts) > 0 {
		p := property.Merge(parts, property.DefaultPrecedence())
		score := distress.Score(p, cfg.DistressWeights, time.Now())
		res.Found, res.Property, res.Distress = true, &p, &score
	}
	return c.printJSON(res)
}

// lookupUnderTheCap pays for a real lookup like any job: it reserves the worst case against
// the day's cap first (refusing when the cap is reached) and settles what was billed.
func (c *cli) lookupUnderTheCap(ctx context.Context, cfg config.Config, client *attom.Client, a address.Address) ([]property.Property, error) {
	sys, err := c.open()
	if err != nil {
		return nil, err
	}
	defer sys.Close()
	b, day := sys.Tasks().Budget, sys.Tasks().Settings.CapDays().Day(time.Now())
	worst := int64(len(cfg.Endpoints)) * cfg.CostPerReportCents
	if err := b.Reserve(ctx, day, worst); err != nil {
		return nil, fmt.Errorf("lookup: not looked up: %w (DAILY_CAP_ATTOM_CENTS)", err)
	}
	parts, billed, lookErr := lookupEndpoints(ctx, client, cfg.Endpoints, a)
	err = b.Settle(context.WithoutCancel(ctx), day, worst, min(billed*cfg.CostPerReportCents, worst))
	return parts, errors.Join(lookErr, err)
}

// lookupEndpoints calls each endpoint and converts what was found; a not-found answer on
// the first endpoint ends the lookup (no further billed calls). It also says how many calls
// may have been billed.
func lookupEndpoints(ctx context.Context, client *attom.Client, endpoints []string, a address.Address) ([]property.Property, int64, error) {
	line1 := a.Line1
	if a.Unit != "" {
		line1 += " " + a.Unit
	}
	q := attom.Query{Line1: line1, Line2: strings.TrimSpace(a.City + ", " + a.State + " " + a.ZIP5)}
	var parts []property.Property
	var billed int64
	for i, ep := range endpoints {
		res, err := client.Lookup(ctx, ep, q)
		if res.Billed || res.PossiblyBilled {
			billed++
		}
		if err != nil {
			return nil, billed, err
		}
		if res.Outcome != attom.Found {
			if i == 0 {
				return nil, billed, nil
			}
			continue
		}
		p, err := property.FromAttom(ep, *res.Property, time.Now(), res.Simulated)
		if err != nil {
			return nil, billed, err
		}
		parts = append(parts, p)
	}
	return parts, billed, nil
}

func (c *cli) configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print every setting with where to set it; secrets are redacted",
		Args:  args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			return c.showConfig(cfg)
		},
	})
	return cmd
}

func (c *cli) showConfig(cfg config.Config) error {
	values := cfg.Redacted()
	if c.json {
		values["features"] = cfg.Features()
		return c.printJSON(values)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SETTING\tENVIRONMENT\tVALUE")
	for _, s := range config.Settings() {
		fmt.Fprintf(w, "%s\t%s\t%s\n", s.Key, s.Env, settingValue(values, s.Key))
	}
	for _, f := range cfg.Features() {
		state := "off"
		if f.Enabled {
			state = "on"
		}
		fmt.Fprintf(w, "feature %s\t%s\t%s (%s)\n", f.Name, "ATTOM_BATCH_FEATURES", state, f.Meaning)
	}
	return w.Flush()
}

// settingValue reads a dotted key ("aws.bucket") out of the redacted settings map.
func settingValue(values map[string]any, key string) string {
	var v any = values
	for _, part := range strings.Split(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[part]
	}
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		raw, _ := json.Marshal(v)
		return string(raw)
	}
}
