package catalog

import (
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/bidi"
)

// Directional marks and isolates (Unicode Bidirectional Algorithm, UAX #9).
const (
	rlm = "\u200F" // RIGHT-TO-LEFT MARK: a strong right-to-left character, invisible
	lri = "\u2066" // LEFT-TO-RIGHT ISOLATE
	rli = "\u2067" // RIGHT-TO-LEFT ISOLATE
	fsi = "\u2068" // FIRST STRONG ISOLATE
	pdi = "\u2069" // POP DIRECTIONAL ISOLATE
)

// Layout applies the right-to-left rule to text already formatted as
// Telegram HTML, when the printer's language is written right to left; in
// other languages it returns s unchanged. Every rendered message and button
// label goes through it (Printer.T and Printer.N call it), and the bot runs
// it again on what it composes from several pieces: it is idempotent.
//
// The rule, for each paragraph (each line: chat clients give every line the
// direction of its first strong character, and every button label too):
//
//   - every left-to-right run, that is a stretch starting with a Latin
//     letter, a digit, or a "/", "+", "#" or "@" glued to one, and ending at
//     its last letter or digit (French terms, commands, URLs, phone numbers,
//     case numbers, dates), is wrapped in LRI…PDI so that it keeps its own
//     order as one unit: "09 69 39 00 00" stays in that order after Persian
//     words, "/start" keeps its slash. A run never splits a pair of
//     brackets, and never enters a value the printer already isolated;
//   - the paragraph starts with a RIGHT-TO-LEFT MARK unless its first
//     strong character (looking into isolates too, as older clients do) is
//     already right to left, so it is laid out right to left.
//
// Markup is left intact: tags are never split and never marked inside, and
// an entity such as &#39; counts as the one character it stands for.
func (p *Printer) Layout(s string) string {
	if !p.lang.RTL || s == "" {
		return s
	}
	return layoutRTL(s)
}

// StripMarks removes directional marks and isolates, for comparing what a
// resident sent (a reply-keyboard label comes back as typed) with a
// rendered text, and for counting visible characters.
func StripMarks(s string) string {
	if !strings.ContainsFunc(s, isMark) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isMark(r) {
			return -1
		}
		return r
	}, s)
}

func isMark(r rune) bool {
	switch {
	case r == '\u200E', r == '\u200F', r == '\u061C':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

type tokKind uint8

const (
	tkChar    tokKind = iota
	tkTag             // <b>, </a>, <a href="…">: zero-width markup
	tkIsolate         // an isolate already in the text, with what it holds
	tkNewline
)

type token struct {
	start, end int // byte offsets in the text
	kind       tokKind
	r          rune // tkChar: the character (an entity's decoded one)
	cls        bidi.Class
}

// tokenize cuts HTML text into characters, tags, existing isolates and
// newlines.
func tokenize(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			out = append(out, token{start: i, end: i + 1, kind: tkNewline})
			i++
			continue
		case c == '<':
			if j := strings.IndexByte(s[i:], '>'); j > 0 && !strings.ContainsRune(s[i:i+j], '\n') {
				out = append(out, token{start: i, end: i + j + 1, kind: tkTag})
				i += j + 1
				continue
			}
		case c == '&':
			if n := entityLen(s[i:]); n > 0 {
				r, _ := utf8.DecodeRuneInString(html.UnescapeString(s[i : i+n]))
				out = append(out, token{start: i, end: i + n, kind: tkChar, r: r, cls: classOf(r)})
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2066' || r == '\u2067' || r == '\u2068' {
			end := isolateEnd(s, i)
			out = append(out, token{start: i, end: end, kind: tkIsolate, r: r})
			i = end
			continue
		}
		out = append(out, token{start: i, end: i + size, kind: tkChar, r: r, cls: classOf(r)})
		i += size
	}
	return out
}

// entityLen returns the length of the character reference s starts with
// (&amp; &#39; &#x2F;), or 0.
func entityLen(s string) int {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0
	}
	body := s[1:end]
	if body[0] == '#' {
		digits := body[1:]
		hex := len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X')
		if hex {
			digits = digits[1:]
		}
		if digits == "" {
			return 0
		}
		for _, d := range digits {
			if !('0' <= d && d <= '9' || hex && ('a' <= d && d <= 'f' || 'A' <= d && d <= 'F')) {
				return 0
			}
		}
		return end + 1
	}
	for _, l := range body {
		if !('a' <= l && l <= 'z' || 'A' <= l && l <= 'Z') {
			return 0
		}
	}
	if html.UnescapeString(s[:end+1]) == s[:end+1] {
		return 0 // not an entity HTML knows
	}
	return end + 1
}

// isolateEnd returns the offset just after the PDI closing the isolate that
// opens at s[i], or the end of the line when it is never closed.
func isolateEnd(s string, i int) int {
	depth := 0
	for j := i; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == '\n':
			return j
		case r == '\u2066' || r == '\u2067' || r == '\u2068':
			depth++
		case r == '\u2069':
			depth--
			if depth == 0 {
				return j + size
			}
		}
		j += size
	}
	return len(s)
}

func classOf(r rune) bidi.Class {
	props, _ := bidi.LookupRune(r)
	return props.Class()
}

// strongLTR reports whether a character may start and end a left-to-right
// run: a letter written left to right or a digit.
func (t token) strongLTR() bool {
	return t.kind == tkChar && (t.cls == bidi.L || t.cls == bidi.EN || t.cls == bidi.AN)
}

// valueIsolate reports whether t is a value the printer isolated (FSI…PDI).
func (t token) valueIsolate() bool { return t.kind == tkIsolate && t.r == '\u2068' }

