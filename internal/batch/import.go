package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/leadflow/attom-batch/internal/csvin"
	"github.com/leadflow/attom-batch/internal/property"
)

// Import outcomes: every row of an imported file ends as exactly one of them.
const (
	ImportMatched   = "matched"   // a known property: the source's record was added or changed
	ImportNew       = "new"       // no source knew the property: it is now a record of this one
	ImportUnchanged = "unchanged" // the source already said exactly this about the property
	ImportRejected  = "rejected"  // the row cannot be used; its reason is in the rejects
)

// ImportOptions say where an imported file comes from and how to read it.
type ImportOptions struct {
	// ID names the import; leads it creates carry it as their batch id.
	ID string
	// Source is the origin of every row ("county:cook", "vacancy:usps"): each field's
	// provenance, and so its rank in the merge precedence (property.DefaultPrecedence).
	Source string
	// Leads creates a lead for a property that has none; an existing lead is always updated.
	Leads bool
	// Map reads a column as a unified field (property.RecordColumns), by the column's
	// header as written or normalized ("Tax Status" or "tax_status").
	Map map[string]string
	// FileName is used in reasons and messages.
	FileName string
}

// ImportReject is one rejected row of an import.
type ImportReject struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ImportSummary counts an import: Rows = Matched + New + Unchanged + Rejected.
type ImportSummary struct {
	ID           string         `json:"id"`
	Source       string         `json:"source"`
	File         string         `json:"file_name"`
	Rows         int            `json:"record_count"`
	Matched      int            `json:"matched_records"`
	New          int            `json:"new_records"`
	Unchanged    int            `json:"unchanged_records"`
	Rejected     int            `json:"rejected_records"`
	LeadsCreated int            `json:"leads_created"`
	LeadsUpdated int            `json:"leads_updated"`
	RejectsPath  string         `json:"rejects_path,omitempty"`
	Rejects      []ImportReject `json:"rejects,omitempty"` // the first maxImportRejects
}

const maxImportRejects = 100

// ImportDisabled is returned when the imports feature flag is off.
type ImportDisabled struct{}

func (*ImportDisabled) Error() string {
	return "imports are switched off (ATTOM_BATCH_FEATURES has -imports)"
}

// InvalidImport is a mistake in how an import was asked for (source name, --map, header):
// nothing was read.
type InvalidImport struct{ Reason string }

func (e *InvalidImport) Error() string { return "import: " + e.Reason }

