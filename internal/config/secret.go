package config

import (
	"encoding/json"
	"fmt"
)

// Secret holds a credential (the ATTOM API key). Every way Go prints or encodes a value
// (fmt verbs including %v, %+v and %#v, String, JSON) shows only the masked form, so a config
// dumped into a log line or `config show` cannot leak the key. Reveal gives the real value to
// the one place that needs it: the ATTOM client's request header.
type Secret string

// Reveal returns the secret itself; call it only to put the key on the wire.
func (s Secret) Reveal() string { return string(s) }

// Masked is the printable form: "" when unset, "****" plus the last two characters when the
// secret is longer than 8 characters (enough to tell two keys apart), else just "****".
func (s Secret) Masked() string {
	switch {
	case s == "":
		return ""
	case len(s) > 8:
		return "****" + string(s[len(s)-2:])
	default:
		return "****"
	}
}

// String implements fmt.Stringer with the masked form.
func (s Secret) String() string { return s.Masked() }

// GoString implements fmt.GoStringer with the masked form, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.Masked()) }

// Format implements fmt.Formatter so that every verb, not only %v and %s, prints the mask.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.Masked()))
}

// MarshalJSON encodes the mask, never the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.Masked()) }
