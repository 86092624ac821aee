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
	cw := csv.NewWriter(w)
	header := append(append([]string(nil), inputColumns...), exportLeadColumns(inputColumns)...)
	if err := cw.Write(safeRow(header)); err != nil {
		return fmt.Errorf("leads csv: header: %w", err)
	}
	for i, l := range leads {
		row := make([]string, 0, len(header))
		for _, c := range inputColumns {
			row = append(row, l.Input[c])
		}
		row = append(row, leadCells(l)...)
		if err := cw.Write(safeRow(row)); err != nil {
			return fmt.Errorf("leads csv: lead %d (%s): %w", i+1, l.ID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("leads csv: %w", err)
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

func safeRow(row []string) []string {
	for i, c := range row {
		row[i] = SafeCell(c)
	}
	return row
}
