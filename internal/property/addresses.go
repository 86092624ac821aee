package property

import (
	"strings"

	"github.com/leadflow/attom-batch/internal/address"
)

// normalizeAddress runs an address through the project normalizer (USPS Pub 28) so that
// every source's record of a property gets the same Key as the input row that named it.
func normalizeAddress(in address.Input) (address.Address, error) {
	return address.Normalize(in)
}

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
