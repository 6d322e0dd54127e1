// Package storetest is the conformance suite every bot.Store backend runs.
//
// A backend's test calls Run with a Harness that opens fresh, isolated
// stores. The suite checks the contracts written in bot/store.go and
// bot/document.go, plus the project rules that are not visible in the
// interfaces: every record carries the schema version, /forget leaves
// nothing mentioning the resident behind (documents and reminder entries
// included), and a cancelled context is an error, never a hang.
//
// The times the core keeps for information (Profile.Created and LastSeen,
// Document.Created) must come back to the second: a backend may drop the
// fraction of a second and the zone, as a compact encoding does (the bot
// shows these times as dates and compares LastSeen by the hour). Session
// expiry and update marks keep the millisecond.
//
// Time is a fake clock (internal/clock.Fake) handed to Open; the suite moves
// it forward and never sleeps. Subtests run in parallel, each on its own
// store and its own clock.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// Harness tells the suite how to drive one backend.
type Harness struct {
	// Open returns a fresh, empty store, isolated from every other store
	// Open returns, whose only notion of time is clk.Now (session expiry,
	// update expiry). Open is called from parallel subtests, so it must be
	// safe for concurrent use. It fails t itself on error and registers with
	// t.Cleanup whatever releases the store and its data (closing twice, or
	// closing a store the suite already closed, must be harmless). The
	// store must also implement bot.DocumentStore and reminder.Store, whose
	// entries Forget removes.
	Open func(t *testing.T, clk *clock.Fake) bot.Store

	// Reopen closes old and opens the same data again, with the same clock,
	// as a restarted process would. Nil if the backend cannot (the
	// persistence subtest then skips).
	Reopen func(t *testing.T, old bot.Store, clk *clock.Fake) bot.Store

	// Scan returns everything s holds, as text: one entry per raw key, with
	// the key and its value (for structured values, every field and member).
	// The privacy checks search these entries for a resident's id, so a
	// backend must render ids the way they are stored (decimal text), not
	// hide them in binary; and for texts that must only be stored sealed.
	Scan func(t *testing.T, s bot.Store) []string
}

// Start is the fake clock's initial time in every subtest.
var Start = time.Date(2026, time.March, 14, 9, 26, 53, 0, time.UTC)

// Ids used by the suite. They are long and distinctive so that a scan can
// look for their decimal text without false positives.
const (
	forgottenUser int64 = 7700001234     // the resident who runs /forget
	keptUser      int64 = 7700005678     // another resident, who must stay intact
	groupChat     int64 = -1009900004321 // a group where both residents talk
	otherGroup    int64 = -1009900008765
)

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil || h.Scan == nil {
		t.Fatal("storetest: Harness.Open and Harness.Scan are required")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"ProfileRoundTrip", testProfileRoundTrip},
		{"ProfileFields", testProfileFields},
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionVersioning", testSessionVersioning},
		{"SessionConcurrentWriters", testSessionConcurrent},
		{"SessionExpiry", testSessionExpiry},
		{"DeleteSession", testDeleteSession},
		{"Updates", testUpdates},
		{"UpdateExpiry", testUpdateExpiry},
		{"DocumentRoundTrip", testDocumentRoundTrip},
		{"DocumentFields", testDocumentFields},
		{"DocumentList", testDocumentList},
		{"DocumentConcurrentPuts", testDocumentConcurrentPuts},
		{"DeleteDocument", testDeleteDocument},
		{"DocumentResidents", testDocumentResidents},
		{"DocumentInvalid", testDocumentInvalid},
		{"DocumentReopen", testDocumentReopen},
		{"Forget", testForget},
		{"ForgetOrphanEntries", testForgetOrphanEntries},
		{"Reopen", testReopen},
		{"SchemaVersion", testSchemaVersion},
		{"ContextCancelled", testContextCancelled},
		{"Isolation", testIsolation},
		{"Closed", testClosed},
		{"StateLoader", testStateLoader},
		{"Claims", testClaims},
		{"ClaimsConcurrent", testClaimsConcurrent},
		{"SaveState", testSaveState},
		{"Profiles", testProfiles},
		{"Lister", testLister},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &env{h: h, clk: clock.NewFake(Start)}
			e.s = h.Open(t, e.clk)
			tc.fn(t, e)
		})
	}
}

// env is one subtest's store and clock.
type env struct {
	h   Harness
	clk *clock.Fake
	s   bot.Store
}

func (e *env) now() time.Time { return e.clk.Now() }

func (e *env) scan(t *testing.T) []string {
	t.Helper()
	return e.h.Scan(t, e.s)
}

// ---- profiles ----

func testProfileRoundTrip(t *testing.T, e *env) {
	ctx := t.Context()
	const uid = 7700000001
	if _, err := e.s.Profile(ctx, uid); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Profile of unknown user: err = %v, want ErrNotFound", err)
	}
	p := bot.Profile{UserID: uid, ChatID: uid, Lang: "fr", Created: e.now(), LastSeen: e.now()}
	mustPutProfile(t, e.s, p)
	checkProfile(t, e.s, p)

	// PutProfile replaces.
	e.clk.Advance(36 * time.Hour)
	p.Lang = "uk"
	p.LastSeen = e.now()
	mustPutProfile(t, e.s, p)
	checkProfile(t, e.s, p)

	if _, err := e.s.Profile(ctx, uid+1); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Profile of another user: err = %v, want ErrNotFound", err)
	}
}

func testProfileFields(t *testing.T, e *env) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		p    bot.Profile
	}{
		{"only ids", bot.Profile{UserID: 7700000011, ChatID: 7700000011}},
		{"all fields", bot.Profile{
			UserID: 7700000012, ChatID: 7700000012, Lang: "zh-Hans",
			Created:  time.Date(2025, 12, 31, 23, 59, 59, 123456789, paris),
			LastSeen: time.Date(2026, 2, 28, 8, 0, 0, 1, time.UTC),
			Blocked:  true,
			Partner:  "asso-lyon-69",
			OpenCase: 42,
			Warned:   time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		}},
		{"blocked only", bot.Profile{UserID: 7700000013, ChatID: 7700000013, Blocked: true}},
		{"rtl language", bot.Profile{UserID: 7700000014, ChatID: 7700000014, Lang: "fa", Created: Start, LastSeen: Start}},
		{"chat differs from user", bot.Profile{UserID: 7700000015, ChatID: 7700000099, Lang: "pt-BR"}},
		{"largest ids", bot.Profile{UserID: 1<<63 - 1, ChatID: 1<<63 - 1, Lang: "ar"}},
		{"schema field is ignored on write", bot.Profile{Schema: 99, UserID: 7700000016, ChatID: 7700000016}},
	}
	for _, tc := range tests {
		mustPutProfile(t, e.s, tc.p)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkProfile(t, e.s, tc.p) })
	}
}

func mustPutProfile(t *testing.T, s bot.Store, p bot.Profile) {
	t.Helper()
	if err := s.PutProfile(t.Context(), p); err != nil {
		t.Fatalf("PutProfile(%d): %v", p.UserID, err)
	}
}

// checkProfile reads p.UserID back and compares every field with p.
func checkProfile(t *testing.T, s bot.Store, want bot.Profile) {
	t.Helper()
	got, err := s.Profile(t.Context(), want.UserID)
	if err != nil {
		t.Fatalf("Profile(%d): %v", want.UserID, err)
	}
	if d := diffProfile(want, got); d != "" {
		t.Errorf("Profile(%d) differs from what was put:%s", want.UserID, d)
	}
}

