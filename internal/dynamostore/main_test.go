package dynamostore

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leadflow/attom-batch/internal/awstest"
)

// moto is the package's one server; motoErr says why there is none.
var (
	moto    *awstest.Moto
	motoErr error
)

func TestMain(m *testing.M) {
	moto, motoErr = awstest.Launch()
	code := m.Run()
	if moto != nil {
		moto.Stop()
	}
	os.Exit(code)
}

// motoConfig returns an SDK config aimed at the package's moto, skipping the test when moto
// is not installed.
func motoConfig(t testing.TB) aws.Config {
	t.Helper()
	if motoErr == awstest.ErrNoMoto {
		t.Skip(motoErr.Error())
	}
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	cfg, err := moto.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newTestStore creates a fresh set of tables under a unique prefix and returns the store.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	client := NewClient(motoConfig(t))
	tables := PrefixedTables(awstest.UniqueName("t") + "-")
	if err := CreateTables(context.Background(), client, tables); err != nil {
		t.Fatal(err)
	}
	s, err := New(client, tables)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	return NewClient(motoConfig(t))
}
