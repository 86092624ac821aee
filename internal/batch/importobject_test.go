package batch

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/events"
)

func TestImportSourceOfKey(t *testing.T) {
	for key, want := range map[string]string{
		"imports/county/delinquent.csv":      "county",
		"imports/county/cook/delinquent.CSV": "county:cook",
		"imports/county:cook/list.csv":       "county:cook",
		"imports/vacancy/usps 2026.csv":      "vacancy",
	} {
		if got, err := ImportSourceOfKey(key); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{
		"incoming/list.csv", "imports/list.csv", "imports/county/list.txt", "imports//list.csv",
		"imports/a/b/c/list.csv", "Imports/county/list.csv",
	} {
		var invalid *InvalidImport
		if _, err := ImportSourceOfKey(key); !errors.As(err, &invalid) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want an InvalidImport naming the key", key, err)
		}
	}
}

// ImportObject refuses, before reading anything, what it must not import: no store is
// touched (the Tasks has none).
func TestImportObjectRefusesWhatIsNotAnImport(t *testing.T) {
	tasks := &Tasks{Settings: Settings{Bucket: "data", Imports: true}}
	event := func(bucket, key string) json.RawMessage {
		raw, _ := json.Marshal(events.NewObjectCreated(bucket, key, "etag", 10, time.Now()))
		return raw
	}
	cases := map[string]json.RawMessage{
		"not under imports/": event("data", "incoming/list.csv"),
		"want a .csv file":   event("data", "imports/county/list.xlsx"),
		`bucket "other"`:     event("other", "imports/county/list.csv"),
		"not an S3 Object":   json.RawMessage(`[1]`),
		"detail.object.key":  event("data", ""),
	}
	for want, raw := range cases {
		var invalid *InvalidImport
		if _, err := tasks.ImportObject(context.Background(), raw); !errors.As(err, &invalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	tasks.Settings.Imports = false
	var off *ImportDisabled
	if _, err := tasks.ImportObject(context.Background(), event("data", "imports/county/list.csv")); !errors.As(err, &off) {
		t.Errorf("imports switched off: got %v", err)
	}
}
