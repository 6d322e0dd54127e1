package bot_test

// Tests of the December 2026 guide review (../shared/reviews/2026-12-guide.md):
// one per item, named TestReviewItemNN_…, each failing on the code before
// the fix. Today is 25/11/2026 (the fixture's clock) unless a test says
// otherwise.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/catalog/catalogtest"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/locales"
)

// sharedFixture is one guide fixture for the review tests that neither
// move the clock nor change the bot: loading the 14 catalogs costs seconds
// under -race, once is enough. The tests that use it do not run in
// parallel (the fixture's update counter is not synchronised); each uses
// its own users. A catalog fallback in any of them fails the test running.
func sharedFixture(t *testing.T) *fixture {
	t.Helper()
	shared.once.Do(func() {
		f := &fixture{sent: newRecorder(), clock: clock.NewFake(start)}
		cat, err := catalog.Load(locales.FS)
		if err != nil {
			shared.err = err
			return
		}
		cat.SetMissing(func(lang, id string, err error) { shared.missing.Add(1) })
		dir, err := os.MkdirTemp("", "passerelle-review-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		st, err := bolt.Open(filepath.Join(dir, "test.db"), bolt.WithKeys(testKeys), bolt.WithClock(f.clock.Now))
		if err != nil {
			shared.err = err
			return
		}
		g, err := guide.Load()
		if err != nil {
			shared.err = err
			return
		}
		b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: f.sent, Clock: f.clock, Guide: g, Documents: st, Reminders: st})
		if err != nil {
			shared.err = err
			return
		}
		f.bot, f.store, f.cat = b, st, cat
		shared.f = f
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	before := shared.missing.Load()
	t.Cleanup(func() {
		if n := shared.missing.Load() - before; n > 0 {
			t.Errorf("%d catalog fallbacks", n)
		}
	})
	return shared.f
}

var shared struct {
	once    sync.Once
	f       *fixture
	err     error
	dir     string
	missing atomic.Int64
}

// TestMain removes the shared fixture's store after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.f != nil {
		shared.f.store.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	catalogtest.Exit(code)
}

// outcomeText walks path from /guide, types date when the guide asks for
// one ("" presses Skip) and returns the texts sent since /guide, joined.
func (f *fixture) outcomeText(t *testing.T, user int64, lang, path, date string) string {
	t.Helper()
	before := len(f.sent.to(user))
	f.walk(t, user, lang, path)
	if _, asks := buttons(f.sent.last(t, user))["g:s"]; asks {
		if date == "" {
			f.handle(t, press(user, lang, "g:s"))
		} else {
			f.handle(t, typed(user, lang, date))
		}
	}
	var texts []string
	for _, r := range f.sent.to(user)[before:] {
		texts = append(texts, r.Text)
	}
	return strings.Join(texts, "\n")
}

func mustContain(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("lacks %q:\n%s", w, text)
		}
	}
}

func mustNotContain(t *testing.T, text string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(text, b) {
			t.Errorf("contains %q:\n%s", b, text)
		}
	}
}

// outcomeMessages lists the catalog ids an outcome shows in its texts, the
// dated rules in every version.
func outcomeMessages(g *guide.Guide, o guide.Outcome) []string {
	ids := []string{o.Title, o.When, o.Prepare, o.Next}
	ids = append(ids, o.Keep...)
	ids = append(ids, o.Warnings...)
	for _, id := range o.Rules {
		r, _ := g.Rule(id)
		ids = append(ids, r.Text, r.Before, r.After)
	}
	return slices.DeleteFunc(ids, func(s string) bool { return s == "" })
}

