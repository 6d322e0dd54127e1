package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// sweep runs the daily inactivity sweep as the reminder dispatcher would,
// and returns when it runs next.
func (f *fixture) sweep(t *testing.T) time.Time {
	t.Helper()
	next, err := f.bot.Notify(context.Background(), reminder.Claim{ID: "sweep:inactive", Due: f.clock.Now()})
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return next
}

// TestInactiveResidentsAreToldThenForgotten: a resident who follows no
// document, has no open case and has not written for 24 months is told
// once, 30 days before, in their language, then forgotten as /forget does;
// one who follows a document, one with an open case and one who writes
// again stay.
func TestInactiveResidentsAreToldThenForgotten(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const (
		idle     = 7700002001 // French, nothing followed
		withDoc  = 7700002002 // follows a card
		withCase = 7700002003 // has an open case
		comeback = 7700002004 // Arabic, writes again after the warning
		blocked  = 7700002005 // blocked the bot: cannot be told
	)
	for _, r := range []struct {
		id   int64
		lang string
	}{{idle, "fr"}, {withDoc, "en"}, {withCase, "en"}, {comeback, "ar"}, {blocked, "en"}} {
		f.handle(t, command(r.id, r.lang, "start"))
		f.handle(t, press(r.id, r.lang, "lang:"+r.lang))
	}
	today := permit.DateOf(start, time.UTC)
	if err := f.store.PutDocument(ctx, bot.Document{UserID: withDoc, ChatID: withDoc, ID: "1", Kind: permit.KindCST, Holder: bot.HolderMe,
		Expiry: today.AddDays(1000), Since: today, Created: start}); err != nil {
		t.Fatal(err)
	}
	p, err := f.store.Profile(ctx, withCase)
	if err != nil {
		t.Fatal(err)
	}
	p.OpenCase = 42
	if err := f.store.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	f.sent.failFor[blocked] = bot.ErrBlocked
	told := func(id int64) int {
		n := 0
		for _, rep := range f.sent.to(id) {
			if strings.Contains(rep.Text, "/forget") && !strings.Contains(rep.Text, "/mydata") {
				n++
			}
		}
		return n
	}

	// Just before 23 months (24 minus 30 days): nobody is told.
	warnAt := start.AddDate(0, 24, 0).Add(-30 * 24 * time.Hour)
	f.clock.Set(warnAt.Add(-time.Hour))
	f.sweep(t)
	for _, id := range []int64{idle, withDoc, withCase, comeback} {
		if n := told(id); n != 0 {
			t.Fatalf("resident %d told %d times before the time", id, n)
		}
	}

	// Then: told once, in their language, with the day of the deletion.
	f.clock.Set(warnAt.Add(time.Hour))
	next := f.sweep(t)
	if want := permit.DateOf(f.clock.Now(), time.UTC).AddDays(1); permit.DateOf(next, time.UTC) != want {
		t.Errorf("next sweep at %v; want tomorrow (%v)", next, want)
	}
	f.sweep(t) // a second run the same day tells nobody again
	if told(idle) != 1 || told(comeback) != 1 || told(withDoc) != 0 || told(withCase) != 0 {
		t.Fatalf("told: idle %d, comeback %d, with a document %d, with a case %d; want 1, 1, 0, 0",
			told(idle), told(comeback), told(withDoc), told(withCase))
	}
	fr := f.cat.Printer("fr")
	msg := f.sent.last(t, idle).Text
	if !strings.HasPrefix(msg, strings.SplitN(fr.T("privacy.inactive_warning", "Date", "X"), "X", 2)[0]) {
		t.Errorf("the warning is not the French catalog's: %q", msg)
	}
	if erase := start.AddDate(0, 24, 0).In(time.UTC); !strings.Contains(msg, fmt.Sprintf("%02d/%02d/%d", erase.Day(), erase.Month(), erase.Year())) {
		t.Errorf("the warning does not give the day of the deletion (%s): %q", erase.Format("02/01/2006"), msg)
	}
	if got := f.sent.last(t, comeback).Text; !strings.Contains(got, "Passerelle") || !strings.Contains(got, "/forget") || strings.Contains(got, "Passerelle for a long time") {
		t.Errorf("the Arabic resident's warning = %q", got)
	}

	// The resident who comes back starts a new period.
	f.clock.Set(warnAt.Add(48 * time.Hour))
	f.handle(t, command(comeback, "ar", "menu"))

	// At 24 months: the silent ones are forgotten, the others stay.
	f.clock.Set(start.AddDate(0, 24, 0).Add(time.Hour))
	f.sweep(t)
	for _, id := range []int64{idle, blocked} {
		if _, err := f.store.Profile(ctx, id); err == nil {
			t.Errorf("resident %d still has a profile after 24 months", id)
		}
	}
	for _, id := range []int64{withDoc, withCase, comeback} {
		if _, err := f.store.Profile(ctx, id); err != nil {
			t.Errorf("resident %d was forgotten: %v", id, err)
		}
	}
	err = f.store.Scan(func(k, v []byte) error {
		if s := string(k) + string(v); strings.Contains(s, fmt.Sprint(idle)) || strings.Contains(s, fmt.Sprint(blocked)) {
			t.Errorf("after the deletion the store still mentions a forgotten resident: %s", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if told(comeback) != 1 {
		t.Errorf("the resident who came back was told again: %d", told(comeback))
	}
}

// TestPrivacySaysHowLongDataStays: /privacy tells the storage limitation.
func TestPrivacySaysHowLongDataStays(t *testing.T) {
	f := newFixture(t)
	f.handle(t, command(31, "ru", "start"))
	f.handle(t, press(31, "ru", "lang:ru"))
	f.handle(t, command(31, "ru", "privacy"))
	want := f.cat.Printer("ru").N("privacy.inactive", bot.DefaultInactiveMonths)
	if got := f.sent.last(t, 31).Text; !strings.Contains(got, want) {
		t.Errorf("/privacy = %q; want it to say %q", got, want)
	}
}

// TestStartSweepsOnce: the sweep is scheduled once, whatever the number of
// starts.
func TestStartSweepsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.bot.StartSweeps(ctx); err != nil {
		t.Fatal(err)
	}
	e, ok, err := f.store.Get(ctx, "sweep:inactive")
	if err != nil || !ok {
		t.Fatalf("sweep entry = %v, %v", ok, err)
	}
	f.clock.Advance(time.Hour)
	if err := f.bot.StartSweeps(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := f.store.Get(ctx, "sweep:inactive"); !again.Due.Equal(e.Due) {
		t.Errorf("a second start moved the sweep from %v to %v", e.Due, again.Due)
	}
}

// TestForgetLeavesNothingReadableInTheFile: after /forget on bbolt, the raw
// bytes of the store's files (freed pages included: no compaction ran)
// hold neither the resident's holder label nor the text kept in their
// session; nor did they before, in clear.
func TestForgetLeavesNothingReadableInTheFile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const user = 7700002101
	const label, typed = "mon-fils-Ilyes-52ab", "texte-tape-en-session-7c1d"
	f.handle(t, command(user, "fr", "start"))
	f.handle(t, press(user, "fr", "lang:fr"))
	today := permit.DateOf(start, time.UTC)
	if err := f.store.PutDocument(ctx, bot.Document{UserID: user, ChatID: user, ID: "1", Kind: permit.KindCST, Holder: bot.HolderChild,
		Label: label, Expiry: today.AddDays(400), Since: today, Created: start}); err != nil {
		t.Fatal(err)
	}
	k := bot.SessionKey{ChatID: user, UserID: user}
	s, err := f.store.Session(ctx, k)
	if err != nil {
		s = bot.Session{Key: k}
	}
	s.Data = map[string]string{"gd": typed}
	s.Expires = f.clock.Now().Add(time.Hour)
	if _, err := f.store.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	raw := func() []byte {
		var all []byte
		for _, p := range []string{f.path, f.path + ".keys"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	for _, text := range []string{label, typed} {
		if bytes.Contains(raw(), []byte(text)) {
			t.Errorf("before /forget the file holds %q in clear", text)
		}
	}
	f.handle(t, command(user, "fr", "forget"))
	f.handle(t, press(user, "fr", "forget:yes"))
	for _, text := range []string{label, typed} {
		if bytes.Contains(raw(), []byte(text)) {
			t.Errorf("after /forget the raw file still holds %q", text)
		}
	}
}
