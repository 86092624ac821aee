// Command localcloud runs the whole AWS side of attom-batch on this machine, with no
// account and no Docker: moto (S3, DynamoDB, EventBridge, Step Functions with its engine),
// every function's real bootstrap under aws-lambda-rie, the router in front of them on one
// endpoint, the bucket, the tables, both state machines, and the stack's rules (a CSV
// created under incoming/ starts the pipeline through the start function with the event
// the deployed EventBridge rule sends; one under imports/<source>/ runs the import).
//
//	go run ./cmd/localcloud --env-file .localcloud.env     (or: make cloud)
//	. .localcloud.env
//	aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp examples/properties.csv "s3://$ATTOM_BATCH_BUCKET/incoming/"
//	attom-batch list
//
// The functions get ATTOM_API_KEY, ATTOM_BASE_URL, ATTOM_RATE_PER_MINUTE,
// DAILY_CAP_ATTOM_CENTS and any other ATTOM_* setting from the environment it starts in;
// without ATTOM_API_KEY they call a built-in ATTOM simulator (simulated data). Ctrl-C
// stops everything and leaves no process behind. See docs/local-cloud.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/localcloud"
	"github.com/leadflow/attom-batch/internal/localdeploy"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		os.Exit(1)
	}
}

func run() error {
	envFile := flag.String("env-file", "", "write `export` lines for awscli and attom-batch --backend aws to this file")
	port := flag.Int("port", 4566, "the endpoint's port (0: any free port)")
	logDir := flag.String("logdir", "", "where moto.log, router.log and rie-*.log go (default: a new temporary directory)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see -h)", flag.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localcloud.MotoAvailable(ctx); err != nil {
		return err
	}
	started := time.Now()
	up, err := start(ctx, *port, *logDir)
	if up != nil {
		defer up.close()
	}
	if err != nil {
		return err
	}
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(up.envFile()), 0o600); err != nil {
			return err
		}
	}
	up.describe(os.Stdout, time.Since(started), *envFile)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "localcloud: stopping")
	return nil
}

// cloud is the running local cloud with the stack deployed, and the simulator when there
// is no ATTOM key.
type cloud struct {
	stack   localdeploy.Stack
	cloud   *localcloud.Cloud
	binDir  string
	simURL  string // empty with a real key
	stopSim func(context.Context) error
}

// start builds the functions, starts the simulator if needed, the cloud, and deploys.
func start(ctx context.Context, port int, logDir string) (*cloud, error) {
	c := &cloud{stack: localdeploy.Default()}
	var err error
	if c.binDir, err = os.MkdirTemp("", "attom-batch-localcloud-bin-"); err != nil {
		return c, err
	}
	fmt.Fprintln(os.Stderr, "localcloud: building the functions")
	bootstraps, err := localdeploy.Bootstraps(ctx, c.binDir, false)
	if err != nil {
		return c, err
	}
	env, err := c.functionEnv()
	if err != nil {
		return c, err
	}
	opts := c.stack.Options(bootstraps, env, logDir)
	opts.RouterPort = port
	fmt.Fprintln(os.Stderr, "localcloud: starting moto and", len(bootstraps), "functions")
	if c.cloud, err = localcloud.Start(ctx, opts); err != nil {
		return c, err
	}
	return c, c.stack.Create(ctx, c.cloud)
}

// passedSettings are the variables the functions take from this environment, besides any
// ATTOM_* setting: the stack sets them from its context values on AWS.
var passedSettings = []string{"DAILY_CAP_ATTOM_CENTS"}

// clientOnly are settings of the CLI's that mean nothing to a function (the env file sets
// the first; a shell that sourced it passes it on).
var clientOnly = []string{"ATTOM_BATCH_BACKEND", "ATTOM_BATCH_DB"}

