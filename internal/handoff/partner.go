package handoff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Defaults of the partners file.
const (
	// DefaultTimezone is the zone of a partner's hours when the file gives
	// none.
	DefaultTimezone = "Europe/Paris"
	// DefaultSLA is how many opening hours a case may wait unclaimed
	// before it goes to the next partner, when the file gives no sla_hours.
	DefaultSLA = 16 * time.Hour
	// DefaultUrgentSLA is the same for urgent cases (urgent_sla_hours),
	// capped by the partner's SLA.
	DefaultUrgentSLA = 2 * time.Hour
)

// Limits of the partners file.
const (
	// MaxPartnerIDLen keeps ids short enough for referral links
	// (start=p-<id>, 64 characters) and callback data (64 bytes).
	MaxPartnerIDLen = 32
	maxNameLen      = 100 // runes
	maxFileSize     = 4 << 20
)

// Partner is one association as the partners file describes it. Treat it
// as read-only: Partners hands out shared pointers.
type Partner struct {
	ID     string // slug: lower-case letters, digits and hyphens
	Name   string // public name, shown to residents
	ChatID int64  // the volunteers' Telegram supergroup (negative, -100…)
	// ReferentsChatID is a second forum supergroup where only the
	// partner's referents (and the colleagues they assign) are members: the
	// topics of sensitive cases live there, since every member of a forum
	// sees every topic. 0: the partner gets no sensitive case.
	ReferentsChatID int64
	Active          bool // false: never routed to (the file's default is true)

	// AllDepartements is true when the partner covers all of France;
	// otherwise Departements lists the codes it covers ("69", "2A").
	AllDepartements bool
	Departements    []string
	// Languages are the locale tags its volunteers speak ("fr", "ar",
	// "zh-Hans"), in the file's order.
	Languages []string
	// AllProblems is true when it takes every Problem; otherwise Problems
	// lists those it takes.
	AllProblems bool
	Problems    []Problem

	Hours     *Hours        // when volunteers read the group; SLAs count only these hours
	SLA       time.Duration // unclaimed time allowed, counted in opening hours
	UrgentSLA time.Duration // the same for urgent cases
	Capacity  int           // maximum open cases

	Referents    []int64 // Telegram user ids; at least one
	Coordinators []int64 // Telegram user ids; may be empty

	Contact   Contact            // public contact shown to residents
	Emergency []EmergencyContact // shown at once to residents with an urgent case
}

// Contact is a partner's public contact, shown to residents. Every field
// is optional.
type Contact struct {
	Address string // the permanence's address
	Hours   string // its hours as text, in the coordinators' words
	Phone   string
	URL     string
}

// EmergencyContact is a number shown to residents with an urgent case
// (OQTF, refusal…), whatever the routing.
type EmergencyContact struct {
	Name  string
	Phone string
	Note  string
}

// Covers reports whether p takes cases from the département with that code.
// A partner covering all départements also covers an unknown one ("").
func (p *Partner) Covers(code string) bool {
	if p.AllDepartements {
		return true
	}
	return slices.ContainsFunc(p.Departements, func(c string) bool { return strings.EqualFold(c, code) })
}

// Speaks reports whether p's volunteers speak lang. Tags match on their
// language part, ignoring case: "zh-Hans" matches "zh", "pt-BR" matches
// "pt".
func (p *Partner) Speaks(lang string) bool {
	base := langBase(lang)
	return base != "" && slices.ContainsFunc(p.Languages, func(l string) bool { return langBase(l) == base })
}

// Takes reports whether p takes cases of problem pb. No partner takes a
// value that is not one of the Problem constants, and a sensitive problem
// only goes to a partner with a referents' group (ReferentsChatID).
func (p *Partner) Takes(pb Problem) bool {
	if !pb.Valid() || pb.Sensitive() && p.ReferentsChatID == 0 {
		return false
	}
	return p.AllProblems || slices.Contains(p.Problems, pb)
}

// Room returns the group where the topic of a case lives: the referents'
// group for a sensitive case, the volunteers' group otherwise.
func (p *Partner) Room(sensitive bool) int64 {
	if sensitive {
		return p.ReferentsChatID
	}
	return p.ChatID
}

