package localcloud

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Dummy credentials, region and account the local cloud uses; moto accepts any
// credentials, and its default account is 123456789012.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
	DefaultRegion   = "us-east-1"
	AccountID       = "123456789012"
)

// Options says which Lambda functions the local cloud runs and how.
type Options struct {
	// Functions maps a function name (the last part of its ARN) to the path of
	// its bootstrap binary built for this machine (see BuildBootstrap).
	Functions map[string]string
	// Env is added to every function's environment, over the defaults: dummy
	// credentials, AWS_REGION, AWS_LAMBDA_FUNCTION_NAME and AWS_ENDPOINT_URL
	// pointing at the router, so functions reach moto with no settings.
	Env map[string]string
	// LogDir receives moto.log, router.log and rie-NAME-N.log (each emulator's
	// log includes its bootstrap's output). Empty means a new temporary
	// directory, kept after Close so a failure can be read afterwards.
	LogDir string
	// InstancesPerFunction is how many emulators (and bootstraps) each function
	// gets, i.e. how many invocations of it may run at once; more wait their
	// turn. Default 1. Match it to a Map's MaxConcurrency to run items in parallel.
	InstancesPerFunction int
	// ReservedConcurrency is a function's reserved concurrent executions, as the CDK
	// stack sets them (ReservedConcurrentExecutions): the function gets that many
	// emulators, and a synchronous invocation while all are busy is refused with 429
	// TooManyRequestsException, which Step Functions reports as
	// Lambda.TooManyRequestsException. Asynchronous (Event) invocations wait, as
	// Lambda's async queue retries throttled events. Functions not listed get
	// InstancesPerFunction emulators and queue their invocations.
	ReservedConcurrency map[string]int
	// Rules deliver S3 object-created events to functions, as the stack's EventBridge
	// rules do (see ObjectRule).
	Rules []ObjectRule
	// Region defaults to us-east-1.
	Region string
	// FunctionTimeout is each function's AWS_LAMBDA_FUNCTION_TIMEOUT; default 5 minutes.
	FunctionTimeout time.Duration
	// RouterPort fixes the endpoint's port, for runs by hand with a stable
	// --endpoint-url; 0 (tests) takes a free one.
	RouterPort int
	// ParallelMoto lets moto handle requests concurrently. By default the launcher
	// serializes them, because moto's DynamoDB loses concurrent conditional
	// updates to one item (real DynamoDB does not).
	ParallelMoto bool
}

// Cloud is a running local cloud: moto (with the Step Functions engine on), one
// aws-lambda-rie pool per function, and the router in front of both. Close it.
type Cloud struct {
	opts     Options
	rie      string // the aws-lambda-rie binary
	endpoint string
	server   *http.Server
	moto     *process
	motoPort int
	pools    map[string]*functionPool
	cancel   context.CancelFunc
	logFile  *os.File
	closing  sync.Once
	closeErr error
	envMu    sync.Mutex // guards opts.Env, which SetEnv replaces
}

// Start launches the local cloud and returns once moto answers and every
// emulator listens. On error everything already started is stopped. ctx bounds
// start-up only; the cloud runs until Close.
func Start(ctx context.Context, opts Options) (*Cloud, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	rie, err := FindRIE()
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(opts.RouterPort))
	if err != nil {
		return nil, fmt.Errorf("localcloud: router listen: %w", err)
	}
	routerPort := listener.Addr().(*net.TCPAddr).Port
	runCtx, cancel := context.WithCancel(context.Background())
	c := &Cloud{
		opts:     opts,
		rie:      rie,
		endpoint: "http://127.0.0.1:" + strconv.Itoa(routerPort),
		pools:    map[string]*functionPool{},
		cancel:   cancel,
	}
	if err := c.startChildren(ctx, rie, routerPort); err != nil {
		listener.Close()
		c.Close()
		return nil, err
	}
	c.serve(runCtx, listener)
	return c, nil
}

// withDefaults checks the options and fills in the defaults.
func withDefaults(opts Options) (Options, error) {
	if opts.InstancesPerFunction < 0 {
		return opts, errors.New("localcloud: InstancesPerFunction must not be negative")
	}
	if opts.InstancesPerFunction == 0 {
		opts.InstancesPerFunction = 1
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.FunctionTimeout == 0 {
		opts.FunctionTimeout = 5 * time.Minute
	}
	for name := range opts.Functions {
		if name == "" || functionName(name) != name {
			return opts, fmt.Errorf("localcloud: function name %q: want a bare name (no ARN, no ':')", name)
		}
	}
	for name, n := range opts.ReservedConcurrency {
		if _, ok := opts.Functions[name]; !ok || n < 1 {
			return opts, fmt.Errorf("localcloud: reserved concurrency %d for function %q: want at least 1 for a function the cloud runs", n, name)
		}
	}
	for _, rule := range opts.Rules {
		if _, ok := opts.Functions[rule.Function]; !ok || rule.Bucket == "" {
			return opts, fmt.Errorf("localcloud: rule %+v: want a bucket and a function the cloud runs", rule)
		}
	}
	if opts.LogDir == "" {
		dir, err := os.MkdirTemp("", "localcloud-")
		if err != nil {
			return opts, fmt.Errorf("localcloud: log dir: %w", err)
		}
		opts.LogDir = dir
	} else if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
		return opts, fmt.Errorf("localcloud: log dir: %w", err)
	}
	return opts, nil
}

