package notify

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

const secret = "whsec-test-1f9c"

func event(typ string) batch.JobEvent {
	return batch.JobEvent{ID: "evt-" + typ, Type: typ, Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Job: batch.Job{ID: "job-1", Name: "list", Status: typ}}
}

// receiver answers with codes in turn (the last one from then on) and keeps what it got.
type receiver struct {
	mu     sync.Mutex
	codes  []int
	bodies [][]byte
	heads  []http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
	r.heads = append(r.heads, req.Header.Clone())
	code := r.codes[min(len(r.bodies), len(r.codes))-1]
	w.WriteHeader(code)
}

func instant(context.Context, time.Duration) error { return nil }

func TestADeliveryIsSignedAndVerifies(t *testing.T) {
	rec := &receiver{codes: []int{200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	hook := &Webhook{URL: srv.URL, Secret: secret, Sleep: instant}
	d := hook.Deliver(context.Background(), event(batch.EventCompleted))
	if !d.Delivered() || d.Attempts != 1 || d.Status != 200 {
		t.Fatalf("delivery %+v", d)
	}
	h := rec.heads[0]
	if !Verify(secret, rec.bodies[0], h.Get(SignatureHeader)) || Verify("other", rec.bodies[0], h.Get(SignatureHeader)) {
		t.Fatalf("signature %q does not verify", h.Get(SignatureHeader))
	}
	if h.Get(EventIDHeader) != "evt-completed" || h.Get(EventTypeHeader) != "completed" || h.Get(TimestampHeader) == "" {
		t.Fatalf("headers %v", h)
	}
	if strings.Contains(string(rec.bodies[0]), secret) || strings.Contains(d.String(), secret) {
		t.Fatal("the secret leaked")
	}
}

func TestAReceiverThatFailsThenRecoversGetsTheEventOnce(t *testing.T) {
	rec := &receiver{codes: []int{500, 503, 200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	d := (&Webhook{URL: srv.URL, Secret: secret, Sleep: instant}).Deliver(context.Background(), event(batch.EventPaused))
	if !d.Delivered() || d.Attempts != 3 || len(rec.bodies) != 3 {
		t.Fatalf("delivery %+v after %d posts", d, len(rec.bodies))
	}
	for _, h := range rec.heads {
		if h.Get(EventIDHeader) != "evt-paused" {
			t.Fatal("every try carries the same event id, so the receiver can drop repeats")
		}
	}
}

func TestARefusalIsFinalAndADownReceiverGivesUp(t *testing.T) {
	rec := &receiver{codes: []int{400}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	d := (&Webhook{URL: srv.URL, Secret: secret, Sleep: instant}).Deliver(context.Background(), event(batch.EventFailed))
	if d.Delivered() || d.Attempts != 1 || d.Status != 400 {
		t.Fatalf("a 400 is final: %+v", d)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String() + "/hook?token=s3cr3t"
	ln.Close()
	d = (&Webhook{URL: down, Secret: secret, Sleep: instant, Attempts: 4}).Deliver(context.Background(), event(batch.EventFailed))
	if d.Delivered() || d.Attempts != 4 || strings.Contains(d.Err, "s3cr3t") {
		t.Fatalf("a down receiver: %+v", d)
	}
	if !strings.Contains(d.String(), "NOT delivered") {
		t.Fatalf("status line %q", d.String())
	}
}

// A receiver that hangs never holds up the job: Notify returns at once, and Close gives up
// on what is left when its context ends, recording it as not delivered.
func TestTheQueueNeverWaitsForTheReceiver(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	var mu sync.Mutex
	var recorded []Delivery
	q := NewQueue(&Webhook{URL: srv.URL, Secret: secret, Sleep: instant, Attempts: 1},
		func(_ context.Context, _ batch.JobEvent, d Delivery) {
			mu.Lock()
			recorded = append(recorded, d)
			mu.Unlock()
		},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() {
		for _, typ := range []string{batch.EventPaused, batch.EventResumed, batch.EventCompleted} {
			q.Notify(context.Background(), event(typ))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify waited for the receiver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	q.Close(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 3 || recorded[0].Delivered() {
		t.Fatalf("recorded %+v", recorded)
	}
}