// Specialised reports whether p lists pb explicitly rather than taking
// every problem.
func (p *Partner) Specialised(pb Problem) bool {
	return !p.AllProblems && slices.Contains(p.Problems, pb)
}

// SLAFor returns the SLA of an urgent or ordinary case.
func (p *Partner) SLAFor(urgent bool) time.Duration {
	if urgent {
		return p.UrgentSLA
	}
	return p.SLA
}

// IsReferent reports whether Telegram user id is one of p's referents.
func (p *Partner) IsReferent(id int64) bool { return slices.Contains(p.Referents, id) }

// IsCoordinator reports whether Telegram user id is one of p's
// coordinators.
func (p *Partner) IsCoordinator(id int64) bool { return slices.Contains(p.Coordinators, id) }

// langBase returns the language part of a tag, lower-cased: "zh-Hans" →
// "zh".
func langBase(tag string) string {
	base, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	return strings.ToLower(base)
}

// Partners is the loaded partners file. It is immutable and safe for
// concurrent use.
type Partners struct {
	list     []*Partner
	byID     map[string]*Partner
	fallback *Partner
}

// NewPartners builds a Partners from list (in routing tie-break order)
// and the id of the fallback partner ("" for none). It checks only that ids
// are non-empty and unique and that the fallback exists; LoadPartners checks
// everything else.
func NewPartners(list []*Partner, fallback string) (*Partners, error) {
	ps := &Partners{byID: make(map[string]*Partner, len(list))}
	for i, p := range list {
		switch {
		case p == nil:
			return nil, fmt.Errorf("handoff: partner #%d is nil", i+1)
		case p.ID == "":
			return nil, fmt.Errorf("handoff: partner #%d has no id", i+1)
		case ps.byID[p.ID] != nil:
			return nil, fmt.Errorf("handoff: two partners have id %q", p.ID)
		}
		ps.byID[p.ID] = p
		ps.list = append(ps.list, p)
	}
	if fallback != "" {
		if ps.fallback = ps.byID[fallback]; ps.fallback == nil {
			return nil, fmt.Errorf("handoff: fallback %q: no partner has that id", fallback)
		}
	}
	return ps, nil
}

// Get returns the partner with that id.
func (ps *Partners) Get(id string) (*Partner, bool) {
	if ps == nil {
		return nil, false
	}
	p, ok := ps.byID[id]
	return p, ok
}

// All returns every partner in the file's order (a new slice of shared
// pointers).
func (ps *Partners) All() []*Partner {
	if ps == nil {
		return nil
	}
	return slices.Clone(ps.list)
}

// Fallback returns the national fallback partner, if the file names one.
func (ps *Partners) Fallback() (*Partner, bool) {
	if ps == nil || ps.fallback == nil {
		return nil, false
	}
	return ps.fallback, true
}

// LoadPartners reads a partners file (YAML). See partners.example.yaml at
// the root of the repository for the format. It rejects unknown fields,
// duplicate ids and group ids, unknown départements, languages and
// problems, missing or non-supergroup chat ids, malformed or empty hours,
// and an unknown fallback, and reports every problem at once, one per
// line, each with its line number, partner and field.
func LoadPartners(r io.Reader) (*Partners, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("handoff: read partners file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("handoff: partners file: larger than %d MiB", maxFileSize>>20)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, errors.New("handoff: partners file: empty file; list the partners under partners:")
	case err != nil:
		return nil, fmt.Errorf("handoff: partners file: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("handoff: partners file: %w", err)
		}
		return nil, fmt.Errorf("handoff: partners file: line %d: a second YAML document (---); keep one per file", extra.Line)
	}
	l := &loader{}
	ps := l.file(&doc)
	if len(l.errs) > 0 {
		slices.SortStableFunc(l.errs, func(a, b lineError) int { return a.line - b.line })
		errs := make([]error, len(l.errs))
		for i, e := range l.errs {
			errs[i] = e.err
		}
		s := "s"
		if len(errs) == 1 {
			s = ""
		}
		return nil, fmt.Errorf("handoff: partners file has %d problem%s:\n%w", len(errs), s, errors.Join(errs...))
	}
	return ps, nil
}

