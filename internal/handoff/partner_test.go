package handoff_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// basePartner is a valid partner, field by field, in file order.
var basePartner = [][2]string{
	{"id", "entraide-rhone"},
	{"name", "Entraide Rhône (fictional)"},
	{"chat_id", "-1001000000001"},
	{"departements", "[69, 01]"},
	{"languages", "[fr, ar, en]"},
	{"problems", "all"},
	{"hours", "\n      monday: 09:00-12:00, 14:00-17:00\n      friday: 09:00-12:00"},
	{"capacity", "20"},
	{"referents", "[100000001]"},
}

// partnerYAML writes a file holding the base partner with some fields
// replaced ("" removes a field; a name not in the base adds it).
func partnerYAML(edits ...[2]string) string {
	fields := slices.Clone(basePartner)
	for _, e := range edits {
		i := slices.IndexFunc(fields, func(f [2]string) bool { return f[0] == e[0] })
		switch {
		case i < 0:
			fields = append(fields, e)
		case e[1] == "":
			fields = slices.Delete(fields, i, i+1)
		default:
			fields[i] = e
		}
	}
	var b strings.Builder
	b.WriteString("partners:\n")
	for i, f := range fields {
		if i == 0 {
			b.WriteString("  - ")
		} else {
			b.WriteString("    ")
		}
		b.WriteString(f[0] + ": " + f[1] + "\n")
	}
	return b.String()
}

func load(tb testing.TB, text string) *handoff.Partners {
	tb.Helper()
	ps, err := handoff.LoadPartners(strings.NewReader(text))
	if err != nil {
		tb.Fatalf("LoadPartners: %v\n%s", err, text)
	}
	return ps
}

func TestLoadPartnersBase(t *testing.T) {
	ps := load(t, partnerYAML())
	p, ok := ps.Get("entraide-rhone")
	if !ok {
		t.Fatal("Get(entraide-rhone): not found")
	}
	if p.Name != "Entraide Rhône (fictional)" || p.ChatID != -1001000000001 || !p.Active || p.Capacity != 20 {
		t.Errorf("partner = %+v", p)
	}
	if !slices.Equal(p.Departements, []string{"69", "01"}) || p.AllDepartements {
		t.Errorf("departements = %v (all %v); want [69 01]", p.Departements, p.AllDepartements)
	}
	if !slices.Equal(p.Languages, []string{"fr", "ar", "en"}) {
		t.Errorf("languages = %v", p.Languages)
	}
	if !p.AllProblems || !p.Takes(handoff.ProblemLogin) || p.Takes("nonsense") {
		t.Errorf("problems: all = %v", p.AllProblems)
	}
	if p.ReferentsChatID != 0 || p.Takes(handoff.ProblemOQTF) || p.Takes(handoff.ProblemSensitive) {
		t.Errorf("without referents_chat_id the partner takes sensitive cases (room %d)", p.ReferentsChatID)
	}
	withRoom := load(t, partnerYAML([2]string{"referents_chat_id", "-1001000000101"}))
	if q, _ := withRoom.Get("entraide-rhone"); q.ReferentsChatID != -1001000000101 || !q.Takes(handoff.ProblemOQTF) ||
		q.Room(true) != -1001000000101 || q.Room(false) != -1001000000001 {
		t.Errorf("with referents_chat_id: %+v", q)
	}
	if p.SLA != handoff.DefaultSLA || p.UrgentSLA != handoff.DefaultUrgentSLA {
		t.Errorf("SLA = %v, %v; want the defaults", p.SLA, p.UrgentSLA)
	}
	if p.Hours.Location().String() != "Europe/Paris" {
		t.Errorf("time zone = %v; want Europe/Paris by default", p.Hours.Location())
	}
	if got := p.Hours.Day(time.Friday); len(got) != 1 || got[0].String() != "09:00-12:00" {
		t.Errorf("friday = %v", got)
	}
	if !slices.Equal(p.Referents, []int64{100000001}) || len(p.Coordinators) != 0 {
		t.Errorf("referents %v, coordinators %v", p.Referents, p.Coordinators)
	}
	if _, ok := ps.Fallback(); ok {
		t.Error("Fallback: found; the file names none")
	}
	if _, ok := ps.Get("nope"); ok {
		t.Error("Get(nope): found")
	}
}

