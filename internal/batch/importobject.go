package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/leadflow/attom-batch/events"
)

// ImportsPrefix is where other sources' lists are dropped on AWS: a CSV created under
// imports/<source>/ is imported as that source by the import function (ImportObject).
const ImportsPrefix = "imports/"

// ImportID names an import by its source and its content, so the same list imported twice
// (from the CLI or dropped under imports/) is the same import.
func ImportID(source string, body io.Reader) (string, error) {
	h := sha256.New()
	h.Write([]byte(source + "\n"))
	if _, err := io.Copy(h, body); err != nil {
		return "", err
	}
	return "import-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// ImportSourceOfKey derives the source from a key under imports/: imports/county/list.csv
// is source "county", imports/county/cook/list.csv (or imports/county:cook/list.csv) is
// "county:cook". Any other key is refused with the reason.
func ImportSourceOfKey(key string) (string, error) {
	rest, ok := strings.CutPrefix(key, ImportsPrefix)
	if !ok {
		return "", &InvalidImport{Reason: fmt.Sprintf("key %q is not under %s<source>/: only files dropped there are imported", key, ImportsPrefix)}
	}
	if !strings.EqualFold(path.Ext(rest), ".csv") {
		return "", &InvalidImport{Reason: fmt.Sprintf("key %q: want a .csv file under %s<source>/", key, ImportsPrefix)}
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[0] != "":
		return parts[0], nil
	case len(parts) == 3 && parts[0] != "" && parts[1] != "":
		return parts[0] + ":" + parts[1], nil
	}
	return "", &InvalidImport{Reason: fmt.Sprintf("key %q: want %s<source>/<file>.csv or %s<source>/<place>/<file>.csv", key, ImportsPrefix, ImportsPrefix)}
}

// ImportObject is the import function's handler on AWS: EventBridge's S3 "Object Created"
// event for a CSV under imports/<source>/ runs the same Import as `attom-batch import`,
// with the source taken from the key. A property without a lead gets one when
// Settings.WantLeadsByDefault is on (the default, as for uploads through EventBridge: the
// CLI's --leads); existing leads are always re-scored. Events for another bucket, keys
// outside imports/ and files that are not .csv are refused with the reason, nothing read.
func (t *Tasks) ImportObject(ctx context.Context, raw json.RawMessage) (ImportSummary, error) {
	var ev events.ObjectCreated
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ImportSummary{}, &InvalidImport{Reason: "not an S3 Object Created event: " + err.Error()}
	}
	if err := ev.Validate(); err != nil {
		return ImportSummary{}, &InvalidImport{Reason: err.Error()}
	}
	key := ev.Detail.Object.Key
	if ev.Detail.Bucket.Name != t.Settings.Bucket {
		return ImportSummary{}, &InvalidImport{Reason: fmt.Sprintf("bucket %q: this function imports from %q only", ev.Detail.Bucket.Name, t.Settings.Bucket)}
	}
	source, err := ImportSourceOfKey(key)
	if err != nil {
		return ImportSummary{}, err
	}
	if !t.Settings.Imports {
		return ImportSummary{Source: source, File: path.Base(key)}, &ImportDisabled{}
	}
	open := func() (io.ReadCloser, error) {
		body, err := t.Blobs.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return nil, &InvalidImport{Reason: fmt.Sprintf("key %q: file not found", key)}
		}
		if err != nil {
			return nil, &StoreUnavailable{Op: "read " + key, Err: err}
		}
		return body, nil
	}
	body, err := open()
	if err != nil {
		return ImportSummary{}, err
	}
	id, err := ImportID(source, body)
	body.Close()
	if err != nil {
		return ImportSummary{}, &StoreUnavailable{Op: "read " + key, Err: err}
	}
	if body, err = open(); err != nil {
		return ImportSummary{}, err
	}
	defer body.Close()
	sum, err := t.Import(ctx, body, ImportOptions{ID: id, Source: source, Leads: t.Settings.WantLeadsByDefault, FileName: path.Base(key)})
	if err != nil {
		return sum, err
	}
	t.log().Info("import done", "import_id", sum.ID, "source", sum.Source, "key", key, "rows", sum.Rows,
		"matched", sum.Matched, "new", sum.New, "unchanged", sum.Unchanged, "rejected", sum.Rejected,
		"leads_created", sum.LeadsCreated, "leads_updated", sum.LeadsUpdated)
	return sum, nil
}
