package catalog

import (
	"fmt"
	"html"
	"regexp"
	"strings"

	"golang.org/x/text/unicode/bidi"
)

// numberRE finds what must keep its logical order as one unit: phone
// numbers and other space-separated digit groups (09 69 39 00 00, +33 1 23
// 45 67 89), dates (25/11/2026, 2026-11-25), times (09:00, 9 h 30) and
// case numbers (#42, C-0042).
var numberRE = regexp.MustCompile(`\+?\d+(?:[ \x{00A0}\x{202F}.\-/:]\d+)+|#\d+|[A-Z]-\d+|\d+ h(?: \d+)?`)

// LayoutProblems lays out text (Telegram HTML, one message or a button
// label) paragraph by paragraph the way a chat client does, with the
// Unicode Bidirectional Algorithm of golang.org/x/text/unicode/bidi, and
// reports in an RTL locale, one line each:
//
//   - a paragraph whose first strong character is not right to left (the
//     client would lay it out left to right), whether or not the client
//     looks into isolates;
//   - a digit group (phone number, date, time, case number) that does not
//     appear in its logical order in the visual line;
//   - a French term of terms that appears in the paragraph but not, as a
//     whole, in the visual line.
func LayoutProblems(text string, terms []string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		plain := PlainText(para)
		if strings.TrimSpace(StripMarks(plain)) == "" {
			continue
		}
		if d := firstStrong(plain, false); d != bidi.R && d != bidi.AL {
			out = append(out, fmt.Sprintf("paragraph laid out left to right (first strong character is not right to left): %q", para))
			continue
		}
		if d := firstStrong(plain, true); d != bidi.R && d != bidi.AL {
			out = append(out, fmt.Sprintf("paragraph laid out left to right by clients that skip isolates: %q", para))
			continue
		}
		visual, err := Visual(plain)
		if err != nil {
			out = append(out, fmt.Sprintf("bidi: %v: %q", err, para))
			continue
		}
		visual = StripMarks(visual)
		bare := StripMarks(plain)
		for _, n := range numberRE.FindAllString(bare, -1) {
			if !strings.Contains(visual, n) {
				out = append(out, fmt.Sprintf("%q is not shown in its own order (visual line %q)", n, visual))
			}
		}
		lower := strings.ToLower(bare)
		for _, term := range terms {
			if term == "" || !strings.Contains(lower, strings.ToLower(term)) {
				continue
			}
			if !strings.Contains(strings.ToLower(visual), strings.ToLower(term)) {
				out = append(out, fmt.Sprintf("French term %q is split (visual line %q)", term, visual))
			}
		}
	}
	return out
}

// PlainText is what a chat client shows of Telegram HTML: tags removed,
// entities decoded.
func PlainText(s string) string {
	return html.UnescapeString(tagRE.ReplaceAllString(s, ""))
}

// firstStrong returns the class of the first strong character of a
// paragraph (L, R or AL; ON when there is none). With skipIsolates it
// follows UAX #9 rule P2 and skips what isolates hold; without, it reads
// them as older clients do.
func firstStrong(s string, skipIsolates bool) bidi.Class {
	depth := 0
	for _, r := range s {
		switch {
		case r == '\u2066' || r == '\u2067' || r == '\u2068':
			if skipIsolates {
				depth++
			}
			continue
		case r == '\u2069':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth > 0 {
			continue
		}
		switch c := classOf(r); c {
		case bidi.L, bidi.R, bidi.AL:
			return c
		}
	}
	return bidi.ON
}

// Visual returns a right-to-left paragraph as it shows on screen, read from
// left to right: the runs the Bidirectional Algorithm finds, in reverse
// order, right-to-left runs reversed, left-to-right runs as they are.
// Mirrored glyphs (brackets) are not swapped. Runs are grouped by the
// parity of their level, which is exact for the two levels of a
// right-to-left paragraph with left-to-right runs in it.
func Visual(paragraph string) (string, error) {
	var p bidi.Paragraph
	if _, err := p.SetString(paragraph, bidi.DefaultDirection(bidi.RightToLeft)); err != nil {
		return "", err
	}
	o, err := p.Order()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := o.NumRuns() - 1; i >= 0; i-- {
		r := o.Run(i)
		if r.Direction() == bidi.RightToLeft {
			b.WriteString(bidi.ReverseString(r.String()))
		} else {
			b.WriteString(r.String())
		}
	}
	return b.String(), nil
}
