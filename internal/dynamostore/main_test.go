package dynamostore

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leadflow/attom-batch/internal/awstest"
)

// moto is the package's one server.
var moto awstest.Shared

func TestMain(m *testing.M) { os.Exit(moto.Run(m)) }

// motoConfig returns an SDK config aimed at the package's moto.
func motoConfig(t testing.TB) aws.Config {
	return moto.Config(t)
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
