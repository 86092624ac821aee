// Package notify tells people when a job needs them: it delivers job events (completed,
// failed, paused, resumed, cancelled) to a webhook as signed JSON, retrying with backoff,
// without ever failing or slowing the job.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Headers of a webhook delivery.
const (
	SignatureHeader = "X-Attom-Batch-Signature" // sha256=<hex HMAC-SHA256 of the body>
	EventIDHeader   = "X-Attom-Batch-Event-Id"
	EventTypeHeader = "X-Attom-Batch-Event"
	TimestampHeader = "X-Attom-Batch-Timestamp" // unix seconds of this attempt
)

// Sign is the signature header's value for body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify tells whether header is body's signature under secret, in constant time.
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Webhook posts job events to one URL.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
	// Attempts is how many times an event is tried (default 6); Backoff the first wait
	// between tries (default 1 s), doubling each time.
	Attempts int
	Backoff  time.Duration
	// Sleep waits between tries; tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Delivery is what became of one event.
type Delivery struct {
	EventID  string    `json:"event_id"`
	Type     string    `json:"type"`
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts"`
	Status   int       `json:"status,omitempty"` // the receiver's last HTTP status
	Err      string    `json:"error,omitempty"`  // empty when delivered
}

// Delivered tells a delivery that reached the receiver.
func (d Delivery) Delivered() bool { return d.Err == "" }

// String is the line `status` shows.
func (d Delivery) String() string {
	if d.Delivered() {
		return fmt.Sprintf("%s delivered %s (HTTP %d, %d attempt(s))", d.Type, d.At.UTC().Format(time.RFC3339), d.Status, d.Attempts)
	}
	return fmt.Sprintf("%s NOT delivered after %d attempt(s), last at %s: %s", d.Type, d.Attempts, d.At.UTC().Format(time.RFC3339), d.Err)
}

// Deliver posts ev, retrying transport errors, 429 and 5xx with doubling waits; another
// answer than 2xx is final. It never returns an error: the delivery says what happened.
func (w *Webhook) Deliver(ctx context.Context, ev batch.JobEvent) Delivery {
	d := Delivery{EventID: ev.ID, Type: ev.Type}
	body, err := json.Marshal(ev)
	if err != nil {
		d.Err, d.At = err.Error(), time.Now()
		return d
	}
	wait := cmpOr(w.Backoff, time.Second)
	for d.Attempts < cmpOr(w.Attempts, 6) {
		if d.Attempts > 0 {
			if err := w.sleep(ctx, wait); err != nil {
				d.Err = err.Error()
				return d
			}
			wait *= 2
		}
		d.Attempts++
		retry := w.post(ctx, ev, body, &d)
		if !retry {
			return d
		}
	}
	return d
}

// post makes one attempt; it reports whether another is worth making.
func (w *Webhook) post(ctx context.Context, ev batch.JobEvent, body []byte, d *Delivery) bool {
	d.At, d.Status, d.Err = time.Now(), 0, ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		d.Err = err.Error()
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "attom-batch-webhook/1")
	req.Header.Set(EventIDHeader, ev.ID)
	req.Header.Set(EventTypeHeader, ev.Type)
	req.Header.Set(TimestampHeader, strconv.FormatInt(d.At.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	resp, err := w.client().Do(req)
	if err != nil {
		d.Err = redactURL(err.Error(), w.URL)
		return ctx.Err() == nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	d.Status = resp.StatusCode
	if resp.StatusCode/100 == 2 {
		return false
	}
	d.Err = "HTTP " + strconv.Itoa(resp.StatusCode)
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
}

func (w *Webhook) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (w *Webhook) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// redactURL keeps a URL's query (where receivers often put a token) out of error text.
func redactURL(msg, url string) string {
	if i := strings.IndexByte(url, '?'); i >= 0 {
		return strings.ReplaceAll(msg, url, url[:i]+"?…")
	}
	return msg
}

func cmpOr[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}
