//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/dynamostore"
	"github.com/leadflow/attom-batch/internal/localcloud"
	"github.com/leadflow/attom-batch/internal/localdeploy"
	"github.com/leadflow/attom-batch/internal/s3blob"
)

// Names of what the suite creates in the local cloud. The state machine ARNs follow from
// the names, so the Lambdas' environment can name the lookup machine before it exists.
const (
	bucket       = "attom-batch-it"
	tablePrefix  = "attom-batch-it-"
	pipelineName = "batch-pipeline"
	lookupName   = "attom-lookup"
	// attomKey is the ATTOM key the Lambdas and the CLI are given; the simulator refuses any
	// other, and no log or output may contain it.
	attomKey = "it-attom-key-5b0e2c17"
	// simSeed makes the simulator's homes the same in the Lambdas' simulator and in the
	// embedded runner's own, so both engines find the same addresses.
	simSeed = 7
	// capCents is far above what the package spends: no scenario here is about the cap.
	capCents = 100000
)

// stack is what the suite deploys, through the same code as `go run ./cmd/localcloud`.
var stack = localdeploy.Stack{
	Bucket: bucket, TablePrefix: tablePrefix, PipelineName: pipelineName, LookupName: lookupName,
	Region: localcloud.DefaultRegion, AccountID: localcloud.AccountID,
}

// suite is the one local cloud the package's tests share. They run one at a time: they
// share the simulator, whose data options and faults some scenarios change.
var suite *testSuite

// testSuite is the local cloud with the tables, bucket and both state machines created, the
// ATTOM simulator the Lambdas call, and clients for the test's own checks.
type testSuite struct {
	cloud       cloudEnv
	sim         *attomsim.Server
	simURL      string
	stopSim     func(context.Context) error
	binDir      string
	logDir      string
	tables      dynamostore.Tables
	pipelineARN string
	lookupARN   string
	s3          *s3.Client
	sfn         *sfn.Client
	store       *dynamostore.Store
	blobs       *s3blob.Store
}

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

// runSuite starts the cloud, runs the tests and always tears down, checking that nothing
// the suite started is left running. A test binary killed by -timeout or a panic skips the
// tear-down, but every child of the local cloud has a parent-death signal.
func runSuite(m *testing.M) int {
	ctx := context.Background()
	if os.Getenv(localStackEnv) != "" {
		stack.AccountID = localStackAcct
	} else if err := localcloud.MotoAvailable(ctx); errors.Is(err, localcloud.ErrNoMoto) {
		fmt.Fprintln(os.Stderr, "integration: skipped:", err)
		return 0
	}
	started := time.Now()
	s, err := startSuite(ctx)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: start:", err)
	} else {
		fmt.Fprintf(os.Stderr, "integration: local cloud up in %s (endpoint %s, logs %s)\n",
			time.Since(started).Round(time.Millisecond), s.cloud.Endpoint(), s.logDir)
		suite = s
		code = m.Run()
		s.hold()
	}
	closing := time.Now()
	if err := s.close(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: tear-down:", err)
		code = 1
	}
	fmt.Fprintf(os.Stderr, "integration: tear-down and leftover checks %s\n", time.Since(closing).Round(time.Millisecond))
	if code == 0 {
		_ = os.RemoveAll(s.logDir)
	} else if s.logDir != "" {
		fmt.Fprintf(os.Stderr, "integration: logs kept in %s\n", s.logDir)
	}
	fmt.Fprintf(os.Stderr, "integration: total %s\n", time.Since(started).Round(time.Millisecond))
	return code
}

// holdEnv keeps the local cloud up after the tests for that long (a Go duration, "10m"),
// so that what they left can be looked at with awscli; Ctrl-C ends the wait early and
// still tears down. See docs/local-cloud.md.
const holdEnv = "ATTOM_BATCH_IT_HOLD"