// loader walks the YAML tree and collects every problem.
type loader struct {
	errs []lineError
}

// lineError is a problem and its line, to list problems in file order.
type lineError struct {
	line int
	err  error
}

func (l *loader) fail(n *yaml.Node, where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	line := 0
	if n != nil && n.Line > 0 {
		line = n.Line
		msg = fmt.Sprintf("line %d: %s", n.Line, msg)
	}
	l.errs = append(l.errs, lineError{line, errors.New(msg)})
}

var (
	fileFields      = []string{"partners", "fallback"}
	partnerFields   = []string{"id", "name", "chat_id", "referents_chat_id", "active", "departements", "languages", "problems", "hours", "sla_hours", "urgent_sla_hours", "capacity", "referents", "coordinators", "contact", "emergency"}
	hoursFields     = []string{"timezone", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "closures"}
	closureFields   = []string{"from", "to", "note"}
	contactFields   = []string{"address", "hours", "phone", "url"}
	emergencyFields = []string{"name", "phone", "note"}
)

// weekdayFields maps the hours' day fields to weekdays.
var weekdayFields = map[string]time.Weekday{
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
}

func (l *loader) file(doc *yaml.Node) *Partners {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	f := l.mapping(root, "", fileFields)
	if f == nil {
		return nil
	}
	list := f["partners"]
	if isNull(list) {
		l.fail(root, "", "no partners: list them under partners:")
		return nil
	}
	list = resolve(list)
	if list.Kind != yaml.SequenceNode {
		l.fail(list, "partners", "want a list of partners, each starting with - id:")
		return nil
	}
	if len(list.Content) == 0 {
		l.fail(list, "partners", "the list is empty")
	}
	var all []*Partner
	ids := map[string]int{}     // id → line
	chats := map[int64]string{} // chat id → partner id
	for i, item := range list.Content {
		p := l.partner(resolve(item), i)
		if p == nil {
			continue
		}
		if line, dup := ids[p.ID]; dup {
			l.fail(item, fmt.Sprintf("partner %q", p.ID), "id already used by the partner at line %d", line)
			continue
		}
		ids[p.ID] = item.Line
		if other, dup := chats[p.ChatID]; dup && p.ChatID != 0 {
			l.fail(item, fmt.Sprintf("partner %q", p.ID), "chat_id %d is already the group of partner %q; each partner needs its own group", p.ChatID, other)
		} else {
			chats[p.ChatID] = p.ID
		}
		if other, dup := chats[p.ReferentsChatID]; dup && p.ReferentsChatID != 0 {
			l.fail(item, fmt.Sprintf("partner %q", p.ID), "referents_chat_id %d is already a group of partner %q; the referents need a group of their own", p.ReferentsChatID, other)
		} else if p.ReferentsChatID != 0 {
			chats[p.ReferentsChatID] = p.ID
		}
		all = append(all, p)
	}
	var fallback string
	if n := f["fallback"]; !isNull(n) {
		if s, ok := l.text(n, "fallback"); ok {
			if _, found := ids[s]; !found {
				l.fail(n, "fallback", "no partner has id %q", s)
			} else {
				fallback = s
			}
		}
	}
	if len(l.errs) > 0 {
		return nil
	}
	ps, err := NewPartners(all, fallback)
	if err != nil { // not reached: the checks above are stricter
		l.fail(nil, "", "%v", err)
	}
	return ps
}

