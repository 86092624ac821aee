package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
	"github.com/leadflow/attom-batch/internal/property"
)

func (c *cli) importCmd() *cobra.Command {
	var source string
	var wantLeads bool
	var maps []string
	cmd := &cobra.Command{
		Use:   "import FILE --source NAME",
		Short: "Merge another source's list (county tax delinquency, vacancy, probate...) into the property records and leads; no ATTOM call",
		Long: `import reads a CSV from another source (a county delinquent-tax list, a vacancy list,
probate, driving for dollars) and runs every row through processProperty: the address is
normalized and matched to the known property, the row becomes that source's record of it,
the records are merged by the documented precedence (docs/property-model.md) and the
property's lead is re-scored. A row no source knew becomes a new property record. Nothing
is looked up on ATTOM and nothing is spent.

Headers: the address as for run-all, and tax_delinquent, vacant, owner_name, mailing_address,
apn, assessed_value, last_sale_date, ... (every field FromRecord reads, plus common aliases);
--map COLUMN=FIELD reads any other column as a field. Every row ends as exactly one of
matched, new, unchanged or rejected (with its line, column and reason).`,
		Args: args(cobra.ExactArgs(1)),
	}
	cmd.Flags().StringVar(&source, "source", "", `where the list comes from, e.g. "county" or "county:cook" (required): each field's provenance`)
	cmd.Flags().BoolVar(&wantLeads, "leads", false, "create a lead for a property that has none (existing leads are always updated)")
	cmd.Flags().StringArrayVar(&maps, "map", nil, "read column COLUMN as unified field FIELD (COLUMN=FIELD, repeatable)")
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		if source == "" {
			return usageError{errors.New("--source is required (for example --source county:cook)")}
		}
		mapping := map[string]string{}
		for _, m := range maps {
			col, field, ok := strings.Cut(m, "=")
			if !ok || strings.TrimSpace(col) == "" || strings.TrimSpace(field) == "" {
				return usageError{fmt.Errorf("--map %q: want COLUMN=FIELD", m)}
			}
			mapping[strings.TrimSpace(col)] = strings.TrimSpace(field)
		}
		return c.withSystem(func(ctx context.Context, sys system) error {
			return c.runImport(ctx, sys, a[0], batch.ImportOptions{Source: source, Leads: wantLeads, Map: mapping})
		})(cmd, a)
	}
	return cmd
}

func (c *cli) runImport(ctx context.Context, sys system, path string, opts batch.ImportOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if opts.ID, err = batch.ImportID(opts.Source, f); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	opts.FileName = filepath.Base(path)
	sum, err := sys.Tasks().Import(ctx, f, opts)
	var invalid *batch.InvalidImport
	if errors.As(err, &invalid) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(sum)
	}
	fmt.Fprintf(c.stdout, "Imported %s as source %s (%s); no ATTOM call\n", sum.File, sum.Source, sum.ID)
	fmt.Fprintf(c.stdout, "Rows: %d = %d matched + %d new + %d unchanged + %d rejected\n",
		sum.Rows, sum.Matched, sum.New, sum.Unchanged, sum.Rejected)
	fmt.Fprintf(c.stdout, "Leads: %d created, %d updated\n", sum.LeadsCreated, sum.LeadsUpdated)
	if sum.Rejected > 0 {
		fmt.Fprintf(c.stdout, "Rejected rows, with reasons: %s\n", sum.RejectsPath)
		for _, r := range sum.Rejects[:min(len(sum.Rejects), 10)] {
			field := ""
			if r.Field != "" {
				field = " (" + r.Field + ")"
			}
			fmt.Fprintf(c.stdout, "  line %d%s: %s\n", r.Line, field, r.Reason)
		}
	}
	return nil
}

