// Command invoke-router runs the local cloud (internal/localcloud) by hand: moto
// with its Step Functions engine, the given Lambda functions as real bootstraps
// under aws-lambda-rie, and the router in front of both on one endpoint. It
// prints the endpoint and awscli examples and runs until interrupted.
//
//	go run ./cmd/invoke-router -port 4566 -function hello=./test/lambdas/hello
//
// A -function value that is a package directory (./functions/x) is built for
// this machine first; anything else is taken as a bootstrap binary's path.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/leadflow/attom-batch/internal/localcloud"
)

// pairs collects repeated NAME=VALUE flags.
type pairs map[string]string

func (p pairs) String() string { return fmt.Sprint(map[string]string(p)) }

func (p pairs) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" || value == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	p[name] = value
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "invoke-router:", err)
		os.Exit(1)
	}
}

func run() error {
	functions, env := pairs{}, pairs{}
	flag.Var(functions, "function", "NAME=PACKAGE_DIR or NAME=BOOTSTRAP_PATH (repeatable)")
	flag.Var(env, "env", "KEY=VALUE for every function (repeatable)")
	port := flag.Int("port", 4566, "router port: the --endpoint-url for awscli and AWS_ENDPOINT_URL (0: any free port)")
	instances := flag.Int("instances", 1, "emulators per function (invocations of one function that may run at once)")
	logDir := flag.String("logdir", "", "where moto.log, router.log and rie-*.log go (default: a new temporary directory)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bootstraps, err := bootstrapsFor(ctx, functions)
	if err != nil {
		return err
	}
	cloud, err := localcloud.Start(ctx, localcloud.Options{
		Functions: bootstraps, Env: env, LogDir: *logDir,
		InstancesPerFunction: *instances, RouterPort: *port,
	})
	if err != nil {
		return err
	}
	defer cloud.Close()
	printUsage(cloud, bootstraps)
	<-ctx.Done()
	fmt.Println("stopping")
	return nil
}

// bootstrapsFor builds the functions given as package directories.
func bootstrapsFor(ctx context.Context, functions pairs) (map[string]string, error) {
	out := map[string]string{}
	buildRoot, err := os.MkdirTemp("", "invoke-router-bin-")
	if err != nil {
		return nil, err
	}
	for name, target := range functions {
		info, err := os.Stat(target)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		if !info.IsDir() {
			out[name] = target
			continue
		}
		pkg := target
		if !strings.HasPrefix(pkg, "./") && !filepath.IsAbs(pkg) {
			pkg = "./" + pkg
		}
		path, err := localcloud.BuildBootstrap(ctx, pkg, filepath.Join(buildRoot, name))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("function %s", name), err)
		}
		out[name] = path
	}
	return out, nil
}

func printUsage(cloud *localcloud.Cloud, functions map[string]string) {
	e := cloud.Endpoint()
	fmt.Printf("local cloud at %s (logs in %s)\n", e, cloud.LogDir())
	for name := range functions {
		fmt.Printf("  function %s: %s\n", name, cloud.FunctionARN(name))
	}
	fmt.Printf(`
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=%s
aws --endpoint-url %s s3 ls
aws --endpoint-url %s stepfunctions list-state-machines
aws --endpoint-url %s dynamodb list-tables
Ctrl-C stops everything.
`, cloud.Region(), e, e, e)
}
