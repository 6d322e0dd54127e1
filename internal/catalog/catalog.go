// Package catalog holds every text Passerelle shows, in every shipped
// language: it loads the go-i18n message files, negotiates a resident's
// language, formats messages as escaped Telegram HTML, and isolates
// left-to-right values inside right-to-left text.
package catalog

import (
	"errors"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Reference is the reference language: every message exists in it first,
// with a description for translators, and it is the bundle's default.
const Reference = "en"

// aliases maps language codes the matcher does not relate to a shipped
// locale, though they are the same written language: Dari (prs) is written
// Persian, Southern and Northern Pashto (pbt, pbu) are Pashto.
var aliases = map[string]string{"prs": "fa", "pbt": "ps", "pbu": "ps"}

// rtl lists the scripts written right to left among languages we may ship.
var rtl = map[string]bool{"ar": true, "fa": true, "prs": true, "ps": true, "ur": true, "he": true, "ckb": true}

// Language is one shipped locale.
type Language struct {
	Tag    string // BCP 47 tag as in the file name, e.g. "fr", "ar"
	Native string // the language's name in itself ("Français")
	RTL    bool
}

// MissingFunc is told when a message is missing in a language (the
// reference text was used instead) or cannot be rendered.
type MissingFunc func(lang, id string, err error)

// Catalog is the loaded set of locales. It is safe for concurrent use
// once loaded.
type Catalog struct {
	bundle  *i18n.Bundle
	langs   []Language
	byTag   map[string]Language
	matcher language.Matcher
	tags    []language.Tag
	ids     []string
	plural  map[string]bool

	mu        sync.RWMutex
	onMissing MissingFunc
	printers  sync.Map // tag → *Printer
}

// Load reads every active.<lang>.toml file at the root of fsys. The
// reference catalog (active.en.toml) must be present.
func Load(fsys fs.FS) (*Catalog, error) {
	files, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, fmt.Errorf("list catalogs: %w", err)
	}
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, byTag: map[string]Language{}}
	c.onMissing = func(lang, id string, err error) {
		slog.Warn("catalog_missing", "lang", lang, "message_id", id, "err", err)
	}
	sort.Strings(files)
	// The reference first, so that the matcher prefers it on ties.
	sort.SliceStable(files, func(i, j int) bool { return tagOf(files[i]) == Reference && tagOf(files[j]) != Reference })
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(fsys, f); err != nil {
			return nil, fmt.Errorf("load %s: %w", f, err)
		}
		tag := tagOf(f)
		lt, err := language.Parse(tag)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: bad language tag %q: %w", f, tag, err)
		}
		c.tags = append(c.tags, lt)
		l := Language{Tag: tag, RTL: rtl[baseOf(tag)]}
		c.langs = append(c.langs, l)
	}
	if len(c.langs) == 0 || c.langs[0].Tag != Reference {
		return nil, errors.New("catalog: the reference catalog active.en.toml is missing")
	}
	for i := range c.langs {
		native, err := i18n.NewLocalizer(b, c.langs[i].Tag).Localize(&i18n.LocalizeConfig{MessageID: "language.native"})
		if err != nil {
			return nil, fmt.Errorf("catalog %s: language.native: %w", c.langs[i].Tag, err)
		}
		c.langs[i].Native = native
		c.byTag[c.langs[i].Tag] = c.langs[i]
	}
	c.matcher = language.NewMatcher(c.tags)
	ref, err := readRaw(fsys, "active."+Reference+".toml")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c.plural = map[string]bool{}
	for id, m := range ref {
		c.ids = append(c.ids, id)
		c.plural[id] = len(m.Forms) > 1
	}
	sort.Strings(c.ids)
	return c, nil
}

func tagOf(file string) string {
	base := strings.TrimSuffix(path.Base(file), ".toml")
	return strings.TrimPrefix(base, "active.")
}

func baseOf(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		return strings.ToLower(tag[:i])
	}
	return strings.ToLower(tag)
}

// SetMissing replaces the handler told about missing messages. Tests use it
// to fail on any fallback.
func (c *Catalog) SetMissing(f MissingFunc) {
	c.mu.Lock()
	c.onMissing = f
	c.mu.Unlock()
}

func (c *Catalog) missing(lang, id string, err error) {
	c.mu.RLock()
	f := c.onMissing
	c.mu.RUnlock()
	if f != nil {
		f(lang, id, err)
	}
}

// Languages returns the shipped locales, the reference first, then by tag.
func (c *Catalog) Languages() []Language { return append([]Language(nil), c.langs...) }

// IDs returns every message id of the reference catalog, sorted.
func (c *Catalog) IDs() []string { return append([]string(nil), c.ids...) }

// IsPlural reports whether message id has plural forms (render it with
// Printer.N).
func (c *Catalog) IsPlural(id string) bool { return c.plural[id] }

