package attomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// keepCase names the blocks whose keys stay camelCase on every endpoint, as on the real
// service; everywhere else the detail endpoints spell leaf keys in lower case.
var keepCase = map[string]bool{"status": true, "identifier": true, "address": true, "location": true}

// quotedKeys are numbers ATTOM sends as strings.
var quotedKeys = map[string]bool{"latitude": true, "longitude": true}

// toWire re-spells JSON produced from the shared wire types the way ATTOM sends it: null
// members are omitted (ATTOM leaves out what it does not know), latitude and longitude are
// strings, and with lowerLeaves every leaf key outside keepCase blocks is lower case
// (`propclass`, `mktttlvalue`).
func toWire(in []byte, lowerLeaves bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	out := bytes.NewBuffer(make([]byte, 0, len(in)))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if err := copyValue(dec, out, tok, lowerLeaves); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func copyValue(dec *json.Decoder, out *bytes.Buffer, tok json.Token, lower bool) error {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return copyObject(dec, out, lower)
		}
		return copyArray(dec, out, lower)
	default:
		return writeScalar(out, tok, false)
	}
}

func copyObject(dec *json.Decoder, out *bytes.Buffer, lower bool) error {
	out.WriteByte('{')
	first := true
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return err
		}
		if vt == nil {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		if d, ok := vt.(json.Delim); ok {
			writeKey(out, key)
			if err := copyValue(dec, out, d, lower && !keepCase[key]); err != nil {
				return err
			}
			continue
		}
		name := key
		if lower {
			name = strings.ToLower(key)
		}
		writeKey(out, name)
		if err := writeScalar(out, vt, quotedKeys[key]); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	out.WriteByte('}')
	return nil
}

func copyArray(dec *json.Decoder, out *bytes.Buffer, lower bool) error {
	out.WriteByte('[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			out.WriteByte(',')
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if err := copyValue(dec, out, tok, lower); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	out.WriteByte(']')
	return nil
}

func writeKey(out *bytes.Buffer, key string) {
	b, _ := json.Marshal(key)
	out.Write(b)
	out.WriteByte(':')
}

func writeScalar(out *bytes.Buffer, tok json.Token, quote bool) error {
	switch v := tok.(type) {
	case string:
		b, _ := json.Marshal(v)
		out.Write(b)
	case json.Number:
		if quote {
			out.WriteByte('"')
		}
		out.WriteString(v.String())
		if quote {
			out.WriteByte('"')
		}
	case bool:
		fmt.Fprint(out, v)
	default:
		return fmt.Errorf("attomsim: unexpected JSON token %v", tok)
	}
	return nil
}
