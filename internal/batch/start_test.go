package batch

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/events"
)

var validExecutionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func TestExecutionNameReadsLikeTheJobList(t *testing.T) {
	at := time.Date(2026, 6, 2, 14, 3, 11, 0, time.UTC)
	long := strings.Repeat("Very long list name ", 10)
	for _, c := range []struct{ id, name, run, want string }{
		{"job-0123456789abcdef", "May list", UploadRun("617f08299329d189", ""), "job-0123456789abcdef-May-list-s3-"},
		{"job-0123456789abcdef", "properties", ClientRun(RunCLI, at), "job-0123456789abcdef-properties-cli-20260602T140311Z"},
		{"job-0123456789abcdef", "Tax: Cook County (2026) / é", ClientRun(RunResume, at), "job-0123456789abcdef-Tax-Cook-County-2026-resume-20260602T140311Z"},
		{"job-0123456789abcdef", "  ***  ", ClientRun(RunWeb, at), "job-0123456789abcdef-web-20260602T140311Z"},
		{"job-0123456789abcdef", "", "s3-1a2b3c4d", "job-0123456789abcdef-s3-1a2b3c4d"},
		{"job-0123456789abcdef", long, ClientRun(RunResume, at), "job-0123456789abcdef-Very-long-list-name-Very-lo"},
	} {
		got := ExecutionName(c.id, c.name, c.run)
		if !validExecutionName.MatchString(got) || !strings.HasPrefix(got, c.want) || !strings.HasSuffix(got, c.run) {
			t.Errorf("ExecutionName(%q, %q, %q) = %q (%d chars), want a valid name starting %q and ending with the run", c.id, c.name, c.run, got, len(got), c.want)
		}
		if strings.Contains(got, "--") {
			t.Errorf("%q has a doubled dash", got)
		}
	}
	// Whatever the parts, the name stays valid; an overlong run keeps the name unique.
	a := ExecutionName("job-x", "n", strings.Repeat("r", 100)+"a")
	b := ExecutionName("job-x", "n", strings.Repeat("r", 100)+"b")
	if !validExecutionName.MatchString(a) || !validExecutionName.MatchString(b) || a == b {
		t.Errorf("overlong runs: %q, %q", a, b)
	}
}

func TestUploadRunIsOnePerPut(t *testing.T) {
	if UploadRun("617f08299329d189", "event-1") != UploadRun("617f08299329d189", "event-2") {
		t.Error("two notifications of one PUT (same sequencer) have different runs")
	}
	if UploadRun("617f08299329d189", "e") == UploadRun("617f08299329d18a", "e") {
		t.Error("two PUTs of one key have the same run")
	}
	again := []string{"event-1"}
	if UploadRun("", "event-1") == UploadRun("", "event-2") || UploadRun("", "event-1") != UploadRun("", again[0]) {
		t.Error("without a sequencer the event's id decides")
	}
}

