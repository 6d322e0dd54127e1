package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// paris is the zone of the sending hour.
func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func typed(user int64, lang, text string) bot.Update {
	return bot.Update{Kind: bot.KindText, UserID: user, LanguageCode: lang, Text: text}
}

// register walks the registration of a carte de séjour temporaire
// (étudiant, not a first multi-year card, mine) up to the date question.
func (f *fixture) registerUpToDate(t *testing.T, user int64, lang string) {
	t.Helper()
	f.handle(t, command(user, lang, "reminders"))
	f.handle(t, press(user, lang, "r:n"))
	f.handle(t, press(user, lang, "r:k:cst"))
	f.handle(t, press(user, lang, "r:m:etudiant"))
	f.handle(t, press(user, lang, "r:x:n"))
	f.handle(t, press(user, lang, "r:h:me"))
}

func (f *fixture) entry(t *testing.T, user int64, doc string) (reminder.Entry, bool) {
	t.Helper()
	e, ok, err := f.store.Get(context.Background(), bot.ReminderID(user, doc))
	if err != nil {
		t.Fatal(err)
	}
	return e, ok
}

func (f *fixture) docs(t *testing.T, user int64) []bot.Document {
	t.Helper()
	docs, err := f.store.Documents(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestRegisterDocumentByTyping(t *testing.T) {
	f := newFixture(t)
	const user = 501
	f.registerUpToDate(t, user, "en")
	if got := f.sent.last(t, user); !strings.Contains(got.Text, "day/month/year") || buttons(got)["r:p"] == "" {
		t.Fatalf("date question = %q %v", got.Text, buttons(got))
	}
	f.handle(t, typed(user, "en", "30/06/2027"))
	confirm := f.sent.last(t, user)
	for _, want := range []string{"Wednesday 30 June 2027 (30/06/2027)", "Carte de séjour temporaire", "Étudiant", "not a first multi-year card"} {
		if !strings.Contains(confirm.Text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, confirm.Text)
		}
	}
	if len(f.docs(t, user)) != 0 {
		t.Fatal("document stored before the resident confirmed")
	}
	f.handle(t, press(user, "en", "r:ok"))
	docs := f.docs(t, user)
	if len(docs) != 1 {
		t.Fatalf("documents after confirming: %d", len(docs))
	}
	d := docs[0]
	if d.Kind != permit.KindCST || d.Mention != permit.MentionEtudiant || d.Holder != bot.HolderMe || d.Expiry.String() != "2027-06-30" || d.FirstMultiYear {
		t.Errorf("stored document = %+v", d)
	}
	// From 25/11/2026 the next milestone of an ANEF titre ending 30/06/2027
	// is D-150, 31/01/2027, at 10:00 in Paris.
	e, ok := f.entry(t, user, d.ID)
	if want := time.Date(2027, 1, 31, 10, 0, 0, 0, paris(t)); !ok || !e.Due.Equal(want) {
		t.Errorf("schedule entry = %+v, %v; want due %v", e, ok, want)
	}
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "Sunday 31 January 2027") {
		t.Errorf("saved message does not give the next reminder:\n%s", got)
	}
}

func TestRegisterDocumentWithButtonsOnly(t *testing.T) {
	f := newFixture(t)
	const user = 502
	f.registerUpToDate(t, user, "fr")
	f.handle(t, press(user, "fr", "r:p"))
	if _, ok := buttons(f.sent.last(t, user))["r:py:2027"]; !ok {
		t.Fatalf("year buttons: %v", buttons(f.sent.last(t, user)))
	}
	f.handle(t, press(user, "fr", "r:py:2027"))
	if got := buttons(f.sent.last(t, user))["r:pm:2"]; got != "février" {
		t.Fatalf("month button 2 = %q", got)
	}
	f.handle(t, press(user, "fr", "r:pm:2"))
	days := buttons(f.sent.last(t, user))
	if _, ok := days["r:pd:28"]; !ok {
		t.Fatal("no day 28 in February")
	}
	if _, ok := days["r:pd:29"]; ok {
		t.Fatal("29 February 2027 offered")
	}
	f.handle(t, press(user, "fr", "r:pd:28"))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "dimanche 28 février 2027 (28/02/2027)") {
		t.Errorf("confirmation = %q", got)
	}
	// A forged day the month does not have changes nothing.
	f.handle(t, press(user, "fr", "r:pd:31"))
	f.handle(t, press(user, "fr", "r:ok"))
	if docs := f.docs(t, user); len(docs) != 0 {
		t.Errorf("forged day led to a stored document: %+v", docs)
	}
}

