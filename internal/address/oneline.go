package address

import "strings"

// ParseOneLine splits a one-line address ("123 Main St Apt 4, Springfield, IL 62701",
// "123 Main St, Springfield IL 62701-1234") into street line, city, state and ZIP, so files
// and ATTOM answers that carry a single address column go through the same normalizer.
// Commas separate street from city best; without any comma the street is taken to end at its
// suffix, post-directional and unit. The parts come back cleaned but not yet normalized.
func ParseOneLine(s string) (Input, error) {
	var wordStack [32]string
	var segStack [32]int
	words, segs := wordStack[:0], segStack[:0]
	for i, part := range strings.Split(s, ",") {
		before := len(words)
		_, words = tokenize(words, part)
		for range words[before:] {
			segs = append(segs, i)
		}
	}
	if len(words) == 0 {
		return Input{}, &FieldError{Field: "address", Reason: "missing street address"}
	}
	if isPOBox(words) {
		return Input{}, &FieldError{Field: "address", Reason: "PO box is not a property address", Err: ErrPOBox}
	}
	if len(words) > maxOneLineWords {
		return Input{}, &FieldError{Field: "address", Reason: "address has too many words"}
	}
	var in Input
	m := len(words)
	m, in.ZIP = trailingZIP(words[:m])
	zipSeg := -1
	if in.ZIP != "" {
		zipSeg = segs[m]
	}
	m, in.State = trailingState(words[:m], segs[:m], zipSeg)
	if in.State == "" && m > 0 && segs[m-1] >= 2 {
		// "street, city, state ZIP": the third part can only be the state.
		stateAt := m - 1
		for stateAt > 0 && segs[stateAt-1] == segs[m-1] {
			stateAt--
		}
		if m-stateAt <= maxStateWords {
			return Input{}, &FieldError{Field: "state", Reason: "unknown state " + quote(joinWords("", words[stateAt:m]))}
		}
	}
	cityAt := m
	switch {
	case m == 0:
	case segs[m-1] > segs[0]:
		cityAt = m - 1
		for cityAt > 0 && segs[cityAt-1] == segs[m-1] {
			cityAt--
		}
	case m < len(words) && segs[m] > segs[m-1]+1:
		// "9 BROADWAY, , NY 10001": an empty part between street and state is the city.
	case in.State == "" && m < len(words) && segs[m] > segs[m-1]:
		// "9 BROADWAY, 10001" (how Address.OneLine writes a place without city and state):
		// the comma ends the street and no city follows.
	default:
		cityAt = streetEnd(words[:m])
		if cityAt < 0 && m < len(words) && segs[m] > segs[m-1] {
			cityAt = m // "9 BROADWAY, , NY 10001": a comma ends the street, the city is empty
		}
		if cityAt < 0 {
			return Input{}, &FieldError{Field: "address",
				Reason: "cannot tell the street from the city in " + quote(s) + "; separate them with a comma"}
		}
	}
	in.Line1 = joinWords("", words[:cityAt])
	in.City = joinWords("", words[cityAt:m])
	if in.Line1 == "" {
		return Input{}, &FieldError{Field: "address", Reason: "missing street address in " + quote(s)}
	}
	return in, nil
}

// trailingZIP takes a ZIP ("62701", "62701-1234", "62701 1234") off the end of words.
func trailingZIP(words []string) (int, string) {
	m := len(words)
	if m >= 3 && len(words[m-1]) == 4 && allDigits(words[m-1]) && len(words[m-2]) == 5 && allDigits(words[m-2]) {
		return m - 2, words[m-2] + "-" + words[m-1]
	}
	if m >= 2 && isZIPWord(words[m-1]) {
		return m - 1, words[m-1]
	}
	return m, ""
}

// trailingState takes a state code or name off the end of words, longest name first. A state
// in the street's own segment (no comma before it) counts only when a ZIP follows it in that
// segment ("... HARTFORD CT 06101"), so that "123 MAIN CT" and "123 MAIN CT, 06101" keep
// their suffix.
func trailingState(words []string, segs []int, zipSeg int) (int, string) {
	m := len(words)
	for k := min(maxStateWords, m-1); k >= 1; k-- {
		seg := segs[m-k]
		if segs[m-1] != seg || seg == segs[0] && zipSeg != seg {
			continue
		}
		if code := lookupWord(joinWords("", words[m-k:m])).state; code != "" {
			return m - k, code
		}
	}
	return m, ""
}

// streetEnd finds where the street ends in a comma-less line: after a numbered route ("US
// HWY 1") or the first suffix that follows the number and a name word, plus a short
// post-directional and any unit groups.
// It returns -1 when no suffix marks the end.
func streetEnd(words []string) int {
	start := houseNumberWords(words)
	if start == 0 {
		return -1
	}
	for j := start; j < len(words); j++ {
		end := j + 1
		if j <= start+1 {
			if _, _, used := matchRoute("", words[j:]); used > 0 {
				end = j + used
			} else if j == start || lookupWord(words[j]).suffix == "" {
				continue
			}
		} else if lookupWord(words[j]).suffix == "" {
			continue
		}
		if end < len(words) && len(words[end]) <= 2 && lookupWord(words[end]).dir != "" {
			end++
		}
		for end < len(words) {
			_, _, used := nextUnitGroup(words[end:])
			if used == 0 {
				break
			}
			end += used
		}
		return end
	}
	return -1
}