func TestEventExecutionNameIsTheJobs(t *testing.T) {
	raw, err := os.ReadFile("../../events/testdata/object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	id, name, err := EventExecutionName(raw, "")
	want, _ := EventJobID(raw)
	if err != nil || id != want || name != ExecutionName(want, "properties", UploadRun("617f08299329d189", "")) {
		t.Fatalf("EventExecutionName = %q, %q, %v (job %s)", id, name, err, want)
	}
	// With the CLI's --name the job (and the name) are the named job's.
	var ev map[string]any
	_ = json.Unmarshal(raw, &ev)
	ev["attom_batch"] = map[string]any{"name": "May list"}
	named, _ := json.Marshal(ev)
	nid, nname, err := EventExecutionName(named, "cli-20260602T140311Z")
	wantID, _ := EventJobID(named)
	if err != nil || nid != wantID || nid == id || nname != nid+"-May-list-cli-20260602T140311Z" {
		t.Fatalf("named: %q, %q, %v", nid, nname, err)
	}
}

// fakePipeline answers like Step Functions: the first start of a name starts it, any later
// one finds it.
type fakePipeline struct {
	started map[string][]byte
	calls   int
	err     error
}

func (f *fakePipeline) StartPipeline(_ context.Context, name string, input []byte) (string, bool, error) {
	f.calls++
	if f.err != nil {
		return "", false, f.err
	}
	arn := "arn:aws:states:us-east-1:1:execution:pipeline:" + name
	if _, ok := f.started[name]; ok {
		return arn, true, nil
	}
	f.started[name] = input
	return arn, false, nil
}

func TestStartUploadStartsOneExecutionPerUpload(t *testing.T) {
	pipeline := &fakePipeline{started: map[string][]byte{}}
	s := &Starter{Bucket: "attom-batch-data", Pipeline: pipeline, Log: slog.New(slog.DiscardHandler)}
	raw, err := os.ReadFile("../../events/testdata/object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	id, name, _ := EventExecutionName(raw, "")
	var first Started
	for i := range 3 {
		got, err := s.StartUpload(context.Background(), raw)
		if err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		if got.JobID != id || got.Execution != name || got.ExecutionARN == "" || got.AlreadyStarted != (i > 0) {
			t.Fatalf("delivery %d: %+v", i+1, got)
		}
		if i == 0 {
			first = got
		} else if got.ExecutionARN != first.ExecutionARN {
			t.Fatalf("delivery %d found %s, the first started %s", i+1, got.ExecutionARN, first.ExecutionARN)
		}
	}
	if len(pipeline.started) != 1 || string(pipeline.started[name]) != string(raw) {
		t.Fatalf("started %d executions, input %s", len(pipeline.started), pipeline.started[name])
	}
	// A new PUT of the same key (another version, another sequencer) is a job of its own.
	var ev events.ObjectCreated
	_ = json.Unmarshal(raw, &ev)
	ev.Detail.Object.VersionID, ev.Detail.Object.Sequencer = "v2", "617f08299329d200"
	again, _ := json.Marshal(ev)
	if got, err := s.StartUpload(context.Background(), again); err != nil || got.AlreadyStarted || got.JobID == id {
		t.Fatalf("a new upload: %+v, %v", got, err)
	}
}

func TestStartUploadRefusesWhatIsNotAnUpload(t *testing.T) {
	pipeline := &fakePipeline{started: map[string][]byte{}}
	s := &Starter{Bucket: "data", Pipeline: pipeline, Log: slog.New(slog.DiscardHandler)}
	event := func(bucket, key string) json.RawMessage {
		raw, _ := json.Marshal(events.NewObjectCreated(bucket, key, "etag", 10, time.Now()))
		return raw
	}
	for want, raw := range map[string]json.RawMessage{
		"not under incoming/": event("data", "imports/county/list.csv"),
		"want a .csv file":    event("data", "incoming/list.xlsx"),
		`bucket "other"`:      event("other", "incoming/list.csv"),
		"not an S3 Object":    json.RawMessage(`[1]`),
		"detail.object.key":   event("data", ""),
	} {
		var invalid *InvalidInput
		if _, err := s.StartUpload(context.Background(), raw); !errors.As(err, &invalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	if pipeline.calls != 0 {
		t.Errorf("%d starts for refused events", pipeline.calls)
	}
	pipeline.err = errors.New("ThrottlingException")
	if _, err := s.StartUpload(context.Background(), event("data", "incoming/a.CSV")); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("a failed start: %v", err)
	}
}

// A client that uploaded with its options in the object's metadata (UploadMetadata) and
// started the job itself: the rule's event, which carries no options, starts the same job
// (same id, the client's name), not a second one of the same file.
func TestStartUploadMakesTheClientsJob(t *testing.T) {
	raw, err := os.ReadFile("../../events/testdata/object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	leads := true
	opts := SubmitOptions{Name: "Spring mailing — Zoë's list", Leads: &leads}
	clientEvent, err := EventInput(mustObjectCreated(t, raw), opts)
	if err != nil {
		t.Fatal(err)
	}
	clientJob, err := EventJobID(clientEvent)
	if err != nil {
		t.Fatal(err)
	}
	metadata := UploadMetadata(opts)
	for k, v := range metadata {
		for _, r := range k + v {
			if r > 127 {
				t.Fatalf("metadata %s=%s is not US-ASCII", k, v)
			}
		}
	}
	pipeline := &fakePipeline{started: map[string][]byte{}}
	read := 0
	s := &Starter{Bucket: "attom-batch-data", Pipeline: pipeline, Log: slog.New(slog.DiscardHandler),
		Metadata: func(_ context.Context, key, version string) (map[string]string, error) {
			read++
			if key != "incoming/properties.csv" || version == "" {
				t.Errorf("metadata read of %q version %q, want the event's object and version", key, version)
			}
			return metadata, nil
		}}
	got, err := s.StartUpload(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.JobID != clientJob || !strings.Contains(got.Execution, "Spring-mailing") {
		t.Fatalf("started %+v; want the client's job %s under its name", got, clientJob)
	}
	var input eventWithOptions
	if err := json.Unmarshal(pipeline.started[got.Execution], &input); err != nil || input.Options == nil ||
		input.Options.Name != opts.Name || input.Options.Leads == nil || !*input.Options.Leads {
		t.Fatalf("the execution's input carries options %+v (%v), want %+v", input.Options, err, opts)
	}

	// An event that carries options (the client's own) is not changed, and an object
	// without them starts the file's own job.
	if _, err := s.StartUpload(context.Background(), clientEvent); err != nil || read != 1 {
		t.Fatalf("an event with options: %v, metadata read %d times (want the first start's only)", err, read)
	}
	metadata = map[string]string{"other": "x"}
	plainJob, _ := EventJobID(raw)
	if got, err := s.StartUpload(context.Background(), raw); err != nil || got.JobID != plainJob {
		t.Fatalf("no options in the metadata: %+v %v; want job %s", got, err, plainJob)
	}
	metadata = map[string]string{UploadOptionsKey: "e25vdCBqc29u"} // base64 of "{not json"
	if _, err := s.StartUpload(context.Background(), raw); err == nil || !strings.Contains(err.Error(), UploadOptionsKey) {
		t.Fatalf("unreadable options: %v, want an error naming the metadata", err)
	}
}

func mustObjectCreated(t *testing.T, raw []byte) events.ObjectCreated {
	t.Helper()
	var ev events.ObjectCreated
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// S3 keeps at most 2 KB of user metadata: the longest name the web UI takes (200
// characters), in a script of four UTF-8 bytes each, still fits with the other options.
func TestUploadMetadataFitsS3sLimit(t *testing.T) {
	leads, days := true, 3650
	meta := UploadMetadata(SubmitOptions{Name: strings.Repeat("🏚", 200), Leads: &leads, MaxAgeDays: &days})
	size := 0
	for k, v := range meta {
		size += len(k) + len(v)
	}
	if size > 2048 {
		t.Errorf("metadata of %d bytes, over S3's 2 KB", size)
	}
}
