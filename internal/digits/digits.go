// Package digits maps the digits residents type in other scripts to ASCII.
// It is a leaf of the standard library only, so that the domain packages
// (permit, guide) and the catalog share one table.
package digits

// ASCII returns the ASCII digit for an Eastern Arabic (U+0660–U+0669) or
// Persian (U+06F0–U+06F9) digit, and whether r was one.
func ASCII(r rune) (rune, bool) {
	switch {
	case r >= '\u0660' && r <= '\u0669':
		return '0' + (r - '\u0660'), true
	case r >= '\u06F0' && r <= '\u06F9':
		return '0' + (r - '\u06F0'), true
	}
	return r, false
}