// sameSecond reports whether a and b are the same instant to the second:
// the precision a store must keep of the times in profiles and documents.
func sameSecond(a, b time.Time) bool {
	return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}

func diffProfile(want, got bot.Profile) string {
	var b strings.Builder
	if got.Schema != bot.SchemaVersion {
		fmt.Fprintf(&b, "\n  Schema = %d, want bot.SchemaVersion (%d)", got.Schema, bot.SchemaVersion)
	}
	if got.UserID != want.UserID {
		fmt.Fprintf(&b, "\n  UserID = %d, want %d", got.UserID, want.UserID)
	}
	if got.ChatID != want.ChatID {
		fmt.Fprintf(&b, "\n  ChatID = %d, want %d", got.ChatID, want.ChatID)
	}
	if got.Lang != want.Lang {
		fmt.Fprintf(&b, "\n  Lang = %q, want %q", got.Lang, want.Lang)
	}
	if !sameSecond(got.Created, want.Created) {
		fmt.Fprintf(&b, "\n  Created = %v, want %v (to the second)", got.Created, want.Created)
	}
	if !sameSecond(got.LastSeen, want.LastSeen) {
		fmt.Fprintf(&b, "\n  LastSeen = %v, want %v (to the second)", got.LastSeen, want.LastSeen)
	}
	if got.Blocked != want.Blocked {
		fmt.Fprintf(&b, "\n  Blocked = %v, want %v", got.Blocked, want.Blocked)
	}
	if got.Partner != want.Partner {
		fmt.Fprintf(&b, "\n  Partner = %q, want %q", got.Partner, want.Partner)
	}
	if got.OpenCase != want.OpenCase {
		fmt.Fprintf(&b, "\n  OpenCase = %d, want %d", got.OpenCase, want.OpenCase)
	}
	if !sameSecond(got.Warned, want.Warned) {
		fmt.Fprintf(&b, "\n  Warned = %v, want %v (to the second)", got.Warned, want.Warned)
	}
	return b.String()
}

// ---- sessions ----

func newSession(k bot.SessionKey, expires time.Time) bot.Session {
	return bot.Session{
		Key:  k,
		Flow: "guide",
		Step: "q1",
		Data: map[string]string{
			"status":  "vls-ts",
			"unicode": "Ünïcödé ✓ العربية 中文 \"quoted\" \\ <b>",
			"empty":   "",
		},
		Expires: expires,
	}
}

func mustSave(t *testing.T, s bot.Store, sess bot.Session) int64 {
	t.Helper()
	v, err := s.SaveSession(t.Context(), sess)
	if err != nil {
		t.Fatalf("SaveSession(%+v at version %d): %v", sess.Key, sess.Version, err)
	}
	return v
}

func mustSession(t *testing.T, s bot.Store, k bot.SessionKey) bot.Session {
	t.Helper()
	got, err := s.Session(t.Context(), k)
	if err != nil {
		t.Fatalf("Session(%+v): %v", k, err)
	}
	return got
}

func wantNoSession(t *testing.T, s bot.Store, k bot.SessionKey) {
	t.Helper()
	got, err := s.Session(t.Context(), k)
	if !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Session(%+v) = %+v, %v; want ErrNotFound", k, got, err)
	}
}

func diffSession(want, got bot.Session) string {
	var b strings.Builder
	if got.Schema != bot.SchemaVersion {
		fmt.Fprintf(&b, "\n  Schema = %d, want bot.SchemaVersion (%d)", got.Schema, bot.SchemaVersion)
	}
	if got.Key != want.Key {
		fmt.Fprintf(&b, "\n  Key = %+v, want %+v", got.Key, want.Key)
	}
	if got.Flow != want.Flow {
		fmt.Fprintf(&b, "\n  Flow = %q, want %q", got.Flow, want.Flow)
	}
	if got.Step != want.Step {
		fmt.Fprintf(&b, "\n  Step = %q, want %q", got.Step, want.Step)
	}
	// An empty map and a nil map are the same session data.
	if !maps.Equal(got.Data, want.Data) {
		fmt.Fprintf(&b, "\n  Data = %q, want %q", got.Data, want.Data)
	}
	if !got.Expires.Equal(want.Expires) {
		fmt.Fprintf(&b, "\n  Expires = %v, want %v", got.Expires, want.Expires)
	}
	if got.Version != want.Version {
		fmt.Fprintf(&b, "\n  Version = %d, want %d", got.Version, want.Version)
	}
	return b.String()
}

func testSessionRoundTrip(t *testing.T, e *env) {
	k := bot.SessionKey{ChatID: groupChat, UserID: 7700000021}
	wantNoSession(t, e.s, k)

	s := newSession(k, e.now().Add(30*time.Minute))
	if v := mustSave(t, e.s, s); v != 1 {
		t.Fatalf("SaveSession of a new session returned version %d, want 1", v)
	}
	want := s
	want.Version = 1
	if d := diffSession(want, mustSession(t, e.s, k)); d != "" {
		t.Errorf("Session differs from what was saved:%s", d)
	}

	// The key is the pair: same user elsewhere, or someone else here, is absent.
	wantNoSession(t, e.s, bot.SessionKey{ChatID: otherGroup, UserID: k.UserID})
	wantNoSession(t, e.s, bot.SessionKey{ChatID: k.ChatID, UserID: k.UserID + 1})

	// A session without data, in a private chat.
	p := bot.SessionKey{ChatID: 7700000022, UserID: 7700000022}
	bare := bot.Session{Key: p, Flow: "start", Expires: e.now().Add(time.Hour)}
	mustSave(t, e.s, bare)
	bare.Version = 1
	if d := diffSession(bare, mustSession(t, e.s, p)); d != "" {
		t.Errorf("bare Session differs from what was saved:%s", d)
	}

	// Saving replaces the flow state, including removing data.
	next := want
	next.Step = "q2"
	next.Data = map[string]string{"status": "titre"}
	next.Expires = e.now().Add(2 * time.Hour)
	if v := mustSave(t, e.s, next); v != 2 {
		t.Fatalf("second SaveSession returned version %d, want 2", v)
	}
	next.Version = 2
	if d := diffSession(next, mustSession(t, e.s, k)); d != "" {
		t.Errorf("Session after update differs:%s", d)
	}
}

