package permit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/passerelle-bot/passerelle/internal/digits"
)

// maxDateInput bounds the input ParseDate looks at; no accepted form is
// anywhere near this long.
const maxDateInput = 64

// ParseDate reads a date typed by a person. Accepted forms, after trimming
// surrounding white space and bidirectional marks:
//
//	DD/MM/YYYY  D/M/YYYY  DD/MM/YY  D/M/YY    (French order, day first)
//	DD.MM.YYYY  D.M.YYYY  DD.MM.YY  D.M.YY
//	DD-MM-YYYY  D-M-YYYY
//	YYYY-MM-DD  YYYY-M-D                      (ISO order, year first)
//
// Eastern Arabic (U+0660–U+0669) and Persian (U+06F0–U+06F9) digits count as
// ASCII digits, U+066B (Arabic decimal separator) as '.', and U+060D (Arabic
// date separator) as '/'.
//
// Decisions, chosen so that a date is never silently misread:
//   - Day-first forms are always day first. 12/31/2027 is rejected, never
//     swapped into 31 December.
//   - A two-digit year YY means 20YY (the documents the bot asks about are
//     current ones). Birth dates should be asked with four digits.
//   - A two-digit year is rejected with '-': 12-03-27 could be DD-MM-YY or
//     YY-MM-DD.
//   - The year-first form needs a four-digit year and '-' (2027/03/12 is
//     rejected); the three parts must use one separator.
//   - Impossible dates (31/04/2027, 29/02/2027) and years outside 1..9999 are
//     rejected.
//
// Every error wraps [ErrBadDate]. Errors do not repeat the input, because a
// birth date is personal data and errors may end up in logs.
func ParseDate(s string) (Date, error) {
	if len(s) > 4*maxDateInput {
		return Date{}, fmt.Errorf("%w: input too long", ErrBadDate)
	}
	s = strings.TrimFunc(normalizeDateRunes(s), isDateSpace)
	if s == "" {
		return Date{}, fmt.Errorf("%w: empty", ErrBadDate)
	}
	if len(s) > maxDateInput {
		return Date{}, fmt.Errorf("%w: input too long", ErrBadDate)
	}

	sepAt := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if sepAt < 0 {
		return Date{}, fmt.Errorf("%w: no separator", ErrBadDate)
	}
	sep := s[sepAt]
	if sep != '/' && sep != '.' && sep != '-' {
		return Date{}, fmt.Errorf("%w: unrecognised separator, use / . or -", ErrBadDate)
	}
	parts := strings.Split(s, string(sep))
	if len(parts) != 3 {
		return Date{}, fmt.Errorf("%w: want day, month and year", ErrBadDate)
	}
	for _, p := range parts {
		if p == "" || strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return Date{}, fmt.Errorf("%w: parts must be digits with one kind of separator", ErrBadDate)
		}
	}

	var ys, ms, ds string
	switch {
	case len(parts[0]) == 4: // YYYY-MM-DD
		if sep != '-' {
			return Date{}, fmt.Errorf("%w: year-first dates must be written YYYY-MM-DD", ErrBadDate)
		}
		ys, ms, ds = parts[0], parts[1], parts[2]
		if len(ms) > 2 || len(ds) > 2 {
			return Date{}, fmt.Errorf("%w: month and day take one or two digits", ErrBadDate)
		}
	case len(parts[0]) <= 2: // DD/MM/YYYY and friends
		ds, ms, ys = parts[0], parts[1], parts[2]
		if len(ms) > 2 {
			return Date{}, fmt.Errorf("%w: month takes one or two digits", ErrBadDate)
		}
		switch len(ys) {
		case 4:
		case 2:
			if sep == '-' {
				return Date{}, fmt.Errorf("%w: two-digit year with '-' is ambiguous, write the year in full", ErrBadDate)
			}
			ys = "20" + ys
		default:
			return Date{}, fmt.Errorf("%w: year takes two or four digits", ErrBadDate)
		}
	default:
		return Date{}, fmt.Errorf("%w: unrecognised format", ErrBadDate)
	}

	// Every field is now 1 to 4 ASCII digits, so Atoi cannot fail.
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	return NewDate(y, time.Month(m), d)
}

// normalizeDateRunes maps Eastern Arabic and Persian digits to ASCII and the
// Arabic separators to their ASCII counterparts.
func normalizeDateRunes(s string) string {
	return strings.Map(func(r rune) rune {
		if d, ok := digits.ASCII(r); ok {
			return d
		}
		switch {
		case r == '\u066B': // ARABIC DECIMAL SEPARATOR
			return '.'
		case r == '\u060D': // ARABIC DATE SEPARATOR
			return '/'
		}
		return r
	}, s)
}

// isDateSpace reports runes trimmed around a date: white space, and the
// invisible direction marks that right-to-left keyboards and copy-paste add.
func isDateSpace(r rune) bool {
	switch r {
	case '\u200E', '\u200F', '\u061C', // LRM, RLM, ALM
		'\u202A', '\u202B', '\u202C', '\u202D', '\u202E', // embeddings, overrides
		'\u2066', '\u2067', '\u2068', '\u2069', // isolates
		'\uFEFF': // BOM / zero-width no-break space
		return true
	}
	return unicode.IsSpace(r)
}
