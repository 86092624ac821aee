package s3blob

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient builds the S3 client from cfg, usually config.LoadDefaultConfig's. The
// endpoint is the SDK's: AWS by default, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 for moto
// or LocalStack, so the same code runs against all three. With any custom endpoint the
// client uses path-style addressing (http://host/bucket/key), since those servers do not
// serve bucket subdomains.
func NewClient(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(cfg, append(slices.Clip(optFns), pathStyleOnCustomEndpoint)...)
}

// pathStyleOnCustomEndpoint runs after every other option, when the endpoint is known. It
// also silences the SDK's debug line for every response that carries no checksum, which
// moto and LocalStack responses do not, so test logs stay readable.
func pathStyleOnCustomEndpoint(o *s3.Options) {
	if o.BaseEndpoint != nil {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	}
}