func testSessionVersioning(t *testing.T, e *env) {
	ctx := t.Context()
	k := bot.SessionKey{ChatID: 7700000031, UserID: 7700000031}
	base := newSession(k, e.now().Add(time.Hour))

	steps := []struct {
		name        string
		version     int64 // Session.Version passed to SaveSession
		wantVersion int64 // 0 when a conflict is expected
	}{
		{"new session at version 0 is stored as 1", 0, 1},
		{"save at the stored version bumps it", 1, 2},
		{"stale version conflicts", 1, 0},
		{"version 0 on an existing session conflicts", 0, 0},
		{"future version conflicts", 9, 0},
		{"negative version conflicts", -1, 0},
		{"save at the stored version again", 2, 3},
	}
	lastStep := ""
	for i, st := range steps {
		s := base
		s.Version = st.version
		s.Step = "step-" + strconv.Itoa(i)
		v, err := e.s.SaveSession(ctx, s)
		if st.wantVersion == 0 {
			if !errors.Is(err, bot.ErrConflict) {
				t.Fatalf("%s: SaveSession = %d, %v; want ErrConflict", st.name, v, err)
			}
		} else {
			if err != nil || v != st.wantVersion {
				t.Fatalf("%s: SaveSession = %d, %v; want %d, nil", st.name, v, err, st.wantVersion)
			}
			lastStep = s.Step
		}
		got := mustSession(t, e.s, k)
		if got.Step != lastStep {
			t.Fatalf("%s: stored Step = %q, want %q (a conflict must not write)", st.name, got.Step, lastStep)
		}
	}

	// A version other than 0 on an absent session conflicts and creates nothing.
	absent := bot.SessionKey{ChatID: 7700000032, UserID: 7700000032}
	s := newSession(absent, e.now().Add(time.Hour))
	s.Version = 4
	if v, err := e.s.SaveSession(ctx, s); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("SaveSession at version 4 of an absent session = %d, %v; want ErrConflict", v, err)
	}
	wantNoSession(t, e.s, absent)
}

