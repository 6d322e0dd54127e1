package catalog

import (
	"fmt"
	"sort"
	"strings"
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
	"Placeholders": "{{.Date}}", "Hour": "9", "Minute": "30",
}

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
					out = append(out, fmt.Sprintf("%s %s: %s", l.Tag, id, prob))
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
