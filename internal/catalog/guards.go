package catalog

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sampleValues are representative values for every placeholder: what the
// bot passes (dates as printed on documents, French document names, a
// phone number, a link, a département), so that a message renders as a
// resident would see it.
var sampleValues = map[string]string{
	"Date": "25/11/2026", "Expiry": "31/03/2027", "Opens": "01/12/2026", "Closes": "31/01/2027",
	"Filed": "02/12/2026", "APIExpiry": "28/02/2027", "Deadline": "15/03/2027", "Short": "01/05/2027",
	"Partner": "Entraide Rhône", "Case": "42", "Alias": "Marie", "Count": "3", "N": "3",
	"Kind": "Carte de séjour temporaire", "Title": "Attestation de dépôt", "Label": "Je valide mon VLS-TS",
	"Mention": "vie privée et familiale", "Year": "2027", "Day": "1", "Month": "mai", "Weekday": "lundi",
	"Time": "09:00", "Language": "Français", "Languages": "Français, English", "Departement": "69 Rhône",
	"UserID": "123456789", "Problem": "OQTF", "Text": "Appelez le 09 69 39 00 00", "Steps": "ANEF",
	"Risks": "OQTF", "Referents": "@marie_lyon", "Status": "API", "Link": "https://t.me/passerelle_bot?start=p-lyon",
	"Placeholders": "{{.Date}}",
}

// sampleHTML are values the bot passes as markup (digits it formats
// itself), not as text to isolate.
var sampleHTML = map[string]HTML{"Hour": "9", "Minute": "30"}

// pluralSamples are the counts a plural message is rendered with: one of
// each CLDR form in the shipped languages.
var pluralSamples = []int{0, 1, 2, 3, 11, 100}

// Samples renders message id in the printer's language with sample values,
// once per plural count for a plural message.
func (p *Printer) Samples(id string) []string {
	var args []any
	for name, v := range sampleValues {
		args = append(args, name, v)
	}
	for name, v := range sampleHTML {
		args = append(args, name, v)
	}
	if !p.c.IsPlural(id) {
		return []string{p.T(id, args...)}
	}
	var out []string
	for _, n := range pluralSamples {
		out = append(out, p.N(id, n, args...))
	}
	return out
}