func testSessionConcurrent(t *testing.T, e *env) {
	const writers = 16
	ctx := t.Context()

	race := func(t *testing.T, k bot.SessionKey, from int64) {
		t.Helper()
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			versions [writers]int64
			errs     [writers]error
		)
		for i := range writers {
			wg.Go(func() {
				s := newSession(k, e.now().Add(time.Hour))
				s.Version = from
				s.Step = "writer-" + strconv.Itoa(i)
				<-start
				versions[i], errs[i] = e.s.SaveSession(ctx, s)
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i := range writers {
			switch {
			case errs[i] == nil:
				if winner >= 0 {
					t.Fatalf("writers %d and %d both saved from version %d", winner, i, from)
				}
				winner = i
				if versions[i] != from+1 {
					t.Errorf("winner got version %d, want %d", versions[i], from+1)
				}
			case !errors.Is(errs[i], bot.ErrConflict):
				t.Errorf("writer %d: %v, want nil or ErrConflict", i, errs[i])
			}
		}
		if winner < 0 {
			t.Fatalf("no writer won from version %d", from)
		}
		got := mustSession(t, e.s, k)
		if want := "writer-" + strconv.Itoa(winner); got.Step != want || got.Version != from+1 {
			t.Fatalf("stored session is %q at version %d, want the winner's %q at %d", got.Step, got.Version, want, from+1)
		}
	}

	k := bot.SessionKey{ChatID: groupChat, UserID: 7700000041}
	t.Run("create", func(t *testing.T) { race(t, k, 0) })
	t.Run("update", func(t *testing.T) { race(t, k, 1) })
}

func testSessionExpiry(t *testing.T, e *env) {
	ctx := t.Context()
	k := bot.SessionKey{ChatID: 7700000051, UserID: 7700000051}
	s := newSession(k, e.now().Add(10*time.Minute))
	mustSave(t, e.s, s)

	e.clk.Advance(9*time.Minute + 59*time.Second)
	mustSession(t, e.s, k)

	e.clk.Advance(time.Second) // now == Expires: expired
	wantNoSession(t, e.s, k)

	// Expired counts as absent: the old version conflicts, version 0 wins.
	s.Version = 1
	s.Expires = e.now().Add(10 * time.Minute)
	if v, err := e.s.SaveSession(ctx, s); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("SaveSession at the version of an expired session = %d, %v; want ErrConflict", v, err)
	}
	s.Version = 0
	s.Step = "restarted"
	v := mustSave(t, e.s, s)
	if v <= 0 {
		t.Fatalf("SaveSession over an expired session returned version %d, want > 0", v)
	}
	got := mustSession(t, e.s, k)
	if got.Step != "restarted" || got.Version != v {
		t.Fatalf("Session = %q at %d, want %q at %d", got.Step, got.Version, "restarted", v)
	}

	// Saving a session whose expiry has passed succeeds but stores nothing visible.
	past := bot.SessionKey{ChatID: 7700000052, UserID: 7700000052}
	old := newSession(past, e.now().Add(-time.Minute))
	if _, err := e.s.SaveSession(ctx, old); err != nil {
		t.Fatalf("SaveSession of an already expired session: %v", err)
	}
	wantNoSession(t, e.s, past)

	// Much later, everything has expired.
	e.clk.Advance(30 * 24 * time.Hour)
	wantNoSession(t, e.s, k)
}

func testDeleteSession(t *testing.T, e *env) {
	ctx := t.Context()
	k := bot.SessionKey{ChatID: groupChat, UserID: 7700000061}
	other := bot.SessionKey{ChatID: groupChat, UserID: 7700000062}

	if err := e.s.DeleteSession(ctx, k); err != nil {
		t.Fatalf("DeleteSession of an absent session: %v", err)
	}
	mustSave(t, e.s, newSession(k, e.now().Add(time.Hour)))
	mustSave(t, e.s, newSession(other, e.now().Add(time.Hour)))

	if err := e.s.DeleteSession(ctx, k); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	wantNoSession(t, e.s, k)
	mustSession(t, e.s, other)
	if err := e.s.DeleteSession(ctx, k); err != nil {
		t.Fatalf("second DeleteSession: %v", err)
	}

	// A deleted session is absent: it can start again from version 0.
	if v := mustSave(t, e.s, newSession(k, e.now().Add(time.Hour))); v <= 0 {
		t.Fatalf("SaveSession after delete returned version %d, want > 0", v)
	}
	mustSession(t, e.s, k)
}

// ---- updates ----

func mustSeen(t *testing.T, s bot.Store, id int64, want bool) {
	t.Helper()
	got, err := s.SeenUpdate(t.Context(), id)
	if err != nil {
		t.Fatalf("SeenUpdate(%d): %v", id, err)
	}
	if got != want {
		t.Fatalf("SeenUpdate(%d) = %v, want %v", id, got, want)
	}
}

func mustMark(t *testing.T, s bot.Store, id int64, until time.Time) {
	t.Helper()
	if err := s.MarkUpdate(t.Context(), id, until); err != nil {
		t.Fatalf("MarkUpdate(%d): %v", id, err)
	}
}

func testUpdates(t *testing.T, e *env) {
	const id = 880000001
	mustSeen(t, e.s, id, false)
	mustMark(t, e.s, id, e.now().Add(24*time.Hour))
	mustSeen(t, e.s, id, true)
	mustSeen(t, e.s, id+1, false)
	mustSeen(t, e.s, id-1, false)

	// Marking twice is fine.
	mustMark(t, e.s, id, e.now().Add(24*time.Hour))
	mustSeen(t, e.s, id, true)

	for _, other := range []int64{0, 1, 1<<53 + 1, 1<<63 - 1} {
		mustSeen(t, e.s, other, false)
		mustMark(t, e.s, other, e.now().Add(24*time.Hour))
		mustSeen(t, e.s, other, true)
	}
}

func testUpdateExpiry(t *testing.T, e *env) {
	const id = 880000101
	mustMark(t, e.s, id, e.now().Add(24*time.Hour))
	e.clk.Advance(23*time.Hour + 59*time.Minute)
	mustSeen(t, e.s, id, true)
	e.clk.Advance(time.Minute) // now == until: expired
	mustSeen(t, e.s, id, false)

	// A later mark extends the earlier one.
	const ext = 880000102
	mustMark(t, e.s, ext, e.now().Add(24*time.Hour))
	e.clk.Advance(12 * time.Hour)
	mustMark(t, e.s, ext, e.now().Add(24*time.Hour))
	e.clk.Advance(20 * time.Hour)
	mustSeen(t, e.s, ext, true)

	// Many marks (enough to trigger a backend's opportunistic purge), all
	// expiring, while the store keeps working.
	const many = 600
	for i := range int64(many) {
		mustMark(t, e.s, 880001000+i, e.now().Add(24*time.Hour+time.Duration(i)*time.Second))
	}
	mustSeen(t, e.s, 880001000, true)
	e.clk.Advance(48 * time.Hour)
	for i := range int64(many) {
		mustSeen(t, e.s, 880001000+i, false)
	}
	for i := range int64(many) {
		mustMark(t, e.s, 880002000+i, e.now().Add(24*time.Hour))
	}
	mustSeen(t, e.s, 880002000+many-1, true)
	mustSeen(t, e.s, 880001000, false)
}

// ---- forget ----

func testForget(t *testing.T, e *env) {
	ctx := t.Context()
	forgotten := strconv.FormatInt(forgottenUser, 10)
	kept := strconv.FormatInt(keptUser, 10)

	if err := e.s.Forget(ctx, forgottenUser); err != nil {
		t.Fatalf("Forget of an unknown user: %v", err)
	}

	mustPutProfile(t, e.s, bot.Profile{UserID: forgottenUser, ChatID: forgottenUser, Lang: "ru", Created: e.now(), LastSeen: e.now()})
	mustPutProfile(t, e.s, bot.Profile{UserID: keptUser, ChatID: keptUser, Lang: "ar", Created: e.now(), LastSeen: e.now()})
	forgottenKeys := []bot.SessionKey{
		{ChatID: forgottenUser, UserID: forgottenUser}, // private chat
		{ChatID: groupChat, UserID: forgottenUser},
		{ChatID: otherGroup, UserID: forgottenUser},
	}
	keptKeys := []bot.SessionKey{
		{ChatID: keptUser, UserID: keptUser},
		{ChatID: groupChat, UserID: keptUser},
	}
	for _, k := range append(forgottenKeys, keptKeys...) {
		s := newSession(k, e.now().Add(time.Hour))
		s.Data["who"] = strconv.FormatInt(k.UserID, 10)
		mustSave(t, e.s, s)
	}
	// A session that has expired but may still be stored.
	stale := bot.SessionKey{ChatID: -1009900001111, UserID: forgottenUser}
	mustSave(t, e.s, newSession(stale, e.now().Add(2*time.Minute)))
	// A deleted session (the bookkeeping of deletion must not keep the id either).
	gone := bot.SessionKey{ChatID: -1009900002222, UserID: forgottenUser}
	mustSave(t, e.s, newSession(gone, e.now().Add(time.Hour)))
	if err := e.s.DeleteSession(ctx, gone); err != nil {
		t.Fatal(err)
	}
	// Update marks are not personal, but let them coexist.
	mustMark(t, e.s, 880003001, e.now().Add(24*time.Hour))
	keptDocs, keptClaim := forgetDocuments(t, e)
	cases, _ := e.s.(handoff.Store)
	if cases != nil {
		forgetCases(t, cases)
	}
	e.clk.Advance(5 * time.Minute)

	before := e.scan(t)
	if !anyContains(before, forgotten) {
		t.Fatalf("before Forget, no scanned entry mentions %s: the harness's Scan cannot support the privacy check", forgotten)
	}
	// Sealed: the label is never stored in clear, even before Forget.
	for _, entry := range before {
		if strings.Contains(entry, forgottenLabel) || strings.Contains(entry, forgottenCaseText) {
			t.Errorf("the store keeps a label or a case's text in clear: %s", entry)
		}
	}

	if err := e.s.Forget(ctx, forgottenUser); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if _, err := e.s.Profile(ctx, forgottenUser); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Profile after Forget: err = %v, want ErrNotFound", err)
	}
	for _, k := range append(forgottenKeys, stale, gone) {
		wantNoSession(t, e.s, k)
	}
	ds, rs := docStore(t, e.s), remStore(t, e.s)
	if docs := mustDocuments(t, ds, forgottenUser); len(docs) != 0 {
		t.Errorf("Documents after Forget = %q, want none", docIDs(docs))
	}
	for _, id := range forgottenDocIDs {
		wantNoDocument(t, ds, forgottenUser, id)
		wantAbsent(t, rs, bot.ReminderID(forgottenUser, id))
	}
	entries := e.scan(t)
	for _, entry := range entries {
		if strings.Contains(entry, forgotten) || strings.Contains(entry, forgottenLabel) {
			t.Errorf("after Forget the store still mentions user %s: %s", forgotten, entry)
		}
	}

	// The other resident is intact, including in the shared group.
	if _, err := e.s.Profile(ctx, keptUser); err != nil {
		t.Errorf("Profile of the other user after Forget: %v", err)
	}
	for _, k := range keptKeys {
		if s := mustSession(t, e.s, k); s.Data["who"] != kept {
			t.Errorf("Session(%+v).Data[who] = %q, want %q", k, s.Data["who"], kept)
		}
	}
	if !anyContains(entries, kept) {
		t.Errorf("after Forget of another user, no scanned entry mentions %s", kept)
	}
	mustSeen(t, e.s, 880003001, true)
	checkDocuments(t, ds, keptUser, keptDocs)
	if cases != nil {
		checkForgottenCases(t, cases)
	}
	wantEntry(t, rs, keptClaim.ID, keptClaim.Due, true)
	wantEntry(t, rs, bot.ReminderID(keptUser, "passport"), day(22), false)
	mustAck(t, rs, keptClaim, time.Time{}) // the other resident's lease holds

	// Forget twice is fine; the resident can start over.
	if err := e.s.Forget(ctx, forgottenUser); err != nil {
		t.Fatalf("second Forget: %v", err)
	}
	mustPutProfile(t, e.s, bot.Profile{UserID: forgottenUser, ChatID: forgottenUser})
	if v := mustSave(t, e.s, newSession(forgottenKeys[1], e.now().Add(time.Hour))); v <= 0 {
		t.Fatalf("SaveSession after Forget returned version %d", v)
	}
	again := newDocument(forgottenUser, "card")
	mustPutDocument(t, ds, again)
	checkDocuments(t, ds, forgottenUser, []bot.Document{again})
}

// Cases of testForget, for stores that keep hand-off cases too.
const (
	forgottenCase     int64 = 770001
	keptCase          int64 = 770002
	forgottenCaseText       = "forgotten-case-text-91c2"
)

