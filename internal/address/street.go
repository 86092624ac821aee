package address

import "strings"

// streetLine is a parsed street line: the Pub 28 parts and the unit found in it.
type streetLine struct {
	number, preDir, street, suffix, postDir string
	unit                                    unitParts
}

// unitParts is a parsed secondary unit. Type and Number hold the innermost (last) designator
// when a line names several ("BLDG 3 APT 4"); Text holds them all.
type unitParts struct {
	Type, Number, Text string
}

// maxFieldWords bounds the work on absurd input: a real street line, unit or city has a
// dozen words. A street line may hold line 1 and a unit, a one line address all fields.
const (
	maxFieldWords   = 40
	maxStreetWords  = 2 * maxFieldWords
	maxOneLineWords = 4 * maxFieldWords
)

// parseStreet splits a street line into number, directionals, name, suffix and unit. Its
// text lives in buf (see tokenizeInto), which it returns extended. The common plain line
// takes a fast path (plainStreet), anything else the general parser.
func parseStreet(buf []byte, line string) ([]byte, streetLine, *FieldError) {
	if b, st, ok := plainStreet(buf, line); ok {
		return b, st, nil
	}
	return parseAnyStreet(buf, line)
}

// parseAnyStreet is parseStreet for any line.
func parseAnyStreet(buf []byte, line string) ([]byte, streetLine, *FieldError) {
	var ends [32]int
	buf, clean, bounds := cleanInto(buf, ends[:0], line)
	var stack [16]string
	total := len(bounds) / 2
	for k := range min(total, len(stack)) {
		stack[k] = clean[bounds[2*k]:bounds[2*k+1]]
	}
	words := stack[:min(total, len(stack))]
	if total == 0 {
		return buf, streetLine{}, &FieldError{Field: "address", Reason: "missing street address"}
	}
	if total > maxStreetWords {
		return buf, streetLine{}, &FieldError{Field: "address", Reason: "street address has too many words"}
	}
	if total > len(words) { // more words than the stack holds: rare, take owned copies
		// (of a clone: line may view the caller's scratch, which must not reach the heap)
		clean, words = tokenize(make([]string, 0, total), strings.Clone(line))
	}
	if isPOBox(words) {
		return buf, streetLine{}, &FieldError{Field: "address", Reason: "PO box is not a property address", Err: ErrPOBox}
	}
	if buf, rural, ok := ruralRoute(buf, clean, words); ok {
		return buf, rural, nil
	}
	var out streetLine
	n := houseNumberWords(words)
	if n == 0 {
		return buf, out, &FieldError{Field: "address", Reason: "missing house number"}
	}
	out.number = joinWords(clean, words[:n])
	var infoStack [16]*wordInfo
	infos := infoStack[:]
	if len(words) > len(infoStack) {
		infos = make([]*wordInfo, len(words))
	}
	for i := n; i < len(words); i++ {
		infos[i] = lookupWord(words[i]) // each word is looked up once, here
	}
	unitAt := findUnit(words, infos, n)
	if unitAt == n {
		return buf, out, &FieldError{Field: "address", Reason: "missing street name"}
	}
	name := words[n:unitAt]
	for _, w := range name {
		if w == "#" {
			return buf, out, &FieldError{Field: "address", Reason: "missing street name before the unit"}
		}
	}
	nameInfos := infos[n:unitAt]
	var isRoute bool
	if mayBeRoute(name, nameInfos) {
		buf, out.street, isRoute = parseRoute(buf, clean, name, &out)
	}
	if !isRoute {
		if unitAt == len(words) && bareUnitNumber(name, nameInfos) {
			unitAt--
			name, nameInfos = name[:len(name)-1], nameInfos[:len(name)-1]
		}
		out.street = parseNamedStreet(clean, name, nameInfos, &out)
	}
	buf, out.unit = renderUnits(buf, words[unitAt:], unitAt < len(words) && isBareUnitTail(words[unitAt:]))
	return buf, out, nil
}

// houseNumberWords returns how many leading words form the primary number: "123", "123-45",
// "123A", "123 1/2", or a Wisconsin grid number like "N123W4567". Zero means none.
func houseNumberWords(words []string) int {
	w := words[0]
	if !isDigit(w[0]) && !isGridNumber(w) {
		return 0
	}
	if isOrdinal(w) {
		return 0 // "1ST AVE" is a street name, not a number
	}
	if len(words) > 1 && isFraction(words[1]) {
		return 2
	}
	return 1
}