var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_-]*(:[a-z0-9][a-z0-9_.-]*)?$`)

// ImportRejectsKey is where an import's rejected rows are written, with their reasons.
func ImportRejectsKey(id string) string { return "import-results/" + id + "/rejects.csv" }

// Import is processPropertiesBulk for a file from another source (a county delinquent-tax
// list, a vacancy list, probate, driving for dollars): every row goes through
// processProperty (normalized, matched by address key, stored as that source's record of
// the property, merged by the documented precedence), and the property's lead is re-scored
// (or created, with Leads). No ATTOM call is made.
func (t *Tasks) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportSummary, error) {
	sum := ImportSummary{ID: opts.ID, Source: opts.Source, File: opts.FileName}
	if !t.Settings.Imports {
		return sum, &ImportDisabled{}
	}
	if !sourceName.MatchString(opts.Source) || opts.Source == "attom" || strings.HasPrefix(opts.Source, "attom:") {
		return sum, &InvalidImport{Reason: fmt.Sprintf("source %q: want a lower-case name such as county or county:cook (not attom)", opts.Source)}
	}
	mapping, err := newColumnMap(opts.Map)
	if err != nil {
		return sum, err
	}
	rd, err := csvin.NewReader(r, opts.FileName, csvin.Options{Rename: mapping.addressName})
	if err != nil {
		return sum, err
	}
	defer rd.Close()
	fields, err := mapping.fieldsOf(rd.Header(), rd.AddressColumns())
	if err != nil {
		return sum, err
	}
	var rejects bytes.Buffer
	rw, err := csvin.NewRejectsWriter(&rejects, rd.Header())
	if err != nil {
		return sum, err
	}
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
		sum.Rows++
		outcome, rej, err := t.importRow(ctx, &sum, row, fields, opts)
		if err != nil {
			return sum, err
		}
		switch outcome {
		case ImportMatched:
			sum.Matched++
		case ImportNew:
			sum.New++
		case ImportUnchanged:
			sum.Unchanged++
		case ImportRejected:
			sum.Rejected++
			if len(sum.Rejects) < maxImportRejects {
				sum.Rejects = append(sum.Rejects, rej)
			}
			row.Reject = &csvin.RowError{Line: rej.Line, Field: rej.Field, Reason: rej.Reason}
			if err := rw.Write(row); err != nil {
				return sum, err
			}
		}
	}
	if sum.Rejected > 0 {
		if err := rw.Flush(); err != nil {
			return sum, err
		}
		sum.RejectsPath = ImportRejectsKey(opts.ID)
		if err := t.Blobs.Put(ctx, sum.RejectsPath, &rejects); err != nil {
			return sum, &StoreUnavailable{Op: "write import rejects", Err: err}
		}
	}
	return sum, nil
}

// importRow runs one row through processProperty and its lead.
func (t *Tasks) importRow(ctx context.Context, sum *ImportSummary, row csvin.Row, fields []string, opts ImportOptions) (string, ImportReject, error) {
	if row.Reject != nil {
		return ImportRejected, ImportReject{Line: row.Line, Field: row.Reject.Field, Reason: row.Reject.Reason}, nil
	}
	rec := map[string]string{
		property.ColAddress: row.Address.Line1, property.ColUnit: row.Address.Unit,
		property.ColCity: row.Address.City, property.ColState: row.Address.State, property.ColZIP: row.Address.ZIP5,
	}
	input := make(map[string]string, len(row.Columns))
	for i, col := range row.Columns {
		if i >= len(row.Values) {
			break
		}
		input[col] = row.Values[i]
		if fields[i] != "" && strings.TrimSpace(row.Values[i]) != "" {
			rec[fields[i]] = flagWord(fields[i], row.Values[i])
		}
	}
	p, err := property.FromRecord(opts.Source, rec, t.now())
	if err != nil {
		rej := ImportReject{Line: row.Line, Reason: err.Error()}
		var fe *property.FieldError
		if errors.As(err, &fe) {
			rej.Field, rej.Reason = columnOf(row.Columns, fields, fe.Field), fe.Reason
		}
		return ImportRejected, rej, nil
	}
	known, err := t.Properties.RecordsByHash(ctx, p.Hash)
	if err != nil {
		return "", ImportReject{}, &StoreUnavailable{Op: "read property records", Err: err}
	}
	outcome := ImportNew
	if len(known) > 0 {
		outcome = ImportMatched
	}
	if sameRecord(known, p) {
		outcome = ImportUnchanged
	} else {
		raw, _ := json.Marshal(input)
		if err := t.storeProperty(ctx, p, string(raw), false); err != nil {
			return "", ImportReject{}, err
		}
	}
	_, err = t.Stores.Leads.GetLead(ctx, p.Hash)
	hasLead := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", ImportReject{}, &StoreUnavailable{Op: "read lead", Err: err}
	}
	if outcome == ImportUnchanged && (hasLead || !opts.Leads) || !hasLead && !opts.Leads {
		return outcome, ImportReject{}, nil
	}
	created, err := t.saveLeadOf(ctx, p.Hash, opts.ID, input)
	if err != nil {
		return "", ImportReject{}, err
	}
	if created {
		sum.LeadsCreated++
	} else {
		sum.LeadsUpdated++
	}
	return outcome, ImportReject{}, nil
}

// saveLeadOf merges every source's record of the property, saves its lead and marks the
// records processed: they have become the lead.
func (t *Tasks) saveLeadOf(ctx context.Context, hash, batchID string, input map[string]string) (bool, error) {
	merged, recs, err := t.mergedRecords(ctx, hash)
	if err != nil {
		return false, err
	}
	_, created, err := t.SavePropertyAsLead(ctx, merged, batchID, input)
	if err != nil {
		return false, err
	}
	return created, t.markProcessed(ctx, recs)
}

// sameRecord tells whether the source already holds exactly this record of the property
// (only the time it was read may differ): importing the same list again changes nothing.
func sameRecord(known []PropertyRecord, p property.Property) bool {
	rec, err := recordFor(p, "", p.Metadata.FetchedAt)
	if err != nil {
		return false
	}
	for _, k := range known {
		if k.ID != rec.ID {
			continue
		}
		var old property.Property
		if json.Unmarshal([]byte(k.Unified), &old) != nil {
			return false
		}
		old.Metadata.FetchedAt = p.Metadata.FetchedAt
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(p)
		return bytes.Equal(a, b)
	}
	return false
}

// flagWord reads the words lists use for the two flags ATTOM cannot give ("DELINQUENT",
// "VACANT", "OCCUPIED", "CURRENT") as yes or no; other values go to FromRecord as written.
func flagWord(field, value string) string {
	v := strings.ToUpper(strings.TrimSpace(value))
	switch field {
	case property.ColTaxDelinquent:
		switch v {
		case "DELINQUENT", "DELQ", "DELINQ", "IN ARREARS", "ARREARS", "TAX DEFAULT", "DEFAULT":
			return "Y"
		case "CURRENT", "PAID", "NOT DELINQUENT":
			return "N"
		}
	case property.ColVacant:
		switch v {
		case "VACANT", "V", "VACANT LOT", "UNOCCUPIED":
			return "Y"
		case "OCCUPIED", "O", "NOT VACANT":
			return "N"
		}
	}
	return value
}

// columnOf names the file's column that fed a unified field, for a reject.
func columnOf(columns, fields []string, field string) string {
	if i := slices.Index(fields, field); i >= 0 && i < len(columns) {
		return columns[i]
	}
	return field
}

// importAliases are other names lists give the unified fields (after csvin.NormalizeHeader).
var importAliases = map[string]string{
	"owner": property.ColOwnerName, "owner1": property.ColOwnerName, "owner_1": property.ColOwnerName,
	"owner_name_1": property.ColOwnerName, "owner_full_name": property.ColOwnerName, "taxpayer": property.ColOwnerName,
	"taxpayer_name": property.ColOwnerName, "owner2": property.ColOwnerName2, "owner_2": property.ColOwnerName2,
	"owner_name_2": property.ColOwnerName2,
	"mailing":      property.ColMailingAddress, "mail_address": property.ColMailingAddress,
	"owner_mailing_address": property.ColMailingAddress, "mailing_full_address": property.ColMailingAddress,
	"parcel": property.ColAPN, "parcel_id": property.ColAPN, "parcel_number": property.ColAPN, "pin": property.ColAPN,
	"assessed": property.ColAssessedValue, "assessed_total": property.ColAssessedValue,
	"market": property.ColMarketValue, "market_total": property.ColMarketValue,
	"taxes": property.ColTaxAmount, "tax": property.ColTaxAmount, "annual_tax": property.ColTaxAmount,
	"delinquent": property.ColTaxDelinquent, "tax_delinquency": property.ColTaxDelinquent,
	"delinquent_taxes": property.ColTaxDelinquent, "is_tax_delinquent": property.ColTaxDelinquent,
	"tax_status": property.ColTaxDelinquent, "taxes_delinquent": property.ColTaxDelinquent,
	"vacancy": property.ColVacant, "is_vacant": property.ColVacant, "vacant_flag": property.ColVacant,
	"occupancy_vacant": property.ColVacant, "usps_vacant": property.ColVacant,
	"bedrooms": property.ColBeds, "bathrooms": property.ColBaths, "living_sqft": property.ColSqft,
	"building_sqft": property.ColSqft, "lot_size_sqft": property.ColLotSqft,
	"sale_date": property.ColLastSaleDate, "sale_price": property.ColLastSaleAmount,
	"sale_amount": property.ColLastSaleAmount, "loan_balance": property.ColMortgageBalance,
	"reo": property.ColBankOwned, "nod": property.ColPreForeclosure, "probate": property.ColDeceased,
	"estate": property.ColDeceased,
}

// addressFields are the unified fields csvin reads the address from.
var addressFields = map[string]bool{
	property.ColAddress: true, property.ColUnit: true, property.ColCity: true,
	property.ColState: true, property.ColZIP: true,
}

// columnMap reads an import's header: --map first, then the aliases, then the unified
// field names themselves.
type columnMap struct{ user map[string]string }

func newColumnMap(m map[string]string) (columnMap, error) {
	known := property.RecordColumns()
	out := columnMap{user: map[string]string{}}
	for col, field := range m {
		f := csvin.NormalizeHeader(field)
		if !slices.Contains(known, f) {
			return out, &InvalidImport{Reason: fmt.Sprintf("--map %s=%s: %q is not a field (want one of %s)", col, field, field, strings.Join(known, ", "))}
		}
		out.user[csvin.NormalizeHeader(col)] = f
	}
	return out, nil
}

// addressName is what csvin reads a header column as: --map can make any column an address part.
func (m columnMap) addressName(column string) string {
	if f, ok := m.user[csvin.NormalizeHeader(column)]; ok && addressFields[f] {
		return f
	}
	if f, ok := m.user[csvin.NormalizeHeader(column)]; ok && !addressFields[f] {
		return "" // mapped to another field: not an address column, whatever its name
	}
	return column
}

// fieldsOf gives each header column the unified field it fills, "" for none (address
// columns are read by csvin; other unknown columns are kept in the raw row only). Two
// columns filling one field is a mistake in the file or the --map.
func (m columnMap) fieldsOf(header []string, address []bool) ([]string, error) {
	known := property.RecordColumns()
	out := make([]string, len(header))
	from := map[string]string{}
	for i, col := range header {
		if i < len(address) && address[i] {
			continue
		}
		n := csvin.NormalizeHeader(col)
		f, ok := m.user[n]
		if !ok {
			f, ok = importAliases[n]
		}
		if !ok && slices.Contains(known, n) {
			f, ok = n, true
		}
		if !ok || addressFields[f] {
			continue
		}
		if prev, dup := from[f]; dup {
			return nil, &InvalidImport{Reason: fmt.Sprintf("columns %q and %q both fill %s: drop one, or --map one of them to another field", prev, col, f)}
		}
		from[f] = col
		out[i] = f
	}
	return out, nil
}
