package dynamostore

import (
	"context"
	"testing"

	"github.com/leadflow/attom-batch/internal/awstest"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/batch/storetest"
	"github.com/leadflow/attom-batch/internal/s3blob"
)

// testCapCents is the daily cap the conformance suite's budget runs against.
const testCapCents = 1000

// TestConformance runs the shared store suite against DynamoDB and S3 on moto, with fresh
// tables and a fresh bucket for every store the suite asks for.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) batch.Stores {
		s := newTestStore(t)
		s3c := s3blob.NewClient(motoConfig(t))
		bucket := awstest.UniqueName("b-")
		if err := s3blob.CreateBucket(context.Background(), s3c, bucket); err != nil {
			t.Fatal(err)
		}
		return s.Stores(s3blob.New(s3c, bucket), testCapCents)
	})
}