// partner reads the i-th partner; nil when its id is unusable (the
// problems are recorded).
func (l *loader) partner(n *yaml.Node, i int) *Partner {
	where := fmt.Sprintf("partner #%d", i+1)
	if id := peekID(n); id != "" {
		where = fmt.Sprintf("partner %q", id)
	}
	f := l.mapping(n, where, partnerFields)
	if f == nil {
		return nil
	}
	p := &Partner{Active: true}
	idOK := false
	if v := f["id"]; isNull(v) {
		l.fail(n, where, "missing id (a short name in lower case, like entraide-rhone)")
	} else if s, ok := l.text(v, where+": id"); ok {
		if validID(s) {
			p.ID, idOK = s, true
		} else {
			l.fail(v, where, "id %q: use at most %d lower-case letters, digits and hyphens, like entraide-rhone", s, MaxPartnerIDLen)
		}
	}

	required := func(field, hint string) *yaml.Node {
		v := f[field]
		if isNull(v) {
			l.fail(n, where, "missing %s (%s)", field, hint)
			return nil
		}
		return v
	}

	if v := required("name", "the public name residents see"); v != nil {
		if s, ok := l.text(v, where+": name"); ok {
			switch {
			case s == "":
				l.fail(v, where, "name: empty")
			case utf8.RuneCountInString(s) > maxNameLen:
				l.fail(v, where, "name: longer than %d characters", maxNameLen)
			case strings.IndexFunc(s, unicode.IsControl) >= 0:
				l.fail(v, where, "name: keep it on one line")
			default:
				p.Name = s
			}
		}
	}
	if v := required("chat_id", "the id of the volunteers' Telegram group, like -1001234567890"); v != nil {
		if id, ok := l.int(v, where+": chat_id"); ok {
			switch {
			case id >= 0:
				l.fail(v, where, "chat_id %d: a group's id is negative, like -1001234567890", id)
			case id > -1_000_000_000_000:
				l.fail(v, where, "chat_id %d is a basic group; convert it to a supergroup with topics (its id starts with -100)", id)
			default:
				p.ChatID = id
			}
		}
	}
	if v := f["referents_chat_id"]; !isNull(v) {
		if id, ok := l.int(v, where+": referents_chat_id"); ok {
			switch {
			case id >= 0:
				l.fail(v, where, "referents_chat_id %d: a group's id is negative, like -1001234567890", id)
			case id > -1_000_000_000_000:
				l.fail(v, where, "referents_chat_id %d is a basic group; convert it to a supergroup with topics (its id starts with -100)", id)
			default:
				p.ReferentsChatID = id
			}
		}
	}
	if v := f["active"]; !isNull(v) {
		var b bool
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
			l.fail(v, where, "active: want true or false")
		} else {
			p.Active = b
		}
	}
	if v := required("departements", "codes like 69, 01, 2A, 974, or all"); v != nil {
		p.AllDepartements, p.Departements = l.departements(v, where+": departements")
	}
	if v := required("languages", "the languages volunteers speak, like fr, ar, en"); v != nil {
		p.Languages = l.languages(v, where+": languages")
	}
	if v := required("problems", "the problem types taken, or all"); v != nil {
		p.AllProblems, p.Problems = l.problems(v, where+": problems")
	}
	if v := required("hours", "opening hours, like monday: 09:00-12:00"); v != nil {
		p.Hours = l.hours(v, where+": hours")
	}
	p.SLA = DefaultSLA
	if v := f["sla_hours"]; !isNull(v) {
		if d, ok := l.hoursValue(v, where+": sla_hours"); ok {
			p.SLA = d
		}
	}
	p.UrgentSLA = min(DefaultUrgentSLA, p.SLA)
	if v := f["urgent_sla_hours"]; !isNull(v) {
		if d, ok := l.hoursValue(v, where+": urgent_sla_hours"); ok {
			if d > p.SLA {
				l.fail(v, where, "urgent_sla_hours: longer than sla_hours; urgent cases need a shorter wait")
			}
			p.UrgentSLA = d
		}
	}
	if v := required("capacity", "the maximum number of open cases, like 20"); v != nil {
		if c, ok := l.int(v, where+": capacity"); ok {
			if c < 1 || c > 100_000 {
				l.fail(v, where, "capacity %d: want a number of cases from 1 to 100000 (to stop receiving cases, set active: false)", c)
			} else {
				p.Capacity = int(c)
			}
		}
	}
	if v := required("referents", "the Telegram user ids of the referents, at least one"); v != nil {
		before := len(l.errs)
		if p.Referents = l.userIDs(v, where+": referents"); len(p.Referents) == 0 && len(l.errs) == before {
			l.fail(v, where, "referents: list at least one Telegram user id")
		}
	}
	if v := f["coordinators"]; !isNull(v) {
		p.Coordinators = l.userIDs(v, where+": coordinators")
	}
	if v := f["contact"]; !isNull(v) {
		p.Contact = l.contact(v, where+": contact")
	}
	if v := f["emergency"]; !isNull(v) {
		p.Emergency = l.emergency(v, where+": emergency")
	}
	if !idOK {
		return nil
	}
	return p
}