func TestLoadPartnersForms(t *testing.T) {
	text := `# comments are fine
fallback: national
partners:
  - id: lyon
    name: Lyon
    chat_id: -1001000000001
    active: false
    departements: 69, Ain, rhône, 2a, 974
    languages: fr, AR, zh-hans, pt_br
    problems: [OQTF, no_api, login, login]
    hours: &h
      timezone: Indian/Reunion
      monday: [9h-12h, "14:00-17:00"]
      tuesday: closed
      wednesday:
      friday: 09:00 - 12:00
      closures:
        - 2027-11-01
        - {from: 2027-12-24, to: 2028-01-02, note: winter}
    sla_hours: 7.5
    urgent_sla_hours: 0.5
    capacity: 3
    referents: 100000001, 100000002
    coordinators: [100000003]
    contact:
      address: 1 rue de l'Exemple
      hours: "Tuesday: 14:00"
      phone: 01 99 00 00 01
      url: https://example.org/lyon
    emergency:
      - name: Urgent line
        phone: 01 99 00 00 02
      - name: Night line
        note: see the website
  - id: national
    name: National
    chat_id: -1001000000002
    departements: ALL
    languages: [fr]
    problems: All
    hours: *h
    sla_hours: 1
    capacity: 100
    referents: [100000009]
`
	ps := load(t, text)
	lyon, _ := ps.Get("lyon")
	if lyon.Active {
		t.Error("active: false read as true")
	}
	if want := []string{"69", "01", "2A", "974"}; !slices.Equal(lyon.Departements, want) {
		t.Errorf("departements = %v; want %v (names read, repeats dropped)", lyon.Departements, want)
	}
	if want := []string{"fr", "ar", "zh-Hans", "pt-BR"}; !slices.Equal(lyon.Languages, want) {
		t.Errorf("languages = %v; want %v", lyon.Languages, want)
	}
	if want := []handoff.Problem{handoff.ProblemOQTF, handoff.ProblemNoAPI, handoff.ProblemLogin}; !slices.Equal(lyon.Problems, want) || lyon.AllProblems {
		t.Errorf("problems = %v; want %v", lyon.Problems, want)
	}
	if lyon.Hours.Location().String() != "Indian/Reunion" {
		t.Errorf("timezone = %v", lyon.Hours.Location())
	}
	if got := lyon.Hours.Day(time.Monday); len(got) != 2 || got[1].String() != "14:00-17:00" {
		t.Errorf("monday = %v", got)
	}
	if len(lyon.Hours.Day(time.Tuesday)) != 0 || len(lyon.Hours.Day(time.Wednesday)) != 0 {
		t.Error("closed or empty days have intervals")
	}
	if got := lyon.Hours.Closures(); len(got) != 2 || got[1].Note != "winter" || got[0].To != "2027-11-01" {
		t.Errorf("closures = %v", got)
	}
	if lyon.SLA != 450*time.Minute || lyon.UrgentSLA != 30*time.Minute {
		t.Errorf("SLA = %v, %v; want 7h30m, 30m", lyon.SLA, lyon.UrgentSLA)
	}
	if !slices.Equal(lyon.Referents, []int64{100000001, 100000002}) || !lyon.IsReferent(100000002) || lyon.IsReferent(100000003) {
		t.Errorf("referents = %v", lyon.Referents)
	}
	if !lyon.IsCoordinator(100000003) || lyon.IsCoordinator(100000001) {
		t.Errorf("coordinators = %v", lyon.Coordinators)
	}
	if lyon.Contact != (handoff.Contact{Address: "1 rue de l'Exemple", Hours: "Tuesday: 14:00", Phone: "01 99 00 00 01", URL: "https://example.org/lyon"}) {
		t.Errorf("contact = %+v", lyon.Contact)
	}
	if len(lyon.Emergency) != 2 || lyon.Emergency[1] != (handoff.EmergencyContact{Name: "Night line", Note: "see the website"}) {
		t.Errorf("emergency = %+v", lyon.Emergency)
	}
	nat, ok := ps.Fallback()
	if !ok || nat.ID != "national" {
		t.Fatalf("Fallback() = %v, %v", nat, ok)
	}
	if !nat.AllDepartements || !nat.AllProblems || !nat.Covers("2B") || !nat.Covers("") {
		t.Errorf("national: all départements %v, all problems %v", nat.AllDepartements, nat.AllProblems)
	}
	if nat.Hours.Location().String() != "Indian/Reunion" || len(nat.Hours.Day(time.Monday)) != 2 {
		t.Error("hours: *h did not reuse the anchored hours")
	}
	if nat.SLA != time.Hour || nat.UrgentSLA != time.Hour {
		t.Errorf("SLA = %v, urgent %v; want the urgent default capped by the SLA", nat.SLA, nat.UrgentSLA)
	}
	if all := ps.All(); len(all) != 2 || all[0].ID != "lyon" || all[1].ID != "national" {
		t.Errorf("All() = %v", all)
	}
}

func TestLoadPartnersErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // each must appear in the error
	}{
		{"empty file", "", []string{"empty file"}},
		{"only comments", "# nothing\n", []string{"empty file"}},
		{"not YAML", "partners: [", []string{"partners file"}},
		{"two documents", partnerYAML() + "---\npartners: []\n", []string{"second YAML document"}},
		{"a list at the top", "- id: x\n", []string{"line 1", "must start with partners:"}},
		{"no partners", "fallback: x\n", []string{"no partners"}},
		{"empty list", "partners: []\n", []string{"the list is empty"}},
		{"partners not a list", "partners: lyon\n", []string{"want a list of partners"}},
		{"unknown top field", partnerYAML() + "fallbak: x\n", []string{"unknown field \"fallbak\"", "did you mean fallback?"}},
		{"unknown partner field", partnerYAML([2]string{"departments", "[69]"}),
			[]string{"line 13", `partner "entraide-rhone"`, `unknown field "departments"`, "did you mean departements?"}},
		{"unknown field, no suggestion", partnerYAML([2]string{"colour", "blue"}), []string{`unknown field "colour"`, "the fields are id, name"}},
		{"field twice", partnerYAML() + "    capacity: 3\n", []string{"capacity given twice (first at line 11)"}},
		{"merge key", partnerYAML([2]string{"<<", "{capacity: 3}"}), []string{"merge keys"}},
		{"missing id", partnerYAML([2]string{"id", ""}), []string{"partner #1", "missing id"}},
		{"bad id", partnerYAML([2]string{"id", "Entraide Rhône"}), []string{"partner #1", `id "Entraide Rhône"`}},
		{"long id", partnerYAML([2]string{"id", strings.Repeat("a", 33)}), []string{"at most 32"}},
		{"duplicate id", partnerYAML() + strings.TrimPrefix(partnerYAML([2]string{"chat_id", "-1001000000002"}), "partners:\n"),
			[]string{"line 13", `partner "entraide-rhone": id already used by the partner at line 2`}},
		{"duplicate chat id", partnerYAML() + strings.TrimPrefix(partnerYAML([2]string{"id", "other"}), "partners:\n"),
			[]string{`partner "other": chat_id -1001000000001 is already the group of partner "entraide-rhone"`}},
		{"missing name", partnerYAML([2]string{"name", ""}), []string{`partner "entraide-rhone": missing name`}},
		{"empty name", partnerYAML([2]string{"name", `""`}), []string{"name: empty"}},
		{"name on two lines", partnerYAML([2]string{"name", `"a\nb"`}), []string{"one line"}},
		{"missing chat id", partnerYAML([2]string{"chat_id", ""}), []string{"missing chat_id"}},
		{"positive chat id", partnerYAML([2]string{"chat_id", "1001000000001"}), []string{"line 4", "chat_id 1001000000001: a group's id is negative"}},
		{"basic group", partnerYAML([2]string{"chat_id", "-123456789"}), []string{"basic group"}},
		{"chat id not a number", partnerYAML([2]string{"chat_id", "lyon"}), []string{`chat_id: want a whole number, got "lyon"`}},
		{"referents' group positive", partnerYAML([2]string{"referents_chat_id", "12"}), []string{"referents_chat_id 12: a group's id is negative"}},
		{"referents' group basic", partnerYAML([2]string{"referents_chat_id", "-12345"}), []string{"referents_chat_id -12345 is a basic group"}},
		{"referents' group is the volunteers' group", partnerYAML([2]string{"referents_chat_id", "-1001000000001"}), []string{"referents_chat_id -1001000000001 is already a group of partner \"entraide-rhone\""}},
		{"active not a bool", partnerYAML([2]string{"active", "maybe"}), []string{"active: want true or false"}},
		{"unknown département", partnerYAML([2]string{"departements", "[69, 20, 99, Lyon]"}),
			[]string{`unknown département "20"`, `unknown département "99"`, `unknown département "Lyon"`}},
		{"postcode", partnerYAML([2]string{"departements", "[69001]"}), []string{"69001 looks like a postcode"}},
		{"all and more", partnerYAML([2]string{"departements", "[all, 69]"}), []string{"all must be alone"}},
		{"no département", partnerYAML([2]string{"departements", "[]"}), []string{"at least one département"}},
		{"missing départements", partnerYAML([2]string{"departements", ""}), []string{"missing departements"}},
		{"bad language", partnerYAML([2]string{"languages", "[fr, French, a1]"}), []string{`"French" is not a language tag`, `"a1" is not`}},
		{"no language", partnerYAML([2]string{"languages", "[]"}), []string{"at least one language"}},
		{"unknown problem", partnerYAML([2]string{"problems", "[login, visa]"}), []string{`unknown problem "visa"`, "oqtf, refusal"}},
		{"no problem", partnerYAML([2]string{"problems", "[]"}), []string{"at least one problem"}},
		{"problems a mapping", partnerYAML([2]string{"problems", "{a: b}"}), []string{"problems: want a list"}},
		{"missing hours", partnerYAML([2]string{"hours", ""}), []string{"missing hours"}},
		{"hours with no interval", partnerYAML([2]string{"hours", "\n      monday: closed"}), []string{"no opening interval"}},
		{"hours empty", partnerYAML([2]string{"hours", "{}"}), []string{"no opening interval"}},
		{"malformed hours", partnerYAML([2]string{"hours", "\n      monday: 9-12:00:00\n      tuesday: 14:00-13:00\n      funday: 10:00-11:00"}),
			[]string{"hours: monday", "hours: tuesday", `unknown field "funday"`, "did you mean sunday?"}},
		{"overlapping hours", partnerYAML([2]string{"hours", "\n      monday: 09:00-12:00, 11:00-13:00"}), []string{"overlap"}},
		{"hours a list", partnerYAML([2]string{"hours", "[09:00-12:00]"}), []string{"hours: want fields"}},
		{"day a mapping", partnerYAML([2]string{"hours", "\n      monday: {from: 9}"}), []string{"monday: want intervals"}},
		{"bad timezone", partnerYAML([2]string{"hours", "\n      timezone: Europe/Lyon\n      monday: 09:00-12:00"}), []string{`unknown time zone "Europe/Lyon"`}},
		{"local timezone", partnerYAML([2]string{"hours", "\n      timezone: Local\n      monday: 09:00-12:00"}), []string{`unknown time zone "Local"`}},
		{"bad closure", partnerYAML([2]string{"hours", "\n      monday: 09:00-12:00\n      closures: [2027-13-01, {from: 2027-12-24, to: 2027-12-01}, {to: 2027-12-01}, {from: 2027-01-01, untill: x}]"}),
			[]string{`closure "2027-13-01" is not a date`, "end comes before the start", "missing from", `unknown field "untill"`}},
		{"closures not a list", partnerYAML([2]string{"hours", "\n      monday: 09:00-12:00\n      closures: {from: 2027-01-01}"}), []string{"closures: want a list"}},
		{"bad SLA", partnerYAML([2]string{"sla_hours", "0"}), []string{"sla_hours: want a number of opening hours greater than 0"}},
		{"SLA text", partnerYAML([2]string{"sla_hours", "two days"}), []string{"sla_hours: want a number"}},
		{"SLA NaN", partnerYAML([2]string{"sla_hours", ".nan"}), []string{"sla_hours: want a number"}},
		{"urgent SLA longer", partnerYAML([2]string{"sla_hours", "4"}, [2]string{"urgent_sla_hours", "8"}), []string{"urgent_sla_hours: longer than sla_hours"}},
		{"missing capacity", partnerYAML([2]string{"capacity", ""}), []string{"missing capacity"}},
		{"zero capacity", partnerYAML([2]string{"capacity", "0"}), []string{"capacity 0", "active: false"}},
		{"capacity decimal", partnerYAML([2]string{"capacity", "2.5"}), []string{"capacity: want a whole number"}},
		{"missing referents", partnerYAML([2]string{"referents", ""}), []string{"missing referents"}},
		{"no referent", partnerYAML([2]string{"referents", "[]"}), []string{"referents: list at least one"}},
		{"bad referent", partnerYAML([2]string{"referents", "[-5, abc]"}), []string{`"-5" is not a Telegram user id`, `"abc" is not`}},
		{"bad coordinator", partnerYAML([2]string{"coordinators", "[0]"}), []string{"coordinators", `"0" is not a Telegram user id`}},
		{"contact unknown field", partnerYAML([2]string{"contact", "{mail: a@b.c}"}), []string{`contact: unknown field "mail"`}},
		{"contact bad url", partnerYAML([2]string{"contact", "{url: www.example.org}"}), []string{`url "www.example.org"`}},
		{"contact a list", partnerYAML([2]string{"contact", "[a]"}), []string{"contact: want fields"}},
		{"emergency without name", partnerYAML([2]string{"emergency", "[{phone: 112}]"}), []string{"emergency: missing name"}},
		{"emergency without phone", partnerYAML([2]string{"emergency", "[{name: X}]"}), []string{`"X": give a phone or a note`}},
		{"emergency not a list", partnerYAML([2]string{"emergency", "{name: X}"}), []string{"emergency: want a list"}},
		{"unknown fallback", partnerYAML() + "fallback: national\n", []string{"line 13", `fallback: no partner has id "national"`}},
		{"fallback a list", partnerYAML() + "fallback: [a]\n", []string{"fallback: want a single value"}},
		{"partner not a mapping", "partners:\n  - lyon\n", []string{"partner #1: want fields"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := handoff.LoadPartners(strings.NewReader(tt.text))
			if err == nil {
				t.Fatalf("LoadPartners succeeded (%d partners); want an error\n%s", len(ps.All()), tt.text)
			}
			if ps != nil {
				t.Error("LoadPartners returned Partners with an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v\nfile:\n%s", w, err, tt.text)
				}
			}
		})
	}
}