// forgetCases gives the forgotten and the kept resident a case each, with
// a topic, a relayed message and an audit log.
func forgetCases(t *testing.T, s handoff.Store) {
	t.Helper()
	ctx := t.Context()
	for _, c := range []struct {
		id, resident int64
		topic, msg   int
	}{{forgottenCase, forgottenUser, 61, 62}, {keptCase, keptUser, 71, 72}} {
		k := sampleCase(c.id, c.resident, "lyon")
		k.Description = forgottenCaseText
		if c.resident == keptUser {
			k.Description = "kept case"
		}
		mustCreate(t, s, k)
		if err := s.SetTopic(ctx, groupChat, c.topic, c.id); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRelay(ctx, groupChat, c.msg, handoff.Relay{CaseID: c.id, ResidentMessageID: 5}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, c.id, handoff.Event{At: Start, Actor: 77, Action: "taken", Detail: "Lina"}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkForgottenCases: Forget deleted the forgotten resident's case and
// what is linked to it, and kept the other's.
func checkForgottenCases(t *testing.T, s handoff.Store) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Case(ctx, forgottenCase); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Case of the forgotten resident after Forget: %v; want ErrNotFound", err)
	}
	if cs, err := s.CasesOf(ctx, forgottenUser); err != nil || len(cs) != 0 {
		t.Errorf("CasesOf(forgotten) = %d cases, %v; want none", len(cs), err)
	}
	if _, err := s.CaseByTopic(ctx, groupChat, 61); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("topic of the forgotten case after Forget: %v", err)
	}
	if _, err := s.Relay(ctx, groupChat, 62); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("relay of the forgotten case after Forget: %v", err)
	}
	if c, err := s.Case(ctx, keptCase); err != nil || c.Description != "kept case" {
		t.Errorf("the other resident's case after Forget: %+v, %v", c, err)
	}
	if ev, err := s.Events(ctx, keptCase); err != nil || len(ev) != 1 {
		t.Errorf("the other case's events after Forget: %+v, %v", ev, err)
	}
	if id, err := s.CaseByTopic(ctx, groupChat, 71); err != nil || id != keptCase {
		t.Errorf("the other case's topic after Forget: %d, %v", id, err)
	}
}

// forgottenLabel is the holder label of one of the forgotten resident's
// documents: after Forget no scanned entry may hold it.
const forgottenLabel = "forgotten-label-7f3a"

// forgottenDocIDs are the documents forgetDocuments gives the forgotten
// resident.
var forgottenDocIDs = []string{"api", "card", "kid", "old"}

// forgetDocuments gives both residents of testForget documents with
// reminder entries, and leases the entry of each resident's "card". It
// returns the kept resident's documents and the kept resident's claim.
func forgetDocuments(t *testing.T, e *env) ([]bot.Document, reminder.Claim) {
	t.Helper()
	ds, rs := docStore(t, e.s), remStore(t, e.s)
	kid := fullDocument(forgottenUser, "kid")
	kid.Label = forgottenLabel
	old := newDocument(forgottenUser, "old")
	old.Stopped = true // no reminder entry
	for _, d := range []bot.Document{newDocument(forgottenUser, "api"), newDocument(forgottenUser, "card"), kid, old} {
		mustPutDocument(t, ds, d)
	}
	keptDocs := []bot.Document{fullDocument(keptUser, "card"), newDocument(keptUser, "passport")}
	for _, d := range keptDocs {
		mustPutDocument(t, ds, d)
	}
	due := map[string]time.Time{
		bot.ReminderID(forgottenUser, "card"): day(1),
		bot.ReminderID(forgottenUser, "api"):  day(20),
		bot.ReminderID(forgottenUser, "kid"):  day(21),
		bot.ReminderID(keptUser, "card"):      day(1),
		bot.ReminderID(keptUser, "passport"):  day(22),
	}
	for id, at := range due {
		mustSchedule(t, rs, id, at)
	}
	cs := mustClaim(t, rs, day(1), 10, longLease)
	want := []string{bot.ReminderID(forgottenUser, "card"), bot.ReminderID(keptUser, "card")}
	if got := claimIDs(cs); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Fatalf("Claim = %q, want %q", got, want)
	}
	keptClaim, _ := findClaim(cs, want[1])
	return keptDocs, keptClaim
}

// testForgetOrphanEntries: Forget removes every reminder entry of the
// resident, also those without a stored document. The bot schedules a
// document's entry before it writes the document, so a crash in between
// leaves an entry alone; and a document may be deleted before its entry is
// cancelled.
func testForgetOrphanEntries(t *testing.T, e *env) {
	ctx := t.Context()
	ds, rs := docStore(t, e.s), remStore(t, e.s)
	forgotten := strconv.FormatInt(forgottenUser, 10)
	mustPutProfile(t, e.s, bot.Profile{UserID: forgottenUser, ChatID: forgottenUser})
	mustPutDocument(t, ds, newDocument(forgottenUser, "stored"))
	mustPutDocument(t, ds, newDocument(forgottenUser, "deleted"))
	mine := map[string]time.Time{
		bot.ReminderID(forgottenUser, "never"):   day(3), // its document was never written
		bot.ReminderID(forgottenUser, "deleted"): day(4),
		bot.ReminderID(forgottenUser, "leased"):  day(1), // no document, and leased below
		bot.ReminderID(forgottenUser, "stored"):  day(5),
	}
	for id, at := range mine {
		mustSchedule(t, rs, id, at)
	}
	mustDeleteDocument(t, ds, forgottenUser, "deleted")
	// Another resident, and one whose id starts with the same digits.
	near := strconv.FormatInt(forgottenUser*10+1, 10)
	nearID, keptID := near+":card", bot.ReminderID(keptUser, "card")
	mustSchedule(t, rs, nearID, day(2))
	mustSchedule(t, rs, keptID, day(1))
	cs := mustClaim(t, rs, day(1), 10, longLease)
	want := []string{bot.ReminderID(forgottenUser, "leased"), keptID}
	if got := claimIDs(cs); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Fatalf("Claim = %q, want %q", got, want)
	}
	keptClaim, _ := findClaim(cs, keptID)

	if err := e.s.Forget(ctx, forgottenUser); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	for id := range mine {
		wantAbsent(t, rs, id)
	}
	for _, entry := range e.scan(t) {
		if strings.Contains(strings.ReplaceAll(entry, near, ""), forgotten) {
			t.Errorf("after Forget the store still mentions user %s: %s", forgotten, entry)
		}
	}
	wantEntry(t, rs, nearID, day(2), false)
	wantEntry(t, rs, keptID, day(1), true)
	mustAck(t, rs, keptClaim, time.Time{})
}

func anyContains(entries []string, sub string) bool {
	for _, e := range entries {
		if strings.Contains(e, sub) {
			return true
		}
	}
	return false
}

// ---- persistence, schema, context, isolation, close ----

func testReopen(t *testing.T, e *env) {
	if e.h.Reopen == nil {
		t.Skip("storetest: backend has no Reopen")
	}
	ctx := t.Context()
	p := bot.Profile{UserID: 7700000071, ChatID: 7700000071, Lang: "ps", Created: e.now(), LastSeen: e.now(), Blocked: true}
	mustPutProfile(t, e.s, p)
	k := bot.SessionKey{ChatID: groupChat, UserID: 7700000071}
	s := newSession(k, e.now().Add(time.Hour))
	mustSave(t, e.s, s)
	s.Version = 1
	s.Step = "q2"
	mustSave(t, e.s, s)
	short := bot.SessionKey{ChatID: 7700000071, UserID: 7700000071}
	mustSave(t, e.s, newSession(short, e.now().Add(10*time.Minute)))
	mustMark(t, e.s, 880004001, e.now().Add(24*time.Hour))

	e.s = e.h.Reopen(t, e.s, e.clk)

	checkProfile(t, e.s, p)
	s.Version = 2
	if d := diffSession(s, mustSession(t, e.s, k)); d != "" {
		t.Errorf("Session after Reopen differs:%s", d)
	}
	mustSeen(t, e.s, 880004001, true)
	mustSeen(t, e.s, 880004002, false)

	// Versions survive: the old version conflicts, the stored one wins.
	s.Version = 1
	if _, err := e.s.SaveSession(ctx, s); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("stale SaveSession after Reopen: err = %v, want ErrConflict", err)
	}
	s.Version = 2
	if v := mustSave(t, e.s, s); v != 3 {
		t.Errorf("SaveSession after Reopen returned %d, want 3", v)
	}
	// Expiry still follows the clock.
	e.clk.Advance(10 * time.Minute)
	wantNoSession(t, e.s, short)
	e.clk.Advance(24 * time.Hour)
	mustSeen(t, e.s, 880004001, false)
}

