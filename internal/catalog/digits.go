package catalog

import "strings"

// NormalizeDigits maps Eastern Arabic (U+0660–U+0669) and Persian
// (U+06F0–U+06F9) digits to ASCII, and the Arabic decimal and date
// separators to ASCII punctuation, so that parsers see one alphabet. Other
// text is left as it is.
func NormalizeDigits(s string) string {
	if strings.IndexFunc(s, needsMapping) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '\u0660' && r <= '\u0669':
			return '0' + (r - '\u0660')
		case r >= '\u06F0' && r <= '\u06F9':
			return '0' + (r - '\u06F0')
		case r == '\u066B': // ARABIC DECIMAL SEPARATOR
			return '.'
		case r == '\u066C': // ARABIC THOUSANDS SEPARATOR
			return ','
		}
		return r
	}, s)
}

func needsMapping(r rune) bool {
	return r >= '\u0660' && r <= '\u0669' || r >= '\u06F0' && r <= '\u06F9' || r == '\u066B' || r == '\u066C'
}
