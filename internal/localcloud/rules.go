package localcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/leadflow/attom-batch/events"
)

// ObjectRule is what an EventBridge rule on a bucket's "Object Created" events does in the
// deployed stack: every object created in Bucket whose key starts with Prefix and ends with
// Suffix is delivered to Function as the event S3 sends EventBridge
// (events.ObjectCreated), as an asynchronous invocation. moto sends no S3 events to
// functions it cannot run, so the router raises them itself.
type ObjectRule struct {
	Bucket, Prefix, Suffix string
	Function               string
}

// matches reports whether an object created under key in bucket is the rule's.
func (r ObjectRule) matches(bucket, key string) bool {
	return r.Bucket == bucket && strings.HasPrefix(key, r.Prefix) && strings.HasSuffix(key, r.Suffix)
}

// objectRef names an object a request creates.
type objectRef struct{ bucket, key string }

// watchedObject recognises a request that creates an object a rule watches: PutObject and
// CopyObject (PUT /bucket/key with no sub-resource) and CompleteMultipartUpload (POST
// /bucket/key?uploadId=). Only path-style addressing is recognised; the SDK and awscli use
// it for an IP endpoint such as the router's.
func (rt *router) watchedObject(r *http.Request) (ObjectRule, objectRef, bool) {
	if len(rt.rules) == 0 || !createsObject(r) {
		return ObjectRule{}, objectRef{}, false
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || key == "" {
		return ObjectRule{}, objectRef{}, false
	}
	for _, rule := range rt.rules {
		if rule.matches(bucket, key) {
			return rule, objectRef{bucket, key}, true
		}
	}
	return ObjectRule{}, objectRef{}, false
}

// createsObject tells the S3 calls that finish creating an object from the others on an
// object's path (parts of an upload, tags, ACLs, reads).
func createsObject(r *http.Request) bool {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		for _, sub := range []string{"partNumber", "uploadId", "tagging", "acl", "retention", "legal-hold"} {
			if q.Has(sub) {
				return false
			}
		}
		return true
	case http.MethodPost:
		return q.Has("uploadId")
	}
	return false
}

// asyncAttempts is how often an asynchronous invocation is tried when the function
// fails: Lambda retries an async event's function error twice. The waits between tries
// are seconds here (a minute and two on Lambda) so that tests see the retries.
const asyncAttempts = 3

// deliverObjectCreated builds the event S3 sends EventBridge for the new object and
// invokes the rule's function with it, retrying a function error as Lambda's async
// invocation does. Every delivery is logged in router.log.
func (rt *router) deliverObjectCreated(rule ObjectRule, obj objectRef) {
	ev, err := rt.objectCreatedEvent(obj)
	if err != nil {
		rt.log.Printf("rule %s: s3://%s/%s: %v", rule.Function, obj.bucket, obj.key, err)
		return
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		rt.log.Printf("rule %s: %v", rule.Function, err)
		return
	}
	pool := rt.pools[rule.Function]
	for attempt := 1; attempt <= asyncAttempts; attempt++ {
		result, err := rt.run(rt.baseCtx, pool, payload)
		if err == nil && !result.functionError {
			rt.log.Printf("rule %s: s3://%s/%s delivered: %s", rule.Function, obj.bucket, obj.key, result.body)
			return
		}
		rt.log.Printf("rule %s: s3://%s/%s attempt %d of %d failed: %v %s", rule.Function, obj.bucket, obj.key,
			attempt, asyncAttempts, err, result.body)
		select {
		case <-rt.baseCtx.Done():
			return
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
}

// objectCreatedEvent reads the object's ETag, size and version from moto (HeadObject, as
// S3 fills the event from the object it stored) and builds the event.
func (rt *router) objectCreatedEvent(obj objectRef) (events.ObjectCreated, error) {
	head, err := rt.s3.HeadObject(rt.baseCtx, &s3.HeadObjectInput{Bucket: aws.String(obj.bucket), Key: aws.String(obj.key)})
	if err != nil {
		return events.ObjectCreated{}, err
	}
	etag := strings.Trim(aws.ToString(head.ETag), `"`)
	ev := events.NewObjectCreated(obj.bucket, obj.key, etag, aws.ToInt64(head.ContentLength), time.Now())
	ev.Detail.Object.VersionID = aws.ToString(head.VersionId)
	// S3 gives every write of a key a sequencer that grows with later writes, shared by
	// every delivery of that write's event; the time of delivery serves, as each write is
	// delivered once.
	ev.Detail.Object.Sequencer = fmt.Sprintf("%016X", time.Now().UnixNano())
	ev.Account = AccountID
	return ev, nil
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
