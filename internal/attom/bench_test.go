package attom_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
)

// profileBody fetches one realistic expandedprofile answer from the simulator.
func profileBody(b *testing.B) []byte {
	b.Helper()
	ts := httptest.NewServer(attomsim.New(attomsim.Options{NotFoundRate: -1}))
	defer ts.Close()
	path, _ := attom.EndpointPath(attom.EndpointExpandedProfile)
	q := url.Values{"address1": {home.Line1}, "address2": {home.Line2}}
	resp, err := http.Get(ts.URL + path + "?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	return body
}

// BenchmarkDecodeResponse measures decoding one expandedprofile answer (one record).
func BenchmarkDecodeResponse(b *testing.B) {
	body := profileBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := attom.DecodeBody(body)
		if err != nil || d.Property == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupSimulator measures a whole lookup (client, HTTP on loopback, simulator
// synthesizing and encoding), without a rate limit.
func BenchmarkLookupSimulator(b *testing.B) {
	ts := httptest.NewServer(attomsim.New(attomsim.Options{NotFoundRate: -1}))
	defer ts.Close()
	c, err := attom.New(attom.Config{BaseURL: ts.URL, APIKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := attom.Query{Line1: fmt.Sprintf("%d Elm Street", i%1000), Line2: "Columbus, OH 43215"}
		if res, err := c.Lookup(ctx, attom.EndpointExpandedProfile, q); err != nil || res.Outcome != attom.Found {
			b.Fatalf("%+v %v", res, err)
		}
		i++
	}
}