// testSchemaVersion: records come back with the schema version, whatever
// the caller set, and are sealed: no scanned entry shows what they hold.
// (A sealed record's version is inside it; the decoders check it.)
func testSchemaVersion(t *testing.T, e *env) {
	const (
		langMark  = "x-schema-probe-lang"
		flowMark  = "schema-probe-flow"
		labelMark = "schema-probe-label"
	)
	mustPutProfile(t, e.s, bot.Profile{Schema: 7, UserID: 7700000081, ChatID: 7700000081, Lang: langMark})
	s := newSession(bot.SessionKey{ChatID: 7700000081, UserID: 7700000081}, e.now().Add(time.Hour))
	s.Flow = flowMark
	s.Schema = 0 // the store sets it, whatever the caller says
	mustSave(t, e.s, s)
	d := newDocument(7700000081, "schema")
	d.Label = labelMark
	d.Schema = 9
	mustPutDocument(t, docStore(t, e.s), d)

	if p, err := e.s.Profile(t.Context(), 7700000081); err != nil || p.Schema != bot.SchemaVersion {
		t.Errorf("Profile().Schema = %d, %v; want %d", p.Schema, err, bot.SchemaVersion)
	}
	if got := mustSession(t, e.s, s.Key); got.Schema != bot.SchemaVersion {
		t.Errorf("Session().Schema = %d, want %d", got.Schema, bot.SchemaVersion)
	}
	if got, err := docStore(t, e.s).Document(t.Context(), 7700000081, "schema"); err != nil || got.Schema != bot.SchemaVersion {
		t.Errorf("Document().Schema = %d, %v; want %d", got.Schema, err, bot.SchemaVersion)
	}
	for _, entry := range e.scan(t) {
		for _, mark := range []string{langMark, flowMark, labelMark} {
			if strings.Contains(entry, mark) {
				t.Errorf("a stored record shows %q in clear: %s", mark, entry)
			}
		}
	}
}

func testContextCancelled(t *testing.T, e *env) {
	// Data exists, so that a backend cannot pass by answering from nothing.
	k := bot.SessionKey{ChatID: 7700000091, UserID: 7700000091}
	mustPutProfile(t, e.s, bot.Profile{UserID: k.UserID, ChatID: k.ChatID})
	mustSave(t, e.s, newSession(k, e.now().Add(time.Hour)))
	mustMark(t, e.s, 880005001, e.now().Add(24*time.Hour))
	ds := docStore(t, e.s)
	doc := newDocument(k.UserID, "card")
	mustPutDocument(t, ds, doc)
	changed := fullDocument(k.UserID, "card")

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancel2()

	sess := newSession(k, e.now().Add(time.Hour))
	sess.Version = 1
	ops := []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"Profile", func(ctx context.Context) error { _, err := e.s.Profile(ctx, k.UserID); return err }},
		{"PutProfile", func(ctx context.Context) error {
			return e.s.PutProfile(ctx, bot.Profile{UserID: k.UserID, ChatID: k.ChatID, Lang: "changed"})
		}},
		{"Session", func(ctx context.Context) error { _, err := e.s.Session(ctx, k); return err }},
		{"SaveSession", func(ctx context.Context) error { _, err := e.s.SaveSession(ctx, sess); return err }},
		{"DeleteSession", func(ctx context.Context) error { return e.s.DeleteSession(ctx, k) }},
		{"SeenUpdate", func(ctx context.Context) error { _, err := e.s.SeenUpdate(ctx, 880005001); return err }},
		{"ClaimUpdate", func(ctx context.Context) error { _, err := e.s.ClaimUpdate(ctx, 880005003, time.Minute); return err }},
		{"ReleaseUpdate", func(ctx context.Context) error { return e.s.ReleaseUpdate(ctx, 880005003, "x") }},
		{"SaveState", func(ctx context.Context) error {
			_, err := e.s.SaveState(ctx, bot.StateWrite{Session: &sess, UpdateID: 880005004, Handled: e.now().Add(24 * time.Hour)})
			return err
		}},
		{"MarkUpdate", func(ctx context.Context) error { return e.s.MarkUpdate(ctx, 880005002, e.now().Add(24*time.Hour)) }},
		{"Forget", func(ctx context.Context) error { return e.s.Forget(ctx, k.UserID) }},
		{"Documents", func(ctx context.Context) error { _, err := ds.Documents(ctx, k.UserID); return err }},
		{"Document", func(ctx context.Context) error { _, err := ds.Document(ctx, k.UserID, "card"); return err }},
		{"PutDocument", func(ctx context.Context) error { return ds.PutDocument(ctx, changed) }},
		{"DeleteDocument", func(ctx context.Context) error { return ds.DeleteDocument(ctx, k.UserID, "card") }},
	}
	for _, op := range ops {
		for _, c := range []struct {
			name string
			ctx  context.Context
			want error
		}{
			{"cancelled", cancelled, context.Canceled},
			{"deadline", expired, context.DeadlineExceeded},
		} {
			t.Run(op.name+"/"+c.name, func(t *testing.T) {
				done := make(chan error, 1)
				go func() { done <- op.fn(c.ctx) }()
				select {
				case err := <-done:
					if !errors.Is(err, c.want) {
						t.Errorf("%s with a %s context: err = %v, want %v", op.name, c.name, err, c.want)
					}
				case <-time.After(10 * time.Second): // a watchdog, not a timer the test waits for
					t.Fatalf("%s with a %s context did not return", op.name, c.name)
				}
			})
		}
	}

	// Nothing was changed by the cancelled calls.
	if p, err := e.s.Profile(t.Context(), k.UserID); err != nil || p.Lang != "" {
		t.Errorf("after cancelled calls, Profile = %+v, %v; want the original", p, err)
	}
	if s := mustSession(t, e.s, k); s.Version != 1 {
		t.Errorf("after cancelled calls, Session version = %d, want 1", s.Version)
	}
	mustSeen(t, e.s, 880005002, false)
	mustSeen(t, e.s, 880005004, false)
	if c, err := e.s.ClaimUpdate(t.Context(), 880005003, time.Minute); err != nil || c.Status != bot.ClaimGranted {
		t.Errorf("after cancelled calls, ClaimUpdate = %+v, %v; want granted", c, err)
	}
	checkDocuments(t, ds, k.UserID, []bot.Document{doc})
}

