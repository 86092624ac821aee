package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeRefusesOtherAddressesWithoutAToken(t *testing.T) {
	sandbox(t)
	t.Setenv("ATTOM_BATCH_UI_TOKEN", "")
	_, stderr, code := runCLI(t, "", "serve", "--addr", "0.0.0.0:0")
	if code != 2 || !strings.Contains(stderr, "ATTOM_BATCH_UI_TOKEN") {
		t.Errorf("serve on 0.0.0.0 without a token: exit %d, %s", code, stderr)
	}
}

// TestServeServesUntilStopped runs the command as a person does: it prints its URL first,
// answers, and stops cleanly on the signal (here, its context).
func TestServeServesUntilStopped(t *testing.T) {
	sandbox(t)
	t.Setenv("ATTOM_BATCH_UI_TOKEN", "")
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, strings.NewReader(""), w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") {
		t.Fatalf("first stdout line %q (%v)", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	res, err := http.Get(strings.TrimSpace(line) + "/api/jobs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /api/jobs: %d", res.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}
