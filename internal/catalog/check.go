package catalog

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Plural form names, in CLDR order.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// LocaleReport says how complete one locale is against the reference.
type LocaleReport struct {
	Tag      string
	Total    int      // messages in the reference
	Present  int      // of those, present here with every form needed
	Problems []string // one line each, for people
}

// Complete reports whether the locale has every message and form.
func (r LocaleReport) Complete() bool { return len(r.Problems) == 0 && r.Present == r.Total }

// Report is the result of Check.
type Report struct {
	Locales  []LocaleReport
	Problems []string // problems of the set itself (unreadable files, reference issues)
}

// OK reports whether every locale is complete and the set is sound.
func (r Report) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, l := range r.Locales {
		if !l.Complete() {
			return false
		}
	}
	return true
}

// String prints the report for an operator or a translator.
func (r Report) String() string {
	var b strings.Builder
	complete := 0
	for _, l := range r.Locales {
		if l.Complete() {
			complete++
		}
	}
	fmt.Fprintf(&b, "catalogs: %d/%d locales complete\n", complete, len(r.Locales))
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  error: %s\n", p)
	}
	for _, l := range r.Locales {
		status := "complete"
		if !l.Complete() {
			status = "INCOMPLETE"
		}
		fmt.Fprintf(&b, "  %-8s %d/%d messages %s\n", l.Tag, l.Present, l.Total, status)
		for _, p := range l.Problems {
			fmt.Fprintf(&b, "           - %s\n", p)
		}
	}
	return b.String()
}

