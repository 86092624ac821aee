package leads

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/leadflow/attom-batch/internal/distress"
)

// Lead columns of the export, after the input's own columns.
var leadColumns = []string{
	"lead_id", "normalized_address", "score", "owner_names", "mailing_address",
	"value", "equity", "status", "simulated", "breakdown",
}

// WriteCSV exports leads for a spreadsheet: the input file's columns first, in the input's
// order and with its values, so the user recognises their file, then the lead columns. A
// lead column whose name the input already uses is prefixed "lead_". Every cell is
// protected against formula injection (see SafeCell).
func WriteCSV(w io.Writer, leads []Lead, inputColumns []string) error {
	cw := NewCSVWriter(w, inputColumns)
	for _, l := range leads {
		if err := cw.Write(l); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// CSVWriter streams the WriteCSV format one lead at a time, so a large export never holds
// every lead in memory. The header goes out with the first lead, or at Flush when there is
// none.
type CSVWriter struct {
	cw           *csv.Writer
	inputColumns []string
	header       []string
	wroteHeader  bool
	n            int
}

// NewCSVWriter starts an export whose input columns come first.
func NewCSVWriter(w io.Writer, inputColumns []string) *CSVWriter {
	cols := append([]string(nil), inputColumns...)
	return &CSVWriter{
		cw:           csv.NewWriter(w),
		inputColumns: cols,
		header:       append(append([]string(nil), cols...), exportLeadColumns(cols)...),
	}
}

// WithoutHeader skips the header, for the second and later parts of an export that is
// written in parts and joined.
func (c *CSVWriter) WithoutHeader() { c.wroteHeader = true }

// Write adds one lead's row.
func (c *CSVWriter) Write(l Lead) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.n++
	row := make([]string, 0, len(c.header))
	for _, col := range c.inputColumns {
		row = append(row, l.Input[col])
	}
	row = append(row, leadCells(l)...)
	if err := c.cw.Write(SafeRow(row)); err != nil {
		return fmt.Errorf("leads csv: lead %d (%s): %w", c.n, l.ID, err)
	}
	return nil
}

// Flush writes what is buffered (and the header of an empty export) and reports any write
// error since the start.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("leads csv: %w", err)
	}
	return nil
}

func (c *CSVWriter) writeHeader() error {
	if c.wroteHeader {
		return nil
	}
	c.wroteHeader = true
	if err := c.cw.Write(SafeRow(append([]string(nil), c.header...))); err != nil {
		return fmt.Errorf("leads csv: header: %w", err)
	}
	return nil
}

// exportLeadColumns renames lead columns that clash with input columns (case-insensitive).
func exportLeadColumns(inputColumns []string) []string {
	taken := map[string]bool{}
	for _, c := range inputColumns {
		taken[strings.ToLower(strings.TrimSpace(c))] = true
	}
	out := make([]string, len(leadColumns))
	for i, c := range leadColumns {
		name := c
		for taken[name] {
			name = "lead_" + name
		}
		taken[name] = true
		out[i] = name
	}
	return out
}

func leadCells(l Lead) []string {
	return []string{
		l.ID,
		l.Address,
		strconv.Itoa(l.Score),
		strings.Join(l.OwnerNames, "; "),
		l.MailingAddress,
		dollars(l.Value),
		dollars(l.Equity),
		l.Status,
		strconv.FormatBool(l.Simulated),
		BreakdownSummary(l.Breakdown),
	}
}

func dollars(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 0, 64)
}

// BreakdownSummary is one readable cell for a spreadsheet: the factors that earned points,
// then the ones that were unknown: "absentee_owner +10; high_equity +15; unknown: vacant".
func BreakdownSummary(factors []distress.Factor) string {
	var parts, unknown []string
	for _, f := range factors {
		switch {
		case f.State == distress.Yes && f.Points > 0:
			parts = append(parts, f.Name+" +"+strconv.FormatFloat(f.Points, 'f', -1, 64))
		case f.State == distress.Unknown:
			unknown = append(unknown, f.Name)
		}
	}
	if len(unknown) > 0 {
		parts = append(parts, "unknown: "+strings.Join(unknown, ", "))
	}
	return strings.Join(parts, "; ")
}

// plainNumber is a negative number a spreadsheet may read as such, never as a formula.
var plainNumber = regexp.MustCompile(`^-[0-9][0-9,]*(\.[0-9]+)?$`)

// SafeCell defends against spreadsheet formula injection (CSV injection): a cell starting
// with = + - @ tab or carriage return gets a leading apostrophe, which spreadsheets show as
// text. Plain negative numbers ("-1250", "-1,250.50") stay as they are so they remain numbers.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if plainNumber.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// SafeRow applies SafeCell to every cell of row, in place, and returns it.
func SafeRow(row []string) []string {
	for i, c := range row {
		row[i] = SafeCell(c)
	}
	return row
}