// LayoutReport renders every message of every right-to-left locale with
// sample values (every message, since any may be a button label) and lays
// it out as a phone would (LayoutProblems). It also checks that the rule
// is applied once: laying out rendered text again changes nothing.
func (c *Catalog) LayoutReport(terms []string) []string {
	var out []string
	for _, l := range c.langs {
		if !l.RTL {
			continue
		}
		p := c.Printer(l.Tag)
		for _, id := range c.ids {
			for _, text := range p.Samples(id) {
				for _, prob := range LayoutProblems(text, terms) {
					out = append(out, fmt.Sprintf("%s %s: layout: %s", l.Tag, id, prob))
				}
				if again := p.Layout(text); again != text {
					out = append(out, fmt.Sprintf("%s %s: laid out twice gives %q, not %q", l.Tag, id, again, text))
				}
				if strings.Contains(text, rlm+rlm) {
					out = append(out, fmt.Sprintf("%s %s: two right-to-left marks in a row: %q", l.Tag, id, text))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TypographyReport renders every message of the French locale with sample
// values and reports text that breaks French typography
// (FrenchTypographyProblems).
func (c *Catalog) TypographyReport() []string {
	var out []string
	for _, l := range c.langs {
		if baseOf(l.Tag) != "fr" {
			continue
		}
		p := c.Printer(l.Tag)
		for _, id := range c.ids {
			for _, text := range p.Samples(id) {
				for _, prob := range FrenchTypographyProblems(text) {
					out = append(out, fmt.Sprintf("%s %s: typography: no-break space missing in %q", l.Tag, id, prob))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// GlossaryTerms reads the French terms of the glossary (locales/GLOSSARY.md,
// the first column of its table): "API (attestation de prolongation
// d'instruction)" gives "API" and "attestation de prolongation
// d'instruction", "CAF, France Travail" gives both names.
func GlossaryTerms(md []byte) []string {
	var out []string
	for _, line := range strings.Split(string(md), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) < 2 || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		term := strings.TrimSpace(cells[0])
		if term == "" || term == "French term" || strings.Trim(term, "-: ") == "" {
			continue
		}
		if open := strings.Index(term, " ("); open > 0 && strings.HasSuffix(term, ")") {
			out = append(out, term[:open], term[open+2:len(term)-1])
			continue
		}
		for _, t := range strings.Split(term, ", ") {
			out = append(out, strings.TrimSpace(t))
		}
	}
	return out
}

// Rules that every locale keeps (passerelle check and the catalog tests):
// glossary terms in French where the reference has them, one family of
// quote marks per locale, no English word left in a locale written in
// another script. They read the catalogs' texts, not lists of message ids,
// so they hold for messages added later.

// quoteFamilies are the pairs of quotation marks a locale may use.
var quoteFamilies = []struct{ name, open, close string }{
	{"« »", "«", "»"},
	{"“ ”", "“", "”"},
	{"„ “", "„", ""},
	{"「 」", "「", "」"},
}

// latinScript lists locales written in the Latin script: the rule on
// English words left does not apply to them (their own words are Latin).
var latinScript = map[string]bool{"en": true, "fr": true, "es": true, "pt": true, "tr": true}

// latinAllowed are Latin-script words a translation may show besides
// French words: units and the date format the bot prints.
var latinAllowed = map[string]bool{"mb": true, "dd": true, "mm": true, "yyyy": true, "aaaa": true, "jj": true}

var (
	latinWordRE = regexp.MustCompile(`[A-Za-zÀ-ÖØ-öø-ÿŒœ]+`)
	urlRE       = regexp.MustCompile(`(?:https?://|www\.)\S+|/[a-z_]+`)
)

// visibleText is a message's text without tags, template actions, URLs and
// commands.
func visibleText(s string) string {
	s = actionRE.ReplaceAllString(s, " ")
	s = tagRE.ReplaceAllString(s, " ")
	return urlRE.ReplaceAllString(html.UnescapeString(s), " ")
}

// ruleProblems checks the glossary, quote and English rules for one locale
// against the reference. english holds the words of the reference that
// are not French (frenchWords): a locale written in another script may
// show Latin words, French ones, never those.
func ruleProblems(tag string, msgs, ref map[string]rawMessage, english map[string]bool, terms []string) []string {
	if tag == Reference {
		return nil
	}
	var out []string
	used := map[string][]string{} // quote family → ids
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r, ok := ref[id]
		if !ok {
			continue
		}
		for form, text := range msgs[id].Forms {
			refText := r.Forms[form]
			if refText == "" {
				refText = r.Forms["other"]
			}
			vis := visibleText(text)
			if !shortLabel(r.Description) { // a short label (≤ 30 characters) may abbreviate a term
				lowRef, low := strings.ToLower(visibleText(refText)), strings.ToLower(vis)
				for _, term := range terms {
					if t := strings.ToLower(term); containsWord(lowRef, t) && !strings.Contains(low, t) {
						out = append(out, fmt.Sprintf("%s: keeps no %q in French, though the reference has it (GLOSSARY.md)", id, term))
					}
				}
			}
			for _, q := range quoteFamilies {
				if strings.Contains(vis, q.open) {
					used[q.name] = append(used[q.name], id)
				}
			}
			if !latinScript[baseOf(tag)] {
				for _, w := range latinWordRE.FindAllString(vis, -1) {
					if lw := strings.ToLower(w); english[lw] && !latinAllowed[lw] {
						out = append(out, fmt.Sprintf("%s: English word %q left (write the locale's word, or the French term in brackets)", id, w))
					}
				}
			}
		}
	}
	if len(used) > 1 {
		var fams []string
		for name, ids := range used {
			fams = append(fams, fmt.Sprintf("%s in %s", name, strings.Join(firstN(ids, 3), ", ")))
		}
		sort.Strings(fams)
		out = append(out, "quote marks of several kinds: "+strings.Join(fams, "; "))
	}
	return dedupe(out)
}

var maxLenRE = regexp.MustCompile(`max (\d+) characters`)

// shortLabel reports whether a reference description declares a maximum
// of 30 characters or fewer.
func shortLabel(description string) bool {
	m := maxLenRE.FindStringSubmatch(description)
	if m == nil {
		return false
	}
	n, err := strconv.Atoi(m[1])
	return err == nil && n <= 30
}

// containsWord reports whether s holds w with no letter just before or
// after it.
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (start == 0 || !unicode.IsLetter(before)) && (end == len(s) || !unicode.IsLetter(after)) {
			return true
		}
		i = start + 1
	}
}

// frenchWords collects the Latin-script words of the French catalog and
// of the glossary.
func frenchWords(fr map[string]rawMessage, terms []string) map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		for _, w := range latinWordRE.FindAllString(visibleText(s), -1) {
			out[strings.ToLower(w)] = true
		}
	}
	for _, m := range fr {
		for _, text := range m.Forms {
			add(text)
		}
	}
	for _, t := range terms {
		add(t)
	}
	return out
}

// englishWords are the Latin-script words of the reference catalog that
// the French catalog and the glossary do not use.
func englishWords(ref map[string]rawMessage, french map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, m := range ref {
		for _, text := range m.Forms {
			for _, w := range latinWordRE.FindAllString(visibleText(text), -1) {
				if lw := strings.ToLower(w); !french[lw] {
					out[lw] = true
				}
			}
		}
	}
	return out
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
