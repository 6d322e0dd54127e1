package bot_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
)

func newGuideFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.Config{Store: f.store, Catalog: f.cat, Sender: f.sent, Clock: f.clock, Guide: g, Documents: f.store, Reminders: f.store})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = b
	return f
}

// walk taps the guide's buttons for the answer ids of path, from /guide.
func (f *fixture) walk(t *testing.T, user int64, lang, path string) {
	t.Helper()
	f.handle(t, command(user, lang, "guide"))
	if path == "" {
		return
	}
	for _, a := range strings.Split(path, "/") {
		f.handle(t, press(user, lang, "g:a:"+a))
	}
}

// TestPersonas drives the guide as each persona of
// shared/domain/scenarios.md would: the taps lead to the expected démarche
// and channel, and typed dates give the right filing dates. Today is
// 25/11/2026 (the fixture's clock).
func TestPersonas(t *testing.T) {
	tests := []struct {
		persona string
		path    string
		outcome string // message id of the outcome's title
		channel string
		date    string   // typed when the guide asks for one; "" presses Skip when asked
		want    []string // in the outcome text
	}{
		{"1 student with a job offer: change of status", "other/change/to_work", "guide.o.change_to_salarie.title", "prefecture", "25/04/2027",
			[]string{"25/02/2027", "24/04/2027"}},
		{"1 employer requests the work authorisation", "other/employer", "guide.o.work_authorisation.title", "employer", "", nil},
		{"2 student arrived 10 days ago", "other/vlsts", "guide.o.vlsts_validate.title", "anef", "15/11/2026",
			[]string{"15/02/2027", "Je valide mon VLS-TS"}},
		{"3 retired visitors", "other/renew/visitor", "guide.o.visitor_renew.title", "anef", "", nil},
		{"4 talent card, no API at expiry", "other/waiting/no_api", "guide.o.no_api.title", "human", "", nil},
		{"4 talent renewal", "other/renew/talent", "guide.o.talent_renew.title", "anef", "25/02/2027",
			[]string{"28/10/2026", "27/12/2026"}},
		{"5 refugee's first carte de résident", "protection/first", "guide.o.protection_first.title", "anef", "", nil},
		// official-sources.md row 38: stateless requests are on the ANEF (the
		// domain brief said préfecture; the newer official page wins).
		{"6 stateless person", "stateless/renew", "guide.o.stateless_renew.title", "anef", "", nil},
		{"7 British retiree", "uk/renew", "guide.o.uk_wa_renew.title", "demarches_simplifiees", "", nil},
		{"8 Italian retiree", "eu/citizen", "guide.o.eu_citizen_card.title", "anef", "", nil},
		{"9 spouse of a French citizen: validate the VLS-TS", "other/first/not_validated", "guide.o.vlsts_validate.title", "anef", "", nil},
		{"9 spouse of a French citizen: VPF card", "other/renew/vpf/family_fr", "guide.o.family_french_renew.title", "anef", "25/03/2027",
			[]string{"25/11/2026", "24/01/2027"}},
		{"10 salarié card expiring in 70 days", "other/renew/work", "guide.o.salarie_renew.title", "prefecture", "03/02/2027",
			[]string{"03/12/2026", "02/02/2027"}},
		{"11 seasonal worker", "other/renew/seasonal", "guide.o.seasonal_renew.title", "anef", "", nil},
		{"12 étranger malade", "other/renew/health", "guide.o.malade_renew.title", "anef", "", nil},
		{"13 protection order", "other/first/novisa/victim", "guide.o.victim_first.title", "anef", "", nil},
		{"14 stolen card", "other/lost", "guide.o.duplicata.title", "anef", "", []string{"Je déclare un changement"}},
		{"15 travel document for a child", "other/travel/child", "guide.o.dcem.title", "anef", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.persona, func(t *testing.T) {
			f := newGuideFixture(t)
			const user = 4242
			f.walk(t, user, "en", tt.path)
			last := f.sent.last(t, user)
			if _, asks := buttons(last)["g:s"]; asks {
				if tt.date == "" {
					f.handle(t, press(user, "en", "g:s"))
				} else {
					f.handle(t, bot.Update{Kind: bot.KindText, UserID: user, LanguageCode: "en", Text: tt.date})
				}
				f.sent.last(t, user) // the date was answered
			} else if tt.date != "" {
				t.Fatalf("the guide did not ask for a date; got %q", last.Text)
			}
			text := strings.Join(textsSince(f.sent.to(user), 2), "\n")
			p := f.cat.Printer("en")
			for _, want := range append([]string{p.T(tt.outcome), p.T("guide.channel." + tt.channel)}, tt.want...) {
				if !strings.Contains(text, want) {
					t.Errorf("outcome lacks %q:\n%s", want, text)
				}
			}
			if !strings.Contains(text, p.T("guide.review.to_verify")) {
				t.Errorf("outcome does not say it is still to verify:\n%s", text)
			}
		})
	}
}

