//go:build integration

package integration

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/leadflow/attom-batch/internal/localcloud"
)

// The suite runs against LocalStack instead of the local cloud when localStackEnv names its
// endpoint (`make test-localstack` sets it). LocalStack needs Docker and an auth token, so
// this mode cannot run on a machine without Docker; the local cloud proves the same tests
// there.
const (
	localStackEnv = "ATTOM_BATCH_IT_ENDPOINT"
	// simHostEnv is how the Lambda containers reach this machine, where the ATTOM simulator
	// listens (Docker's bridge gateway on Linux by default).
	simHostEnv       = "ATTOM_BATCH_IT_SIM_HOST"
	localStackAcct   = "000000000000"
	functionPrefix   = "attom-batch-it-"
	defaultSimHostIP = "172.17.0.1"
)

// cloudEnv is what the suite needs of the cloud it runs on: the local cloud (moto and the
// invoke router) or LocalStack.
type cloudEnv interface {
	Endpoint() string
	AWSConfig() aws.Config
	FunctionARN(name string) string
	RoleARN(name string) string
	EnvVars() map[string]string
	LogDir() string
	ProcessIDs() []int
	Close() error
}

var _ cloudEnv = (*localcloud.Cloud)(nil)

// localStack deploys the bootstraps as provided.al2023 functions into a running LocalStack.
type localStack struct {
	endpoint string
	cfg      aws.Config
	lambda   *lambda.Client
	logDir   string
	names    []string
}

func startLocalStack(ctx context.Context, endpoint, logDir string, functions, env map[string]string) (*localStack, error) {
	l := &localStack{endpoint: endpoint, logDir: logDir}
	l.cfg = aws.Config{
		Region:       localcloud.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(localcloud.AccessKeyID, localcloud.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
	l.lambda = lambda.NewFromConfig(l.cfg)
	for name, bootstrap := range functions {
		if err := l.deploy(ctx, name, bootstrap, env); err != nil {
			return l, err
		}
	}
	return l, nil
}

// deploy replaces any earlier function of the name and waits until it is active.
func (l *localStack) deploy(ctx context.Context, name, bootstrap string, env map[string]string) error {
	code, err := zipBootstrap(bootstrap)
	if err != nil {
		return err
	}
	fn := functionPrefix + name
	_, err = l.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)})
	var missing *lambdatypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("delete %s: %w", fn, err)
	}
	_, err = l.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(fn),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String(l.RoleARN("attom-batch-it")),
		Code:          &lambdatypes.FunctionCode{ZipFile: code},
		Architectures: []lambdatypes.Architecture{hostArchitecture()},
		Timeout:       aws.Int32(300),
		MemorySize:    aws.Int32(512),
		Environment:   &lambdatypes.Environment{Variables: env},
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", fn, err)
	}
	l.names = append(l.names, fn)
	waiter := lambda.NewFunctionActiveV2Waiter(l.lambda)
	return waiter.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)}, 2*time.Minute)
}

func hostArchitecture() lambdatypes.Architecture {
	if runtime.GOARCH == "arm64" {
		return lambdatypes.ArchitectureArm64
	}
	return lambdatypes.ArchitectureX8664
}

// zipBootstrap packs a bootstrap the way Lambda wants it: an executable named bootstrap at
// the root of the archive.
func zipBootstrap(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	header := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	header.SetMode(0o755)
	w, err := zw.CreateHeader(header)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (l *localStack) Endpoint() string      { return l.endpoint }
func (l *localStack) AWSConfig() aws.Config { return l.cfg }
func (l *localStack) LogDir() string        { return l.logDir }
func (l *localStack) ProcessIDs() []int     { return nil } // LocalStack's containers are not ours

func (l *localStack) FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s%s", localcloud.DefaultRegion, localStackAcct, functionPrefix, name)
}

func (l *localStack) RoleARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", localStackAcct, name)
}

// EnvVars is what a client process (the CLI under test) needs to reach LocalStack.
func (l *localStack) EnvVars() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      l.endpoint,
		"AWS_ACCESS_KEY_ID":     localcloud.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": localcloud.SecretAccessKey,
		"AWS_REGION":            localcloud.DefaultRegion,
		"AWS_DEFAULT_REGION":    localcloud.DefaultRegion,
	}
}

// Close removes the functions it deployed; the tables, bucket and state machines go with
// LocalStack's container.
func (l *localStack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, fn := range l.names {
		if _, err := l.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn)}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// simHost is the address the Lambdas use for the simulator in LocalStack mode.
func simHost() string {
	if h := os.Getenv(simHostEnv); h != "" {
		return h
	}
	return defaultSimHostIP
}
