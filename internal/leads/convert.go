package leads

import (
	"sort"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/property"
)

// ConvertPropertyToLead is the seed's convertPropertyToLead: it turns a (merged) property
// and its score into a new lead. The ID is the property hash, so saving it twice can only
// update, never duplicate. input is the original CSV row (header -> value), kept for the
// export; batchID names the batch that produced the lead.
func ConvertPropertyToLead(p property.Property, score distress.Result, batchID string, input map[string]string, now time.Time) Lead {
	now = now.UTC()
	return Lead{
		ID:             p.Hash,
		PropertyKey:    p.Key,
		PropertyHash:   p.Hash,
		Address:        p.Address.OneLine(),
		Line1:          p.Address.Line1,
		Unit:           p.Address.Unit,
		City:           p.Address.City,
		State:          p.Address.State,
		ZIP:            p.Address.ZIP5,
		OwnerNames:     append([]string(nil), p.Owner.Names...),
		MailingAddress: mailingAddress(p.Owner),
		Score:          score.Score,
		Breakdown:      append([]distress.Factor(nil), score.Factors...),
		Value:          copyFloat(p.Value()),
		Equity:         copyFloat(p.Valuation.EstimatedEquity),
		Status:         StatusNew,
		Source:         sourceOf(p.Metadata),
		BatchID:        batchID,
		Simulated:      p.Metadata.Simulated,
		Input:          copyInput(input),
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

// Update is savePropertyAsLead's update path: the property was seen again (a new batch or a
// refresh), so the lead takes the fresh facts and score, while what people and the first
// batch gave it stays: ID, CreatedAt, a status somebody already worked (anything but "new"),
// and the original input row with its batch id (the export pairs them).
func Update(existing, fresh Lead) Lead {
	out := fresh
	out.ID = existing.ID
	out.CreatedAt = existing.CreatedAt
	if existing.Status != "" && existing.Status != StatusNew {
		out.Status = existing.Status
	}
	if len(existing.Input) > 0 {
		out.Input = copyInput(existing.Input)
		out.BatchID = existing.BatchID
	}
	if out.UpdatedAt.Before(existing.UpdatedAt) {
		out.UpdatedAt = existing.UpdatedAt
	}
	return out
}

// mailingAddress prefers the normalized mailing address and falls back to the raw one.
func mailingAddress(o property.Owner) string {
	if o.Mailing != nil {
		return o.Mailing.OneLine()
	}
	return o.MailingAddress
}

// sourceOf names where the lead's data came from: the property's sources, sorted, joined by
// "+" ("attom+county:cook").
func sourceOf(m property.Metadata) string {
	s := append([]string(nil), m.Sources...)
	sort.Strings(s)
	return strings.Join(s, "+")
}

func copyFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

func copyInput(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