func TestDateEntry(t *testing.T) {
	tests := []struct {
		name, input string
		want        string // in the answer
		date        string // stored expiry when accepted
	}{
		{"slashes", "30/06/2027", "", "2027-06-30"},
		{"short", "3/6/27", "", "2027-06-03"},
		{"dots", "30.06.2027", "", "2027-06-30"},
		{"dashes", "30-06-2027", "", "2027-06-30"},
		{"iso", "2027-06-30", "", "2027-06-30"},
		{"eastern arabic", "٢٥/١٢/٢٠٢٦", "", "2026-12-25"},
		{"persian", "۲۵/۱۲/۲۰۲۶", "", "2026-12-25"},
		{"impossible", "31/02/2027", "does not exist", ""},
		{"long past", "01/01/2020", "too long ago", ""},
		{"far future", "01/01/2050", "too far in the future", ""},
		{"gibberish", "my card is blue", "could not read a date", ""},
		{"month first", "12/31/2027", "does not exist", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			const user = 503
			f.registerUpToDate(t, user, "en")
			f.handle(t, typed(user, "en", tt.input))
			got := f.sent.last(t, user)
			if tt.want != "" {
				if !strings.Contains(got.Text, tt.want) {
					t.Errorf("answer to %q = %q; want %q", tt.input, got.Text, tt.want)
				}
				if _, ok := buttons(got)["r:p"]; !ok {
					t.Errorf("no way out with buttons after %q", tt.input)
				}
				f.handle(t, press(user, "en", "r:ok"))
				if docs := f.docs(t, user); len(docs) != 0 {
					t.Errorf("a rejected date was stored: %+v", docs)
				}
				return
			}
			if _, ok := buttons(got)["r:ok"]; !ok {
				t.Fatalf("answer to %q is not the confirmation: %q", tt.input, got.Text)
			}
			f.handle(t, press(user, "en", "r:ok"))
			docs := f.docs(t, user)
			if len(docs) != 1 || docs[0].Expiry.String() != tt.date {
				t.Errorf("stored %+v; want expiry %s", docs, tt.date)
			}
		})
	}
}

func TestHolderLabel(t *testing.T) {
	f := newFixture(t)
	const user = 504
	f.handle(t, command(user, "en", "reminders"))
	f.handle(t, press(user, "en", "r:n"))
	f.handle(t, press(user, "en", "r:k:passport"))
	f.handle(t, press(user, "en", "r:h:child"))
	f.handle(t, typed(user, "en", "AB 123456 78"))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "do not write numbers") {
		t.Fatalf("a number label was not refused: %q", got)
	}
	f.handle(t, typed(user, "en", strings.Repeat("x", bot.MaxLabel+1)))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "too long") {
		t.Fatalf("a long label was not refused: %q", got)
	}
	f.handle(t, typed(user, "en", "  my\u202e son \n"))
	f.handle(t, typed(user, "en", "15/01/2028"))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "Passport – my son") {
		t.Errorf("confirmation = %q", got)
	}
	f.handle(t, press(user, "en", "r:ok"))
	docs := f.docs(t, user)
	if len(docs) != 1 || docs[0].Label != "my son" || docs[0].Holder != bot.HolderChild {
		t.Errorf("stored %+v", docs)
	}
}

// registerWorkedExample stores the card of the worked example: an
// ANEF titre ending 30/06/2027, registered on 12/12/2026.
func (f *fixture) registerWorkedExample(t *testing.T, user int64, lang string) bot.Document {
	t.Helper()
	f.clock.Set(time.Date(2026, 12, 12, 15, 0, 0, 0, time.UTC))
	f.registerUpToDate(t, user, lang)
	f.handle(t, typed(user, lang, "30/06/2027"))
	f.handle(t, press(user, lang, "r:ok"))
	docs := f.docs(t, user)
	if len(docs) != 1 {
		t.Fatalf("documents: %+v", docs)
	}
	return docs[0]
}

