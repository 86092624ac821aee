// Package events holds the two events that start work in attom-batch: EventBridge's S3
// "Object Created" (a CSV dropped under incoming/) and the scheduled refresh. The JSON
// fixtures in testdata/ are the shapes AWS delivers; the integration tests start executions
// with them because moto does not turn S3 writes into events.
package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// Envelope is the part every EventBridge event shares.
type Envelope struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
}

// DetailTypeObjectCreated and SourceS3 identify an S3 upload event.
const (
	DetailTypeObjectCreated = "Object Created"
	SourceS3                = "aws.s3"
	DetailTypeScheduled     = "Scheduled Event"
	SourceScheduler         = "aws.scheduler"
)

// ObjectCreated is EventBridge's "Object Created" event from an S3 bucket with EventBridge
// notifications on.
type ObjectCreated struct {
	Envelope
	Detail ObjectCreatedDetail `json:"detail"`
}

// ObjectCreatedDetail names the bucket and object.
type ObjectCreatedDetail struct {
	Version         string    `json:"version"`
	Bucket          BucketRef `json:"bucket"`
	Object          ObjectRef `json:"object"`
	RequestID       string    `json:"request-id,omitempty"`
	Requester       string    `json:"requester,omitempty"`
	SourceIPAddress string    `json:"source-ip-address,omitempty"`
	Reason          string    `json:"reason,omitempty"`
}

// BucketRef is the bucket of an S3 event.
type BucketRef struct {
	Name string `json:"name"`
}

// ObjectRef is the object of an S3 event. ETag (with VersionID on versioned buckets) tells
// one upload of a key from the next, which is what makes job ids idempotent.
type ObjectRef struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"etag"`
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`
}

// NewObjectCreated builds the event AWS would send for an upload, for local runs and tests.
func NewObjectCreated(bucket, key, etag string, size int64, at time.Time) ObjectCreated {
	return ObjectCreated{
		Envelope: Envelope{
			Version:    "0",
			ID:         fmt.Sprintf("local-%s-%s", etag, at.UTC().Format("20060102T150405")),
			DetailType: DetailTypeObjectCreated,
			Source:     SourceS3,
			Account:    "000000000000",
			Time:       at.UTC(),
			Region:     "us-east-1",
			Resources:  []string{"arn:aws:s3:::" + bucket},
		},
		Detail: ObjectCreatedDetail{
			Version: "0",
			Bucket:  BucketRef{Name: bucket},
			Object:  ObjectRef{Key: key, Size: size, ETag: etag},
			Reason:  "PutObject",
		},
	}
}

// Validate reports what is missing for the pipeline to use the event.
func (e ObjectCreated) Validate() error {
	switch {
	case e.DetailType != DetailTypeObjectCreated:
		return fmt.Errorf("event detail-type %q: want %q", e.DetailType, DetailTypeObjectCreated)
	case e.Detail.Bucket.Name == "":
		return fmt.Errorf("event detail.bucket.name is empty")
	case e.Detail.Object.Key == "":
		return fmt.Errorf("event detail.object.key is empty")
	}
	return nil
}

// ScheduledRefresh is the event the refresh schedule sends. EventBridge Scheduler delivers
// whatever input the schedule names; the stack sends this shape, with optional overrides in
// Detail.
type ScheduledRefresh struct {
	Envelope
	Detail RefreshDetail `json:"detail"`
}

// RefreshDetail optionally overrides the configured refresh age and batch size.
type RefreshDetail struct {
	MaxAgeDays int `json:"max_age_days,omitempty"`
	Limit      int `json:"limit,omitempty"`
	// All refreshes every record whatever its age (a person's choice, never the schedule's).
	All bool `json:"all,omitempty"`
}

// Parse decodes raw JSON into v and says which event failed to decode.
func Parse(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("events: decode %T: %w", v, err)
	}
	return nil
}
