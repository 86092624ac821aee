// Package leads turns scored properties into leads: one lead per property, saved again as an
// update, never a duplicate.
package leads

import (
	"time"

	"github.com/leadflow/attom-batch/internal/distress"
)

// StatusNew is the status of a lead nobody has worked yet.
const StatusNew = "new"

// Lead is what a sales person works. ID is the property hash, which makes "one lead per
// property" a key constraint rather than a convention.
type Lead struct {
	ID             string            `json:"id"`
	PropertyKey    string            `json:"property_key"`
	PropertyHash   string            `json:"property_hash"`
	Address        string            `json:"address"` // one line
	Line1          string            `json:"line1"`
	Unit           string            `json:"unit,omitempty"`
	City           string            `json:"city"`
	State          string            `json:"state"`
	ZIP            string            `json:"zip"`
	OwnerNames     []string          `json:"owner_names,omitempty"`
	MailingAddress string            `json:"mailing_address,omitempty"`
	Score          int               `json:"score"`
	Breakdown      []distress.Factor `json:"breakdown"`
	Value          *float64          `json:"value,omitempty"`
	Equity         *float64          `json:"equity,omitempty"`
	Status         string            `json:"status"`
	Source         string            `json:"source"`
	BatchID        string            `json:"batch_id,omitempty"`
	Simulated      bool              `json:"simulated,omitempty"`
	// Input is the original CSV row's columns (header -> value), carried to the export.
	Input     map[string]string `json:"input,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}
