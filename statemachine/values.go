package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
)

// jsonNumber keeps numbers as written, so large ids survive a round trip.
type jsonNumber = json.Number

// decodeJSON decodes one JSON document into maps, slices, strings, bools,
// nil and json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// encodeJSON encodes compactly without HTML escaping, like Step Functions.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mustEncode encodes a value that came from decodeJSON (always encodable).
func mustEncode(v any) json.RawMessage {
	b, err := encodeJSON(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", err.Error()))
	}
	return b
}

// compareNumbers compares two JSON numbers exactly.
func compareNumbers(a, b jsonNumber) (int, bool) {
	ra, okA := new(big.Rat).SetString(string(a))
	rb, okB := new(big.Rat).SetString(string(b))
	if !okA || !okB {
		return 0, false
	}
	return ra.Cmp(rb), true
}
