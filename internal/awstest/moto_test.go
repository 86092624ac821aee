package awstest

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

func TestStartMotoAnswersAndSetsEnv(t *testing.T) {
	endpoint := StartMoto(t)
	resp, err := http.Get(endpoint + "/moto-api/")
	if err != nil {
		t.Fatalf("moto at %s does not answer: %v", endpoint, err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey, "AWS_REGION": Region,
	} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The SDK's default chain picks the endpoint up from AWS_ENDPOINT_URL.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != endpoint || cfg.Region != Region {
		t.Errorf("LoadDefaultConfig: endpoint %v region %q, want %s and %s", cfg.BaseEndpoint, cfg.Region, endpoint, Region)
	}
}

func TestStopKillsTheProcessGroup(t *testing.T) {
	m, err := Launch()
	if err == ErrNoMoto {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	pid := m.cmd.Process.Pid
	m.Stop()
	m.Stop() // twice is harmless
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still alive after Stop", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := http.Get(m.Endpoint + "/moto-api/"); err == nil {
		t.Errorf("%s still answers after Stop", m.Endpoint)
	}
}

func TestUniqueNameIsBucketSafe(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)
	a, b := UniqueName("t-"), UniqueName("t-")
	if a == b {
		t.Errorf("two names are equal: %s", a)
	}
	for _, n := range []string{a, b} {
		if !valid.MatchString(n) {
			t.Errorf("%q is not a valid bucket name", n)
		}
	}
}