// TestLoadPartnersAllProblems checks that every problem is reported at
// once, one per line.
func TestLoadPartnersAllProblems(t *testing.T) {
	text := partnerYAML(
		[2]string{"chat_id", "42"},
		[2]string{"departements", "[69, 100]"},
		[2]string{"problems", "[visa]"},
		[2]string{"hours", "\n      monday: 9-25"},
		[2]string{"colour", "blue"},
	) + "fallback: nobody\n"
	_, err := handoff.LoadPartners(strings.NewReader(text))
	if err == nil {
		t.Fatal("LoadPartners succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "handoff: partners file has 6 problems:" {
		t.Errorf("first line = %q", lines[0])
	}
	if len(lines) != 7 {
		t.Errorf("%d lines; want a header and 6 problems:\n%v", len(lines), err)
	}
	prev := 0
	for _, l := range lines[1:] {
		var n int
		if _, err := fmt.Sscanf(l, "line %d:", &n); err != nil {
			t.Errorf("problem without a line number: %q", l)
		}
		if n < prev {
			t.Errorf("problems out of line order:\n%v", err)
		}
		prev = n
	}
}

func TestLoadPartnersReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := handoff.LoadPartners(errReader{boom})
	if !errors.Is(err, boom) {
		t.Errorf("LoadPartners(failing reader) = %v; want it to wrap %v", err, boom)
	}
	_, err = handoff.LoadPartners(strings.NewReader(strings.Repeat("#", 5<<20)))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadPartners(5 MiB) = %v; want a size error", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestExampleFile(t *testing.T) {
	f, err := os.Open("../../partners.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := handoff.LoadPartners(f)
	if err != nil {
		t.Fatalf("partners.example.yaml: %v", err)
	}
	var ids []string
	for _, p := range ps.All() {
		ids = append(ids, p.ID)
		if !strings.Contains(p.Name, "(fictional)") {
			t.Errorf("partner %s: name %q does not say it is fictional", p.ID, p.Name)
		}
	}
	if want := []string{"entraide-rhone", "accueil-paris-est", "collectif-gironde", "permanence-nationale"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v; want %v", ids, want)
	}
	if fb, ok := ps.Fallback(); !ok || fb.ID != "permanence-nationale" || !fb.AllDepartements {
		t.Errorf("Fallback() = %v, %v", fb, ok)
	}
	// The acceptance case of the issue holds on the example too.
	got := handoff.Route(handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI}, ps, nil)
	if len(got) == 0 || got[0].ID != "entraide-rhone" {
		t.Errorf("Route(69, ar) on the example = %v; want entraide-rhone first", ids2(got))
	}
}

