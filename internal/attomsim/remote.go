package attomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Controller reads and steers a simulator, in this process (Server.Controller) or in another
// one (Remote), so that a money test is written once for both.
type Controller interface {
	Ledger(ctx context.Context) (Statement, error)
	Status(ctx context.Context) (Traffic, error)
	Fault(ctx context.Context) (Fault, error)
	SetFault(ctx context.Context, f Fault) error
}

// Remote is a simulator in another process, reached by its base URL (what
// `attom-batch simulator` prints first). HTTPClient nil means http.DefaultClient.
type Remote struct {
	BaseURL    string
	HTTPClient *http.Client
}

var _ Controller = Remote{}

// Ledger reads GET /_sim/ledger.
func (r Remote) Ledger(ctx context.Context) (Statement, error) {
	var st Statement
	return st, r.do(ctx, http.MethodGet, LedgerPath, nil, &st)
}

// Status reads GET /_sim/status.
func (r Remote) Status(ctx context.Context) (Traffic, error) {
	var t Traffic
	return t, r.do(ctx, http.MethodGet, StatusPath, nil, &t)
}

// Fault reads GET /_sim/fault.
func (r Remote) Fault(ctx context.Context) (Fault, error) {
	var f Fault
	return f, r.do(ctx, http.MethodGet, FaultPath, nil, &f)
}

// SetFault replaces the fault with PUT /_sim/fault, as Server.SetFault does.
func (r Remote) SetFault(ctx context.Context, f Fault) error {
	return r.do(ctx, http.MethodPut, FaultPath, f, nil)
}

// do sends one control request and decodes the JSON answer into out (when not nil).
func (r Remote) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := r.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("attomsim: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	return decodeControl(resp, method, path, out)
}

func decodeControl(resp *http.Response, method, path string, out any) error {
	if resp.StatusCode != http.StatusOK {
		var e controlError
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return fmt.Errorf("attomsim: %s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("attomsim: %s %s: %w", method, path, err)
	}
	return nil
}

// Controller is the in-process simulator behind the same interface as Remote.
func (s *Server) Controller() Controller { return local{s} }

// local adapts Server to Controller; it never fails.
type local struct{ s *Server }

func (l local) Ledger(context.Context) (Statement, error) { return l.s.Statement(), nil }
func (l local) Status(context.Context) (Traffic, error)   { return l.s.Traffic(), nil }
func (l local) Fault(context.Context) (Fault, error)      { return l.s.Fault(), nil }

// SetFault validates f as PUT /_sim/fault does, so both sides refuse the same mistakes.
func (l local) SetFault(_ context.Context, f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	l.s.SetFault(f)
	return nil
}