func testIsolation(t *testing.T, e *env) {
	other := e.h.Open(t, e.clk)
	k := bot.SessionKey{ChatID: 7700000101, UserID: 7700000101}
	mustPutProfile(t, e.s, bot.Profile{UserID: k.UserID, ChatID: k.ChatID})
	mustSave(t, e.s, newSession(k, e.now().Add(time.Hour)))
	mustMark(t, e.s, 880006001, e.now().Add(24*time.Hour))
	mustPutDocument(t, docStore(t, e.s), newDocument(k.UserID, "card"))

	if _, err := other.Profile(t.Context(), k.UserID); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("another store sees the profile: err = %v", err)
	}
	wantNoSession(t, other, k)
	mustSeen(t, other, 880006001, false)
	if docs := mustDocuments(t, docStore(t, other), k.UserID); len(docs) != 0 {
		t.Errorf("another store lists the documents: %q", docIDs(docs))
	}
	if entries := e.h.Scan(t, other); anyContains(entries, "7700000101") {
		t.Errorf("another store's Scan shows this store's data: %q", entries)
	}
	// Forget in the other store leaves this one alone.
	if err := other.Forget(t.Context(), k.UserID); err != nil {
		t.Fatal(err)
	}
	mustSession(t, e.s, k)
	checkDocument(t, docStore(t, e.s), newDocument(k.UserID, "card"))
}

func testClosed(t *testing.T, e *env) {
	mustPutProfile(t, e.s, bot.Profile{UserID: 7700000111, ChatID: 7700000111})
	if err := e.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := e.s.Profile(t.Context(), 7700000111); err == nil {
		t.Errorf("Profile on a closed store succeeded")
	}
	if err := e.s.PutProfile(t.Context(), bot.Profile{UserID: 7700000112}); err == nil {
		t.Errorf("PutProfile on a closed store succeeded")
	}
	ds := docStore(t, e.s)
	if _, err := ds.Documents(t.Context(), 7700000111); err == nil {
		t.Errorf("Documents on a closed store succeeded")
	}
	if err := ds.PutDocument(t.Context(), newDocument(7700000111, "card")); err == nil {
		t.Errorf("PutDocument on a closed store succeeded")
	}
}