// hold waits before the tear-down when holdEnv asks for it, printing how to look inside.
func (s *testSuite) hold() {
	raw := os.Getenv(holdEnv)
	if raw == "" {
		return
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %s=%q: %v\n", holdEnv, raw, err)
		return
	}
	fmt.Fprintf(os.Stderr, "integration: holding the local cloud for %s (Ctrl-C to stop). In another shell:\n"+
		"  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s E=%s\n"+
		"  aws --endpoint-url $E s3 ls s3://%s --recursive\n"+
		"  aws --endpoint-url $E dynamodb scan --table-name %s\n"+
		"  aws --endpoint-url $E stepfunctions list-executions --state-machine-arn %s\n",
		d, localcloud.AccessKeyID, localcloud.SecretAccessKey, localcloud.DefaultRegion, s.cloud.Endpoint(),
		bucket, s.tables.Jobs, s.pipelineARN)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// startSuite brings everything up. On error the suite returned holds what did start, for close.
func startSuite(ctx context.Context) (*testSuite, error) {
	s := &testSuite{tables: stack.Tables()}
	var err error
	if s.logDir, err = os.MkdirTemp("", "attom-batch-it-logs-"); err != nil {
		return s, err
	}
	// A directory of our own for the bootstraps: every emulator names its bootstrap on its
	// command line, so pgrep on this path finds exactly the processes this run started.
	if s.binDir, err = os.MkdirTemp("", "attom-batch-it-bin-"); err != nil {
		return s, err
	}
	functions, err := localdeploy.Bootstraps(ctx, s.binDir, true)
	if err != nil {
		return s, err
	}
	if err := s.startSimulator(); err != nil {
		return s, err
	}
	s.pipelineARN = stack.PipelineARN()
	s.lookupARN = stack.LookupARN()
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if endpoint := os.Getenv(localStackEnv); endpoint != "" {
		s.cloud, err = startLocalStack(startCtx, endpoint, s.logDir, functions, s.lambdaEnv())
	} else {
		opts := stack.Options(functions, s.lambdaEnv(), s.logDir)
		// Without the rules: each scenario starts its pipeline itself, with the input it
		// needs, so an upload must not start another. TestLocalCloudInOneCommand proves
		// the rules on a cloud of its own.
		opts.Rules = nil
		s.cloud, err = localcloud.Start(startCtx, opts)
	}
	if err != nil {
		return s, err
	}
	return s, s.createResources(startCtx)
}

// startSimulator serves the ATTOM simulator on loopback, or, for LocalStack's Lambda
// containers, on every interface with the address they reach this machine by.
func (s *testSuite) startSimulator() error {
	s.sim = attomsim.New(simOptions(attomsim.Options{}))
	listen := "127.0.0.1:0"
	if os.Getenv(localStackEnv) != "" {
		listen = "0.0.0.0:0"
	}
	var err error
	if s.simURL, s.stopSim, err = s.sim.Start(listen); err != nil {
		return fmt.Errorf("start the ATTOM simulator: %w", err)
	}
	if os.Getenv(localStackEnv) != "" {
		s.simURL = strings.Replace(s.simURL, "0.0.0.0", simHost(), 1)
	}
	return nil
}

// simOptions fills in what every simulator configuration of the suite shares: the seed,
// and the key the Lambdas are given unless o names another.
func simOptions(o attomsim.Options) attomsim.Options {
	o.Seed = simSeed
	if o.APIKey == "" {
		o.APIKey = attomKey
	}
	return o
}

// lambdaEnv is what a deployed stack gives every function (see internal/config/env.go),
// with small chunks and one-second polls so a run takes seconds.
func (s *testSuite) lambdaEnv() map[string]string {
	env := map[string]string{
		"ATTOM_API_KEY":                attomKey,
		"ATTOM_BASE_URL":               s.simURL,
		"DAILY_CAP_ATTOM_CENTS":        strconv.Itoa(capCents),
		"ATTOM_BATCH_CHUNK_SIZE":       "5",
		"ATTOM_BATCH_POLL_MIN_SECONDS": "1",
		"ATTOM_BATCH_POLL_MAX_SECONDS": "1",
		"ATTOM_RATE_PER_MINUTE":        "6000",
		// An outage pauses the job; moto really waits, so the pauses are short.
		"ATTOM_BATCH_OUTAGE_WAIT_SECONDS":     "1",
		"ATTOM_BATCH_OUTAGE_WAIT_MAX_SECONDS": "2",
	}
	// The stack's own: resource names, ARNs, and the default event bus that moto serves
	// on the same endpoint (TestJobEventsReachEventBridge).
	maps.Copy(env, stack.Env())
	return env
}

// createResources deploys the stack's bucket, tables and state machines and makes the
// clients the tests check with.
func (s *testSuite) createResources(ctx context.Context) error {
	cfg := s.cloud.AWSConfig()
	s.s3 = s3blob.NewClient(cfg)
	s.sfn = sfn.NewFromConfig(cfg)
	s.blobs = s3blob.New(s.s3, bucket)
	var err error
	if s.store, err = dynamostore.New(dynamostore.NewClient(cfg), s.tables); err != nil {
		return err
	}
	return stack.Create(ctx, s.cloud)
}

// close stops the cloud and the simulator, then checks that no process the suite started
// survives and that the ATTOM key appears in no log.
func (s *testSuite) close() error {
	if s == nil {
		return nil
	}
	var errs []error
	var pids []int
	if s.cloud != nil {
		pids = s.cloud.ProcessIDs()
		if err := s.cloud.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the local cloud: %w", err))
		}
	}
	if s.stopSim != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.stopSim(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop the simulator: %w", err))
		}
		cancel()
	}
	errs = append(errs, leftovers(pids, s.binDir), keyInLogsOf(s.logDir, attomKey))
	if s.binDir != "" {
		_ = os.RemoveAll(s.binDir)
	}
	return errors.Join(errs...)
}

// leftovers reports any process of the cloud (moto, aws-lambda-rie, the bootstraps) that is
// still running, by the ids recorded before Close and by pgrep on the bootstraps' directory,
// and any child of this test process.
func leftovers(pids []int, binDir string) error {
	var alive []string
	for _, pid := range pids {
		if running(pid) {
			alive = append(alive, strconv.Itoa(pid))
		}
	}
	if len(alive) > 0 {
		return fmt.Errorf("processes still running after Close: %s", strings.Join(alive, ", "))
	}
	for _, args := range [][]string{{"-a", "-f", binDir}, {"-a", "-P", strconv.Itoa(os.Getpid())}} {
		if binDir == "" && args[1] == "-f" {
			continue
		}
		out, err := exec.Command("pgrep", args...).Output()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return fmt.Errorf("pgrep %s found processes left behind:\n%s", strings.Join(args, " "), out)
		case errors.As(err, &exit) && exit.ExitCode() == 1: // none matched
		default:
			return fmt.Errorf("pgrep %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

// running tells whether pid is a live process (a zombie is not).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// keyInLogsOf reports each log file (moto, router, every emulator with its bootstrap's
// output) under dir that contains the ATTOM key.
func keyInLogsOf(dir, key string) error {
	if dir == "" {
		return nil
	}
	var leaked []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(key)) {
			leaked = append(leaked, path)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(leaked) > 0 {
		slices.Sort(leaked)
		return fmt.Errorf("the ATTOM key appears in %s", strings.Join(leaked, ", "))
	}
	return nil
}
