// Command infra is the CDK app of attom-batch (`cdk synth` from the repo root runs it via
// cdk.json). It lives in its own module so the runtime module's tests never pull in jsii
// and Node.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// StackID is the stack's construct id and default name.
const StackID = "AttomBatch"

func main() {
	if err := reexecWithCLIPaths(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	settings, err := SettingsFromContext(app.Node())
	if err != nil {
		return err
	}
	if err := CheckBootstraps(settings); err != nil {
		return err
	}
	defs, err := LoadDefinitions(settings.StateMachineDir)
	if err != nil {
		return err
	}
	NewAttomBatchStack(app, StackID, &AttomBatchStackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("attom-batch: CSV of US addresses to scored leads with ATTOM data"),
		},
		Settings:    settings,
		Definitions: defs,
	})
	ApplyNagChecks(app)
	app.Synth(nil)
	return nil
}

// cliPathVariables are the paths the CDK CLI hands the app, relative to its own working
// directory (the repo root holding cdk.json).
var cliPathVariables = []string{"CDK_OUTDIR", "CDK_ERROR_FILE", "CDK_PERF_COUNTERS_FILE"}

// reexecWithCLIPaths restarts the app with the CLI's relative paths made absolute.
// cdk.json's app runs `cd infra` first, so the library would write the cloud assembly to
// infra/cdk.out, where the CLI never looks. Setting the variables here is too late: the jsii
// kernel (a Node process inheriting this environment) starts while the CDK packages
// initialize, before main. The re-executed process finds the paths absolute and goes on.
func reexecWithCLIPaths() error {
	env, changed, err := absoluteCLIPaths(os.Environ())
	if err != nil || !changed {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable to re-run with absolute CDK paths: %w", err)
	}
	return syscall.Exec(exe, os.Args, env)
}

// absoluteCLIPaths rewrites relative CLI paths in env against the parent directory when
// that directory holds cdk.json (the app was started through it).
func absoluteCLIPaths(env []string) ([]string, bool, error) {
	if _, err := os.Stat(filepath.Join("..", "cdk.json")); err != nil {
		return env, false, nil
	}
	out := make([]string, len(env))
	changed := false
	for i, kv := range env {
		out[i] = kv
		name, path, _ := strings.Cut(kv, "=")
		if path == "" || filepath.IsAbs(path) || !slices.Contains(cliPathVariables, name) {
			continue
		}
		abs, err := filepath.Abs(filepath.Join("..", path))
		if err != nil {
			return env, false, fmt.Errorf("resolve %s %q: %w", name, path, err)
		}
		out[i] = name + "=" + abs
		changed = true
	}
	return out, changed, nil
}
