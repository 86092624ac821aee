//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/dynamostore"
	"github.com/leadflow/attom-batch/internal/localcloud"
)

// TestLocalCloudInOneCommand runs `localcloud` (cmd/localcloud, what `make cloud` runs) as a
// person would, with an ATTOM-compatible server of the test's own, and uses the cloud only
// through its env file: three CSVs dropped at once under incoming/ each start their
// pipeline through the upload rule and complete, the key's rate is never exceeded across
// the jobs (measured from the server's request times), the daily cap they share holds each
// day (short days, so they pause and resume), nothing is bought twice; a CLI submit makes
// one job; the scheduled refresh, invoked on demand, runs through the same rule; Ctrl-C
// leaves no process behind and no log holds the key.
func TestLocalCloudInOneCommand(t *testing.T) {
	if os.Getenv(localStackEnv) != "" {
		t.Skip("starts a local cloud of its own")
	}
	// A slow key, so the rate, not the functions' speed, paces the lookups, and a cap of 20
	// reports a "day" of 30 s, which the three jobs (36 reports) share: each day's reports
	// run out while all three look up, they pause and resume.
	const ratePerMinute, capPerDay, perReport = 120, 200, 10
	days := budget.Period(30 * time.Second)
	sim := startTimedSimulator(t)
	lc := startLocalCloudCommand(t, map[string]string{
		"ATTOM_API_KEY":                  localCloudKey,
		"ATTOM_BASE_URL":                 sim.url,
		"ATTOM_RATE_PER_MINUTE":          fmt.Sprint(ratePerMinute),
		"DAILY_CAP_ATTOM_CENTS":          fmt.Sprint(capPerDay),
		"ATTOM_BATCH_CAP_PERIOD_SECONDS": fmt.Sprint(int(time.Duration(days).Seconds())),
		"ATTOM_BATCH_CHUNK_SIZE":         "5",
		"ATTOM_BATCH_POLL_MIN_SECONDS":   "1",
		"ATTOM_BATCH_POLL_MAX_SECONDS":   "1",
	})

	streets := []string{"Juniper Lane", "Sequoia Drive", "Hemlock Way"}
	var wg sync.WaitGroup
	for _, street := range streets {
		wg.Go(func() { lc.put(t, "incoming/"+slug(street)+".csv", csvFile(addresses(street, 12)...)) })
	}
	wg.Wait()
	execs := lc.waitExecutions(t, len(streets))
	found := 0
	for _, street := range streets {
		key := "incoming/" + slug(street) + ".csv"
		job := lc.job(t, lc.jobID(t, key))
		if job.Status != batch.StatusCompleted || job.RecordsFound+job.NotFoundRecords != 12 {
			t.Errorf("%s: job %s %s, found %d + not found %d, want completed with 12 looked up", key, job.ID, job.Status, job.RecordsFound, job.NotFoundRecords)
		}
		if !slices.ContainsFunc(execs, func(e sfntypes.ExecutionListItem) bool { return strings.Contains(aws.ToString(e.Name), job.ID) }) {
			t.Errorf("no execution is named after job %s: %v", job.ID, names(execs))
		}
		found += job.RecordsFound
	}
	bought := sim.server.BilledBy()
	for address, byEndpoint := range bought {
		for endpoint, n := range byEndpoint {
			if n != 1 {
				t.Errorf("%s bought %d times from %s, want once", address, n, endpoint)
			}
		}
	}
	if len(bought) != found {
		t.Errorf("%d addresses bought, want the %d found", len(bought), found)
	}
	sim.checkRate(t, ratePerMinute)
	lc.checkSharedCap(t, sim.server.Ledger(), days, capPerDay, perReport)
	t.Logf("lookup invocations throttled (another job's chunk held the lookup function): %d",
		strings.Count(readLog(t, lc.logDir+"/router.log"), "invoke lookupchunk: throttled"))

	executions := len(streets)
	t.Run("CLIRunAllMakesOneJob", func(t *testing.T) {
		// The CLI uploads under incoming/ and starts the job itself; the upload rule starts
		// the same job from the options the CLI left on the object, never a second one.
		cli := newCLIWith(t, lc.env)
		file := filepath.Join(t.TempDir(), "it-cli-aspen.csv")
		if err := os.WriteFile(file, csvFile(addresses("Aspen Row", 6)...), 0o644); err != nil {
			t.Fatal(err)
		}
		// run-all returns when the job is done, whichever of the two executions owns it.
		var summary struct {
			Job batch.Job `json:"job"`
		}
		cli.run(t, &summary, "run-all", file, "--name", "Aspen — CLI list", "--leads", "--json")
		submitted := summary.Job
		if job := lc.job(t, submitted.ID); job.Status != batch.StatusCompleted {
			t.Errorf("run-all returned with job %s %s", job.ID, job.Status)
		}
		executions += 2 // the CLI's and the rule's, one job
		lc.waitExecutions(t, executions)
		jobs, err := lc.store.ListJobs(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		var same []string
		for _, j := range jobs {
			if j.FilePath == "incoming/it-cli-aspen.csv" {
				same = append(same, j.ID+" "+j.Name)
			}
		}
		if len(same) != 1 || lc.job(t, submitted.ID).Status != batch.StatusCompleted {
			t.Errorf("jobs for the CLI's upload: %v; want only %s (%s), completed", same, submitted.ID, submitted.Name)
		}
		for address, byEndpoint := range sim.server.BilledBy() {
			for endpoint, n := range byEndpoint {
				if n != 1 {
					t.Errorf("%s bought %d times from %s", address, n, endpoint)
				}
			}
		}
	})

	t.Run("RefreshOnDemand", func(t *testing.T) {
		before := sim.server.BilledCount()
		var refreshed batch.RefreshResult
		if err := json.Unmarshal(lc.invoke(t, "refresh", `{"detail":{"all":true,"limit":5}}`), &refreshed); err != nil || refreshed.Records != 5 {
			t.Fatalf("refresh answered %+v (%v), want 5 records dropped under incoming/", refreshed, err)
		}
		executions++
		lc.waitExecutions(t, executions)
		if after := sim.server.BilledCount(); after-before != refreshed.Records {
			t.Errorf("the refresh bought %d reports, want its %d records again", after-before, refreshed.Records)
		}
		// The rule's start read the refresh's options off the file: the job is named for it.
		job := lc.job(t, lc.jobIDWith(t, refreshed.Key, refreshed.Options))
		if job.Status != batch.StatusCompleted || job.Name != refreshed.Options.Name {
			t.Errorf("refresh job %s %q, want completed and named %q", job.Status, job.Name, refreshed.Options.Name)
		}
	})

	lc.stop(t)
}

// checkSharedCap asserts the cap held across the jobs: no day's counter spent more than the
// cap, nothing is left reserved, and the days' spend adds up to what ATTOM billed (every
// address is found, so every call is billed).
func (lc *localCloudCommand) checkSharedCap(t *testing.T, ledger []attomsim.Charge, days budget.Period, capPerDay, perReport int64) {
	t.Helper()
	ctx := context.Background()
	counters, err := dynamostore.New(dynamostore.NewClient(lc.cfg), lc.tables())
	if err != nil {
		t.Fatal(err)
	}
	seen, billedDays := map[string]bool{}, map[string]bool{}
	var spent int64
	for _, c := range ledger {
		billedDays[days.Day(c.At)] = true // a call is reserved on the day before the one it is billed on, at worst
		for _, day := range []string{days.Day(c.At.Add(-days.Length())), days.Day(c.At)} {
			if seen[day] {
				continue
			}
			seen[day] = true
			usage, err := counters.Budget(capPerDay).Usage(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			if usage.SpentCents > capPerDay || usage.ReservedCents != 0 {
				t.Errorf("day %s: spent %d, reserved %d; cap %d", day, usage.SpentCents, usage.ReservedCents, capPerDay)
			}
			spent += usage.SpentCents
		}
	}
	if billed := int64(len(ledger)) * perReport; spent != billed || len(billedDays) < 2 {
		t.Errorf("the days' counters spent %d cents; ATTOM billed %d on %d days; want equal, over at least two days", spent, billed, len(billedDays))
	}
	t.Logf("ATTOM billed %d reports on %d days of %s, cap %d cents a day", len(ledger), len(billedDays), days.Length(), capPerDay)
}

// localCloudKey is the ATTOM key the command's functions are given.
const localCloudKey = "it-localcloud-key-77d1"

// timedSimulator is the ATTOM simulator behind a handler that notes when each ATTOM call
// arrived.
type timedSimulator struct {
	server *attomsim.Server
	url    string
	mu     sync.Mutex
	times  []time.Time
}

func startTimedSimulator(t *testing.T) *timedSimulator {
	// Every address found: every call is billed, so the money adds up call for call.
	s := &timedSimulator{server: attomsim.New(simOptions(attomsim.Options{APIKey: localCloudKey, NotFoundRate: -1}))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_sim/") {
			s.mu.Lock()
			s.times = append(s.times, time.Now())
			s.mu.Unlock()
		}
		s.server.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { s.server.Close(); srv.Close() })
	s.url = srv.URL
	return s
}

// checkRate asserts no second held more calls than the key's rate allows: a token bucket of
// perMinute/60 a second with the client's burst lets at most burst + rate calls leave in any
// one-second window; one more is allowed for the network's jitter between leaving and
// arriving.
func (s *timedSimulator) checkRate(t *testing.T, perMinute int) {
	t.Helper()
	s.mu.Lock()
	times := slices.Clone(s.times)
	s.mu.Unlock()
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	limit := 3 + perMinute/60 + 1 // attom.DefaultLimiterBurst + one second's rate + jitter
	most := 0
	for i, start := range times {
		j, _ := slices.BinarySearchFunc(times[i:], start.Add(time.Second), func(a, b time.Time) int { return a.Compare(b) })
		most = max(most, j)
	}
	t.Logf("%d ATTOM calls; at most %d in any one second (allowed %d)", len(times), most, limit)
	if len(times) == 0 || most > limit {
		t.Errorf("ATTOM calls: %d, at most %d in one second; want some, and at most %d", len(times), most, limit)
	}
}

// localCloudCommand is a running `localcloud` process and clients built from its env file.
type localCloudCommand struct {
	cmd    *exec.Cmd
	done   chan error
	tmp    string // its TMPDIR: the functions' bootstraps live under it
	logDir string
	env    map[string]string
	cfg    aws.Config
	sfn    *sfn.Client
	s3     *s3.Client
	store  *dynamostore.Store
}

// startLocalCloudCommand builds cmd/localcloud and runs it with env over this process's
// environment (less every AWS_ and ATTOM_ setting), reads the endpoint from its first line
// and the env file it writes, and stops it when the test ends if the test did not.
func startLocalCloudCommand(t *testing.T, env map[string]string) *localCloudCommand {
	t.Helper()
	root, err := localcloud.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := buildCommand(t, "./cmd/localcloud", dir)
	lc := &localCloudCommand{done: make(chan error, 1), tmp: filepath.Join(dir, "tmp"), logDir: filepath.Join(dir, "logs")}
	if err := os.Mkdir(lc.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "cloud.env")
	lc.cmd = exec.Command(bin, "--port", "0", "--env-file", envFile, "--logdir", lc.logDir)
	lc.cmd.Dir = root
	lc.cmd.Env = commandEnv(env, lc.tmp)
	var stderr bytes.Buffer
	lc.cmd.Stderr = &stderr
	stdout, err := lc.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := lc.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { lc.done <- lc.cmd.Wait() }()
	t.Cleanup(func() {
		if lc.cmd.ProcessState == nil {
			_ = lc.cmd.Process.Signal(os.Interrupt)
			<-lc.done
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		for sc.Scan() {
		}
	}()
	select {
	case line, ok := <-first:
		if !ok || !strings.HasPrefix(line, "http://127.0.0.1:") {
			t.Fatalf("localcloud printed %q first, want its endpoint; stderr:\n%s", line, stderr.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("localcloud not up after 5 minutes; stderr:\n%s", stderr.String())
	}
	t.Logf("localcloud up in %s", time.Since(started).Round(100*time.Millisecond))
	lc.env = readEnvFile(t, envFile)
	lc.connect(t)
	return lc
}

// commandEnv is this process's environment without its AWS and ATTOM settings, with env
// and TMPDIR over it.
func commandEnv(env map[string]string, tmp string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "ATTOM_") && !strings.HasPrefix(kv, "DAILY_CAP_") && !strings.HasPrefix(kv, "TMPDIR=") {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return append(out, "TMPDIR="+tmp)
}

// readEnvFile parses the `export NAME='value'` lines the command writes.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok && !strings.HasPrefix(line, "#") {
			env[name] = strings.Trim(value, "'")
		}
	}
	for _, want := range []string{"AWS_ENDPOINT_URL", "ATTOM_BATCH_BACKEND", "ATTOM_BATCH_BUCKET", "ATTOM_BATCH_JOBS_TABLE", "ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN"} {
		if env[want] == "" {
			t.Errorf("env file lacks %s:\n%s", want, data)
		}
	}
	if bytes.Contains(data, []byte(localCloudKey)) {
		t.Errorf("the env file holds the ATTOM key")
	}
	return env
}

// connect makes the clients from the env file alone.
func (lc *localCloudCommand) connect(t *testing.T) {
	t.Helper()
	e := lc.env
	lc.cfg = aws.Config{
		Region:       e["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(e["AWS_ENDPOINT_URL"]),
	}
	lc.sfn = sfn.NewFromConfig(lc.cfg)
	lc.s3 = s3.NewFromConfig(lc.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	var err error
	lc.store, err = dynamostore.New(dynamostore.NewClient(lc.cfg), lc.tables())
	if err != nil {
		t.Fatal(err)
	}
}

// tables are the stack's tables, as the env file names them.
func (lc *localCloudCommand) tables() dynamostore.Tables {
	e := lc.env
	return dynamostore.Tables{
		Jobs: e["ATTOM_BATCH_JOBS_TABLE"], Properties: e["ATTOM_BATCH_PROPERTIES_TABLE"], Leads: e["ATTOM_BATCH_LEADS_TABLE"],
		Lookups: e["ATTOM_BATCH_LOOKUPS_TABLE"], Budget: e["ATTOM_BATCH_BUDGET_TABLE"],
	}
}

func (lc *localCloudCommand) put(t *testing.T, key string, body []byte) {
	_, err := lc.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(lc.env["ATTOM_BATCH_BUCKET"]), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Errorf("put %s: %v", key, err)
	}
}

// jobID is the job an upload of key makes: the same derivation Prepare uses.
func (lc *localCloudCommand) jobID(t *testing.T, key string) string {
	t.Helper()
	return lc.jobIDWith(t, key, batch.SubmitOptions{})
}

// jobIDWith is the job an upload of key makes with opts, by batch.EventJobID.
func (lc *localCloudCommand) jobIDWith(t *testing.T, key string, opts batch.SubmitOptions) string {
	t.Helper()
	bucket := lc.env["ATTOM_BATCH_BUCKET"]
	head, err := lc.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	ev := events.NewObjectCreated(bucket, key, strings.Trim(aws.ToString(head.ETag), `"`), aws.ToInt64(head.ContentLength), time.Now())
	ev.Detail.Object.VersionID = aws.ToString(head.VersionId)
	raw, err := batch.EventInput(ev, opts)
	if err != nil {
		t.Fatal(err)
	}
	id, err := batch.EventJobID(raw)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (lc *localCloudCommand) job(t *testing.T, id string) batch.Job {
	t.Helper()
	job, err := lc.store.GetJob(context.Background(), id)
	if err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return job
}

// waitExecutions waits until the pipeline has n executions and none is running, and fails
// the test if any did not succeed.
func (lc *localCloudCommand) waitExecutions(t *testing.T, n int) []sfntypes.ExecutionListItem {
	t.Helper()
	deadline := time.Now().Add(executionTimeout)
	for {
		out, err := lc.sfn.ListExecutions(context.Background(), &sfn.ListExecutionsInput{
			StateMachineArn: aws.String(lc.env["ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN"]),
		})
		if err != nil {
			t.Fatal(err)
		}
		running := slices.ContainsFunc(out.Executions, func(e sfntypes.ExecutionListItem) bool {
			return e.Status == sfntypes.ExecutionStatusRunning
		})
		if len(out.Executions) >= n && !running {
			for _, e := range out.Executions {
				if e.Status != sfntypes.ExecutionStatusSucceeded {
					d, _ := lc.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
					t.Errorf("execution %s %s: %s", aws.ToString(e.Name), e.Status, aws.ToString(d.Cause))
				}
			}
			if len(out.Executions) != n {
				t.Errorf("%d executions, want %d: %v", len(out.Executions), n, names(out.Executions))
			}
			return out.Executions
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: executions %v (want %d, none running)", executionTimeout, names(out.Executions), n)
		}
		time.Sleep(time.Second)
	}
}

func names(execs []sfntypes.ExecutionListItem) []string {
	var out []string
	for _, e := range execs {
		out = append(out, aws.ToString(e.Name)+" "+string(e.Status))
	}
	return out
}

// invoke calls a function through the cloud's Lambda API, as awscli's lambda invoke does.
func (lc *localCloudCommand) invoke(t *testing.T, function, payload string) []byte {
	t.Helper()
	out, err := lambda.NewFromConfig(lc.cfg).Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(function), Payload: []byte(payload),
	})
	if err != nil {
		t.Fatalf("invoke %s: %v", function, err)
	}
	if out.FunctionError != nil {
		t.Fatalf("invoke %s: %s: %s", function, aws.ToString(out.FunctionError), out.Payload)
	}
	return out.Payload
}

// stop sends Ctrl-C's SIGINT and checks the command ends cleanly, leaves none of the
// processes it started (every bootstrap runs from under its TMPDIR) and wrote the ATTOM key
// into no log.
func (lc *localCloudCommand) stop(t *testing.T) {
	t.Helper()
	if err := lc.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lc.done:
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled()) {
			t.Errorf("localcloud after Ctrl-C: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("localcloud still running a minute after Ctrl-C")
	}
	out, err := exec.Command("pgrep", "-a", "-f", lc.tmp).Output()
	if err == nil {
		t.Errorf("processes left after Ctrl-C:\n%s", out)
	}
	if err := keyInLogsOf(lc.logDir, localCloudKey); err != nil {
		t.Error(err)
	}
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// slug makes a file name of a street.
func slug(s string) string { return "it-" + strings.ToLower(strings.ReplaceAll(s, " ", "-")) }