// Has reports whether tag is a shipped locale.
func (c *Catalog) Has(tag string) bool { _, ok := c.byTag[tag]; return ok }

// Language returns the shipped locale for tag.
func (c *Catalog) Language(tag string) (Language, bool) { l, ok := c.byTag[tag]; return l, ok }

// Match finds the shipped locale for a client's language code (Telegram's
// language_code, an IETF tag). ok is false unless the match is confident:
// an unknown code such as "xx" never silently becomes the reference, and a
// different script (zh-Hant for zh-Hans) is not a confident match.
func (c *Catalog) Match(code string) (tag string, ok bool) {
	code = strings.TrimSpace(code)
	if code == "" {
		return "", false
	}
	if alias, ok := aliases[strings.ToLower(code)]; ok {
		code = alias
	}
	want, err := language.Parse(code)
	if err != nil {
		return "", false
	}
	_, idx, conf := c.matcher.Match(want)
	if conf < language.High {
		return "", false
	}
	return c.langs[idx].Tag, true
}

// Printer returns the printer for a shipped locale; an unknown tag gets the
// reference locale.
func (c *Catalog) Printer(tag string) *Printer {
	if !c.Has(tag) {
		tag = Reference
	}
	if p, ok := c.printers.Load(tag); ok {
		return p.(*Printer)
	}
	l := c.byTag[tag]
	p := &Printer{c: c, lang: l, loc: i18n.NewLocalizer(c.bundle, tag)}
	actual, _ := c.printers.LoadOrStore(tag, p)
	return actual.(*Printer)
}

// HTML is a value already formatted as Telegram HTML; the printer inserts
// it as it is, without escaping or isolation.
type HTML string

// Printer renders messages in one language. Safe for concurrent use.
type Printer struct {
	c    *Catalog
	lang Language
	loc  *i18n.Localizer
	// fixed caches the rendering of messages rendered without values
	// (message id → text): their text depends on nothing else, and
	// rendering (the template, French typography, the layout) is most of
	// what answering a command costs.
	fixed sync.Map
}

// Lang returns the printer's locale tag.
func (p *Printer) Lang() string { return p.lang.Tag }

// RTL reports whether the printer's language is written right to left.
func (p *Printer) RTL() bool { return p.lang.RTL }

// T renders message id with named values given as pairs: T("x", "Name", v).
// Values are HTML-escaped and, in right-to-left languages, isolated, and
// the text is laid out right to left (see Layout); French gets its
// typography (no-break spaces, see frenchTypography). A
// missing message is reported to the catalog's MissingFunc and the
// reference text is used; T never panics.
func (p *Printer) T(id string, pairs ...any) string {
	return p.render(id, nil, pairs)
}

// N renders a message with plural forms chosen by count; the count is
// available to the template as {{.Count}}.
func (p *Printer) N(id string, count int, pairs ...any) string {
	return p.render(id, count, append(pairs, "Count", count))
}

func (p *Printer) render(id string, count any, pairs []any) string {
	if count == nil && len(pairs) == 0 {
		if s, ok := p.fixed.Load(id); ok {
			return s.(string)
		}
	}
	data := make(map[string]any, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		name, _ := pairs[i].(string)
		data[name] = p.value(pairs[i+1])
	}
	s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		p.c.missing(p.lang.Tag, id, err)
		if s == "" {
			s = id
		}
	}
	if p.french() {
		s = frenchTypography(s)
	}
	s = p.Layout(s)
	if count == nil && len(pairs) == 0 && err == nil {
		// A missing message is not kept: it is reported every time.
		p.fixed.Store(id, s)
	}
	return s
}

// french reports whether the printer writes French, whose typography the
// printer applies (see frenchTypography).
func (p *Printer) french() bool { return baseOf(p.lang.Tag) == "fr" }

func (p *Printer) value(v any) string {
	var s string
	switch v := v.(type) {
	case HTML:
		s = string(v)
	case string:
		s = p.Isolate(html.EscapeString(v))
	case fmt.Stringer:
		s = p.Isolate(html.EscapeString(v.String()))
	default:
		s = p.Isolate(html.EscapeString(fmt.Sprint(v)))
	}
	if p.french() && strings.ContainsAny(s, ":;!?«»") {
		// Typography never touches a value (a name, what someone typed).
		s = valueOpen + s + valueClose
	}
	return s
}

// Isolate wraps s in FSI…PDI when the printer's language is right to left,
// so that a date, a number or a Latin name keeps its own direction. It
// never isolates twice, and leaves left-to-right languages untouched.
func (p *Printer) Isolate(s string) string {
	if !p.lang.RTL || s == "" || strings.HasPrefix(s, fsi) && strings.HasSuffix(s, pdi) {
		return s
	}
	return fsi + s + pdi
}

// Escape escapes s for Telegram HTML.
func Escape(s string) string { return html.EscapeString(s) }
