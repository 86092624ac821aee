package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
)

// leadFilter is the leads page's and API's query: ?min_score=40&factor=absentee_owner&
// state=TX&zip=787&sort=-score.
type leadFilter struct {
	MinScore int
	Factor   string // a factor that applies (state yes)
	State    string
	ZIP      string // a prefix of the 5-digit ZIP
	Sort     string // "-score" (highest first, the default) or "score"
}

func parseLeadFilter(q url.Values) (leadFilter, error) {
	f := leadFilter{Sort: "-score"}
	if v := strings.TrimSpace(q.Get("min_score")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return f, refuse(http.StatusBadRequest, "min_score: want a whole number from 0 to 100, got %q", v)
		}
		f.MinScore = n
	}
	f.Factor = strings.TrimSpace(q.Get("factor"))
	if f.Factor != "" && !validName(f.Factor) {
		return f, refuse(http.StatusBadRequest, "factor: want a factor name such as absentee_owner, got %q", f.Factor)
	}
	f.State = strings.ToUpper(strings.TrimSpace(q.Get("state")))
	if f.State != "" && (len(f.State) != 2 || !letters(f.State)) {
		return f, refuse(http.StatusBadRequest, "state: want a two-letter state such as TX, got %q", q.Get("state"))
	}
	f.ZIP = strings.TrimSpace(q.Get("zip"))
	if f.ZIP != "" && (len(f.ZIP) > 5 || !digits(f.ZIP)) {
		return f, refuse(http.StatusBadRequest, "zip: want up to five digits (a ZIP or its start), got %q", f.ZIP)
	}
	switch v := q.Get("sort"); v {
	case "", "-score":
	case "score":
		f.Sort = v
	default:
		return f, refuse(http.StatusBadRequest, "sort: want score or -score, got %q", v)
	}
	return f, nil
}

// apply filters and sorts; ties keep the address order so the page is stable.
func (f leadFilter) apply(all []leads.Lead) []leads.Lead {
	out := make([]leads.Lead, 0, len(all))
	for _, l := range all {
		if l.Score < f.MinScore || f.State != "" && l.State != f.State || !strings.HasPrefix(l.ZIP, f.ZIP) {
			continue
		}
		if f.Factor != "" && !hasFactor(l, f.Factor) {
			continue
		}
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b leads.Lead) int {
		if a.Score != b.Score {
			if f.Sort == "score" {
				return a.Score - b.Score
			}
			return b.Score - a.Score
		}
		return strings.Compare(a.Address, b.Address)
	})
	return out
}

func hasFactor(l leads.Lead, name string) bool {
	for _, f := range l.Breakdown {
		if f.Name == name && f.State == distress.Yes {
			return true
		}
	}
	return false
}

// query is the filter as URL parameters, with the sort replaced when sort is not empty.
func (f leadFilter) query(sort string) string {
	q := url.Values{}
	if f.MinScore > 0 {
		q.Set("min_score", strconv.Itoa(f.MinScore))
	}
	for k, v := range map[string]string{"factor": f.Factor, "state": f.State, "zip": f.ZIP} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if sort == "" {
		sort = f.Sort
	}
	if sort != "-score" {
		q.Set("sort", sort)
	}
	return q.Encode()
}

// Active tells whether any filter narrows the list.
func (f leadFilter) Active() bool {
	return f.MinScore > 0 || f.Factor != "" || f.State != "" || f.ZIP != ""
}

func validName(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' && (r < '0' || r > '9') {
			return false
		}
	}
	return len(s) <= 64
}

func letters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
