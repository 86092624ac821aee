package events

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// roundTrip decodes a fixture into v, encodes it again and checks nothing was lost.
func roundTrip(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Parse(raw, v); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(raw, &want)
	_ = json.Unmarshal(again, &got)
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if !bytes.Equal(w, g) {
		t.Fatalf("round trip of %s changed it:\nwant %s\ngot  %s", path, w, g)
	}
}

func TestObjectCreatedRoundTrip(t *testing.T) {
	var e ObjectCreated
	roundTrip(t, "testdata/object-created.json", &e)
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if e.Detail.Bucket.Name != "attom-batch-data" || e.Detail.Object.Key != "incoming/properties.csv" ||
		e.Detail.Object.ETag != "b1946ac92492d2347c6235b4d2611184" || e.Detail.Object.Size != 1024 {
		t.Fatalf("decoded wrong: %+v", e.Detail)
	}
	if !e.Time.Equal(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("time %v", e.Time)
	}
}

func TestScheduledRefreshRoundTrip(t *testing.T) {
	var e ScheduledRefresh
	roundTrip(t, "testdata/scheduled-refresh.json", &e)
	if e.DetailType != DetailTypeScheduled || e.Detail.MaxAgeDays != 30 || e.Detail.Limit != 5000 {
		t.Fatalf("decoded wrong: %+v", e)
	}
}

func TestNewObjectCreatedIsValidAndRoundTrips(t *testing.T) {
	e := NewObjectCreated("b", "incoming/x.csv", "abc", 10, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(e)
	var back ObjectCreated
	if err := Parse(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Detail != e.Detail || back.DetailType != DetailTypeObjectCreated {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestValidateNamesWhatIsMissing(t *testing.T) {
	cases := map[string]ObjectCreated{
		"detail-type":        {},
		"detail.bucket.name": {Envelope: Envelope{DetailType: DetailTypeObjectCreated}},
		"detail.object.key": {Envelope: Envelope{DetailType: DetailTypeObjectCreated},
			Detail: ObjectCreatedDetail{Bucket: BucketRef{Name: "b"}}},
	}
	for want, e := range cases {
		err := e.Validate()
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("Validate() = %v, want an error naming %s", err, want)
		}
	}
}

func TestParseNamesTheType(t *testing.T) {
	var e ObjectCreated
	err := Parse([]byte("{not json"), &e)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("ObjectCreated")) {
		t.Fatalf("got %v", err)
	}
}