// TestReviewItem01_ProtectionNoPassport walks every path through the
// refugee, subsidiary protection and stateless branches: no outcome
// mentions a national passport or a consulate except in the warning
// against it, which every such outcome shows first. Tree test over all
// paths, in English and French.
func TestReviewItem01_ProtectionNoPassport(t *testing.T) {
	f := sharedFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	pw := g.Tree.ProtectedWarning
	if pw == "" {
		t.Fatal("the tree has no warning for the protected branches")
	}
	bad := map[string]*regexp.Regexp{
		"en": regexp.MustCompile(`(?i)passport|consul`),
		"fr": regexp.MustCompile(`(?i)passeport|consul`),
	}
	checked := 0
	for outcome, paths := range g.AnswerPaths() {
		o, _ := g.Outcome(outcome)
		for _, path := range paths {
			state, cur := "", g.Start()
			for _, a := range strings.Split(path, "/") {
				state, cur, err = g.Answer(state, a)
				if err != nil {
					t.Fatalf("path %s: %v", path, err)
				}
			}
			if cur != outcome || !g.Protected(state) {
				continue
			}
			checked++
			for lang, re := range bad {
				p := f.cat.Printer(lang)
				for _, id := range outcomeMessages(g, o) {
					if id == pw {
						continue
					}
					if m := re.FindString(p.T(id)); m != "" {
						t.Errorf("%s via %s (%s): %s says %q outside the warning", outcome, path, lang, id, m)
					}
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d protected paths checked", checked)
	}
	// Through the bot: the duplicata of a refugee warns first, and never
	// sends them to a consulate.
	text := f.outcomeText(t, 9101, "en", "protection/lost", "")
	p := f.cat.Printer("en")
	mustContain(t, text, p.T(pw), "OFPRA")
	if strings.Index(text, p.T(pw)) > strings.Index(text, p.T("guide.warn.invalidated")) {
		t.Errorf("the protection warning is not the first warning:\n%s", text)
	}
	if m := bad["en"].FindString(strings.ReplaceAll(text, p.T(pw), "")); m != "" {
		t.Errorf("the refugee's duplicata says %q outside the warning:\n%s", m, text)
	}
}

// TestReviewItem02_NaturalisationNeedsCivicExam: naturalisation needs B2
// and the civic exam; the first-card rule says people protected by OFPRA
// are exempt from the exam for those cards.
func TestReviewItem02_NaturalisationNeedsCivicExam(t *testing.T) {
	t.Parallel()
	f := newGuideFixture(t)
	mustContain(t, f.outcomeText(t, 9201, "en", "other/nationality/decree", ""), "B2 and the civic exam", "not exempt")
	mustContain(t, f.outcomeText(t, 9202, "en", "other/first/novisa/family_fr", ""), "A2 and the civic exam", "do not need the civic exam")

	// The early reminder of a refugee's 4-year card says so too.
	const user = 9203
	f.handle(t, command(user, "en", "reminders"))
	f.handle(t, press(user, "en", "r:n"))
	f.handle(t, press(user, "en", "r:k:csp4"))
	f.handle(t, press(user, "en", "r:m:protection"))
	f.handle(t, press(user, "en", "r:x:y"))
	f.handle(t, press(user, "en", "r:h:me"))
	f.handle(t, typed(user, "en", "30/09/2027")) // D-240 is 02/02/2027
	f.handle(t, press(user, "en", "r:ok"))
	d := f.docs(t, user)
	if len(d) != 1 {
		t.Fatalf("stored %+v", d)
	}
	due := time.Date(2027, 2, 2, 10, 0, 0, 0, paris(t))
	f.clock.Set(due)
	if _, err := f.bot.Notify(context.Background(), reminder.Claim{ID: bot.ReminderID(user, d[0].ID), Due: due}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, f.sent.last(t, user).Text, "people protected by OFPRA and their families do not need the civic exam")
}

// TestReviewItem03_MissedVLSTSValidationFlagged: an arrival more than 3
// months ago says the deadline has passed and the stay is irregular.
func TestReviewItem03_MissedVLSTSValidationFlagged(t *testing.T) {
	f := sharedFixture(t)
	text := f.outcomeText(t, 9301, "en", "other/vlsts", "01/06/2026")
	mustContain(t, text, "01/09/2026", "This date has passed", "your stay is not regular", "🙋 Talk to a volunteer")
	if _, ok := buttons(f.sent.last(t, 9301))["g:h"]; !ok {
		t.Error("no volunteer button under a passed deadline")
	}
	// In time: no such line.
	mustNotContain(t, f.outcomeText(t, 9302, "en", "other/vlsts", "15/11/2026"), "This date has passed")
}

// TestReviewItem04_UnknownMentionNoContradiction: "my card expires next
// month" leads to one outcome with both windows and their dates, no advice
// that contradicts one of them, and the one question that decides; its
// answer gives the dates of that channel without asking the date again.
func TestReviewItem04_UnknownMentionNoContradiction(t *testing.T) {
	f := sharedFixture(t)
	const user = 9401
	f.handle(t, typed(user, "en", "my card expires next month"))
	if _, ok := buttons(f.sent.last(t, user))["g:o:o_renew_unknown"]; !ok {
		t.Fatalf("free text does not suggest the unknown-mention renewal: %v", buttons(f.sent.last(t, user)))
	}
	f.handle(t, press(user, "en", "g:o:o_renew_unknown"))
	f.handle(t, typed(user, "en", "25/12/2026"))
	out := f.sent.last(t, user)
	mustContain(t, out.Text,
		"On the ANEF: from <b>27/08/2026</b> to <b>26/10/2026</b>. Closed: filing now is late.",
		"At the préfecture: from <b>25/10/2026</b> to <b>24/12/2026</b>. Open now.",
		f.cat.Printer("en").T("guide.q.renew_channel"))
	mustNotContain(t, out.Text, "earliest date", "120 days before expiry)")
	for _, data := range []string{"g:a:anef", "g:a:prefecture", "g:a:dontknow"} {
		if _, ok := buttons(out)[data]; !ok {
			t.Errorf("the deciding question lacks %s: %v", data, buttons(out))
		}
	}
	f.handle(t, press(user, "en", "g:a:prefecture"))
	mustContain(t, f.sent.last(t, user).Text, "Renewal at the préfecture", "from <b>25/10/2026</b> to <b>24/12/2026</b>", "The window is open")
}

// TestReviewItem05_ReasonsCapOneYear: asking the reasons of an implicit
// refusal gives more time, at most one year from the request.
func TestReviewItem05_ReasonsCapOneYear(t *testing.T) {
	f := sharedFixture(t)
	text := f.outcomeText(t, 9501, "en", "other/waiting/silence", "")
	mustContain(t, text, "at most 1 year from your request", "refus implicite")
	mustNotContain(t, text, "this extends the court deadline")
}

// TestReviewItem06_ChangeOfAddressRules: cards of more than one year,
// proof of address under 3 months.
func TestReviewItem06_ChangeOfAddressRules(t *testing.T) {
	f := sharedFixture(t)
	text := f.outcomeText(t, 9601, "en", "other/address", "")
	mustContain(t, text, "more than 1 year", "less than 3 months old", "€25")
	mustNotContain(t, text, "1 year or more", "6 months old")
}

// TestReviewItem07_AlgeriansRegularisation: the préfet keeps a power to
// regularise and the 1968 agreement gives a certificat after 10 years;
// the regularisation reached from free text warns Algerians.
func TestReviewItem07_AlgeriansRegularisation(t *testing.T) {
	f := sharedFixture(t)
	mustContain(t, f.outcomeText(t, 9701, "en", "algeria/nopapers", ""), "case by case", "10 years", "6-1°")
	const user = 9702
	f.handle(t, typed(user, "fr", "régularisation"))
	if _, ok := buttons(f.sent.last(t, user))["g:o:o_aes"]; !ok {
		t.Fatalf("free text does not suggest the regularisation: %v", buttons(f.sent.last(t, user)))
	}
	f.handle(t, press(user, "fr", "g:o:o_aes"))
	mustContain(t, f.sent.last(t, user).Text, f.cat.Printer("fr").T("guide.warn.aes_algeria"))
}

// TestReviewItem08_StatelessFirstRequestOnANEF: the official API fiche
// lists stateless first requests among ANEF filings.
func TestReviewItem08_StatelessFirstRequestOnANEF(t *testing.T) {
	f := sharedFixture(t)
	p := f.cat.Printer("en")
	text := f.outcomeText(t, 9801, "en", "stateless/first", "")
	mustContain(t, text, p.T("guide.channel.anef"), "service-public", "F36206")
	mustNotContain(t, text, "Not on the ANEF")
}

// TestReviewItem09_OneYearCardNoGrace: a 1-year "vie privée et familiale"
// card has no 3-month continuity: the API or récépissé is the proof.
func TestReviewItem09_OneYearCardNoGrace(t *testing.T) {
	f := sharedFixture(t)
	mustContain(t, f.outcomeText(t, 9901, "en", "other/renew/vpf/family_fr", ""), f.cat.Printer("en").T("guide.warn.no_grace"))
}

// TestReviewItem10_SubsidiaryProtectionAfterThreeMonths: the 4-year card
// of subsidiary protection says what happens after the 3 months.
func TestReviewItem10_SubsidiaryProtectionAfterThreeMonths(t *testing.T) {
	f := sharedFixture(t)
	mustContain(t, f.outcomeText(t, 10001, "en", "protection/renew/csp4", ""), "After these 3 months, only an <i>API</i> or a <i>récépissé</i> proves your right to stay")
}

// TestReviewItem11_AlgerianStudentsNoRECE: no RECE and no APS after the
// degree under the 1968 agreement.
func TestReviewItem11_AlgerianStudentsNoRECE(t *testing.T) {
	f := sharedFixture(t)
	mustContain(t, f.outcomeText(t, 10101, "en", "algeria/renew/student", ""), "no job-search card (RECE) and no APS")
}

// TestReviewItem12_RecoursGracieuxDoesNotExtendOQTF.
func TestReviewItem12_RecoursGracieuxDoesNotExtendOQTF(t *testing.T) {
	f := sharedFixture(t)
	text := f.outcomeText(t, 10201, "en", "letter/refusal", "")
	mustContain(t, text, "(OQTF), a <i>recours gracieux</i> does not give you more time for the court")
	mustNotContain(t, text, "urgency is presumed for an urgent court request")
}

// TestReviewItem13_NoAPIUrgencyAndEmployer: urgency in principle for a
// référé "mesures utiles" in a renewal; what to show an employer.
func TestReviewItem13_NoAPIUrgencyAndEmployer(t *testing.T) {
	f := sharedFixture(t)
	mustContain(t, f.outcomeText(t, 10301, "en", "other/waiting/no_api", ""), "the judge in principle accepts that it is urgent", "For your employer")
}

// TestReviewItem14_NoListBelowWithoutList: no outcome announces a list
// "below" (every outcome, English and French).
func TestReviewItem14_NoListBelowWithoutList(t *testing.T) {
	f := sharedFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?i)list below|liste ci-dessous`)
	for _, o := range g.Tree.Outcomes {
		for _, lang := range []string{"en", "fr"} {
			for _, id := range outcomeMessages(g, o) {
				if m := re.FindString(f.cat.Printer(lang).T(id)); m != "" {
					t.Errorf("%s %s %s: %q", o.ID, lang, id, m)
				}
			}
		}
	}
	mustNotContain(t, f.outcomeText(t, 10401, "en", "other/dontknow", ""), "list below")
}

// TestReviewItem15_RemindMeKnowsTheGuide: "remind me" after a path with a
// typed expiry and mention asks nothing already answered (acceptance); the
// no-API outcome offers no reminder for an API the person does not have;
// a VLS-TS to validate carries its arrival date.
func TestReviewItem15_RemindMeKnowsTheGuide(t *testing.T) {
	f := sharedFixture(t)
	const user = 10501
	f.outcomeText(t, user, "en", "other/renew/talent", "25/02/2027")
	f.handle(t, press(user, "en", "r:g:o_talent_renew"))
	if got := f.sent.last(t, user); !strings.Contains(got.Text, f.cat.Printer("en").T("rem.ask.multi")) {
		t.Fatalf("after the guide's talent renewal, the first question is %q; want the multi-year one (kind, mention and date are known)", got.Text)
	}
	f.handle(t, press(user, "en", "r:x:n"))
	f.handle(t, press(user, "en", "r:h:me"))
	if got := f.sent.last(t, user); !strings.Contains(got.Text, "25/02/2027") || buttons(got)["r:ok"] == "" {
		t.Fatalf("want the confirmation with the guide's date; got %q", got.Text)
	}
	f.handle(t, press(user, "en", "r:ok"))
	if d := f.docs(t, user); len(d) != 1 || d[0].Kind != permit.KindCSP || d[0].Mention != permit.MentionTalent || d[0].Expiry.String() != "2027-02-25" {
		t.Errorf("stored %+v", d)
	}

	// No API: no reminder for an API the person does not have.
	f.outcomeText(t, 10502, "en", "other/waiting/no_api", "")
	for data := range buttons(f.sent.last(t, 10502)) {
		if strings.HasPrefix(data, "r:g:") {
			t.Errorf("the no-API outcome offers %s", data)
		}
	}
	f.handle(t, press(10502, "en", "r:g:o_no_api")) // a forged or stale button
	if len(f.docs(t, 10502)) != 0 {
		t.Error("a reminder was started from the no-API outcome")
	}

	// A VLS-TS to validate: not validated, arrival as typed.
	const v = 10503
	f.outcomeText(t, v, "en", "other/vlsts", "15/11/2026")
	f.handle(t, press(v, "en", "r:g:o_vlsts_validate"))
	f.handle(t, press(v, "en", "r:m:etudiant"))
	f.handle(t, press(v, "en", "r:x:n"))
	f.handle(t, press(v, "en", "r:h:me"))
	f.handle(t, typed(v, "en", "15/09/2027"))
	if got := f.sent.last(t, v); buttons(got)["r:ok"] == "" || strings.Contains(got.Text, f.cat.Printer("en").T("rem.ask.validated")) {
		t.Fatalf("want the confirmation without asking again about the validation; got %q", got.Text)
	}
	f.handle(t, press(v, "en", "r:ok"))
	if d := f.docs(t, v); len(d) != 1 || d[0].Arrival == nil || d[0].Arrival.String() != "2026-11-15" {
		t.Errorf("stored %+v; want the arrival typed in the guide", d)
	}
}

// TestReviewItem16_ProtectionRenewalReminderKnowsTheCard: a refugee's
// 10-year carte de résident is followed as a carte de résident, not a
// 4-year card.
func TestReviewItem16_ProtectionRenewalReminderKnowsTheCard(t *testing.T) {
	f := sharedFixture(t)
	const user = 10601
	f.outcomeText(t, user, "en", "protection/renew/resident", "15/03/2027")
	f.handle(t, press(user, "en", "r:g:o_protection_cr_renew"))
	f.handle(t, press(user, "en", "r:h:me"))
	f.handle(t, press(user, "en", "r:ok"))
	if d := f.docs(t, user); len(d) != 1 || d[0].Kind != permit.KindCarteResident {
		t.Errorf("stored %+v; want a carte de résident", d)
	}
}

// TestReviewItem17_APSGuideDates: the guide computes the local APS rules
// (3 weeks to 3 days, or at least 15 days, before the end); the calendar
// side is tested in internal/permit.
func TestReviewItem17_APSGuideDates(t *testing.T) {
	f := sharedFixture(t)
	mustContain(t, f.outcomeText(t, 10701, "en", "ukraine/aps", "31/01/2027"), "<b>10/01/2027</b>", "<b>28/01/2027</b>", "<b>16/01/2027</b>")
}

// TestReviewItem18_ExpiredCardSavedSaysNoReminders: saving a card that
// has already expired never says "I will remind you".
func TestReviewItem18_ExpiredCardSavedSaysNoReminders(t *testing.T) {
	f := sharedFixture(t)
	const user = 10801
	f.registerUpToDate(t, user, "en")
	f.handle(t, typed(user, "en", "01/11/2026"))
	f.handle(t, press(user, "en", "r:ok"))
	p := f.cat.Printer("en")
	got := f.sent.last(t, user).Text
	mustNotContain(t, got, p.T("rem.saved"))
	mustContain(t, got, p.T("rem.saved_ended"))
}

// TestReviewItem19_MentionsDoNotOverlap: "vie privée et familiale" and
// "family of a French person" are offered as two distinct cases.
func TestReviewItem19_MentionsDoNotOverlap(t *testing.T) {
	f := sharedFixture(t)
	for _, lang := range []string{"en", "fr"} {
		user := int64(10901)
		if lang == "fr" {
			user++
		}
		f.handle(t, command(user, lang, "reminders"))
		f.handle(t, press(user, lang, "r:n"))
		f.handle(t, press(user, lang, "r:k:cst"))
		b := buttons(f.sent.last(t, user))
		vpf, fam := b["r:m:vpf"], b["r:m:famille_francais"]
		if vpf == "" || fam == "" {
			t.Fatalf("%s: mention buttons %v", lang, b)
		}
		if !regexp.MustCompile(`(?i)other|autre`).MatchString(vpf) {
			t.Errorf("%s: %q does not say it is for other reasons than %q", lang, vpf, fam)
		}
	}
}

// englishWord finds English words that never appear in French titles or
// in the other locales' texts.
var englishWord = regexp.MustCompile(`(?i)\b(the|of|and|for|with|from|when|which|this|found|search|law|court|renewal|request|requests|file|card|rights|help|look|official|text|report|mirror|website)\b`)

var urlRE = regexp.MustCompile(`https?://\S+`)

// TestReviewItem20_OfficialSourcesFirst crawls every outcome: its first
// source shown is a legal text or a court decision (unless the tree says
// why there is none); no http:// link, no mirror of a legal text, no forum
// or news site. And the source lines are in the resident's language with
// the French official title (test over all outcomes × locales).
func TestReviewItem20_OfficialSourcesFirst(t *testing.T) {
	f := sharedFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	mirror := regexp.MustCompile(`http://|doctrine\.fr|juriblio|pappers|tricoteuses|french-business-law|xml=|hypothes|mediapart|china\.org|bladi|observalgerie|alwihda|zamanmasdar|sos-oqtf|alexia\.fr|avocat`)
	langs := f.cat.Languages()
	for _, o := range g.Tree.Outcomes {
		tags := g.Sources(o)
		en := f.bot.SourceLines("en", tags)
		if len(en) == 0 {
			t.Errorf("%s: no source", o.ID)
			continue
		}
		p := f.cat.Printer("en")
		if o.NoOfficialSource == "" && !strings.HasPrefix(en[0], "• <b>"+p.T("guide.source.law")+"</b>") && !strings.HasPrefix(en[0], "• <b>"+p.T("guide.source.case_law")+"</b>") {
			t.Errorf("%s: first source is not the legal basis: %q", o.ID, en[0])
		}
		for _, tag := range tags {
			s, _ := g.Source(tag)
			if s.Kind == guide.KindOther || mirror.MatchString(s.URL) {
				t.Errorf("%s cites %s (%s, %s)", o.ID, tag, s.Kind, s.URL)
			}
		}
		for _, l := range langs {
			lines := f.bot.SourceLines(l.Tag, tags)
			for _, line := range lines {
				if l.Tag == "en" {
					continue
				}
				plain := urlRE.ReplaceAllString(line, "")
				if m := englishWord.FindString(plain); m != "" {
					t.Errorf("%s %s: English %q in source line %q", o.ID, l.Tag, m, line)
				}
			}
			for _, tag := range tags {
				s, _ := g.Source(tag)
				if !slices.ContainsFunc(lines, func(line string) bool {
					return strings.Contains(line, catalog.Escape(s.Title))
				}) {
					t.Errorf("%s %s: the French title of %s is not shown as is", o.ID, l.Tag, tag)
				}
			}
		}
	}
	// Through the bot, once: the legal basis comes first under an outcome.
	text := f.outcomeText(t, 12001, "ar", "other/renew/talent", "")
	first := strings.Index(text, f.cat.Printer("ar").T("guide.source.law"))
	if first < 0 || first > strings.Index(text, f.cat.Printer("ar").T("guide.source.administration")) {
		t.Errorf("the legal text is not the first source:\n%s", text)
	}
}

// TestReviewItem21_ArabicSaysPublicSources: Arabic (and Urdu) no longer
// say "official sources" where English says "public sources".
func TestReviewItem21_ArabicSaysPublicSources(t *testing.T) {
	f := sharedFixture(t)
	for lang, official := range map[string]string{"ar": "مصادر رسمية", "ur": "سرکاری ذرائع"} {
		if got := f.cat.Printer(lang).T("guide.intro"); strings.Contains(got, official) {
			t.Errorf("%s guide.intro says %q (official sources): %q", lang, official, got)
		}
	}
}

// TestDatedRulesCrossEachBoundary: the guide shows the rule in force on
// the filing day (issue 11, item 9): the 2026 exam rules the day before
// and the day they start, temporary protection on its last day and the day
// after.
func TestDatedRulesCrossEachBoundary(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CET", 3600)
	tests := []struct {
		name, now, path, date string
		want, not             string
	}{
		{"exam rules: the day before", "2025-12-31", "other/first/novisa/family_fr", "", "guide.rule.exam_2026_before", "guide.rule.exam_2026_cards"},
		{"exam rules: the first day", "2026-01-01", "other/first/novisa/family_fr", "", "guide.rule.exam_2026_cards", "guide.rule.exam_2026_before"},
		{"exam rules: filing window opens the day before", "2025-11-25", "other/renew/talent", "30/04/2026", "guide.rule.exam_2026_before", "guide.rule.exam_2026_cards"},
		{"exam rules: filing window opens the first day", "2025-11-25", "other/renew/talent", "01/05/2026", "guide.rule.exam_2026_cards", "guide.rule.exam_2026_before"},
		{"temporary protection: its last day", "2027-03-04", "ukraine/aps", "20/03/2027", "guide.rule.temporary_protection", "guide.rule.temporary_protection_after"},
		{"temporary protection: the day after", "2027-03-05", "ukraine/aps", "20/03/2027", "guide.rule.temporary_protection_after", "guide.rule.temporary_protection"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newGuideFixture(t)
			now, err := time.ParseInLocation("2006-01-02 15", tt.now+" 12", loc)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Set(now)
			p := f.cat.Printer("en")
			text := f.outcomeText(t, int64(13001+i), "en", tt.path, tt.date)
			mustContain(t, text, p.T(tt.want))
			mustNotContain(t, text, p.T(tt.not))
		})
	}
	// The guide's dates are the calendar's.
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]permit.Period{"exam_2026_cards": permit.Exam2026, "exam_2026_naturalisation": permit.Exam2026, "temporary_protection": permit.TemporaryProtection} {
		r, ok := g.Rule(id)
		if !ok {
			t.Fatalf("no rule %s", id)
		}
		if got, err := r.Period(); err != nil || got != want {
			t.Errorf("rule %s: %+v, %v; want %+v (permit)", id, got, err, want)
		}
	}
}

// TestReviewedOutcomeShowsItsReviewer: an outcome reviewed as it is shows
// who checked it and when; changed after the review, it says "not yet
// checked" again.
func TestReviewedOutcomeShowsItsReviewer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	fr := f.cat.Printer("fr")
	tree := g.Tree
	tree.Outcomes = slices.Clone(tree.Outcomes)
	i := slices.IndexFunc(tree.Outcomes, func(o guide.Outcome) bool { return o.ID == "o_duplicata" })
	tree.Outcomes[i].Review = guide.Review{Status: guide.ReviewReviewed, By: "Juriste de l'association", On: "2026-12-01",
		Fingerprint: g.Fingerprint(tree.Outcomes[i], func(id string) string { return fr.T(id) })}
	var sources []guide.Source
	for _, o := range tree.Outcomes {
		for _, tag := range g.Sources(o) {
			if s, ok := g.Source(tag); ok && !slices.ContainsFunc(sources, func(x guide.Source) bool { return x.Tag == tag }) {
				sources = append(sources, s)
			}
		}
	}
	reviewed := guide.New(tree, sources, nil)
	b, err := bot.New(bot.Config{Store: f.store, Catalog: f.cat, Sender: f.sent, Clock: f.clock, Guide: reviewed})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = b
	f.handle(t, press(14001, "en", "g:o:o_duplicata"))
	mustContain(t, f.sent.last(t, 14001).Text, "Checked by Juriste de l&#39;association on 01/12/2026")
	// Changed after its review: to verify again.
	tree.Outcomes[i].Channel = guide.ChannelPrefecture
	b, err = bot.New(bot.Config{Store: f.store, Catalog: f.cat, Sender: f.sent, Clock: f.clock, Guide: guide.New(tree, sources, nil)})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = b
	f.handle(t, press(14002, "en", "g:o:o_duplicata"))
	mustContain(t, f.sent.last(t, 14002).Text, f.cat.Printer("en").T("guide.review.to_verify"))
}