// startChildren starts the emulators (fast, and they fail fast on a bad
// bootstrap path) and then moto (slow: seconds of Python imports).
func (c *Cloud) startChildren(ctx context.Context, rie string, routerPort int) error {
	for _, name := range slices.Sorted(maps.Keys(c.opts.Functions)) {
		env := functionEnv(name, c.opts, c.endpoint)
		instances, reserved := c.opts.ReservedConcurrency[name]
		if !reserved {
			instances = c.opts.InstancesPerFunction
		}
		pool, err := startPool(ctx, rie, name, c.opts.Functions[name], env, instances, c.opts.LogDir)
		if err != nil {
			return err
		}
		pool.reserved = reserved
		c.pools[name] = pool
	}
	motoPorts, err := freePorts(1)
	if err != nil {
		return err
	}
	c.motoPort = motoPorts[0]
	c.moto, err = startMoto(ctx, c.opts, c.motoPort, routerPort)
	return err
}

// serve starts the router on listener.
func (c *Cloud) serve(ctx context.Context, listener net.Listener) {
	logPath := filepath.Join(c.opts.LogDir, "router.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	var logger *log.Logger
	if err == nil {
		c.logFile = logFile
		logger = log.New(logFile, "", log.LstdFlags|log.Lmicroseconds)
	} else {
		logger = log.New(os.Stderr, "localcloud: ", log.LstdFlags)
	}
	motoURL := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(c.motoPort)}
	c.server = &http.Server{
		Handler:           newRouter(ctx, motoURL, c.pools, c.opts.Rules, logger),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          logger,
	}
	go func() { _ = c.server.Serve(listener) }()
}

// Endpoint is the URL every AWS client uses (AWS_ENDPOINT_URL, awscli's
// --endpoint-url): the router, which serves Lambda Invoke and passes the rest to moto.
func (c *Cloud) Endpoint() string { return c.endpoint }

// Region is the region the functions and the engine run in.
func (c *Cloud) Region() string { return c.opts.Region }

// LogDir is where moto.log, router.log and the emulator logs are.
func (c *Cloud) LogDir() string { return c.opts.LogDir }

// FunctionARN is the ARN a state machine's Task uses to call a function.
func (c *Cloud) FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.opts.Region, AccountID, name)
}

// RoleARN is a syntactically valid role ARN for CreateStateMachine and the like;
// moto does not check permissions.
func (c *Cloud) RoleARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", AccountID, name)
}

// AWSConfig is an SDK configuration pointed at the cloud with dummy credentials.
// S3 clients work with it as is: the SDK uses path-style addressing for an IP endpoint.
func (c *Cloud) AWSConfig() aws.Config { return awsConfig(c.endpoint, c.opts.Region) }

// awsConfig is an SDK configuration for endpoint with the dummy credentials.
func awsConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// EnvVars is the environment that points the AWS SDK and CLI credentials at the
// cloud (awscli 2.9 ignores AWS_ENDPOINT_URL: pass --endpoint-url).
func (c *Cloud) EnvVars() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      c.endpoint,
		"AWS_ACCESS_KEY_ID":     AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey,
		"AWS_REGION":            c.opts.Region,
		"AWS_DEFAULT_REGION":    c.opts.Region,
	}
}

// ProcessIDs lists every process the cloud is running now: moto, the emulators
// and the bootstraps they started. Tests use it to prove Close leaves none.
func (c *Cloud) ProcessIDs() []int {
	var pids []int
	add := func(p *process) {
		if p != nil && p.cmd.Process != nil {
			pids = append(pids, p.pid())
			pids = append(pids, descendants(p.pid())...)
		}
	}
	add(c.moto)
	for _, pool := range c.pools {
		for _, inst := range pool.snapshot() {
			add(inst.proc)
		}
	}
	return pids
}

// Recycle gives a function a cold start: its emulators and bootstraps are replaced with
// fresh ones (waiting for invocations in flight), as Lambda replaces execution
// environments, so nothing a bootstrap kept in memory carries over to later invocations.
func (c *Cloud) Recycle(ctx context.Context, function string) error {
	pool, ok := c.pools[function]
	if !ok {
		return fmt.Errorf("localcloud: recycle: no function %q", function)
	}
	c.envMu.Lock()
	env := functionEnv(function, c.opts, c.endpoint)
	c.envMu.Unlock()
	return pool.recycle(ctx, c.rie, c.opts.Functions[function], env, c.opts.LogDir)
}

// SetEnv changes every function's environment, as a configuration update does on Lambda:
// each variable of env is set (over Options.Env and any earlier SetEnv), and every function
// gets a cold start (Recycle), so the next invocations run with it. To undo, call SetEnv
// again with the earlier values.
func (c *Cloud) SetEnv(ctx context.Context, env map[string]string) error {
	c.envMu.Lock()
	merged := maps.Clone(c.opts.Env)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, env)
	c.opts.Env = merged
	c.envMu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.pools)) {
		errs = append(errs, c.Recycle(ctx, name))
	}
	return errors.Join(errs...)
}

// Close stops the router and every process the cloud started, waiting until
// they are gone. It is safe to call more than once and from t.Cleanup.
func (c *Cloud) Close() error {
	c.closing.Do(func() {
		c.cancel()
		if c.server != nil {
			shutdownCtx, done := context.WithTimeout(context.Background(), 2*time.Second)
			if err := c.server.Shutdown(shutdownCtx); err != nil {
				_ = c.server.Close()
			}
			done()
		}
		var wg sync.WaitGroup
		stop := func(p *process) {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop() }()
		}
		if c.moto != nil {
			stop(c.moto)
		}
		for _, pool := range c.pools {
			for _, inst := range pool.snapshot() {
				stop(inst.proc)
			}
		}
		wg.Wait()
		if c.logFile != nil {
			c.closeErr = c.logFile.Close()
		}
	})
	return c.closeErr
}