func TestNotifySendsNeutralReminderAndReschedules(t *testing.T) {
	f := newFixture(t)
	const user = 505
	doc := f.registerWorkedExample(t, user, "en")
	loc := paris(t)
	due := time.Date(2027, 1, 31, 10, 0, 0, 0, loc)
	f.clock.Set(due)
	before := len(f.sent.to(user))
	next, err := f.bot.Notify(context.Background(), reminder.Claim{ID: bot.ReminderID(user, doc.ID), Due: due})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 3, 2, 10, 0, 0, 0, loc); !next.Equal(want) {
		t.Errorf("next = %v; want %v (D-120)", next, want)
	}
	sent := f.sent.to(user)
	if len(sent) != before+1 {
		t.Fatalf("sent %d messages; want 1", len(sent)-before)
	}
	msg := sent[len(sent)-1]
	first, _, _ := strings.Cut(msg.Text, "\n")
	if first != "🔔 Passerelle: a reminder you asked for." {
		t.Errorf("first line %q is not the neutral one", first)
	}
	if msg.Lane != bot.LaneBulk {
		t.Errorf("reminder sent on lane %v; want bulk", msg.Lane)
	}
	for _, want := range []string{"30/06/2027", "02/03/2027"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("reminder lacks %q:\n%s", want, msg.Text)
		}
	}
	for _, data := range []string{"r:f:" + doc.ID, "r:ny:" + doc.ID, "r:sk:" + doc.ID, "r:s:" + doc.ID} {
		if _, ok := buttons(msg)[data]; !ok {
			t.Errorf("reminder lacks button %s: %v", data, buttons(msg))
		}
	}
}