// testStateLoader checks, for stores that implement bot.StateLoader, that
// the one-round-trip read agrees with Profile, Session and ClaimUpdate.
func testStateLoader(t *testing.T, e *env) {
	loader, ok := e.s.(bot.StateLoader)
	if !ok {
		t.Skip("the store does not implement bot.StateLoader (optional)")
	}
	ctx := context.Background()
	const user = 7700000777
	key := bot.SessionKey{ChatID: user, UserID: user}
	st, err := loader.LoadState(ctx, 424242, time.Minute, user, key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Claim.Status != bot.ClaimGranted || st.Claim.Token == "" || st.HasProfile || st.HasSession {
		t.Fatalf("empty store: LoadState = %+v; want a granted claim and nothing else", st)
	}
	// The claim holds: another loader (another instance) is told so.
	if st2, err := loader.LoadState(ctx, 424242, time.Minute, user, key); err != nil || st2.Claim.Status != bot.ClaimBusy {
		t.Fatalf("second LoadState = %+v, %v; want ClaimBusy", st2.Claim, err)
	}
	p := bot.Profile{UserID: user, ChatID: user, Lang: "ar", Created: Start, LastSeen: Start}
	if err := e.s.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SaveSession(ctx, bot.Session{Key: key, Flow: "guide", Step: "q", Data: map[string]string{"g": "q_regime.other"}, Expires: Start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.MarkUpdate(ctx, 424242, Start.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err = loader.LoadState(ctx, 424242, time.Minute, user, key)
	if err != nil {
		t.Fatal(err)
	}
	wantP, _ := e.s.Profile(ctx, user)
	wantS, _ := e.s.Session(ctx, key)
	if st.Claim.Status != bot.ClaimHandled || !st.HasProfile || !st.HasSession {
		t.Fatalf("LoadState = %+v; want handled, profile and session", st)
	}
	if d := diffProfile(wantP, st.Profile); d != "" {
		t.Errorf("LoadState profile differs from Profile's:%s", d)
	}
	if st.Session.Version != wantS.Version || st.Session.Data["g"] != wantS.Data["g"] || st.Session.Key != key {
		t.Errorf("LoadState session = %+v; Session = %+v", st.Session, wantS)
	}
	// Without an update id nothing is claimed.
	if st, err := loader.LoadState(ctx, 0, time.Minute, user, key); err != nil || st.Claim.Status != 0 || !st.HasProfile {
		t.Errorf("LoadState without update = %+v, %v; want no claim, the profile", st, err)
	}
	e.clk.Advance(2 * time.Hour) // the session expires; the mark stays
	st, err = loader.LoadState(ctx, 424242, time.Minute, user, key)
	if err != nil {
		t.Fatal(err)
	}
	if st.HasSession || st.Claim.Status != bot.ClaimHandled {
		t.Errorf("after expiry LoadState = %+v; want the mark but no session", st)
	}
}

// testProfiles: Profiles visits every stored profile once, not the
// forgotten ones, lets the callback write, and stops at its error.
func testProfiles(t *testing.T, e *env) {
	ctx := t.Context()
	want := map[int64]bot.Profile{}
	for i := range int64(600) { // more than one batch of a paging backend (bolt: 500)
		p := bot.Profile{UserID: 7701000000 + i, ChatID: 7701000000 + i, Lang: "fr", Created: e.now(), LastSeen: e.now()}
		mustPutProfile(t, e.s, p)
		want[p.UserID] = p
	}
	for _, gone := range []int64{7701000007, 7701000500} {
		if err := e.s.Forget(ctx, gone); err != nil {
			t.Fatal(err)
		}
		delete(want, gone)
	}
	seen := map[int64]int{}
	err := e.s.Profiles(ctx, func(p bot.Profile) error {
		seen[p.UserID]++
		if d := diffProfile(want[p.UserID], p); d != "" {
			t.Errorf("profile %d differs:%s", p.UserID, d)
		}
		p.Lang = "es" // writing from the callback must not deadlock
		return e.s.PutProfile(ctx, p)
	})
	if err != nil {
		t.Fatalf("Profiles: %v", err)
	}
	if len(seen) != len(want) {
		t.Errorf("Profiles visited %d profiles, want %d", len(seen), len(want))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("profile %d visited %d times", id, n)
		}
		if _, ok := want[id]; !ok {
			t.Errorf("Profiles visited %d, which is not stored", id)
		}
	}
	if p, err := e.s.Profile(ctx, 7701000001); err != nil || p.Lang != "es" {
		t.Errorf("the callback's write: %+v, %v", p, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := e.s.Profiles(ctx, func(bot.Profile) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Profiles with a failing callback = %v after %d calls; want its error after 1", err, n)
	}
}

// ---- update claims ----

// claimer is ClaimUpdate, or LoadState's claim for stores that have it, so
// that both paths pass the same checks.
type claimer struct {
	name  string
	claim func(ctx context.Context, id int64, lease time.Duration) (bot.UpdateClaim, error)
}

func claimers(s bot.Store) []claimer {
	out := []claimer{{"ClaimUpdate", s.ClaimUpdate}}
	if loader, ok := s.(bot.StateLoader); ok {
		out = append(out, claimer{"LoadState", func(ctx context.Context, id int64, lease time.Duration) (bot.UpdateClaim, error) {
			st, err := loader.LoadState(ctx, id, lease, 7700000888, bot.SessionKey{ChatID: 7700000888, UserID: 7700000888})
			return st.Claim, err
		}})
	}
	return out
}

func mustClaimUpdate(t *testing.T, c claimer, id int64, lease time.Duration, want bot.ClaimStatus) bot.UpdateClaim {
	t.Helper()
	got, err := c.claim(t.Context(), id, lease)
	if err != nil {
		t.Fatalf("%s(%d): %v", c.name, id, err)
	}
	if got.Status != want {
		t.Fatalf("%s(%d) = %v, want %v", c.name, id, got.Status, want)
	}
	if want == bot.ClaimGranted && got.Token == "" {
		t.Fatalf("%s(%d) granted without a token", c.name, id)
	}
	return got
}

// testClaims: a claim is exclusive until its lease ends, a release or a
// mark; a mark makes every later claim a duplicate.
func testClaims(t *testing.T, e *env) {
	ctx := t.Context()
	for i, c := range claimers(e.s) {
		base := int64(880007000 + 100*i)
		t.Run(c.name, func(t *testing.T) {
			// Granted, then busy for everyone else while the lease runs.
			first := mustClaimUpdate(t, c, base, 30*time.Second, bot.ClaimGranted)
			mustClaimUpdate(t, c, base, 30*time.Second, bot.ClaimBusy)
			mustSeen(t, e.s, base, false)

			// Released: claimable at once, with a new token.
			if err := e.s.ReleaseUpdate(ctx, base, first.Token); err != nil {
				t.Fatal(err)
			}
			second := mustClaimUpdate(t, c, base, 30*time.Second, bot.ClaimGranted)
			if second.Token == first.Token {
				t.Errorf("a new claim has the old token %q", first.Token)
			}
			// A stale token releases nothing.
			if err := e.s.ReleaseUpdate(ctx, base, first.Token); err != nil {
				t.Fatal(err)
			}
			mustClaimUpdate(t, c, base, 30*time.Second, bot.ClaimBusy)

			// Marked handled: a duplicate from then on, lease or not.
			mustMark(t, e.s, base, e.now().Add(24*time.Hour))
			mustClaimUpdate(t, c, base, 30*time.Second, bot.ClaimHandled)
			if err := e.s.ReleaseUpdate(ctx, base, second.Token); err != nil {
				t.Fatal(err)
			}
			mustClaimUpdate(t, c, base, 30*time.Second, bot.ClaimHandled)
			mustSeen(t, e.s, base, true)

			// A lease ends by the store's clock: a dead handler's update is
			// taken by the next one.
			mustClaimUpdate(t, c, base+1, 30*time.Second, bot.ClaimGranted)
			e.clk.Advance(29 * time.Second)
			mustClaimUpdate(t, c, base+1, 30*time.Second, bot.ClaimBusy)
			e.clk.Advance(time.Second)
			mustClaimUpdate(t, c, base+1, 30*time.Second, bot.ClaimGranted)

			// The mark ends too.
			mustMark(t, e.s, base+2, e.now().Add(24*time.Hour))
			mustClaimUpdate(t, c, base+2, time.Minute, bot.ClaimHandled)
			e.clk.Advance(24 * time.Hour)
			mustClaimUpdate(t, c, base+2, time.Minute, bot.ClaimGranted)

			// SaveState marks as MarkUpdate does.
			mustClaimUpdate(t, c, base+3, time.Minute, bot.ClaimGranted)
			if _, err := e.s.SaveState(ctx, bot.StateWrite{UpdateID: base + 3, Handled: e.now().Add(24 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			mustClaimUpdate(t, c, base+3, time.Minute, bot.ClaimHandled)
		})
	}
}

// testClaimsConcurrent: of many claimers of one update at once (instances
// receiving the same delivery), exactly one is granted.
func testClaimsConcurrent(t *testing.T, e *env) {
	const claimers = 16
	for round := range int64(10) {
		id := 880008000 + round
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			results [claimers]bot.UpdateClaim
			errs    [claimers]error
		)
		for i := range claimers {
			wg.Go(func() {
				<-start
				results[i], errs[i] = e.s.ClaimUpdate(t.Context(), id, time.Minute)
			})
		}
		close(start)
		wg.Wait()
		granted := 0
		for i := range claimers {
			switch {
			case errs[i] != nil:
				t.Fatalf("round %d: ClaimUpdate: %v", round, errs[i])
			case results[i].Status == bot.ClaimGranted:
				granted++
			case results[i].Status != bot.ClaimBusy:
				t.Fatalf("round %d: ClaimUpdate = %v, want granted or busy", round, results[i].Status)
			}
		}
		if granted != 1 {
			t.Fatalf("round %d: %d claimers were granted the update; want exactly 1", round, granted)
		}
	}
}

// testSaveState: one call writes the profile, the session and the mark;
// a session conflict leaves the session but writes the rest.
func testSaveState(t *testing.T, e *env) {
	ctx := t.Context()
	const user = 7700000999
	k := bot.SessionKey{ChatID: user, UserID: user}
	p := bot.Profile{UserID: user, ChatID: user, Lang: "tr", Created: e.now(), LastSeen: e.now()}
	sess := newSession(k, e.now().Add(time.Hour))
	v, err := e.s.SaveState(ctx, bot.StateWrite{Profile: &p, Session: &sess, UpdateID: 880009001, Handled: e.now().Add(24 * time.Hour)})
	if err != nil || v != 1 {
		t.Fatalf("SaveState = %d, %v; want 1, nil", v, err)
	}
	checkProfile(t, e.s, p)
	want := sess
	want.Version = 1
	if d := diffSession(want, mustSession(t, e.s, k)); d != "" {
		t.Errorf("session after SaveState differs:%s", d)
	}
	mustSeen(t, e.s, 880009001, true)

	// Only the profile; only the session; only the mark.
	p.Lang = "uk"
	if v, err := e.s.SaveState(ctx, bot.StateWrite{Profile: &p}); err != nil || v != 0 {
		t.Fatalf("SaveState(profile) = %d, %v", v, err)
	}
	checkProfile(t, e.s, p)
	sess.Version = 1
	sess.Step = "q9"
	if v, err := e.s.SaveState(ctx, bot.StateWrite{Session: &sess}); err != nil || v != 2 {
		t.Fatalf("SaveState(session) = %d, %v; want 2", v, err)
	}
	if _, err := e.s.SaveState(ctx, bot.StateWrite{UpdateID: 880009002, Handled: e.now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mustSeen(t, e.s, 880009002, true)

	// A stale session: ErrConflict, and the profile and mark are written.
	stale := sess // at version 1; stored is 2
	stale.Step = "stale"
	p.Lang = "es"
	_, err = e.s.SaveState(ctx, bot.StateWrite{Profile: &p, Session: &stale, UpdateID: 880009003, Handled: e.now().Add(24 * time.Hour)})
	if !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("SaveState with a stale session: %v; want ErrConflict", err)
	}
	if got := mustSession(t, e.s, k); got.Step != "q9" || got.Version != 2 {
		t.Errorf("a conflicting SaveState wrote the session: %q at %d", got.Step, got.Version)
	}
	checkProfile(t, e.s, p)
	mustSeen(t, e.s, 880009003, true)
}
