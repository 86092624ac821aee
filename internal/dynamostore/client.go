package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient builds the DynamoDB client from cfg, usually config.LoadDefaultConfig's. The
// endpoint is the SDK's: AWS by default, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_DYNAMODB
// (which LoadDefaultConfig reads into cfg.BaseEndpoint) for moto or LocalStack, so the same
// code runs against all three.
func NewClient(cfg aws.Config, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, optFns...)
}