// isGridNumber recognizes grid-style numbers such as "N123W4567" and "W156N5678".
func isGridNumber(w string) bool {
	if len(w) < 4 || lookupWord(w[:1]).dir == "" || !isDigit(w[1]) {
		return false
	}
	i := 1
	for i < len(w) && isDigit(w[i]) {
		i++
	}
	return i+1 < len(w) && lookupWord(w[i:i+1]).dir != "" && allDigits(w[i+1:])
}

// isFraction recognizes "1/2" style fractions that follow a house number.
func isFraction(w string) bool {
	slash := -1
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] == '/' && slash < 0:
			slash = i
		case !isDigit(w[i]):
			return false
		}
	}
	return slash > 0 && slash < len(w)-1
}

// isOrdinal recognizes "1ST", "22ND", "3RD", "4TH".
func isOrdinal(w string) bool {
	if len(w) < 3 || !isDigit(w[0]) {
		return false
	}
	digits := 0
	for digits < len(w) && isDigit(w[digits]) {
		digits++
	}
	switch w[digits:] {
	case "ST", "ND", "RD", "TH":
		return true
	}
	return false
}

// isPOBox recognizes "PO BOX", "P O BOX", "POBOX", "POST OFFICE BOX", "POST BOX", "BOX 12".
func isPOBox(words []string) bool {
	at := func(i int, w string) bool { return i < len(words) && words[i] == w }
	switch words[0] {
	case "POBOX", "POB":
		return true
	case "PO":
		return at(1, "BOX") || at(1, "DRAWER")
	case "P":
		return at(1, "O") && at(2, "BOX")
	case "POST":
		return at(1, "BOX") || at(1, "OFFICE") && at(2, "BOX")
	case "BOX":
		return len(words) > 1 && hasDigit(words[1])
	}
	return false
}

// ruralRoute keeps rural-route and highway-contract addresses ("RR 2 BOX 152") whole: they
// have no house number, and Pub 28 writes them as RR or HC, route number, BOX, box number.
func ruralRoute(buf []byte, clean string, words []string) ([]byte, streetLine, bool) {
	lead, skip := "", 0
	switch {
	case words[0] == "RR" || words[0] == "HC":
		lead, skip = words[0], 1
	case words[0] == "RURAL" && len(words) > 1 && (words[1] == "ROUTE" || words[1] == "RTE" || words[1] == "RT"):
		lead, skip = "RR", 2
	case words[0] == "HIGHWAY" && len(words) > 1 && words[1] == "CONTRACT":
		lead, skip = "HC", 2
	default:
		return buf, streetLine{}, false
	}
	if skip >= len(words) || !hasDigit(words[skip]) {
		return buf, streetLine{}, false
	}
	unitAt := findUnit(words, nil, skip)
	out := streetLine{street: lead + " " + joinWords(clean, words[skip:unitAt])}
	buf, out.unit = renderUnits(buf, words[unitAt:], false)
	return buf, out, true
}

// findUnit returns where the unit starts: the earliest word after at least one street-name
// word from which every remaining word forms unit designators and values. len(words) if none.
// infos, when not nil, holds the table entries of words from start on: a unit tail must
// begin with '#' or a designator, so other words are passed over without a lookup.
func findUnit(words []string, infos []*wordInfo, start int) int {
	for i := start + 1; i < len(words); i++ {
		if infos != nil && words[i] != "#" && infos[i].unit.abbr == "" {
			continue // nextUnitGroup would reject this word at once
		}
		if isUnitTail(words[i:]) {
			return i
		}
	}
	return len(words)
}

// isUnitTail reports whether words is a sequence of secondary unit groups.
func isUnitTail(words []string) bool {
	for len(words) > 0 {
		_, _, used := nextUnitGroup(words)
		if used == 0 {
			return false
		}
		words = words[used:]
	}
	return true
}

// isBareUnitTail is true for a unit written as a lone value after the suffix ("MAIN ST 4").
func isBareUnitTail(words []string) bool {
	return len(words) == 1 && words[0] != "#" && lookupWord(words[0]).unit.abbr == ""
}

// nextUnitGroup reads one unit group from the front of words: "APT 4", "APT # 4", "# 4",
// "REAR", "PH 2". It returns the designator abbreviation, the value and the words used (0 if
// words does not start with a unit group).
func nextUnitGroup(words []string) (abbr, value string, used int) {
	if words[0] == "#" {
		if len(words) > 1 && isUnitValue(words[1], true) {
			return "#", words[1], 2
		}
		return "", "", 0
	}
	d := lookupWord(words[0]).unit
	if d.abbr == "" {
		return "", "", 0
	}
	j, explicit := 1, false
	if j < len(words) && words[j] == "#" {
		j, explicit = 2, true
	}
	if j < len(words) {
		v := words[j]
		if (d.needsNumber && isUnitValue(v, explicit)) || (!d.needsNumber && hasDigit(v)) {
			return d.abbr, v, j + 1
		}
	}
	if !d.needsNumber && !explicit {
		return d.abbr, "", 1
	}
	return "", "", 0
}