// textsSince returns the texts of the last n replies.
func textsSince(all []bot.Reply, n int) []string {
	if len(all) < n {
		n = len(all)
	}
	var out []string
	for _, r := range all[len(all)-n:] {
		out = append(out, r.Text)
	}
	return out
}

func TestGuideLetterTrackIsUrgentFirst(t *testing.T) {
	f := newGuideFixture(t)
	f.walk(t, 77, "fr", "letter")
	all := f.sent.to(77)
	if len(all) < 3 {
		t.Fatalf("got %d replies", len(all))
	}
	urgent, question := all[len(all)-2], all[len(all)-1]
	if urgent.Text != f.cat.Printer("fr").T("guide.urgent.letter") {
		t.Errorf("before the letter question want the urgent text, got %q", urgent.Text)
	}
	if _, ok := buttons(question)["g:a:dontknow"]; !ok {
		t.Errorf("letter question has no \"I don't know\": %v", buttons(question))
	}
}

func TestGuideSensitivePathNotKept(t *testing.T) {
	f := newGuideFixture(t)
	f.walk(t, 78, "en", "other/renew/health")
	if _, asks := buttons(f.sent.last(t, 78))["g:s"]; asks {
		f.handle(t, press(78, "en", "g:s"))
	}
	s, err := f.store.Session(context.Background(), bot.SessionKey{ChatID: 78, UserID: 78})
	if err == nil && (s.Flow != "" || len(s.Data) > 0) {
		t.Errorf("after a sensitive outcome the session keeps %q %v", s.Flow, s.Data)
	}
}

func TestGuideBackAndRestart(t *testing.T) {
	f := newGuideFixture(t)
	f.walk(t, 79, "en", "other/renew")
	mention := f.sent.last(t, 79).Text
	f.handle(t, press(79, "en", "g:a:visitor"))
	f.handle(t, press(79, "en", "g:b"))
	if got := f.sent.last(t, 79).Text; got != mention {
		t.Errorf("Back showed %q; want the previous question %q", got, mention)
	}
	f.handle(t, press(79, "en", "g:r"))
	if got := f.sent.last(t, 79).Text; got != f.cat.Printer("en").T("guide.q.regime") {
		t.Errorf("Start over showed %q", got)
	}
	// A forged answer is refused without a crash.
	f.handle(t, press(79, "en", "g:a:nosuchanswer"))
	if got := f.sent.last(t, 79).Text; got != f.cat.Printer("en").T("input.stale") {
		t.Errorf("forged answer: %q", got)
	}
}

func TestGuideBadDateAskedAgain(t *testing.T) {
	f := newGuideFixture(t)
	f.walk(t, 80, "ar", "other/renew/talent")
	f.handle(t, bot.Update{Kind: bot.KindText, UserID: 80, LanguageCode: "ar", Text: "31/02/2027"})
	if got := f.sent.last(t, 80).Text; got != f.cat.Printer("ar").T("guide.dates.bad") {
		t.Errorf("impossible date: %q", got)
	}
	f.handle(t, bot.Update{Kind: bot.KindText, UserID: 80, LanguageCode: "ar", Text: "٢٥/٠٢/٢٠٢٧"})
	text := strings.Join(textsSince(f.sent.to(80), 2), "\n")
	if !strings.Contains(text, "\u206828/10/2026\u2069") {
		t.Errorf("Eastern Arabic date not understood or dates not isolated:\n%s", text)
	}
}

