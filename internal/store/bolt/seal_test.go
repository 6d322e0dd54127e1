package bolt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
	bbolt "go.etcd.io/bbolt"
)

// Texts a resident leaves, distinctive enough to search raw bytes for.
const (
	rawLabel   = "ma-fille-Zoé-7f3a"
	rawSession = "texte-de-session-91b2"
	rawCase    = "description-du-cas-55c1"
)

// writeResident stores a profile, a session holding typed text, a document
// with a label and a case with a description for user.
func writeResident(t *testing.T, s *Store, user int64) {
	t.Helper()
	ctx := t.Context()
	now := storetest.Start
	if err := s.PutProfile(ctx, bot.Profile{UserID: user, ChatID: user, Lang: "fr", Created: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	k := bot.SessionKey{ChatID: user, UserID: user}
	if _, err := s.SaveSession(ctx, bot.Session{Key: k, Flow: "rem", Data: map[string]string{"l": rawSession}, Expires: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	d := bot.Document{UserID: user, ChatID: user, ID: "1", Kind: permit.KindCST, Holder: bot.HolderChild, Label: rawLabel,
		Expiry: permit.Date{Year: 2027, Month: 6, Day: 30}, Since: permit.Date{Year: 2026, Month: 3, Day: 14}, Created: now}
	if err := s.PutDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	c := handoff.Case{ID: caseOf(user), ResidentID: user, ResidentChat: user, Lang: "fr", Departement: "69", Problem: handoff.ProblemNoAPI,
		Description: rawCase, PartnerID: "lyon", Status: handoff.StatusWaiting, Created: now, Routed: now}
	if _, err := s.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, caseOf(user), handoff.Event{At: now, Action: "created", Detail: "lyon"}); err != nil {
		t.Fatal(err)
	}
}

// caseOf is the id of the case writeResident gives user.
func caseOf(user int64) int64 { return user % 100000 }

// rawFiles returns the bytes of the store's two files.
func rawFiles(t *testing.T, path string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range []string{path, path + ".keys"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// unwrapsAnywhere reports whether some 61 bytes of raw are a data key of
// owner wrapped by keys: what someone holding a copy of the files and the
// master key could find.
func unwrapsAnywhere(keys *seal.Keyring, owner int64, raw []byte) bool {
	for i := 0; i+seal.WrappedSize <= len(raw); i++ {
		if raw[i] != 0xF6 {
			continue
		}
		if _, err := keys.Unwrap(owner, raw[i:i+seal.WrappedSize]); err == nil {
			return true
		}
	}
	return false
}

// TestForgetShredsTheFile: what a resident stored is sealed in the file
// (no label, typed text or case text in its raw bytes, even in pages bbolt
// freed and did not reuse); after Forget, no copy of their data key is
// left in either file, so the sealed records copied before Forget cannot be
// opened, even with the master key.
func TestForgetShredsTheFile(t *testing.T) {
	const user = 7700004242
	path := filepath.Join(t.TempDir(), "passerelle.db")
	s, err := Open(path, WithKeys(testKeys), WithClock(clock.NewFake(storetest.Start).Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeResident(t, s, user)
	writeResident(t, s, user+1) // another resident, who stays
	// Rewrite the records a few times: freed pages hold older copies.
	for range 3 {
		if err := s.PutProfile(t.Context(), bot.Profile{UserID: user, ChatID: user, Lang: "ar"}); err != nil {
			t.Fatal(err)
		}
	}
	var sealedProfile []byte
	if err := s.db.View(func(tx *bboltTx) error {
		sealedProfile = bytes.Clone(tx.Bucket(bucketProfiles).Get(userKey(user)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wrapped := bytes.Clone(s.kf.Get(user))
	check := func(when string) {
		t.Helper()
		for _, raw := range rawFiles(t, path) {
			for _, text := range []string{rawLabel, rawSession, rawCase} {
				if bytes.Contains(raw, []byte(text)) {
					t.Errorf("%s: the raw file holds %q in clear", when, text)
				}
			}
		}
	}
	check("before Forget")
	// The captured record opens with the captured key: the test can see a
	// key when there is one.
	dk, err := testKeys.Unwrap(user, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dk.Open(nil, sealedProfile, []byte(profileAD)); err != nil {
		t.Fatalf("the profile does not open with its key: %v", err)
	}
	found := false
	for _, raw := range rawFiles(t, path) {
		found = found || unwrapsAnywhere(testKeys, user, raw)
	}
	if !found {
		t.Fatal("before Forget, no data key of the resident is found in the files: the search cannot work")
	}

	if err := s.Forget(context.Background(), user); err != nil {
		t.Fatal(err)
	}
	// Before any compaction: the same files, freed pages and all.
	check("after Forget")
	for i, raw := range rawFiles(t, path) {
		if bytes.Contains(raw, wrapped) || unwrapsAnywhere(testKeys, user, raw) {
			t.Errorf("after Forget, file %d still holds the resident's data key", i)
		}
	}
	if _, err := s.Profile(t.Context(), user+1); err != nil {
		t.Errorf("the other resident: %v", err)
	}
}

// TestShreddedRecordsAreAbsent: records whose data key is gone (a Forget
// cut short after it destroyed the key) read as absent, and a new key for
// the same resident does not open them.
func TestShreddedRecordsAreAbsent(t *testing.T) {
	const user = 7700004343
	s := openTemp(t, clock.NewFake(storetest.Start))
	writeResident(t, s, user)
	if err := s.shred(user); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.Profile(ctx, user); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Profile: %v; want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, bot.SessionKey{ChatID: user, UserID: user}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Session: %v; want ErrNotFound", err)
	}
	if docs, err := s.Documents(ctx, user); err != nil || len(docs) != 0 {
		t.Errorf("Documents = %d, %v; want none", len(docs), err)
	}
	if _, err := s.Case(ctx, caseOf(user)); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Case: %v; want ErrNotFound", err)
	}
	if cs, err := s.Cases(ctx); err != nil || len(cs) != 0 {
		t.Errorf("Cases = %d, %v; want none", len(cs), err)
	}
	// The resident comes back: a new key, a new profile; the old document
	// stays unreadable until Forget removes it.
	if err := s.PutProfile(ctx, bot.Profile{UserID: user, ChatID: user, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Profile(ctx, user); err != nil || p.Lang != "en" {
		t.Errorf("new profile = %+v, %v", p, err)
	}
	if _, err := s.Document(ctx, user, "1"); err == nil {
		t.Error("a document sealed with the destroyed key opens with the new one")
	}
	if err := s.Forget(ctx, user); err != nil {
		t.Fatal(err)
	}
}

// TestWrongMasterKey: a store sealed with one master key refuses another.
func TestWrongMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passerelle.db")
	s, err := Open(path, WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, WithKeys(seal.Ephemeral())); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with another key: %v; want ErrWrongKey", err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("Open without a key succeeded")
	}
}

// TestLegacyRecordsStillRead: records of the release before sealing
// (plain JSON) are read, and sealed when written again.
func TestLegacyRecordsStillRead(t *testing.T) {
	const user = 7700004444
	s := openTemp(t, clock.NewFake(storetest.Start))
	legacy := map[string][]byte{
		"profiles":  []byte(`{"v":1,"user_id":7700004444,"chat_id":7700004444,"lang":"uk","created":"2026-03-14T09:26:53Z","last_seen":"2026-03-14T09:26:53Z"}`),
		"documents": []byte(`{"v":1,"u":7700004444,"c":7700004444,"id":"1","k":"cst","h":"child","l":"old-label","e":"2027-06-30","s":"2026-03-14","t":"2026-03-14T09:26:53Z"}`),
	}
	if err := s.db.Update(func(tx *bboltTx) error {
		if err := tx.Bucket(bucketProfiles).Put(userKey(user), legacy["profiles"]); err != nil {
			return err
		}
		return tx.Bucket(bucketDocuments).Put(documentKey(user, "1"), legacy["documents"])
	}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	p, err := s.Profile(ctx, user)
	if err != nil || p.Lang != "uk" {
		t.Fatalf("legacy profile = %+v, %v", p, err)
	}
	d, err := s.Document(ctx, user, "1")
	if err != nil || d.Label != "old-label" || d.Expiry.Year != 2027 {
		t.Fatalf("legacy document = %+v, %v", d, err)
	}
	if err := s.PutDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, e := range scanAll(t, s) {
		if bytes.Contains([]byte(e), []byte("old-label")) {
			t.Errorf("the rewritten document is not sealed: %s", e)
		}
	}
	if got, err := s.Document(ctx, user, "1"); err != nil || got.Label != "old-label" {
		t.Errorf("rewritten document = %+v, %v", got, err)
	}
}

// TestRotateKey: rotation re-wraps the data keys, not the records: the
// same sealed bytes open with the new master key, not with the old one;
// run twice (an interrupted rotation run again) it changes nothing more.
func TestRotateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passerelle.db")
	old, next := seal.Ephemeral(), seal.Ephemeral()
	now := clock.NewFake(storetest.Start).Now
	s, err := Open(path, WithKeys(old), WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	writeResident(t, s, 7700004545)
	writeResident(t, s, 7700004546)
	before := scanAll(t, s)
	s.Close()

	n, err := RotateKey(t.Context(), path, old, next)
	if err != nil || n != 2 {
		t.Fatalf("RotateKey = %d, %v; want 2 keys re-wrapped", n, err)
	}
	if n, err := RotateKey(t.Context(), path, old, next); err != nil || n != 0 {
		t.Fatalf("RotateKey again = %d, %v; want nothing left to do", n, err)
	}
	if _, err := Open(path, WithKeys(old)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with the old key after rotation: %v; want ErrWrongKey", err)
	}
	s, err = Open(path, WithKeys(next), WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after := scanAll(t, s)
	if len(after) != len(before) {
		t.Fatalf("%d entries before the rotation, %d after", len(before), len(after))
	}
	changed := 0
	for i := range before {
		if before[i] != after[i] {
			changed++
			if !bytes.HasPrefix([]byte(after[i]), []byte(`"keys/`)) {
				t.Errorf("rotation changed a record: %s", after[i])
			}
		}
	}
	if changed != 2 {
		t.Errorf("rotation changed %d entries; want the 2 data keys", changed)
	}
	if c, err := s.Case(t.Context(), caseOf(7700004545)); err != nil || c.Description != rawCase {
		t.Errorf("after rotation Case = %+v, %v", c, err)
	}
	if d, err := s.Document(t.Context(), 7700004546, "1"); err != nil || d.Label != rawLabel {
		t.Errorf("after rotation Document = %+v, %v", d, err)
	}
}

// TestInterruptedRotationRefusesToOpen: a store whose rotation was cut
// short opens for nobody until the rotation is run again.
func TestInterruptedRotationRefusesToOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passerelle.db")
	old, next := seal.Ephemeral(), seal.Ephemeral()
	s, err := Open(path, WithKeys(old))
	if err != nil {
		t.Fatal(err)
	}
	writeResident(t, s, 7700004647)
	if err := s.kf.SetCheck(rotatingValue(old, next)); err != nil { // as RotateKey's first step
		t.Fatal(err)
	}
	s.Close()
	for _, k := range []*seal.Keyring{old, next} {
		if _, err := Open(path, WithKeys(k)); !errors.Is(err, ErrRotating) {
			t.Errorf("Open during a rotation: %v; want ErrRotating", err)
		}
	}
	if _, err := RotateKey(t.Context(), path, old, next); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, WithKeys(next))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, err := s.Profile(t.Context(), 7700004647); err != nil || p.Lang != "fr" {
		t.Errorf("after the rotation: %+v, %v", p, err)
	}
}

type bboltTx = bbolt.Tx