// isUnitValue accepts "4", "4B", "B", "12-A"; a longer word without a digit is more likely a
// street word ("SPACE CENTER") unless a '#' marked it explicitly, and so is a street suffix
// ("APT CT" is a street, Apt Court): otherwise "0 APT CRT 5" would normalize to "0 APT CT" with
// unit "# 5", which reads back with the unit "APT CT # 5".
func isUnitValue(v string, explicit bool) bool {
	e := lookupWord(v)
	if v == "#" || e.unit.abbr != "" {
		return false
	}
	return explicit || hasDigit(v) || len(v) <= 2 && e.suffix == ""
}

// bareUnitNumber reports whether the street words end in a lone unit number after a suffix
// ("MAIN ST 4" -> unit "# 4"). A number after a route word ("OLD HWY 5") is a route number.
// infos are the table entries of name.
func bareUnitNumber(name []string, infos []*wordInfo) bool {
	if len(name) < 3 {
		return false
	}
	last := name[len(name)-1]
	abbr := infos[len(name)-2].suffix
	return abbr != "" && !lookupWord(abbr).routeSuffix && hasDigit(last) && len(last) <= 8 && isUnitValue(last, false)
}

// renderUnits formats unit groups as Pub 28 writes them: "APT 4", "# 5", "BLDG 3 APT 4". It
// keeps an explicit '#' before a value that would not read as one without it ("APT # AAA"),
// so that the rendered unit parses back to the same unit. Text is written at the end of buf.
func renderUnits(buf []byte, words []string, bare bool) ([]byte, unitParts) {
	if len(words) == 0 {
		return buf, unitParts{}
	}
	start := len(buf)
	if bare {
		buf = append(append(buf, "# "...), words[0]...)
		return buf, unitParts{Type: "#", Number: words[0], Text: unsafeString(buf[start:])}
	}
	var u unitParts
	b := buf
	for len(words) > 0 {
		abbr, value, used := nextUnitGroup(words)
		if used == 0 {
			break
		}
		if len(b) > start {
			b = append(b, ' ')
		}
		b = append(b, abbr...)
		if used == 3 && !isUnitValue(value, false) {
			b = append(b, " #"...) // "APT # AAA": only the '#' makes AAA a unit value
		}
		if value != "" {
			b = append(b, ' ')
			b = append(b, value...)
		}
		u.Type, u.Number = abbr, value
		words = words[used:]
	}
	u.Text = unsafeString(b[start:])
	return b, u
}

// parseRoute recognizes numbered routes: "HIGHWAY 66" -> "HWY 66", "CR 12" -> "COUNTY ROAD 12",
// "SR 9" -> "STATE ROUTE 9", "US 1" -> "US HIGHWAY 1", "I-95" -> "INTERSTATE 95", with an
// optional pre- and post-directional. The whole route becomes the street name.
// The route's name is written at the end of buf and returned (storing it through out would
// move buf to the heap); the directionals are set in out.
func parseRoute(buf []byte, clean string, name []string, out *streetLine) ([]byte, string, bool) {
	p := 0
	if len(name) >= 2 && lookupWord(name[0]).dir != "" {
		p = 1
	}
	for ; p >= 0; p-- {
		canon, number, used := matchRoute(clean, name[p:])
		if used == 0 {
			continue
		}
		rest := name[p+used:]
		if len(rest) > 1 || len(rest) == 1 && lookupWord(rest[0]).dir == "" {
			continue
		}
		if p == 1 {
			out.preDir = lookupWord(name[0]).dir
		}
		if len(rest) == 1 {
			out.postDir = lookupWord(rest[0]).dir
		}
		at := len(buf)
		buf = append(append(append(buf, canon...), ' '), number...)
		return buf, unsafeString(buf[at:]), true
	}
	return buf, "", false
}

// mayBeRoute reports whether parseRoute could match name: a route starts, after an optional
// directional, with a route word or a dashed word ("I-95"). infos are the entries of name.
func mayBeRoute(name []string, infos []*wordInfo) bool {
	for p := 0; p < 2 && p < len(name); p++ {
		if infos[p].routeFirst || indexByte(name[p], '-') > 0 {
			return true
		}
		if infos[p].dir == "" || len(name) < 2 {
			return false
		}
	}
	return false
}