// peekID returns the id of a partner's mapping when it is a valid one,
// to name the partner in every message about it.
func peekID(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == "id" && v.Kind == yaml.ScalarNode && validID(strings.TrimSpace(v.Value)) {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

func validID(s string) bool {
	if s == "" || len(s) > MaxPartnerIDLen || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (l *loader) departements(n *yaml.Node, where string) (all bool, codes []string) {
	items, ok := l.list(n, where)
	if !ok {
		return false, nil
	}
	if len(items) == 1 && strings.EqualFold(items[0].value, "all") {
		return true, nil
	}
	for _, it := range items {
		if strings.EqualFold(it.value, "all") {
			l.fail(it.node, where, "all must be alone (departements: all)")
			continue
		}
		if allDigits(it.value) && len(it.value) == 5 {
			l.fail(it.node, where, "%s looks like a postcode; write the département's code (%s)", it.value, it.value[:2])
			continue
		}
		d, found := lookupDepartement(it.value, false)
		if !found {
			l.fail(it.node, where, "unknown département %q; write codes like 01, 69, 2A, 974", it.value)
			continue
		}
		if !slices.Contains(codes, d.Code) {
			codes = append(codes, d.Code)
		}
	}
	if len(codes) == 0 && len(items) == 0 {
		l.fail(n, where, "list at least one département, or all")
	}
	return false, codes
}

func (l *loader) languages(n *yaml.Node, where string) []string {
	items, ok := l.list(n, where)
	if !ok {
		return nil
	}
	var langs []string
	for _, it := range items {
		tag, valid := canonLang(it.value)
		if !valid {
			l.fail(it.node, where, "%q is not a language tag like fr, ar, fa, zh-Hans", it.value)
			continue
		}
		if !slices.Contains(langs, tag) {
			langs = append(langs, tag)
		}
	}
	if len(items) == 0 {
		l.fail(n, where, "list at least one language (fr)")
	}
	return langs
}

// canonLang checks a BCP 47-like tag (language, then script, region or
// variant subtags) and sets its case: "zh-hans" → "zh-Hans", "PT-br" →
// "pt-BR".
func canonLang(s string) (string, bool) {
	parts := strings.Split(strings.ReplaceAll(s, "_", "-"), "-")
	for i, p := range parts {
		if p == "" || len(p) > 8 {
			return "", false
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return "", false
			}
		}
		switch {
		case i == 0:
			if len(p) < 2 || len(p) > 3 {
				return "", false
			}
			parts[i] = strings.ToLower(p)
		case len(p) == 4 && !allDigits(p[:1]):
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2:
			parts[i] = strings.ToUpper(p)
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-"), true
}

func (l *loader) problems(n *yaml.Node, where string) (all bool, pbs []Problem) {
	items, ok := l.list(n, where)
	if !ok {
		return false, nil
	}
	if len(items) == 1 && strings.EqualFold(items[0].value, "all") {
		return true, nil
	}
	for _, it := range items {
		pb := Problem(strings.ToLower(it.value))
		if !pb.Valid() {
			names := make([]string, len(problems))
			for i, p := range problems {
				names[i] = string(p)
			}
			l.fail(it.node, where, "unknown problem %q; use all or some of: %s", it.value, strings.Join(names, ", "))
			continue
		}
		if !slices.Contains(pbs, pb) {
			pbs = append(pbs, pb)
		}
	}
	if len(items) == 0 {
		l.fail(n, where, "list at least one problem type, or all")
	}
	return false, pbs
}

func (l *loader) hours(n *yaml.Node, where string) *Hours {
	f := l.mapping(n, where, hoursFields)
	if f == nil {
		return nil
	}
	tz := DefaultTimezone
	if v := f["timezone"]; !isNull(v) {
		if s, ok := l.text(v, where+": timezone"); ok {
			tz = s
		}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || strings.EqualFold(tz, "local") {
		hint := "use a name like Europe/Paris or America/Cayenne"
		if tz == DefaultTimezone {
			hint = "this system has no time zone database"
		}
		l.fail(f["timezone"], where, "unknown time zone %q; %s", shorten(tz), hint)
		return nil
	}
	var week [7][]Interval
	bad := false
	for _, field := range hoursFields {
		wd, isDay := weekdayFields[field]
		v := f[field]
		if !isDay {
			continue
		}
		if isNull(v) {
			continue
		}
		var texts []string
		switch v.Kind {
		case yaml.ScalarNode:
			texts = []string{v.Value}
		case yaml.SequenceNode:
			for _, it := range v.Content {
				if it = resolve(it); it.Kind != yaml.ScalarNode {
					l.fail(it, where, "%s: want intervals like 09:00-12:00, 14:00-17:00", field)
					bad = true
					continue
				}
				texts = append(texts, it.Value)
			}
		default:
			l.fail(v, where, "%s: want intervals like 09:00-12:00, 14:00-17:00", field)
			bad = true
			continue
		}
		ivs, err := parseDay(texts...)
		if err != nil {
			l.fail(v, where, "%s: %v", field, err)
			bad = true
			continue
		}
		week[wd] = ivs
	}
	var closures []Closure
	if v := f["closures"]; !isNull(v) {
		closures = l.closures(v, where+": closures")
	}
	h, err := NewHours(loc, week, closures)
	if err != nil {
		l.fail(n, where, "%v", err)
		return nil
	}
	if h.empty() && !bad {
		l.fail(n, where, "no opening interval: give at least one day, like monday: 09:00-12:00 (to stop receiving cases, set active: false)")
	}
	return h
}

// closures reads the closures list; items are a date (one day) or
// from/to/note. Bad items are reported and left out.
func (l *loader) closures(n *yaml.Node, where string) []Closure {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		l.fail(n, where, "want a list of dates or of from:/to: ranges")
		return nil
	}
	var out []Closure
	for _, it := range n.Content {
		it = resolve(it)
		var c Closure
		switch it.Kind {
		case yaml.ScalarNode:
			c = Closure{From: it.Value}
		case yaml.MappingNode:
			f := l.mapping(it, where, closureFields)
			if f == nil {
				continue
			}
			if v := f["from"]; isNull(v) {
				l.fail(it, where, "missing from (the first closed day, like 2027-12-24)")
				continue
			} else if s, ok := l.text(v, where+": from"); ok {
				c.From = s
			} else {
				continue
			}
			if v := f["to"]; !isNull(v) {
				s, ok := l.text(v, where+": to")
				if !ok {
					continue
				}
				c.To = s
			}
			if v := f["note"]; !isNull(v) {
				c.Note, _ = l.text(v, where+": note")
			}
		default:
			l.fail(it, where, "want a date like 2027-12-25 or from: and to:")
			continue
		}
		if _, _, err := closureDays(c); err != nil {
			l.fail(it, where, "%v", err)
			continue
		}
		out = append(out, c)
	}
	return out
}

// hoursValue reads a positive number of hours (decimals allowed) as a
// duration rounded to the second.
func (l *loader) hoursValue(n *yaml.Node, where string) (time.Duration, bool) {
	n = resolve(n)
	f, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || f <= 0 || f > 10_000 {
		l.fail(n, where, "want a number of opening hours greater than 0, like 16 or 1.5")
		return 0, false
	}
	return time.Duration(f * float64(time.Hour)).Round(time.Second), true
}

func (l *loader) userIDs(n *yaml.Node, where string) []int64 {
	items, ok := l.list(n, where)
	if !ok {
		return nil
	}
	var ids []int64
	for _, it := range items {
		id, err := strconv.ParseInt(it.value, 10, 64)
		if err != nil || id <= 0 {
			l.fail(it.node, where, "%q is not a Telegram user id (a positive number, like 123456789)", it.value)
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func (l *loader) contact(n *yaml.Node, where string) Contact {
	f := l.mapping(n, where, contactFields)
	var c Contact
	for i, dst := range []*string{&c.Address, &c.Hours, &c.Phone, &c.URL} {
		if v := f[contactFields[i]]; !isNull(v) {
			*dst, _ = l.text(v, where+": "+contactFields[i])
		}
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			l.fail(f["url"], where, "url %q: want a web address starting with https://", c.URL)
			c.URL = ""
		}
	}
	return c
}

func (l *loader) emergency(n *yaml.Node, where string) []EmergencyContact {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		l.fail(n, where, "want a list of contacts, each with name: and phone:")
		return nil
	}
	var out []EmergencyContact
	for _, it := range n.Content {
		f := l.mapping(resolve(it), where, emergencyFields)
		if f == nil {
			continue
		}
		var e EmergencyContact
		for i, dst := range []*string{&e.Name, &e.Phone, &e.Note} {
			if v := f[emergencyFields[i]]; !isNull(v) {
				*dst, _ = l.text(v, where+": "+emergencyFields[i])
			}
		}
		switch {
		case e.Name == "":
			l.fail(it, where, "missing name")
		case e.Phone == "" && e.Note == "":
			l.fail(it, where, "%q: give a phone or a note", e.Name)
		default:
			out = append(out, e)
		}
	}
	return out
}

// item is one value of a list field, with its node for line numbers.
type item struct {
	value string
	node  *yaml.Node
}

// list reads a YAML list of scalars, or one scalar holding values
// separated by commas ("fr, ar, en"); values are trimmed and empty ones
// dropped.
func (l *loader) list(n *yaml.Node, where string) ([]item, bool) {
	n = resolve(n)
	var out []item
	switch n.Kind {
	case yaml.ScalarNode:
		for s := range strings.SplitSeq(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, item{s, n})
			}
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			it = resolve(it)
			if it.Kind != yaml.ScalarNode {
				l.fail(it, where, "want a plain value in the list")
				continue
			}
			if s := strings.TrimSpace(it.Value); s != "" {
				out = append(out, item{s, it})
			}
		}
	default:
		l.fail(n, where, "want a list, like [a, b]")
		return nil, false
	}
	return out, true
}

// text reads a scalar as text.
func (l *loader) text(n *yaml.Node, where string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		l.fail(n, where, "want a single value, not a list or fields")
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// int reads a scalar as a whole number.
func (l *loader) int(n *yaml.Node, where string) (int64, bool) {
	n = resolve(n)
	v, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		l.fail(n, where, "want a whole number, got %q", shorten(n.Value))
		return 0, false
	}
	return v, true
}

// mapping checks that n holds fields (a YAML mapping, or nothing), that
// each is known and appears once, and returns them by name, aliases
// resolved. It returns nil when n is not a mapping.
func (l *loader) mapping(n *yaml.Node, where string, known []string) map[string]*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return map[string]*yaml.Node{}
	}
	if n.Kind != yaml.MappingNode {
		what := "want fields (name: value)"
		if where == "" {
			what = "the file must start with partners:"
		}
		l.fail(n, where, "%s", what)
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := k.Value
		switch {
		case k.Kind != yaml.ScalarNode:
			l.fail(k, where, "a field name must be a plain word")
			continue
		case key == "<<":
			l.fail(k, where, "merge keys (<<) are not supported; repeat the fields or reuse a whole value with *name")
			continue
		case !slices.Contains(known, key):
			msg := fmt.Sprintf("unknown field %q", shorten(key))
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
			} else {
				msg += fmt.Sprintf("; the fields are %s", strings.Join(known, ", "))
			}
			l.fail(k, where, "%s", msg)
			continue
		}
		if line, dup := lines[key]; dup {
			l.fail(k, where, "%s given twice (first at line %d)", key, line)
			continue
		}
		lines[key] = k.Line
		out[key] = v
	}
	return out
}

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for range 10 {
		if n == nil || n.Kind != yaml.AliasNode || n.Alias == nil {
			break
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" || n.Kind == yaml.AliasNode
}

// suggest returns the known field closest to an unknown one, if close.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings, in
// bytes (field names are ASCII).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// shorten keeps error messages readable when a value is long.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