func TestNewPartners(t *testing.T) {
	a := &handoff.Partner{ID: "a"}
	b := &handoff.Partner{ID: "b"}
	if _, err := handoff.NewPartners([]*handoff.Partner{a, b}, "b"); err != nil {
		t.Errorf("NewPartners: %v", err)
	}
	for name, c := range map[string]struct {
		list     []*handoff.Partner
		fallback string
	}{
		"duplicate":        {[]*handoff.Partner{a, a}, ""},
		"no id":            {[]*handoff.Partner{{}}, ""},
		"nil":              {[]*handoff.Partner{nil}, ""},
		"unknown fallback": {[]*handoff.Partner{a}, "b"},
	} {
		if _, err := handoff.NewPartners(c.list, c.fallback); err == nil {
			t.Errorf("%s: NewPartners succeeded", name)
		}
	}
	var nilPs *handoff.Partners
	if _, ok := nilPs.Get("a"); ok || nilPs.All() != nil {
		t.Error("a nil Partners is not empty")
	}
	if _, ok := nilPs.Fallback(); ok {
		t.Error("a nil Partners has a fallback")
	}
}

func TestPartnerSpeaks(t *testing.T) {
	p := &handoff.Partner{Languages: []string{"fr", "zh-Hans", "pt-BR"}}
	for lang, want := range map[string]bool{
		"fr": true, "FR": true, "fr-CA": true, "zh": true, "zh-Hans": true, "zh-Hant": true, "pt": true,
		"pt_PT": true, "ar": false, "": false, "f": false,
	} {
		if got := p.Speaks(lang); got != want {
			t.Errorf("Speaks(%q) = %v; want %v", lang, got, want)
		}
	}
}

