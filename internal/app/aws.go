package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/dynamostore"
	"github.com/leadflow/attom-batch/internal/s3blob"
	"github.com/leadflow/attom-batch/internal/sfnlaunch"
)

// Cloud is the system wired to AWS: DynamoDB for jobs, records, leads and the budget, S3 for
// files, Step Functions for the workflows. AWS_ENDPOINT_URL (honoured by the SDK) points it
// at moto or LocalStack instead.
type Cloud struct {
	Tasks  *batch.Tasks
	Config config.Config
	AWS    aws.Config
	S3     *s3.Client
	SFN    *sfn.Client
	Attom  *Attom
}

// OpenCloud builds the AWS backend. The ATTOM key comes from ATTOM_API_KEY or, on Lambda,
// from the SSM SecureString named by ATTOM_API_KEY_PARAMETER; it is never logged.
func OpenCloud(ctx context.Context, cfg config.Config, log *slog.Logger) (*Cloud, error) {
	if err := requireCloudNames(cfg); err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, regionOption(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	keyErr := resolveAPIKey(ctx, awsCfg, &cfg)
	settings, err := Settings(cfg)
	if err != nil {
		return nil, err
	}
	// Nothing renews a job's lease while the pipeline sits in a Wait state, so each task's
	// renewal covers the wait that follows it.
	settings.LeaseCoversWaits = true
	store, err := dynamostore.New(dynamostore.NewClient(awsCfg), tablesOf(cfg))
	if err != nil {
		return nil, err
	}
	s3Client := s3blob.NewClient(awsCfg)
	sfnClient := sfn.NewFromConfig(awsCfg)
	at, lookup, err := cloudAttom(cfg, keyErr)
	if err != nil {
		return nil, err
	}
	tasks := &batch.Tasks{
		Stores:   store.Stores(s3blob.New(s3Client, cfg.AWS.Bucket), cfg.DailyCapCents),
		Attom:    lookup,
		Launcher: &sfnlaunch.Launcher{API: sfnClient, StateMachineARN: cfg.AWS.LookupStateARN},
		Settings: settings,
		Log:      log,
	}
	if notifier := cloudNotifier(cfg, awsCfg, tasks.Jobs, log); notifier != nil {
		tasks.Notifier = notifier
	}
	return &Cloud{Tasks: tasks, Config: cfg, AWS: awsCfg, S3: s3Client, SFN: sfnClient, Attom: at}, nil
}

// cloudAttom builds the ATTOM client when the key could be read. Only the lookup function may
// read the key's SSM parameter: every other function starts without it and never calls
// ATTOM, so a key that cannot be read fails the first ATTOM call (as a refused key, which
// fails the job saying why), not the function's start.
func cloudAttom(cfg config.Config, keyErr error) (*Attom, batch.AttomLookup, error) {
	if keyErr != nil {
		return &Attom{}, missingKey{err: keyErr}, nil
	}
	at, err := NewAttom(cfg, attomsim.Options{}, false)
	if err != nil {
		return nil, nil, err
	}
	return at, at.Client, nil
}

// missingKey stands in for the ATTOM client of a function that could not read the key.
type missingKey struct{ err error }

func (m missingKey) Lookup(_ context.Context, endpoint string, _ attom.Query) (attom.Result, error) {
	return attom.Result{Endpoint: endpoint, Outcome: attom.Unauthorized},
		&attom.AttomUnauthorized{Endpoint: endpoint, Msg: "the ATTOM key could not be read: " + m.err.Error()}
}

func regionOption(cfg config.Config) []func(*awsconfig.LoadOptions) error {
	if cfg.AWS.Region == "" {
		return nil
	}
	return []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.AWS.Region)}
}

func tablesOf(cfg config.Config) dynamostore.Tables {
	return dynamostore.Tables{
		Jobs: cfg.AWS.JobsTable, Properties: cfg.AWS.PropertiesTable, Leads: cfg.AWS.LeadsTable,
		Lookups: cfg.AWS.LookupsTable, Budget: cfg.AWS.BudgetTable,
	}
}

func requireCloudNames(cfg config.Config) error {
	if cfg.AWS.Bucket == "" {
		return errors.New("aws backend: ATTOM_BATCH_BUCKET is not set (the stack's BucketName output)")
	}
	return tablesOf(cfg).Validate()
}

// resolveAPIKey reads the key from SSM when only the parameter's name is configured. With
// neither a key nor a parameter the cloud would run on simulated data, which a deployed
// system must never do silently: that is an error.
func resolveAPIKey(ctx context.Context, awsCfg aws.Config, cfg *config.Config) error {
	if cfg.ATTOMAPIKey.Reveal() != "" {
		return nil
	}
	if cfg.ATTOMAPIKeyParameter == "" {
		return errors.New("aws backend: set ATTOM_API_KEY_PARAMETER (an SSM SecureString) or ATTOM_API_KEY")
	}
	out, err := ssm.NewFromConfig(awsCfg).GetParameter(ctx, &ssm.GetParameterInput{
		Name: aws.String(cfg.ATTOMAPIKeyParameter), WithDecryption: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("read ATTOM key from SSM parameter %s: %w", cfg.ATTOMAPIKeyParameter, err)
	}
	cfg.ATTOMAPIKey = config.Secret(aws.ToString(out.Parameter.Value))
	return nil
}

// MustLambdaTasks is every Lambda's start-up: configuration from the environment, clients
// built once, JSON logs through lambdacontext. A function that cannot start exits with the
// reason, before it takes any event.
func MustLambdaTasks(ctx context.Context) *batch.Tasks {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	cfg, err := config.Load(config.LoadOptions{})
	if err == nil {
		cfg.Backend = config.BackendAWS
		var cloud *Cloud
		if cloud, err = OpenCloud(ctx, cfg, log); err == nil {
			return cloud.Tasks
		}
	}
	log.Error("cannot start", "error", err.Error())
	os.Exit(1)
	return nil
}

// MustLambdaStarter is the start function's start-up: it needs only the bucket's name and
// the pipeline's ARN, a Step Functions client and an S3 client for the uploads' metadata
// (no table, no ATTOM key). A function that
// cannot start exits with the reason, before it takes any event.
func MustLambdaStarter(ctx context.Context) *batch.Starter {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	starter, err := newStarter(ctx, log)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	return starter
}

func newStarter(ctx context.Context, log *slog.Logger) (*batch.Starter, error) {
	cfg, err := config.Load(config.LoadOptions{})
	if err != nil {
		return nil, err
	}
	if cfg.AWS.Bucket == "" || cfg.AWS.PipelineStateARN == "" {
		return nil, errors.New("start function: ATTOM_BATCH_BUCKET and ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN must be set")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, regionOption(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return &batch.Starter{
		Bucket:   cfg.AWS.Bucket,
		Pipeline: &sfnlaunch.Pipeline{API: sfn.NewFromConfig(awsCfg), StateMachineARN: cfg.AWS.PipelineStateARN},
		Metadata: s3blob.New(s3blob.NewClient(awsCfg), cfg.AWS.Bucket).Metadata,
		Log:      log,
	}, nil
}