type rawMessage struct {
	Description string
	Forms       map[string]string
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)`)

func placeholders(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// Check compares every active.<lang>.toml of fsys with the reference: each
// message present and non-empty, each template parsing, the placeholders of
// the other form identical, no form using a placeholder the reference lacks,
// and every plural form the language needs. The reference must describe
// every message for translators.
func Check(fsys fs.FS) Report {
	var rep Report
	files, err := fs.Glob(fsys, "active.*.toml")
	if err != nil || len(files) == 0 {
		rep.Problems = append(rep.Problems, "no active.<lang>.toml files found")
		return rep
	}
	sort.Strings(files)
	all := map[string]map[string]rawMessage{}
	var tags []string
	for _, f := range files {
		tag := tagOf(f)
		msgs, err := readRaw(fsys, f)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		all[tag] = msgs
		tags = append(tags, tag)
	}
	ref, ok := all[Reference]
	if !ok {
		rep.Problems = append(rep.Problems, "reference catalog active.en.toml is missing or unreadable")
		return rep
	}
	ids := make([]string, 0, len(ref))
	for id, m := range ref {
		ids = append(ids, id)
		if strings.TrimSpace(m.Description) == "" {
			rep.Problems = append(rep.Problems, fmt.Sprintf("en: %s has no description for translators", id))
		}
	}
	sort.Strings(ids)
	var terms []string
	if md, err := fs.ReadFile(fsys, "GLOSSARY.md"); err == nil {
		terms = GlossaryTerms(md)
	}
	english := englishWords(ref, frenchWords(all["fr"], terms))
	for _, tag := range tags {
		lr := checkLocale(tag, all[tag], ref, ids)
		lr.Problems = append(lr.Problems, ruleProblems(tag, all[tag], ref, english, ruleTerms(terms))...)
		sort.Strings(lr.Problems)
		rep.Locales = append(rep.Locales, lr)
	}
	rendered := false // a right-to-left or French locale: rules on rendered text
	for _, tag := range tags {
		rendered = rendered || rtl[baseOf(tag)] || baseOf(tag) == "fr"
	}
	if !rep.OK() || !rendered {
		return rep
	}
	// The layout rule, on the rendered texts of the right-to-left locales.
	c, err := Load(fsys)
	if err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("load: %v", err))
		return rep
	}
	c.SetMissing(nil)
	for _, p := range append(c.LayoutReport(terms), c.TypographyReport()...) {
		tag, _, _ := strings.Cut(p, " ")
		for i := range rep.Locales {
			if rep.Locales[i].Tag == tag {
				rep.Locales[i].Problems = append(rep.Locales[i].Problems, strings.TrimPrefix(p, tag+" "))
			}
		}
	}
	return rep
}

// ruleTerms are the glossary terms a translation must keep wherever the
// reference has them: all but those that are also plain English words the
// reference uses in their English sense.
func ruleTerms(terms []string) []string {
	var out []string
	for _, t := range terms {
		switch strings.ToLower(t) {
		case "mention", "convocation", "visa":
			continue
		}
		out = append(out, t)
	}
	return out
}

func checkLocale(tag string, msgs, ref map[string]rawMessage, ids []string) LocaleReport {
	lr := LocaleReport{Tag: tag, Total: len(ids)}
	needed, err := neededForms(tag)
	if err != nil {
		lr.Problems = append(lr.Problems, err.Error())
		return lr
	}
	for _, id := range ids {
		m, ok := msgs[id]
		if !ok {
			lr.Problems = append(lr.Problems, fmt.Sprintf("%s: missing", id))
			continue
		}
		r := ref[id]
		before := len(lr.Problems)
		refPH := placeholders(r.Forms["other"])
		if strings.TrimSpace(m.Forms["other"]) == "" {
			lr.Problems = append(lr.Problems, fmt.Sprintf("%s: empty or no \"other\" form", id))
		} else if got := placeholders(m.Forms["other"]); strings.Join(got, ",") != strings.Join(refPH, ",") {
			lr.Problems = append(lr.Problems, fmt.Sprintf("%s: placeholders %v, reference has %v", id, got, refPH))
		}
		if tag != Reference && m.Forms["other"] == r.Forms["other"] && !mayStayEnglish(r.Forms["other"]) {
			lr.Problems = append(lr.Problems, fmt.Sprintf("%s: identical to English (translate it)", id))
		}
		plural := len(r.Forms) > 1
		for form, text := range m.Forms {
			if _, err := template.New(id).Parse(text); err != nil {
				lr.Problems = append(lr.Problems, fmt.Sprintf("%s: form %q does not parse: %v", id, form, err))
			}
			for _, ph := range placeholders(text) {
				if !contains(refPH, ph) {
					lr.Problems = append(lr.Problems, fmt.Sprintf("%s: form %q uses {{.%s}}, unknown to the reference", id, form, ph))
				}
			}
		}
		if plural {
			for _, form := range needed {
				if strings.TrimSpace(m.Forms[form]) == "" {
					lr.Problems = append(lr.Problems, fmt.Sprintf("%s: plural form %q needed by %s is missing", id, form, tag))
				}
			}
		}
		if len(lr.Problems) == before {
			lr.Present++
		}
	}
	for id := range msgs {
		if _, ok := ref[id]; !ok {
			lr.Problems = append(lr.Problems, fmt.Sprintf("%s: not in the reference catalog (remove it)", id))
		}
	}
	sort.Strings(lr.Problems)
	return lr
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// neededForms returns the CLDR plural forms a language uses, by asking
// go-i18n's own rules which form it picks for a spread of numbers.
func neededForms(tag string) ([]string, error) {
	lt, err := language.Parse(tag)
	if err != nil {
		return nil, fmt.Errorf("bad language tag %q", tag)
	}
	b := i18n.NewBundle(lt)
	if err := b.AddMessages(lt, &i18n.Message{ID: "p", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}); err != nil {
		return nil, err
	}
	loc := i18n.NewLocalizer(b, tag)
	seen := map[string]bool{}
	samples := []any{"0.5", "1.5", "2.5", 1000, 1000000, 1000001}
	for n := 0; n <= 200; n++ {
		samples = append(samples, n)
	}
	for _, n := range samples {
		s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: "p", PluralCount: n})
		if err == nil {
			seen[s] = true
		}
	}
	var out []string
	for _, f := range pluralForms {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

func readRaw(fsys fs.FS, name string) (map[string]rawMessage, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	out := map[string]rawMessage{}
	for id, v := range raw {
		switch v := v.(type) {
		case string:
			out[id] = rawMessage{Forms: map[string]string{"other": v}}
		case map[string]any:
			m := rawMessage{Forms: map[string]string{}}
			for k, fv := range v {
				s, ok := fv.(string)
				if !ok {
					return nil, fmt.Errorf("%s.%s: not a string", id, k)
				}
				switch {
				case k == "description":
					m.Description = s
				case contains(pluralForms, k):
					m.Forms[k] = s
				case k == "hash", k == "leftdelim", k == "rightdelim", k == "id":
				default:
					return nil, fmt.Errorf("%s: unknown key %q", id, k)
				}
			}
			out[id] = m
		default:
			return nil, fmt.Errorf("%s: unexpected value of type %T", id, v)
		}
	}
	return out, nil
}

// keepWords are the words a translation keeps as they are: French
// administrative terms residents meet on their papers (locales/GLOSSARY.md)
// and names. A message whose words are all among them may stay identical
// to the English reference.
var keepWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`passerelle anef api aps ccc oqtf vls ts visa
		carte de du des séjour temporaire pluriannuelle résident résidence longue durée ue
		certificat algérien attestation prolongation d instruction l autorisation provisoire
		récépissé domiciliation dépôt préfecture mention talent passeport travailleur
		saisonnier vie privée et familiale étudiant salarié visiteur apatride
		naturalisation la cimade watizat refugies info défenseur droits points justice caf france travail`) {
		keepWords[w] = true
	}
}

// mayStayEnglish reports whether a reference text needs no translation:
// after removing placeholders and tags, only numbers, punctuation, symbols
// and keepWords are left.
func mayStayEnglish(text string) bool {
	text = actionRE.ReplaceAllString(text, " ")
	text = tagRE.ReplaceAllString(text, " ")
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if !keepWords[w] {
			return false
		}
	}
	return true
}

var (
	tagRE    = regexp.MustCompile(`<[^>]*>`)
	actionRE = regexp.MustCompile(`\{\{[^}]*\}\}`)
)
