package property

import (
	"errors"
	"strings"

	"github.com/leadflow/attom-batch/internal/address"
)

// normalizeAddress runs an address through the project's normalizer so that every source's
// record of a property gets the same Key. While internal/address still has its stub
// Normalize (it answers "not implemented"), it falls back to an upper-cased, space-collapsed
// copy of the parts; the fallback disappears from use as soon as the normalizer lands.
func normalizeAddress(in address.Input) (address.Address, error) {
	a, err := address.Normalize(in)
	if err == nil {
		return a, nil
	}
	if !normalizerPending(err) {
		return address.Address{}, err
	}
	return plainAddress(in), nil
}

// normalizerPending tells the stub's answer apart from a real rejection.
func normalizerPending(err error) bool {
	var fe *address.FieldError
	return errors.As(err, &fe) && fe.Reason == "not implemented"
}

// plainAddress is the stand-in normalization: upper case, single spaces, ZIP split in 5+4.
func plainAddress(in address.Input) address.Address {
	line1, city, state, zip := in.Line1, in.City, in.State, in.ZIP
	if line1 == "" && in.OneLine != "" {
		line1, city, state, zip = splitOneLine(in.OneLine)
	}
	a := address.Address{
		Line1: upperWords(line1),
		City:  upperWords(city),
		State: upperWords(state),
	}
	if unit := upperWords(in.Line2); unit != "" {
		a.Unit = unit
	}
	zip = strings.TrimSpace(zip)
	a.ZIP5, a.ZIP4, _ = strings.Cut(zip, "-")
	if len(a.ZIP5) == 9 && a.ZIP4 == "" {
		a.ZIP5, a.ZIP4 = a.ZIP5[:5], a.ZIP5[5:]
	}
	return a
}

// splitOneLine reads "LINE1, CITY, ST ZIP" (the last comma part holds state and ZIP).
func splitOneLine(s string) (line1, city, state, zip string) {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	line1 = parts[0]
	if len(parts) >= 3 {
		city = parts[len(parts)-2]
	}
	if len(parts) >= 2 {
		tail := strings.Fields(parts[len(parts)-1])
		if len(tail) > 0 {
			state = tail[0]
		}
		if len(tail) > 1 {
			zip = tail[1]
		}
	}
	return line1, city, state, zip
}

func upperWords(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }

// setAddress stores the normalized address with its Key and Hash.
func setAddress(p *Property, a address.Address) {
	p.Address = a
	p.Key = a.Key()
	p.Hash = address.Hash(p.Key)
}

// setMailing keeps the raw one-line mailing address and, when the normalizer reads it, the
// parsed form. PO boxes and foreign addresses stay raw: they are valid mailing addresses.
func setMailing(o *Owner, oneLine string) {
	oneLine = strings.Join(strings.Fields(oneLine), " ")
	if oneLine == "" {
		return
	}
	o.MailingAddress = oneLine
	if m, err := address.Normalize(address.Input{OneLine: oneLine}); err == nil {
		o.Mailing = &m
	}
}
