package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// updateAttempts bounds UpdateJob's optimistic-locking retries. Each lost race means some
// other writer landed, so only a crowd of concurrent writers to one job needs many.
const updateAttempts = 12

// Backoff between lost races: jittered, doubling from updateBackoff up to maxUpdateBackoff.
const (
	updateBackoff    = 5 * time.Millisecond
	maxUpdateBackoff = 200 * time.Millisecond
)

// errVersionConflict is a lost optimistic-locking race; UpdateJob retries on it.
var errVersionConflict = errors.New("job changed since it was read")

// CreateJob implements batch.JobStore with a PutItem conditioned on attribute_not_exists(id):
// a job id that exists is left alone and created is false.
func (s *Store) CreateJob(ctx context.Context, job batch.Job) (bool, error) {
	if job.ID == "" {
		return false, errors.New("dynamostore: create job: empty id")
	}
	job.Version = 1
	item, err := attributevalue.MarshalMap(toJobItem(job))
	if err != nil {
		return false, fmt.Errorf("dynamostore: create job %q: %w", job.ID, err)
	}
	created, err := putIf(ctx, s.client, s.tables.Jobs, item, expression.AttributeNotExists(expression.Name(attrID)))
	if err != nil {
		return false, fmt.Errorf("dynamostore: create job %q: %w", job.ID, err)
	}
	return created, nil
}

// GetJob implements batch.JobStore with a consistent read; a missing job wraps
// batch.ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (batch.Job, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Jobs),
		Key:            jobItem{ID: id}.key(),
		ConsistentRead: consistent,
	})
	if err != nil {
		return batch.Job{}, fmt.Errorf("dynamostore: get job %q: %w", id, err)
	}
	if out.Item == nil {
		return batch.Job{}, notFound("job", id)
	}
	return decodeJob(out.Item)
}

func decodeJob(av map[string]types.AttributeValue) (batch.Job, error) {
	var it jobItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return batch.Job{}, fmt.Errorf("dynamostore: decode job: %w", err)
	}
	return it.job()
}

// UpdateJob implements batch.JobStore: read, mutate, and put back conditioned on the
// version read (optimistic locking), retrying with jittered backoff when another writer
// (UpdateJob or AddCounters) came in between. An error from mutate is returned wrapped and
// nothing is written.
func (s *Store) UpdateJob(ctx context.Context, id string, mutate func(*batch.Job) error) (batch.Job, error) {
	backoff := updateBackoff
	for attempt := 1; ; attempt++ {
		job, err := s.updateOnce(ctx, id, mutate)
		if !errors.Is(err, errVersionConflict) {
			return job, err
		}
		if attempt == updateAttempts {
			return batch.Job{}, fmt.Errorf("dynamostore: update job %q: gave up after %d attempts: %w", id, attempt, err)
		}
		if err := sleep(ctx, backoff/2+rand.N(backoff)); err != nil {
			return batch.Job{}, fmt.Errorf("dynamostore: update job %q: %w", id, err)
		}
		backoff = min(2*backoff, maxUpdateBackoff)
	}
}

// updateOnce is one read-mutate-write round; errVersionConflict means it lost a race.
func (s *Store) updateOnce(ctx context.Context, id string, mutate func(*batch.Job) error) (batch.Job, error) {
	job, err := s.GetJob(ctx, id)
	if err != nil {
		return batch.Job{}, err
	}
	read := job.Version
	if err := mutate(&job); err != nil {
		return batch.Job{}, fmt.Errorf("dynamostore: update job %q: %w", id, err)
	}
	job.ID, job.Version = id, read+1
	item, err := attributevalue.MarshalMap(toJobItem(job))
	if err != nil {
		return batch.Job{}, fmt.Errorf("dynamostore: update job %q: %w", id, err)
	}
	put, err := putIf(ctx, s.client, s.tables.Jobs, item, expression.Name(attrVersion).Equal(expression.Value(read)))
	switch {
	case err != nil:
		return batch.Job{}, fmt.Errorf("dynamostore: update job %q: %w", id, err)
	case !put:
		return batch.Job{}, errVersionConflict
	}
	return job, nil
}

// AddCounters implements batch.JobStore with one UpdateItem that ADDs every non-zero
// delta, which DynamoDB applies atomically however many chunks report at once. It also
// bumps version, so an UpdateJob that read before cannot write stale counts back.
func (s *Store) AddCounters(ctx context.Context, id string, d batch.Counters) error {
	update := expression.Add(expression.Name(attrVersion), expression.Value(1))
	for _, c := range []struct {
		attr  string
		delta int64
	}{
		{"records_found", int64(d.RecordsFound)},
		{"not_found_records", int64(d.NotFoundRecords)},
		{"error_records", int64(d.ErrorRecords)},
		{"looked_up_records", int64(d.LookedUpRecords)},
		{"chunks_done", int64(d.ChunksDone)},
		{"cost_reserved_cents", d.CostReservedCents},
		{"cost_spent_cents", d.CostSpentCents},
		{"reused_records", int64(d.ReusedRecords)},
		{"cost_uncertain_cents", d.CostUncertainCents},
		{"processed_records", int64(d.ProcessedRecords)},
		{"leads_created", int64(d.LeadsCreated)},
		{"leads_updated", int64(d.LeadsUpdated)},
	} {
		if c.delta != 0 {
			update = update.Add(expression.Name(c.attr), expression.Value(c.delta))
		}
	}
	expr, err := expression.NewBuilder().
		WithUpdate(update).
		WithCondition(expression.AttributeExists(expression.Name(attrID))).Build()
	if err != nil {
		return fmt.Errorf("dynamostore: add counters to job %q: %w", id, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Jobs),
		Key:                       jobItem{ID: id}.key(),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	switch {
	case isConditionFailed(err):
		return notFound("job", id)
	case err != nil:
		return fmt.Errorf("dynamostore: add counters to job %q: %w", id, err)
	}
	return nil
}

// ListJobs implements batch.JobStore: a Query on the by_created index, newest first;
// limit 0 or less lists all.
func (s *Store) ListJobs(ctx context.Context, limit int) ([]batch.Job, error) {
	keyCond := expression.Key(attrGSIPK).Equal(expression.Value(gsiPKJob))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, fmt.Errorf("dynamostore: list jobs: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Jobs),
		IndexName:                 aws.String(indexByCreated),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
	}
	var jobs []batch.Job
	err = queryAll(ctx, s.client, in, limit, func(av map[string]types.AttributeValue) error {
		job, err := decodeJob(av)
		jobs = append(jobs, job)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: list jobs: %w", err)
	}
	return jobs, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