func FuzzLoadPartners(f *testing.F) {
	example, err := os.ReadFile("../../partners.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add(partnerYAML())
	f.Add(partnerYAML([2]string{"hours", "&a\n      monday: *a"}))
	f.Add("partners: &p [*p]\n")
	f.Add("partners:\n  - &x {id: a, hours: *x}\n")
	f.Add("a: &a [*a, *a]\nb: *a\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		ps, err := handoff.LoadPartners(strings.NewReader(text))
		if err != nil {
			if ps != nil {
				t.Fatal("Partners and an error")
			}
			return
		}
		if len(ps.All()) == 0 {
			t.Fatal("a valid file with no partner")
		}
		for _, p := range ps.All() {
			if p.ID == "" || p.Name == "" || p.ChatID >= 0 || p.Capacity < 1 || len(p.Referents) == 0 ||
				len(p.Languages) == 0 || p.Hours == nil || p.Hours.NextOpening(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)).IsZero() && len(p.Hours.Closures()) == 0 ||
				p.SLA <= 0 || p.UrgentSLA <= 0 || p.UrgentSLA > p.SLA ||
				!p.AllDepartements && len(p.Departements) == 0 || !p.AllProblems && len(p.Problems) == 0 {
				t.Fatalf("loaded an invalid partner: %+v", p)
			}
			if q, ok := ps.Get(p.ID); !ok || q != p {
				t.Fatalf("Get(%q) = %v, %v", p.ID, q, ok)
			}
			for _, code := range p.Departements {
				if d, ok := handoff.LookupDepartement(code); !ok || d.Code != code {
					t.Fatalf("partner %s covers %q, not a département code", p.ID, code)
				}
			}
		}
	})
}