// functionEnv is what the functions get from this environment: every ATTOM_* setting and
// the daily cap; without ATTOM_API_KEY, the simulator's URL and a key it accepts.
func (c *cloud) functionEnv() (map[string]string, error) {
	env := map[string]string{}
	own := c.stack.Env()
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		_, deployed := own[name]
		if (strings.HasPrefix(name, "ATTOM_") || slices.Contains(passedSettings, name)) && !deployed && !slices.Contains(clientOnly, name) {
			env[name] = value
		}
	}
	if env["ATTOM_API_KEY"] != "" {
		return env, nil
	}
	key := randomKey()
	var err error
	c.simURL, c.stopSim, err = attomsim.New(attomsim.Options{APIKey: key}).Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the ATTOM simulator: %w", err)
	}
	env["ATTOM_API_KEY"], env["ATTOM_BASE_URL"] = key, c.simURL
	return env, nil
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "localcloud-" + hex.EncodeToString(b[:])
}

// clientEnv is what awscli and attom-batch --backend aws need: the endpoint, dummy
// credentials, the region, and the stack's resources. It holds no ATTOM key.
func (c *cloud) clientEnv() map[string]string {
	env := c.cloud.EnvVars()
	maps.Copy(env, c.stack.Env())
	env["ATTOM_BATCH_BACKEND"] = "aws"
	delete(env, "ATTOM_BATCH_EVENT_BUS")
	delete(env, "ATTOM_BATCH_MAP_CONCURRENCY")
	return env
}

// envFile is clientEnv as shell export lines, sorted.
func (c *cloud) envFile() string {
	env := c.clientEnv()
	var b strings.Builder
	b.WriteString("# attom-batch local cloud (go run ./cmd/localcloud); source it: . FILE\n")
	for _, name := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(env[name]))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// describe prints the endpoint first (a script reads it from the first line), then what is
// deployed and how to use it.
func (c *cloud) describe(w io.Writer, took time.Duration, envFile string) {
	e := c.cloud.Endpoint()
	fmt.Fprintln(w, e)
	fmt.Fprintf(w, "local cloud up in %s: endpoint %s, logs in %s\n", took.Round(100*time.Millisecond), e, c.cloud.LogDir())
	fmt.Fprintf(w, "  bucket %s (CSVs under %s start the pipeline, under %sSOURCE/ run an import)\n",
		c.stack.Bucket, localdeploy.Incoming, localdeploy.Imports)
	fmt.Fprintf(w, "  tables %s*, state machines %s and %s\n", c.stack.TablePrefix, c.stack.PipelineName, c.stack.LookupName)
	if c.simURL != "" {
		fmt.Fprintf(w, "  ATTOM: the built-in simulator at %s (SIMULATED data; set ATTOM_API_KEY to use ATTOM)\n", c.simURL)
	} else {
		fmt.Fprintln(w, "  ATTOM: the real API with your ATTOM_API_KEY (lookups are billed)")
	}
	source := "  (run with --env-file FILE to get these settings in a file)\n"
	if envFile != "" {
		source = "  . " + shellQuote(envFile) + "\n"
	}
	fmt.Fprintf(w, "Try, in another shell:\n%s"+
		"  aws --endpoint-url \"$AWS_ENDPOINT_URL\" s3 cp examples/properties.csv \"s3://$ATTOM_BATCH_BUCKET/incoming/properties.csv\"\n"+
		"  aws --endpoint-url \"$AWS_ENDPOINT_URL\" stepfunctions list-executions --state-machine-arn \"$ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN\"\n"+
		"  attom-batch list\n"+
		"  # the scheduled refresh, now:\n"+
		"  aws --endpoint-url \"$AWS_ENDPOINT_URL\" lambda invoke --function-name refresh --payload '{}' /dev/stdout\n"+
		"Ctrl-C stops everything.\n", source)
}

// close stops the cloud and the simulator and removes the built functions.
func (c *cloud) close() {
	var errs []error
	if c.cloud != nil {
		errs = append(errs, c.cloud.Close())
	}
	if c.stopSim != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, c.stopSim(ctx))
		cancel()
	}
	if c.binDir != "" {
		errs = append(errs, os.RemoveAll(c.binDir))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "localcloud: stop:", err)
	}
}