func TestNotifyCollapsesStaleMilestones(t *testing.T) {
	f := newFixture(t)
	const user = 506
	doc := f.registerWorkedExample(t, user, "en")
	loc := paris(t)
	// The dispatcher was down from before D-150 until after D-90: one
	// reminder, the D-90 one, then D-65.
	f.clock.Set(time.Date(2027, 4, 3, 11, 0, 0, 0, loc))
	next, err := f.bot.Notify(context.Background(), reminder.Claim{ID: bot.ReminderID(user, doc.ID), Due: time.Date(2027, 1, 31, 10, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 4, 26, 10, 0, 0, 0, loc); !next.Equal(want) {
		t.Errorf("next = %v; want D-65 %v", next, want)
	}
	msg := f.sent.last(t, user)
	if !strings.Contains(msg.Text, "Have you asked for the next one?") || strings.Contains(msg.Text, "Get ready now") {
		t.Errorf("want only the D-90 reminder:\n%s", msg.Text)
	}
}

func TestFiledSwitchesToAPIMilestones(t *testing.T) {
	f := newFixture(t)
	const user = 507
	doc := f.registerWorkedExample(t, user, "en")
	loc := paris(t)
	f.clock.Set(time.Date(2027, 3, 5, 12, 0, 0, 0, loc))
	f.handle(t, press(user, "en", "r:f:"+doc.ID))
	f.handle(t, press(user, "en", "r:t:0"))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "API") {
		t.Fatalf("after the filing date, want the API question; got %q", got)
	}
	f.handle(t, press(user, "en", "r:na"))
	d := f.docs(t, user)[0]
	if d.Filed == nil || d.Filed.String() != "2027-03-05" || d.APIExpiry != nil {
		t.Fatalf("stored %+v", d)
	}
	// Next: check for the API at D-7, not the pre-filing D-90.
	e, _ := f.entry(t, user, doc.ID)
	if want := time.Date(2027, 6, 23, 10, 0, 0, 0, loc); !e.Due.Equal(want) {
		t.Errorf("due after filing = %v; want %v", e.Due, want)
	}
	// An API ending 30/09/2027 arrives: reminders before it ends.
	f.handle(t, press(user, "en", "r:ap:"+doc.ID))
	f.handle(t, typed(user, "en", "30/09/2027"))
	d = f.docs(t, user)[0]
	if d.APIExpiry == nil || d.APIExpiry.String() != "2027-09-30" || d.Filed.String() != "2027-03-05" {
		t.Fatalf("stored %+v", d)
	}
	e, _ = f.entry(t, user, doc.ID)
	if want := time.Date(2027, 6, 30, 10, 0, 0, 0, loc); !e.Due.Equal(want) {
		t.Errorf("due with an API = %v; want the expiry day %v", e.Due, want)
	}
}

func TestExpiredFiledNoAPIOffersHelp(t *testing.T) {
	f := newFixture(t)
	const user = 508
	doc := f.registerWorkedExample(t, user, "en")
	f.clock.Set(time.Date(2027, 7, 2, 12, 0, 0, 0, paris(t)))
	f.handle(t, press(user, "en", "r:f:"+doc.ID))
	f.handle(t, typed(user, "en", "20/04/2027"))
	f.handle(t, press(user, "en", "r:na"))
	all := f.sent.to(user)
	help := all[len(all)-2].Text
	if !strings.Contains(help, "Ask for help now") || !strings.Contains(help, "Défenseur des droits") {
		t.Errorf("expired, filed, no API: want help unprompted; got\n%s", help)
	}
}

func TestStopCancelsAndResume(t *testing.T) {
	f := newFixture(t)
	const user = 509
	doc := f.registerWorkedExample(t, user, "en")
	f.handle(t, press(user, "en", "r:s:"+doc.ID))
	if _, ok := f.entry(t, user, doc.ID); ok {
		t.Fatal("entry still scheduled after Stop")
	}
	if !f.docs(t, user)[0].Stopped {
		t.Fatal("document not marked stopped")
	}
	before := len(f.sent.to(user))
	next, err := f.bot.Notify(context.Background(), reminder.Claim{ID: bot.ReminderID(user, doc.ID), Due: f.clock.Now()})
	if err != nil || !next.IsZero() || len(f.sent.to(user)) != before {
		t.Errorf("stopped document: Notify = %v, %v, sent %d", next, err, len(f.sent.to(user))-before)
	}
	f.handle(t, press(user, "en", "r:rs:"+doc.ID))
	if _, ok := f.entry(t, user, doc.ID); !ok {
		t.Fatal("entry not back after Restart")
	}
}

func TestBlockedResidentPausesReminders(t *testing.T) {
	f := newFixture(t)
	const user = 510
	doc := f.registerWorkedExample(t, user, "en")
	loc := paris(t)
	due := time.Date(2027, 1, 31, 10, 0, 0, 0, loc)
	f.clock.Set(due)
	f.sent.failFor[user] = bot.ErrBlocked
	next, err := f.bot.Notify(context.Background(), reminder.Claim{ID: bot.ReminderID(user, doc.ID), Due: due})
	if err != nil || !next.IsZero() {
		t.Fatalf("blocked: Notify = %v, %v; want the entry dropped", next, err)
	}
	p, err := f.store.Profile(context.Background(), user)
	if err != nil || !p.Blocked {
		t.Fatalf("profile after 403: %+v, %v", p, err)
	}
	// Nothing more while blocked.
	delete(f.sent.failFor, user)
	before := len(f.sent.to(user))
	if _, err := f.bot.Notify(context.Background(), reminder.Claim{ID: bot.ReminderID(user, doc.ID), Due: due}); err != nil {
		t.Fatal(err)
	}
	if len(f.sent.to(user)) != before {
		t.Fatal("a blocked resident got a reminder")
	}
	// Writing again resumes the schedule.
	f.handle(t, command(user, "en", "menu"))
	e, ok := f.entry(t, user, doc.ID)
	if want := time.Date(2027, 3, 2, 10, 0, 0, 0, loc); !ok || !e.Due.Equal(want) {
		t.Errorf("after unblocking: entry %+v %v; want due %v", e, ok, want)
	}
}

func TestDeleteDocument(t *testing.T) {
	f := newFixture(t)
	const user = 511
	doc := f.registerWorkedExample(t, user, "en")
	f.handle(t, press(user, "en", "r:dy:"+doc.ID)) // without the question: refused
	if len(f.docs(t, user)) != 1 {
		t.Fatal("deleted without confirmation")
	}
	f.handle(t, press(user, "en", "r:d:"+doc.ID))
	f.handle(t, press(user, "en", "r:dy:"+doc.ID))
	if len(f.docs(t, user)) != 0 {
		t.Fatal("not deleted")
	}
	if _, ok := f.entry(t, user, doc.ID); ok {
		t.Fatal("entry left after delete")
	}
}

func TestOtherResidentsDocumentUntouchable(t *testing.T) {
	f := newFixture(t)
	doc := f.registerWorkedExample(t, 512, "en")
	for _, data := range []string{"r:s:", "r:d:", "r:o:", "r:f:"} {
		f.handle(t, press(513, "en", data+doc.ID))
	}
	f.handle(t, press(513, "en", "r:dy:"+doc.ID))
	if d := f.docs(t, 512); len(d) != 1 || d[0].Stopped {
		t.Errorf("another resident changed the document: %+v", d)
	}
}

func TestGuideRemindMePrefills(t *testing.T) {
	f := newGuideFixture(t)
	const user = 514
	f.walk(t, user, "en", "other/renew/talent")
	f.handle(t, typed(user, "en", "25/02/2027"))
	out := f.sent.last(t, user)
	var data string
	for d := range buttons(out) {
		if strings.HasPrefix(d, "r:g:") {
			data = d
		}
	}
	if data == "" {
		t.Fatalf("no remind-me button under the outcome: %v", buttons(out))
	}
	f.handle(t, press(user, "en", data))
	// The guide said "talent": the mention is not asked again.
	f.handle(t, press(user, "en", "r:x:n"))
	f.handle(t, press(user, "en", "r:h:me"))
	got := f.sent.last(t, user)
	if _, ok := buttons(got)["r:ok"]; !ok || !strings.Contains(got.Text, "25/02/2027") {
		t.Fatalf("want the confirmation with the guide's date; got %q", got.Text)
	}
	f.handle(t, press(user, "en", "r:ok"))
	if d := f.docs(t, user); len(d) != 1 || d[0].Kind != permit.KindCSP || d[0].Mention != permit.MentionTalent {
		t.Errorf("stored %+v", d)
	}
}

func TestMyDataListsDocuments(t *testing.T) {
	f := newFixture(t)
	const user = 515
	f.registerWorkedExample(t, user, "en")
	f.handle(t, command(user, "en", "mydata"))
	got := f.sent.last(t, user).Text
	for _, want := range []string{"Documents followed for reminders: 1", "Carte de séjour temporaire", "30/06/2027", "Étudiant"} {
		if !strings.Contains(got, want) {
			t.Errorf("/mydata lacks %q:\n%s", want, got)
		}
	}
}

func TestForgetDeletesDocumentsAndSchedule(t *testing.T) {
	f := newFixture(t)
	const user = 7700005678
	doc := f.registerWorkedExample(t, user, "en")
	f.handle(t, command(user, "en", "forget"))
	f.handle(t, press(user, "en", "forget:yes"))
	if _, err := f.store.Document(context.Background(), user, doc.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("document after /forget: %v", err)
	}
	if _, ok := f.entry(t, user, doc.ID); ok {
		t.Error("schedule entry after /forget")
	}
}

func TestRemindersLimit(t *testing.T) {
	f := newFixture(t)
	const user = 516
	for i := 0; i < bot.MaxDocuments; i++ {
		f.clock.Advance(time.Minute) // stay under the flood limit
		f.handle(t, command(user, "en", "reminders"))
		f.handle(t, press(user, "en", "r:n"))
		f.handle(t, press(user, "en", "r:k:passport"))
		f.handle(t, press(user, "en", "r:h:me"))
		f.handle(t, typed(user, "en", "15/01/2028"))
		f.handle(t, press(user, "en", "r:ok"))
	}
	f.handle(t, press(user, "en", "r:n"))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "the maximum") {
		t.Errorf("11th document: %q", got)
	}
	if n := len(f.docs(t, user)); n != bot.MaxDocuments {
		t.Errorf("documents = %d", n)
	}
}
