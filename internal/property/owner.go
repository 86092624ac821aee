package property

import (
	"strings"
	"unicode"
)

// Owner-name patterns. Names are compared as upper-case words with punctuation removed, so
// "Acme, L.L.C." and "ACME LLC" both match LLC and "TR" never matches inside "TRAN".
var (
	corporateWords = []string{
		"LLC", "INC", "CORP", "CORPORATION", "LP", "LLP", "LTD", "BANK", "ASSOCIATION",
		"ASSN", "COMPANY",
	}
	trustWords    = []string{"TRUST", "TRUSTEE", "TRUSTEES", "TR", "REVOCABLE"}
	trustPhrases  = []string{"LIVING TRUST"}
	deceasedWords = []string{"DECEASED", "DECD"}
	deceasedPhras = []string{"ESTATE OF", "HEIRS OF"}
)

// nameWords upper-cases a name, drops periods (L.L.C. -> LLC) and splits on anything that
// is not a letter or digit.
func nameWords(name string) []string {
	name = strings.ToUpper(strings.ReplaceAll(name, ".", ""))
	return strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// namesMatch reports whether any name holds one of words as a whole word or one of
// phrases as consecutive whole words.
func namesMatch(names []string, words, phrases []string) bool {
	for _, n := range names {
		ws := nameWords(n)
		joined := " " + strings.Join(ws, " ") + " "
		for _, w := range ws {
			for _, want := range words {
				if w == want {
					return true
				}
			}
		}
		for _, ph := range phrases {
			if strings.Contains(joined, " "+ph+" ") {
				return true
			}
		}
	}
	return false
}

// classifyOwner sets Corporate, Trust and Deceased from the names and, for Corporate, a
// source's own indicator ("Y"/"N"; empty when the source has none). With no names and no
// indicator the flags stay unknown.
func classifyOwner(o *Owner, corporateIndicator string) {
	ind := strings.ToUpper(strings.TrimSpace(corporateIndicator))
	hasNames := len(o.Names) > 0
	switch {
	case ind == "Y" || ind == "YES" || ind == "TRUE":
		o.Corporate = ptr(true)
	case hasNames:
		o.Corporate = ptr(namesMatch(o.Names, corporateWords, nil))
	case ind == "N" || ind == "NO" || ind == "FALSE":
		o.Corporate = ptr(false)
	}
	if hasNames {
		o.Trust = ptr(namesMatch(o.Names, trustWords, trustPhrases))
		o.Deceased = ptr(namesMatch(o.Names, deceasedWords, deceasedPhras))
	}
}

// cleanNames trims names (ATTOM pads them with spaces), collapses inner runs of spaces and
// drops empty and repeated ones.
func cleanNames(names ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.Join(strings.Fields(n), " ")
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// absenteeFrom reads ATTOM's absentee spellings: "ABSENTEE OWNER"/"A" is absentee,
// "OWNER OCCUPIED"/"O"/"SITUS FROM SALE (OCCUPIED)" is not; anything else is unknown.
func absenteeFrom(values ...string) *bool {
	for _, v := range values {
		v = strings.ToUpper(strings.TrimSpace(v))
		switch {
		case v == "":
			continue
		case v == "A" || strings.Contains(v, "ABSENTEE"):
			return ptr(true)
		case v == "O" || strings.Contains(v, "OCCUPIED"):
			return ptr(false)
		}
	}
	return nil
}
