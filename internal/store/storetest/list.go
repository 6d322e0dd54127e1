package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// testLister: EachProfile and EachDocument list exactly what is stored,
// forgotten residents excluded, and stop on fn's error.
func testLister(t *testing.T, e *env) {
	ctx := t.Context()
	l, ok := e.s.(bot.Lister)
	if !ok {
		t.Fatalf("%T does not implement bot.Lister (migrate needs it)", e.s)
	}
	docs := e.s.(bot.DocumentStore)
	users := []int64{keptUser, forgottenUser, 7700009999}
	for i, u := range users {
		p := bot.Profile{Schema: bot.SchemaVersion, UserID: u, ChatID: u, Lang: "fr", Created: Start, LastSeen: Start, News: i == 0}
		if err := e.s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b"}[:i+1-i/2] {
			if err := docs.PutDocument(ctx, newDocument(u, id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A resident with documents but no profile is listed by EachDocument.
	if err := docs.PutDocument(ctx, newDocument(7700004444, "z")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Forget(ctx, forgottenUser); err != nil {
		t.Fatal(err)
	}
	var profiles []int64
	news := map[int64]bool{}
	if err := l.EachProfile(ctx, func(p bot.Profile) error {
		profiles = append(profiles, p.UserID)
		news[p.UserID] = p.News
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(profiles)
	if want := []int64{keptUser, 7700009999}; !slices.Equal(profiles, want) {
		t.Errorf("EachProfile listed %v; want %v", profiles, want)
	}
	if !news[keptUser] || news[7700009999] {
		t.Errorf("EachProfile lost the News flag: %v", news)
	}
	var got []string
	if err := l.EachDocument(ctx, func(d bot.Document) error {
		got = append(got, bot.ReminderID(d.UserID, d.ID))
		want, err := docs.Document(ctx, d.UserID, d.ID)
		if err != nil || !documentsEqual(d, want) {
			t.Errorf("EachDocument gave %+v; Document gives %+v, %v", d, want, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{bot.ReminderID(keptUser, "a"), bot.ReminderID(7700004444, "z"), bot.ReminderID(7700009999, "a"), bot.ReminderID(7700009999, "b")}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("EachDocument listed %v; want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := l.EachProfile(ctx, func(bot.Profile) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("EachProfile with an error from fn = %v after %d calls; want stop after 1", err, n)
	}
}

// documentsEqual compares what a document keeps (times to the second).
func documentsEqual(a, b bot.Document) bool {
	if !a.Created.Truncate(time.Second).Equal(b.Created.Truncate(time.Second)) {
		return false
	}
	a.Created, b.Created = time.Time{}, time.Time{}
	a.Schema, b.Schema = 0, 0
	return a.UserID == b.UserID && a.ID == b.ID && a.Kind == b.Kind && a.Mention == b.Mention &&
		a.Holder == b.Holder && a.Label == b.Label && a.Expiry == b.Expiry && a.Since == b.Since &&
		a.Stopped == b.Stopped && a.ChatID == b.ChatID
}

// testRemLister: Entries lists every entry, leased or not; Backlog counts
// the due entries nobody holds and finds the earliest.
func testRemLister(t *testing.T, e *remEnv) {
	ctx := t.Context()
	l, ok := e.s.(reminder.Lister)
	if !ok {
		t.Fatalf("%T does not implement reminder.Lister", e.s)
	}
	if n, oldest, err := l.Backlog(ctx, day(10)); err != nil || n != 0 || !oldest.IsZero() {
		t.Errorf("Backlog of an empty schedule = %d, %v, %v", n, oldest, err)
	}
	for i, id := range []string{"1:a", "1:b", "2:a", "3:a", "c:7"} {
		mustSchedule(t, e.s, id, day(i+1))
	}
	// 1:a (day 1) is claimed and leased: not in the backlog.
	if cl := mustClaim(t, e.s, day(1), 1, longLease); len(cl) != 1 || cl[0].ID != "1:a" {
		t.Fatalf("claimed %+v", cl)
	}
	n, oldest, err := l.Backlog(ctx, day(3))
	if err != nil || n != 2 || !oldest.Equal(day(2)) {
		t.Errorf("Backlog(day 3) = %d, %v, %v; want 2 due, the oldest at %v", n, oldest, err, day(2))
	}
	entries := map[string]reminder.Entry{}
	if err := l.Entries(ctx, func(en reminder.Entry) error { entries[en.ID] = en; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Errorf("Entries listed %d: %v; want 5", len(entries), entries)
	}
	for i, id := range []string{"1:a", "1:b", "2:a", "3:a", "c:7"} {
		en, ok := entries[id]
		if !ok || !en.Due.Equal(day(i+1)) || en.Leased != (id == "1:a") {
			t.Errorf("entry %s = %+v (listed %v); want due %v, leased %v", id, en, ok, day(i+1), id == "1:a")
		}
	}
}

// testCaseExporter: Links, PausedPartners, AddCount and EnsureCaseID.
func testCaseExporter(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	x, ok := s.(handoff.Exporter)
	if !ok {
		t.Fatalf("%T does not implement handoff.Exporter", s)
	}
	mustCreate(t, s, sampleCase(5, 3001, "lyon"))
	mustCreate(t, s, sampleCase(6, 3002, "lyon"))
	for _, step := range []error{
		s.SetTopic(ctx, -100123, 42, 5),
		s.PutRelay(ctx, -100123, 900, handoff.Relay{CaseID: 5, ResidentMessageID: 17}),
		s.PutRelay(ctx, 3001, 77, handoff.Relay{CaseID: 5, ResidentMessageID: 0}),
		// Topic 43 was case 5's, then given to case 6: it is case 6's link.
		s.SetTopic(ctx, -100123, 43, 5),
		s.SetTopic(ctx, -100123, 43, 6),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	links, err := x.Links(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []handoff.Link{
		{ChatID: -100123, Topic: 42},
		{ChatID: -100123, Message: 900, Relay: handoff.Relay{CaseID: 5, ResidentMessageID: 17}},
		{ChatID: 3001, Message: 77, Relay: handoff.Relay{CaseID: 5}},
	}
	if !sameLinks(links, want) {
		t.Errorf("Links(5) = %+v; want %+v", links, want)
	}
	if links, err := x.Links(ctx, 6); err != nil || !sameLinks(links, []handoff.Link{{ChatID: -100123, Topic: 43}}) {
		t.Errorf("Links(6) = %+v, %v", links, err)
	}
	if err := s.DeleteCase(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if links, err := x.Links(ctx, 5); err != nil || len(links) != 0 {
		t.Errorf("Links of a deleted case = %+v, %v; want none", links, err)
	}

	for _, p := range []string{"lyon", "paris"} {
		if err := s.SetPaused(ctx, p, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPaused(ctx, "paris", false); err != nil {
		t.Fatal(err)
	}
	if ids, err := x.PausedPartners(ctx); err != nil || !slices.Equal(ids, []string{"lyon"}) {
		t.Errorf("PausedPartners = %v, %v; want [lyon]", ids, err)
	}

	c := handoff.Count{Month: "2026-03", Departement: "69", Problem: handoff.ProblemNoAPI, Partner: "lyon", N: 3}
	if err := x.AddCount(ctx, c); err != nil {
		t.Fatal(err)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, got := range counts {
		if got.Month == c.Month && got.Departement == c.Departement && got.Problem == c.Problem && got.Partner == c.Partner {
			found = true
			// Two cases of that cell were created above, then 3 added.
			if got.N != 5 {
				t.Errorf("count after AddCount = %d; want 5", got.N)
			}
		}
	}
	if !found {
		t.Errorf("AddCount: cell missing from %+v", counts)
	}

	if err := x.EnsureCaseID(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if id, err := s.NextCaseID(ctx); err != nil || id <= 1000 {
		t.Errorf("NextCaseID after EnsureCaseID(1000) = %d, %v", id, err)
	}
	if err := x.EnsureCaseID(ctx, 10); err != nil { // never lowers
		t.Fatal(err)
	}
	if id, err := s.NextCaseID(ctx); err != nil || id <= 1001 {
		t.Errorf("NextCaseID after EnsureCaseID(10) = %d, %v; want above 1001", id, err)
	}
}

func sameLinks(a, b []handoff.Link) bool {
	key := func(l handoff.Link) int64 { return l.ChatID*1_000_003 + int64(l.Topic)*7 + int64(l.Message) }
	sortLinks := func(ls []handoff.Link) []handoff.Link {
		ls = slices.Clone(ls)
		slices.SortFunc(ls, func(x, y handoff.Link) int { return int(key(x) - key(y)) })
		return ls
	}
	return slices.Equal(sortLinks(a), sortLinks(b))
}
