package awstest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	if errors.Is(err, ErrNoMoto) {
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

// TestConcurrentUpdatesAreAtomic shows why the server is serialized: concurrent ADDs to one
// DynamoDB item must all land, as on AWS (plain moto_server loses some).
func TestConcurrentUpdatesAreAtomic(t *testing.T) {
	StartMoto(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := UniqueName("counter")
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "c"}}
	const writers = 100
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(table),
				Key:                       key,
				UpdateExpression:          aws.String("ADD n :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || n.Value != strconv.Itoa(writers) {
		t.Errorf("after %d concurrent ADD 1: n = %v, want %d", writers, out.Item["n"], writers)
	}
}

func TestParallelServerStarts(t *testing.T) {
	endpoint := StartMoto(t, Parallel())
	resp, err := http.Get(endpoint + "/moto-api/")
	if err != nil {
		t.Fatalf("parallel moto_server does not answer: %v", err)
	}
	resp.Body.Close()
}
