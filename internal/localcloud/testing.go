package localcloud

import (
	"context"
	"errors"
	"testing"
)

// StartForTest starts a local cloud for one test and closes it when the test
// ends, failed or panicking included (t.Cleanup). It skips the test, saying
// why, only when moto is not installed; a missing aws-lambda-rie is a failure
// (CI installs it with `make tools`). On failure it logs where the logs are.
func StartForTest(t testing.TB, opts Options) *Cloud {
	t.Helper()
	if err := MotoAvailable(context.Background()); errors.Is(err, ErrNoMoto) {
		t.Skip(err.Error())
	}
	if opts.LogDir == "" {
		opts.LogDir = t.TempDir()
	}
	cloud, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("localcloud logs: %s\nmoto.log tail:\n%s\nrouter.log tail:\n%s",
				cloud.LogDir(), tailFile(cloud.LogDir()+"/moto.log", 3000), tailFile(cloud.LogDir()+"/router.log", 2000))
		}
		if err := cloud.Close(); err != nil {
			t.Errorf("localcloud: close: %v", err)
		}
	})
	return cloud
}
