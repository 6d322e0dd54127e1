package catalog

import (
	"regexp"
	"strings"
)

// French typography (Imprimerie nationale rules as residents see them on
// official letters): a no-break space before ":" and inside « », a narrow
// no-break space before ";", "!" and "?". The printer applies it to every
// French message it renders (and so to volunteers' texts, which are
// French), by rule: the catalogs may hold ordinary spaces, the output never
// does. Values (names, what a person typed) are left as they are, and so
// are tags, URLs, times (09:00) and commands.
const (
	nbsp  = "\u00A0" // NO-BREAK SPACE
	nnbsp = "\u202F" // NARROW NO-BREAK SPACE
)

// Sentinels around values during rendering, so that typography never
// touches them; removed before the text leaves the printer.
const (
	valueOpen  = "\uE000"
	valueClose = "\uE001"
)

// slot stands for a protected piece while the rules run.
const slot = "\uE002"

var (
	// protected: tags, entities, URLs, values.
	protectedRE  = regexp.MustCompile(`<[^>]*>|&#?[A-Za-z0-9]+;|https?://[^\s<]+|` + valueOpen + `[^` + valueClose + `]*` + valueClose)
	colonAfterRE = regexp.MustCompile(`([^\s\x{00A0}\x{202F}])[ \x{00A0}\x{202F}]*:([ \n]|$)`)
	highRE       = regexp.MustCompile(`([^\s\x{00A0}\x{202F}])[ \x{00A0}\x{202F}]*([;!?])([ \n"»)]|` + slot + `|$)`)
	openQuoteRE  = regexp.MustCompile(`«[ \x{00A0}\x{202F}]*`)
	closeQuoteRE = regexp.MustCompile(`[ \x{00A0}\x{202F}]*»`)
)

// frenchTypography applies the rules above to rendered text in which
// values are wrapped in valueOpen…valueClose, and removes the wrapping.
func frenchTypography(s string) string {
	pieces := protectedRE.FindAllString(s, -1)
	t := protectedRE.ReplaceAllString(s, slot)
	t = colonAfterRE.ReplaceAllString(t, "${1}"+nbsp+":${2}")
	t = highRE.ReplaceAllString(t, "${1}"+nnbsp+"${2}${3}")
	t = openQuoteRE.ReplaceAllString(t, "«"+nbsp)
	t = closeQuoteRE.ReplaceAllString(t, nbsp+"»")
	var b strings.Builder
	for i := 0; ; i++ {
		j := strings.Index(t, slot)
		if j < 0 || i >= len(pieces) {
			b.WriteString(t)
			break
		}
		b.WriteString(t[:j])
		b.WriteString(pieces[i])
		t = t[j+len(slot):]
	}
	return strings.NewReplacer(valueOpen, "", valueClose, "").Replace(b.String())
}

// FrenchTypographyProblems reports where text (rendered French) breaks the
// rules: an ordinary space, or none, before ":", ";", "!", "?" or "»", or
// after "«". Tags, URLs and times are not read.
func FrenchTypographyProblems(text string) []string {
	var out []string
	plain := protectedRE.ReplaceAllString(text, " ")
	for _, re := range []*regexp.Regexp{badColonRE, badHighRE, badOpenRE, badCloseRE} {
		out = append(out, re.FindAllString(plain, -1)...)
	}
	return out
}

var (
	badColonRE = regexp.MustCompile(`\S{0,12}(?: |[\p{L})»]):(?:[ \n]|$)`)
	badHighRE  = regexp.MustCompile(`\S{0,12}(?: |[\p{L}\p{N})»])[;!?](?:[ \n"»)]|$)`)
	badOpenRE  = regexp.MustCompile(`«(?: |\p{L})\S{0,12}`)
	badCloseRE = regexp.MustCompile(`\S{0,12}(?: |\p{L})»`)
)
