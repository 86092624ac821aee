// Package distress scores how likely a property's owner is to sell at a discount, from the
// factors investors use (pre-foreclosure, absentee owner, high equity, long ownership, ...).
package distress

// Factor is one line of a score's breakdown. State is "yes", "no" or "unknown": a missing
// input is unknown and earns no points, but is reported so a reader knows what was missing.
type Factor struct {
	Name   string  `json:"name"`
	State  string  `json:"state"`
	Points float64 `json:"points"`
	Detail string  `json:"detail,omitempty"`
}

// Factor states.
const (
	Yes     = "yes"
	No      = "no"
	Unknown = "unknown"
)

// Result is a 0-100 score with the breakdown that produced it.
type Result struct {
	Score      int      `json:"score"`
	Multiplier float64  `json:"multiplier"`
	Factors    []Factor `json:"factors"`
}