// TestFreeTextSuggestions: typing instead of tapping gives the likely entry
// points as buttons, never "I did not understand" alone.
func TestFreeTextSuggestions(t *testing.T) {
	tests := []struct {
		lang, text, want string // want: callback data among the suggestions
	}{
		{"fr", "renouvellement carte étudiant", "g:o:o_student_renew"},
		{"fr", "j'ai perdu ma carte", "g:o:o_duplicata"},
		{"fr", "OQTF", "g:o:o_letter_oqtf"},
		{"en", "I lost my card", "g:o:o_duplicata"},
		{"en", "no API", "g:o:o_no_api"},
		{"ar", "فقدت بطاقة الإقامة", "g:o:o_duplicata"},
		{"ar", "récépissé", ""},
		{"fr", "zzzz qqqq", ""},
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.text, func(t *testing.T) {
			f := newGuideFixture(t)
			f.handle(t, bot.Update{Kind: bot.KindText, UserID: 81, LanguageCode: tt.lang, Text: tt.text})
			last := f.sent.last(t, 81)
			got := buttons(last)
			if last.Text != f.cat.Printer(tt.lang).T("guide.suggest") || len(got) < 3 { // at least one entry, plus the guide and the menu
				t.Fatalf("free text %q: %q with %v; want suggestions", tt.text, last.Text, got)
			}
			if _, ok := got[tt.want]; tt.want != "" && !ok {
				t.Errorf("free text %q: suggestions %v lack %s", tt.text, got, tt.want)
			}
		})
	}
}

// TestEveryOutcomeRendersInEveryLanguage shows each outcome in each shipped
// language: no catalog fallback (the fixture fails on one), every message
// within Telegram's 4096 UTF-16 units, every guide button label short
// enough for a phone.
func TestEveryOutcomeRendersInEveryLanguage(t *testing.T) {
	f := newGuideFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The test presses each outcome directly, so an outcome reached by
	// several paths needs rendering once per language, not once per path.
	var outcomes []string
	seen := map[string]bool{}
	for _, path := range g.Paths() {
		if id := path[len(path)-1]; g.IsOutcome(id) && !seen[id] {
			seen[id] = true
			outcomes = append(outcomes, id)
		}
	}
	user := int64(5000)
	for _, l := range f.cat.Languages() {
		for _, id := range outcomes {
			user++
			f.handle(t, press(user, l.Tag, "g:o:"+id))
			if _, asks := buttons(f.sent.last(t, user))["g:s"]; asks {
				f.handle(t, bot.Update{Kind: bot.KindText, UserID: user, LanguageCode: l.Tag, Text: "30/06/2027"})
			}
			for _, r := range f.sent.to(user) {
				if n := len([]rune(r.Text)); n == 0 || len(utf16.Encode([]rune(r.Text))) > 4096 {
					t.Errorf("%s %s: message of %d characters", l.Tag, id, n)
				}
				for _, row := range r.Buttons {
					for _, btn := range row {
						if n := len([]rune(btn.Label)); n > 40 {
							t.Errorf("%s %s: button %q has %d characters", l.Tag, id, btn.Label, n)
						}
						if len(btn.Data) > 64 {
							t.Errorf("%s %s: callback data %q over 64 bytes", l.Tag, id, btn.Data)
						}
					}
				}
			}
		}
	}
}

func TestGuideAnswerLabelsFit(t *testing.T) {
	f := newGuideFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range g.Paths() {
		for _, id := range path {
			q, ok := g.Question(id)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			for _, a := range q.Answers {
				for _, l := range f.cat.Languages() {
					if n := len([]rune(catalog.StripMarks(f.cat.Printer(l.Tag).T(a.Label)))); n > 40 {
						t.Errorf("%s %s/%s: label of %d characters, max 40", l.Tag, id, a.ID, n)
					}
				}
			}
		}
	}
}