// matchRoute matches a route prefix and its number at the front of words.
func matchRoute(clean string, words []string) (canon, number string, used int) {
	first := words[0]
	if dash := indexByte(first, '-'); dash > 0 {
		if e := lookupWord(first[:dash]); e.isRoute && isRouteNumber(first[dash+1:]) {
			return e.routePrefix, first[dash+1:], 1
		}
	}
	if !lookupWord(first).routeFirst {
		return "", "", 0
	}
	for k := min(4, len(words)-1); k >= 1; k-- {
		e := lookupWord(joinWords(clean, words[:k]))
		if e.isRoute && isRouteNumber(words[k]) {
			return e.routePrefix, words[k], k + 1
		}
	}
	return "", "", 0
}

// isRouteNumber accepts "66", "9W", "12A" and lettered county roads ("COUNTY ROAD J").
func isRouteNumber(w string) bool {
	return hasDigit(w) && !isOrdinal(w) || len(w) == 1 && isLetter(w[0])
}

// parseNamedStreet assigns pre-directional, name, suffix and post-directional. Of the readings
// that leave a non-empty name it keeps the one that recognizes the most parts, preferring a
// suffix, then a pre-directional: "NORTH ST" is street NORTH, "N MAIN ST" has PreDir N.
// It returns the street name and sets the other parts in out (they come from tables; storing
// the name through out would move clean to the heap).
//
// infos are the table entries of name.
func parseNamedStreet(clean string, name []string, infos []*wordInfo, out *streetLine) (street string) {
	last := len(name) - 1
	firstDir, lastDir := infos[0].dir, infos[last].dir
	lastSuffix, prevSuffix := infos[last].suffix, ""
	if last > 0 {
		prevSuffix = infos[last-1].suffix
	}
	bestScore, bestLo, bestHi, bestSuffix := -1, 0, len(name), ""
	for pre := 0; pre <= 1; pre++ {
		if pre == 1 && (len(name) < 2 || firstDir == "") {
			continue
		}
		for post := 0; post <= 1; post++ {
			if post == 1 && (len(name) < 2 || lastDir == "") {
				continue
			}
			lo, hi := pre, len(name)-post
			suffix := lastSuffix
			if post == 1 {
				suffix = prevSuffix
			}
			for suf := 0; suf <= 1; suf++ {
				if hi-suf <= lo || suf == 1 && suffix == "" {
					continue
				}
				score := (pre+post+suf)*8 + suf*4 + pre*2 + post
				if score > bestScore {
					bestScore, bestLo, bestHi, bestSuffix = score, lo, hi, suffix
					if suf == 0 {
						bestSuffix = ""
					}
				}
			}
		}
	}
	if bestLo == 1 {
		out.preDir = firstDir
	}
	if bestHi < len(name) {
		out.postDir = lastDir
	}
	nameHi := bestHi
	if bestSuffix != "" {
		out.suffix = bestSuffix
		nameHi--
	}
	return streetName(clean, name[bestLo:nameHi], infos[bestLo:nameHi], out.suffix)
}

// streetName spells ordinals as numbers ("FIRST" -> "1ST") and gives a bare numbered street
// its ordinal ("W 42 ST" -> "W 42ND ST").
// infos are the table entries of words.
func streetName(clean string, words []string, infos []*wordInfo, suffix string) string {
	changed := false
	for _, e := range infos {
		if e.ordinal != "" {
			changed = true
			break
		}
	}
	if len(words) == 1 && suffix != "" && allDigits(words[0]) && len(words[0]) <= 4 && !lookupWord(suffix).routeSuffix {
		return words[0] + ordinalSuffix(words[0])
	}
	if !changed {
		return joinWords(clean, words)
	}
	var b []byte // copies the bytes: storing the words themselves would move them to the heap
	for i, w := range words {
		if o := infos[i].ordinal; o != "" {
			w = o
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return string(b)
}

// ordinalSuffix returns ST, ND, RD or TH for a string of digits.
func ordinalSuffix(digits string) string {
	last := digits[len(digits)-1]
	tens := byte('0')
	if len(digits) > 1 {
		tens = digits[len(digits)-2]
	}
	if tens == '1' {
		return "TH"
	}
	switch last {
	case '1':
		return "ST"
	case '2':
		return "ND"
	case '3':
		return "RD"
	}
	return "TH"
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
