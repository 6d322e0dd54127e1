package catalog

import (
	"strings"

	"github.com/passerelle-bot/passerelle/internal/digits"
)

// NormalizeDigits maps Eastern Arabic (U+0660–U+0669) and Persian
// (U+06F0–U+06F9) digits to ASCII, and the Arabic decimal and date
// separators to ASCII punctuation, so that parsers see one alphabet. Other
// text is left as it is.
func NormalizeDigits(s string) string {
	if strings.IndexFunc(s, needsMapping) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if d, ok := digits.ASCII(r); ok {
			return d
		}
		switch {
		case r == '\u066B': // ARABIC DECIMAL SEPARATOR
			return '.'
		case r == '\u066C': // ARABIC THOUSANDS SEPARATOR
			return ','
		}
		return r
	}, s)
}

func needsMapping(r rune) bool {
	_, isDigit := digits.ASCII(r)
	return isDigit || r == '\u066B' || r == '\u066C'
}