// leadView is one lead as `leads` prints it.
type leadView struct {
	ID             string            `json:"id"`
	Address        string            `json:"address"`
	OwnerNames     []string          `json:"owner_names,omitempty"`
	Score          int               `json:"score"`
	Breakdown      []distress.Factor `json:"breakdown"`
	UnknownFactors []string          `json:"unknown_factors"`
	Sources        []string          `json:"sources"`
	BatchID        string            `json:"batch_id,omitempty"`
	Simulated      bool              `json:"simulated,omitempty"`
}

func (c *cli) leadsCmd() *cobra.Command {
	var jobID, factor string
	var minScore int
	cmd := &cobra.Command{
		Use:   "leads",
		Short: "List a job's leads, best first: address, owner, score, breakdown, unknown factors and sources",
		Long: `leads lists the leads of a job (--job, default the latest), highest score first, each with
its address, owner, score, the factors that apply, the factors nobody knows yet, and the
sources its data came from. --min-score and --factor (a factor in state yes) filter.
An import's leads are listed with --job set to the import's id.`,
		Args: args(cobra.NoArgs),
	}
	cmd.Flags().StringVar(&jobID, "job", "", "the job (or import) whose leads to list (default: the latest job)")
	cmd.Flags().IntVar(&minScore, "min-score", 0, "only leads scoring at least this (0-100)")
	cmd.Flags().StringVar(&factor, "factor", "", "only leads where this factor applies, e.g. tax_delinquent")
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		if minScore < 0 || minScore > 100 {
			return usageError{fmt.Errorf("--min-score: want 0 to 100, got %d", minScore)}
		}
		if factor != "" && !slices.Contains(factorNames(), factor) {
			return usageError{fmt.Errorf("--factor %q: want one of %s", factor, strings.Join(factorNames(), ", "))}
		}
		return c.withSystem(func(ctx context.Context, sys system) error {
			id := jobID
			if id == "" || !strings.HasPrefix(id, "import-") {
				var pick []string
				if id != "" {
					pick = []string{id}
				}
				job, err := c.pickJob(ctx, sys, pick)
				if err != nil {
					return err
				}
				id = job.ID
			}
			all, err := sys.Tasks().Stores.Leads.LeadsByBatch(ctx, id)
			if err != nil {
				return err
			}
			return c.printLeadList(filterLeads(all, minScore, factor))
		})(cmd, a)
	}
	return cmd
}

// factorNames are the distress factors, in breakdown order.
func factorNames() []string {
	var names []string
	for _, f := range distress.Score(property.Property{}, distress.DefaultWeights(), time.Now()).Factors {
		names = append(names, f.Name)
	}
	return names
}

// filterLeads keeps the leads scoring at least minScore with factor (when set) in state
// yes, highest score first, ties by address.
func filterLeads(all []leads.Lead, minScore int, factor string) []leadView {
	out := make([]leadView, 0, len(all))
	for _, l := range all {
		if l.Score < minScore {
			continue
		}
		v := leadView{ID: l.ID, Address: l.Address, OwnerNames: l.OwnerNames, Score: l.Score,
			Breakdown: l.Breakdown, UnknownFactors: []string{}, BatchID: l.BatchID, Simulated: l.Simulated}
		v.Sources = strings.Split(l.Source, "+")
		applies := factor == ""
		for _, f := range l.Breakdown {
			if f.State == distress.Unknown {
				v.UnknownFactors = append(v.UnknownFactors, f.Name)
			}
			if f.Name == factor && f.State == distress.Yes {
				applies = true
			}
		}
		if applies {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b leadView) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		return strings.Compare(a.Address, b.Address)
	})
	return out
}

func (c *cli) printLeadList(list []leadView) error {
	if c.json {
		return c.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No leads match.")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SCORE\tADDRESS\tOWNER\tWHY (and what is unknown)\tSOURCES")
	for _, l := range list {
		addr := l.Address
		if l.Simulated {
			addr += " (SIMULATED)"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", l.Score, addr, strings.Join(l.OwnerNames, " & "),
			leads.BreakdownSummary(l.Breakdown), strings.Join(l.Sources, "+"))
	}
	return w.Flush()
}
