package property

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// Precedence is the written rule for which source wins each field when records of one
// property disagree. Groups maps a field group (GroupAVM, GroupOwner, ...) to tiers of
// origins, best tier first. An origin pattern matches itself and every origin below it:
// "attom" matches "attom:avm", "county" matches "county:cook". Origins no tier names rank
// after every tier.
//
// Merge picks, for each field, among the records that know it:
//  1. the record whose origin for that field is in the best tier;
//  2. within a tier, the record fetched most recently;
//  3. on a full tie, a fixed order of the records' content, so the result never depends on
//     the order of the input.
//
// A known value is never replaced by an unknown one: a record that lacks a field does not
// take part in that field's choice. Derived values (equity and LTV computed from value and
// loan balance, free-and-clear, out-of-state) are never chosen: they are recomputed from
// the merged inputs, while equity and LTV a source reported itself (ATTOM home equity) take
// part like any other field.
type Precedence struct {
	Groups map[string][][]string `json:"groups"`
}

// DefaultPrecedence is the project's rule set, explained in docs/property-model.md:
//   - valuation.avm: ATTOM's AVM endpoint, then its home-equity endpoint, then other ATTOM
//     answers, then anyone else. AVM figures only exist at ATTOM; the AVM endpoint is the
//     one that computes them.
//   - valuation.mortgage: ATTOM home equity (an estimated current balance) beats the
//     profile (the first loan's original amount), which beats county files.
//   - valuation.assessment: the county file first (the assessor is the authority on
//     assessed and market totals and tax), then ATTOM, which republishes the assessor.
//   - valuation.sale, owner, characteristics: county and the ATTOM profile share the top
//     tier and the newest fetch wins: both copy the recorder, and whoever looked last has
//     seen the latest deed.
//   - distress.foreclosure: ATTOM's pre-foreclosure endpoint, then county, then ATTOM's
//     other endpoints.
//   - distress.flags (tax delinquency, vacancy, REO, quit-claim): county and other lists
//     first (ATTOM v1 has no tax-delinquency or vacancy field), then the ATTOM profile.
//   - address, location: ATTOM's profile (its full standardized address and rooftop
//     geocode), then other ATTOM endpoints, then county files.
func DefaultPrecedence() Precedence {
	return Precedence{Groups: map[string][][]string{
		GroupAddress:         {{ATTOMOrigin(EndpointExpandedProfile)}, {SourceATTOM}, {"county"}},
		GroupLocation:        {{ATTOMOrigin(EndpointExpandedProfile)}, {SourceATTOM}, {"county"}},
		GroupCharacteristics: {{ATTOMOrigin(EndpointExpandedProfile), "county"}, {SourceATTOM}},
		GroupAVM:             {{ATTOMOrigin(EndpointAVM)}, {ATTOMOrigin(EndpointHomeEquity)}, {SourceATTOM}, {"county"}},
		GroupAssessment:      {{"county"}, {ATTOMOrigin(EndpointExpandedProfile)}, {SourceATTOM}},
		GroupSale:            {{"county", ATTOMOrigin(EndpointExpandedProfile)}, {SourceATTOM}},
		GroupMortgage:        {{ATTOMOrigin(EndpointHomeEquity)}, {ATTOMOrigin(EndpointExpandedProfile)}, {"county"}, {SourceATTOM}},
		GroupOwner:           {{"county", ATTOMOrigin(EndpointExpandedProfile)}, {SourceATTOM}},
		GroupForeclosure:     {{ATTOMOrigin(EndpointPreforeclosure)}, {"county"}, {SourceATTOM}},
		GroupFlags:           {{"county"}, {ATTOMOrigin(EndpointExpandedProfile)}, {SourceATTOM}},
	}}
}

// rank is the tier index of origin in group; len(tiers) when no tier names it.
func (pr Precedence) rank(group, origin string) int {
	tiers := pr.Groups[group]
	for i, tier := range tiers {
		for _, pattern := range tier {
			if origin == pattern || strings.HasPrefix(origin, pattern+":") {
				return i
			}
		}
	}
	return len(tiers)
}

// Merge combines records of ONE property (same Hash) from several sources or endpoints into
// one, following rules (see Precedence for the order of choice). Metadata.Provenance of the
// result names, per field, the origin that supplied it; Sources and SourceIDs are unioned
// (the newest record's id wins for a source seen twice); FetchedAt is the newest; Simulated
// is true when any record was simulated. The result does not depend on the input order.
func Merge(records []Property, rules Precedence) Property {
	if len(records) == 0 {
		return Property{}
	}
	sorted := canonicalOrder(records)
	var merged Property
	merged.Metadata.Provenance = map[string]string{}
	for _, f := range fields {
		if f.derivedOnly {
			continue
		}
		best, bestRank, bestOrigin := -1, 0, ""
		for i := range sorted {
			rec := &sorted[i]
			if !f.known(rec) {
				continue
			}
			origin := originOf(rec, f.path)
			if origin == DerivedOrigin {
				continue
			}
			r := rules.rank(f.group, origin)
			// sorted is newest first, so the first record of the best rank is the newest.
			if best < 0 || r < bestRank {
				best, bestRank, bestOrigin = i, r, origin
			}
		}
		if best >= 0 {
			f.copy(&merged, &sorted[best])
			merged.Metadata.Provenance[f.path] = bestOrigin
		}
	}
	mergeMetadata(&merged.Metadata, sorted)
	derive(&merged)
	return merged
}

// originOf is the record's origin for one field: its provenance entry, else its first
// source (records built by hand may carry no provenance).
func originOf(p *Property, path string) string {
	if o, ok := p.Metadata.Provenance[path]; ok {
		return o
	}
	if len(p.Metadata.Sources) > 0 {
		return p.Metadata.Sources[0]
	}
	return ""
}

// canonicalOrder copies the records newest first, breaking ties by origin and then by their
// JSON encoding, a total order that makes Merge independent of the input order. Encodings
// are computed only for records that tie on time and origin.
func canonicalOrder(records []Property) []Property {
	out := append([]Property(nil), records...)
	enc := make([][]byte, len(out))
	encoding := func(i int) []byte {
		if enc[i] == nil {
			enc[i], _ = json.Marshal(out[i]) // Property always encodes: numbers are finite.
		}
		return enc[i]
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ta, tb := out[idx[a]].Metadata.FetchedAt, out[idx[b]].Metadata.FetchedAt
		if !ta.Equal(tb) {
			return ta.After(tb)
		}
		if oa, ob := originOf(&out[idx[a]], "address"), originOf(&out[idx[b]], "address"); oa != ob {
			return oa < ob
		}
		return bytes.Compare(encoding(idx[a]), encoding(idx[b])) < 0
	})
	sorted := make([]Property, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}

func mergeMetadata(m *Metadata, newestFirst []Property) {
	sources := map[string]bool{}
	for i := len(newestFirst) - 1; i >= 0; i-- { // oldest first: newer ids overwrite
		md := newestFirst[i].Metadata
		for _, s := range md.Sources {
			sources[s] = true
		}
		for s, id := range md.SourceIDs {
			if m.SourceIDs == nil {
				m.SourceIDs = map[string]string{}
			}
			m.SourceIDs[s] = id
		}
		m.Simulated = m.Simulated || md.Simulated
	}
	for s := range sources {
		m.Sources = append(m.Sources, s)
	}
	sort.Strings(m.Sources)
	m.FetchedAt = newestFirst[0].Metadata.FetchedAt
	m.RawRef = newestFirst[0].Metadata.RawRef
	m.SchemaVersion = SchemaVersion
}