// rtlStop reports whether a token ends a left-to-right run.
func (t token) rtlStop() bool {
	switch t.kind {
	case tkIsolate, tkNewline:
		return true
	case tkChar:
		switch t.cls {
		case bidi.R, bidi.AL, bidi.B, bidi.S, bidi.LRE, bidi.RLE, bidi.LRO, bidi.RLO, bidi.PDF:
			return true
		}
	}
	return false
}

var closerOf = map[rune]rune{'(': ')', '[': ']', '{': '}'}

func isCloser(r rune) bool { return r == ')' || r == ']' || r == '}' }

func layoutRTL(s string) string {
	toks := tokenize(s)
	type edit struct {
		at, end int // replace s[at:end] (empty for an insertion)
		text    string
	}
	var eds []edit
	for start := 0; start < len(toks); {
		end := start
		for end < len(toks) && toks[end].kind != tkNewline {
			end++
		}
		para := toks[start:end]
		runs := ltrRuns(para)
		if needsMark(para, runs) {
			eds = append(eds, edit{para[0].start, para[0].start, rlm})
		}
		for _, r := range runs {
			first, last := para[r[0]], para[r[1]]
			if last.valueIsolate() && r[1] == r[0]+1 {
				// "#" glued to an isolated value moves into the isolate:
				// "#⁨42⁩" becomes "⁨#42⁩", one unit, not nested.
				opener := s[last.start : last.start+len(fsi)]
				eds = append(eds, edit{first.start, last.start + len(opener), opener + s[first.start:first.end]})
				continue
			}
			eds = append(eds, edit{first.start, first.start, lri}, edit{last.end, last.end, pdi})
		}
		start = end + 1
	}
	if len(eds) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 3*len(eds))
	last := 0
	for _, e := range eds {
		b.WriteString(s[last:e.at])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// ltrRuns finds the left-to-right runs of a paragraph, as pairs of token
// indexes (first and last token, both included).
func ltrRuns(para []token) [][2]int {
	var runs [][2]int
	for i := 0; i < len(para); {
		t := para[i]
		if t.kind != tkChar || !(t.strongLTR() || gluedPrefix(para, i)) {
			i++
			continue
		}
		if !t.strongLTR() && i+1 < len(para) && para[i+1].valueIsolate() {
			// "#" glued to an isolated value: "#42" is one unit.
			runs = append(runs, [2]int{i, i + 1})
			i += 2
			continue
		}
		last := -1
		j := i
		for ; j < len(para) && !para[j].rtlStop(); j++ {
			if para[j].strongLTR() || para[j].kind == tkChar && para[j].cls == bidi.ET && last == j-1 && last >= 0 {
				last = j
			}
		}
		if last < 0 {
			i++
			continue
		}
		last = balanced(para, i, last, j)
		if last < i || !hasStrong(para[i:last+1]) {
			i++
			continue
		}
		runs = append(runs, [2]int{i, last})
		i = last + 1
	}
	return runs
}

// gluedPrefix reports whether para[i] is a "/", "+", "#" or "@" directly
// followed by a letter or digit, or by an isolated value: part of a
// command, a phone or case number.
func gluedPrefix(para []token, i int) bool {
	switch para[i].r {
	case '/', '+', '#', '@':
		return i+1 < len(para) && (para[i+1].strongLTR() || para[i+1].valueIsolate()) && (i == 0 || !para[i-1].strongLTR())
	}
	return false
}

func hasStrong(ts []token) bool {
	for _, t := range ts {
		if t.strongLTR() {
			return true
		}
	}
	return false
}

// balanced shortens the run para[i..last] so that it holds no half of a
// pair of brackets: it takes in the closers of its open brackets that
// follow before stop (with nothing strong in between), else it ends before
// a closer without its opener, or before the first opener left open, then
// at its last letter or digit.
func balanced(para []token, i, last, stop int) int {
	var open []int
	cut := -1
	for k := i; k <= last && cut < 0; k++ {
		t := para[k]
		if t.kind != tkChar {
			continue
		}
		if _, ok := closerOf[t.r]; ok {
			open = append(open, k)
			continue
		}
		if isCloser(t.r) {
			if len(open) == 0 || closerOf[para[open[len(open)-1]].r] != t.r {
				cut = k
				break
			}
			open = open[:len(open)-1]
		}
	}
	for k := last + 1; cut < 0 && len(open) > 0 && k < stop; k++ {
		if t := para[k]; t.kind == tkChar && isCloser(t.r) {
			if closerOf[para[open[len(open)-1]].r] != t.r {
				break
			}
			open = open[:len(open)-1]
			last = k
		}
	}
	if cut < 0 && len(open) > 0 {
		cut = open[0]
	}
	if cut < 0 {
		return last
	}
	for last = cut - 1; last >= i && !para[last].strongLTR(); last-- {
	}
	return last
}

// needsMark reports whether a paragraph needs a leading RIGHT-TO-LEFT MARK:
// it has visible text and its first strong character, or an isolate coming
// before any (clients differ on looking into isolates), is not right to
// left.
func needsMark(para []token, runs [][2]int) bool {
	visible := false
	for k, t := range para {
		if len(runs) > 0 && k == runs[0][0] {
			return true // the paragraph's first strong text is an isolated run
		}
		switch t.kind {
		case tkIsolate:
			return true
		case tkChar:
			switch t.cls {
			case bidi.R, bidi.AL:
				return false
			case bidi.L:
				return true
			case bidi.WS, bidi.B, bidi.S:
			default:
				visible = true
			}
		}
	}
	return visible
}
