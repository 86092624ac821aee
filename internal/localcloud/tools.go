package localcloud

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// RIEVersion is the aws-lambda-rie module version `make tools` installs; the
// harness relies on its flags and its error-as-HTTP-200 behaviour.
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// RIEModule is the go install path of the Lambda Runtime Interface Emulator.
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// ErrNoRIE says aws-lambda-rie is not installed; the message says how to get it.
var ErrNoRIE = errors.New("localcloud: aws-lambda-rie not found in $GOBIN, $(go env GOPATH)/bin or PATH; run `make tools` (or scripts/localcloud/tools.sh, which runs go install " + RIEModule + "@" + RIEVersion + ")")

// FindRIE locates aws-lambda-rie where `go install` puts it ($GOBIN, then
// $(go env GOPATH)/bin), then on PATH.
func FindRIE() (string, error) {
	const name = "aws-lambda-rie"
	for _, dir := range goBinDirs() {
		candidate := filepath.Join(dir, name)
		if info, err := os.Stat(candidate); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", ErrNoRIE
}

// goBinDirs lists where go install writes binaries, most specific first.
func goBinDirs() []string {
	var dirs []string
	if gobin := goEnv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gopath := range filepath.SplitList(goEnv("GOPATH")) {
		if gopath != "" {
			dirs = append(dirs, filepath.Join(gopath, "bin"))
		}
	}
	return dirs
}

// goEnv reads a Go setting from the environment, falling back to `go env`,
// which knows the defaults (GOPATH defaults to ~/go).
func goEnv(key string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// ModuleRoot walks up from the working directory (a test's package directory)
// to the directory holding go.mod, where scripts/ and functions/ live.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("localcloud: module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("localcloud: module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// BuildBootstrap compiles a Lambda's main package (a path relative to the module
// root, e.g. "./functions/prepare") into outDir/bootstrap for this machine, with
// the same flags as the release build except the target, and returns its path.
func BuildBootstrap(ctx context.Context, pkg, outDir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(outDir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-o", out, pkg)
	cmd.Dir = root
	// Empty GOOS/GOARCH mean this machine, whatever the caller exported for a release build.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=", "GOARCH=")
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("localcloud: build %s: %w\n%s", pkg, err, output)
	}
	return out, nil
}
