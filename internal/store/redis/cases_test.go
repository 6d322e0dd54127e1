package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
	goredis "github.com/redis/go-redis/v9"
)

func casesHarness(rawURL string) storetest.CasesHarness {
	return storetest.CasesHarness{
		Open: func(t *testing.T, clk *clock.Fake) handoff.Store {
			return openTest(t, rawURL, WithClock(clk.Now))
		},
		Reopen: func(t *testing.T, old handoff.Store, clk *clock.Fake) handoff.Store {
			t.Helper()
			prefix := old.(*Store).Prefix()
			if err := old.(*Store).Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s, err := Open(t.Context(), rawURL, WithPrefix(prefix), WithKeys(testKeys), WithClock(clk.Now))
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Scan: func(t *testing.T, s handoff.Store) []string {
			t.Helper()
			return scanAll(t, s.(*Store))
		},
		DataKey: isDataKey,
	}
}

// scanAll returns every key of s with its value, as "key = value", but
// the master key's check, which every store has.
func scanAll(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := scanData(t.Context(), s, func(k, v string) error {
		out = append(out, k+" = "+v)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

// isDataKey reports whether a scanAll entry is a resident hash that holds
// only a data key (the resident's, which outlives their cases).
func isDataKey(entry string) bool {
	k, v, _ := strings.Cut(entry, " = ")
	return strings.HasSuffix(k, "}:r") && strings.HasPrefix(v, keyField+"=") && !strings.Contains(v[len(keyField)+1+seal.WrappedSize:], "=")
}

func TestCasesConformanceSingle(t *testing.T) {
	storetest.RunCases(t, casesHarness(testURL(t, envURL)))
}

func TestCasesConformanceCluster(t *testing.T) {
	storetest.RunCases(t, casesHarness(clusterURL(t)))
}

// caseT0 is when the test cases were created.
var caseT0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testCase(id, resident int64, partner string) handoff.Case {
	return handoff.Case{
		Schema: 1, ID: id, ResidentID: resident, ResidentChat: resident, Lang: "fr",
		Departement: "69", Problem: handoff.ProblemStuck, PartnerID: partner,
		Description: "texte-du-cas", Status: handoff.StatusWaiting, Created: caseT0, Routed: caseT0,
	}
}

func createCase(t *testing.T, s *Store, c handoff.Case) handoff.Case {
	t.Helper()
	v, err := s.CreateCase(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCase(%d): %v", c.ID, err)
	}
	c.Version = v
	return c
}

// failingLike returns a store on the same server and prefix as s whose
// calls of script fail with errInjected, to cut an operation short where
// a crash could.
func failingLike(t *testing.T, s *Store, script *goredis.Script) *Store {
	t.Helper()
	f, err := New(t.Context(), newClientLike(t, s), WithPrefix(s.Prefix()), WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	f.c.AddHook(failScriptHook{script})
	return f
}

func caseIDs(cs []handoff.Case) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// TestCaseKeyLayout pins the documented layout: every key under the
// prefix, the resident's index in the resident's slot, and the keys a
// script touches together in one slot.
func TestCaseKeyLayout(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if _, err := s.NextCaseID(ctx); err != nil {
			t.Fatal(err)
		}
		createCase(t, s, testCase(5, 4242, "lyon"))
		if err := s.SetTopic(ctx, -100123, 42, 5); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRelay(ctx, -100123, 900, handoff.Relay{CaseID: 5, ResidentMessageID: 17}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, 5, handoff.Event{At: caseT0, Action: "created", Detail: "lyon"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPaused(ctx, "paris", true); err != nil {
			t.Fatal(err)
		}
		p := s.Prefix()
		c5 := p + ":{" + p + ":c5}"
		g := p + ":{" + p + ":g-100123}"
		want := []string{
			c5 + " = partner=lyon parts=lyon rec=\xf5" /* sealed, checked below */, c5 + ":ev = \xf5",
			c5 + ":links = r|-100123|900 t|-100123|42",
			p + ":{" + p + ":cases}:all = 5", p + ":{" + p + ":cases}:seq = 1",
			g + ":relays = 900=5|17", g + ":topics = 42=5",
			p + ":{" + p + ":p" + "lyon}:cases = 5",
			p + ":{" + p + ":stats}:counts = 2026-03|69|stuck|lyon=1", p + ":{" + p + ":stats}:paused = paris",
			p + ":{" + p + ":u4242}:cases = 5", p + ":{" + p + ":u4242}:r = k=\xf6", // the resident's data key
		}
		slices.Sort(want)
		got := scanAll(t, s)
		if len(got) != len(want) {
			t.Fatalf("keys:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("key %d = %s, want it to start with %s", i, got[i], want[i])
			}
		}
		if e := got[slices.IndexFunc(got, func(e string) bool { return strings.HasPrefix(e, c5+" ") })]; !strings.Contains(e, "rid=4242 ver=1") || strings.Contains(e, "texte-du-cas") {
			t.Errorf("the case's hash = %q; want the case sealed, its resident and version in clear", e)
		}
		if c, err := s.Case(ctx, 5); err != nil || c.Description != "texte-du-cas" || c.Version != 1 {
			t.Errorf("Case = %+v, %v", c, err)
		}
		cc, ok := s.c.(*goredis.ClusterClient)
		if !ok {
			return
		}
		sameSlot := func(keys ...string) {
			t.Helper()
			var slots []int64
			for _, k := range keys {
				slots = append(slots, cc.ClusterKeySlot(ctx, k).Val())
			}
			if len(slices.Compact(slices.Clone(slots))) != 1 {
				t.Errorf("keys %q are in slots %v, want one", keys, slots)
			}
		}
		sameSlot(s.caseKey(5), s.caseEventsKey(5), s.caseLinksKey(5))
		sameSlot(s.residentCasesKey(4242), s.residentKey(4242), s.indexKey(4242))
		sameSlot(s.topicsKey(-100123), s.relaysKey(-100123))
	})
}

// TestCaseCreateCutShort: when CreateCase fails after the indexes and the
// count are written, no case exists, listings skip the dangling ids, the
// case text is nowhere, and Forget removes the resident's index.
func TestCaseCreateCutShort(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const resident = 7700000961
		f := failingLike(t, s, caseCreateScript)
		if _, err := f.CreateCase(ctx, testCase(9, resident, "lyon")); !errors.Is(err, errInjected) {
			t.Fatalf("CreateCase with a failing script: err = %v", err)
		}
		if _, err := s.Case(ctx, 9); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("Case after a failed create: %v", err)
		}
		for name, list := range map[string]func() ([]handoff.Case, error){
			"CasesOf":   func() ([]handoff.Case, error) { return s.CasesOf(ctx, resident) },
			"OpenCases": func() ([]handoff.Case, error) { return s.OpenCases(ctx, "lyon") },
			"Cases":     func() ([]handoff.Case, error) { return s.Cases(ctx) },
		} {
			if cs, err := list(); err != nil || len(cs) != 0 {
				t.Errorf("%s = %v, %v; want none", name, caseIDs(cs), err)
			}
		}
		for _, e := range scanAll(t, s) {
			if strings.Contains(e, "texte-du-cas") {
				t.Errorf("the case text is stored: %s", e)
			}
		}
		if err := s.Forget(ctx, resident); err != nil {
			t.Fatal(err)
		}
		for _, e := range scanAll(t, s) {
			if strings.Contains(e, "7700000961") {
				t.Errorf("after Forget: %s", e)
			}
		}
		// The same id then works.
		createCase(t, s, testCase(9, resident, "lyon"))
		if cs, _ := s.CasesOf(ctx, resident); len(cs) != 1 {
			t.Errorf("CasesOf = %v", caseIDs(cs))
		}
	})
}

// TestCaseCreateTakenUndoes: a CreateCase that finds the id taken leaves
// no index entry under the other resident and takes its count back.
func TestCaseCreateTakenUndoes(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		createCase(t, s, testCase(3, 7700000962, "lyon"))
		other := testCase(3, 7700000963, "paris")
		other.Departement = "75"
		if _, err := s.CreateCase(ctx, other); !errors.Is(err, handoff.ErrExists) {
			t.Fatalf("err = %v; want ErrExists", err)
		}
		if cs, err := s.CasesOf(ctx, 7700000963); err != nil || len(cs) != 0 {
			t.Errorf("CasesOf(other) = %v, %v", caseIDs(cs), err)
		}
		if cs, err := s.OpenCases(ctx, "paris"); err != nil || len(cs) != 0 {
			t.Errorf("OpenCases(paris) = %v, %v", caseIDs(cs), err)
		}
		for _, e := range scanAll(t, s) {
			if strings.Contains(e, "7700000963") && !isDataKey(e) {
				t.Errorf("the refused resident is stored: %s", e)
			}
		}
		counts, err := s.Counts(ctx)
		if err != nil || len(counts) != 1 || counts[0].Departement != "69" || counts[0].N != 1 {
			t.Errorf("Counts = %+v, %v; want only 69: 1", counts, err)
		}
	})
}

// TestCaseMoveCutShort: an UpdateCase that fails after indexing the new
// partner leaves the case with the old one, and OpenCases of the new one
// ignores the entry; a successful move removes the old entry.
func TestCaseMoveCutShort(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		c := createCase(t, s, testCase(4, 7700000964, "lyon"))
		moved := c
		moved.PartnerID, moved.Tried = "paris", []string{"lyon"}
		f := failingLike(t, s, caseUpdateScript)
		if _, err := f.UpdateCase(ctx, moved); !errors.Is(err, errInjected) {
			t.Fatalf("UpdateCase with a failing script: err = %v", err)
		}
		if got, err := s.OpenCases(ctx, "lyon"); err != nil || !slices.Equal(caseIDs(got), []int64{4}) {
			t.Errorf("OpenCases(lyon) = %v, %v; want [4]", caseIDs(got), err)
		}
		if got, err := s.OpenCases(ctx, "paris"); err != nil || len(got) != 0 {
			t.Errorf("OpenCases(paris) = %v, %v; want none", caseIDs(got), err)
		}
		v, err := s.UpdateCase(ctx, moved)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.OpenCases(ctx, "paris"); err != nil || len(got) != 1 || got[0].Version != v {
			t.Errorf("OpenCases(paris) = %+v, %v; want case 4 at version %d", got, err, v)
		}
		if n := s.c.Exists(ctx, s.partnerCasesKey("lyon")).Val(); n != 0 {
			t.Errorf("lyon's index still exists after the move")
		}
		// Each update without a move is one script call.
		moved.Version = v
		moved.Steps = "appelé la préfecture"
		if _, err := s.UpdateCase(ctx, moved); err != nil {
			t.Fatal(err)
		}
		// An absent case.
		if _, err := s.UpdateCase(ctx, testCase(5, 1, "lyon")); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("UpdateCase(absent) err = %v", err)
		}
	})
}

// TestCaseDeleteCutShort: when DeleteCase fails before the record is
// deleted, the case is still listed and readable, and a retry removes
// everything but the counts and the sequence.
func TestCaseDeleteCutShort(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const resident = 7700000965
		c := testCase(6, resident, "paris")
		c.Tried = []string{"lyon"}
		createCase(t, s, c)
		if err := s.SetTopic(ctx, -100555, 8, 6); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRelay(ctx, -100555, 31, handoff.Relay{CaseID: 6, ResidentMessageID: 2}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, 6, handoff.Event{At: caseT0, Action: "created"}); err != nil {
			t.Fatal(err)
		}
		// A stale entry in a previous partner's index.
		s.c.SAdd(ctx, s.partnerCasesKey("lyon"), "6")
		f := failingLike(t, s, caseDeleteScript)
		if err := f.DeleteCase(ctx, 6); !errors.Is(err, errInjected) {
			t.Fatalf("DeleteCase with a failing script: err = %v", err)
		}
		if cs, err := s.CasesOf(ctx, resident); err != nil || len(cs) != 1 {
			t.Fatalf("after the failed delete, CasesOf = %v, %v; want the case", caseIDs(cs), err)
		}
		if err := s.DeleteCase(ctx, 6); err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, e := range scanAll(t, s) {
			if !strings.Contains(e, ":{"+s.Prefix()+":stats}:counts") && !isDataKey(e) {
				left = append(left, e)
			}
		}
		if len(left) != 0 {
			t.Errorf("after the retried delete, keys left: %q", left)
		}
	})
}

// TestDeleteCaseKeepsOtherMappings: a topic or relay given to another case
// since is not removed with the first case, and links added after
// DeleteCase read them are removed too.
func TestDeleteCaseKeepsOtherMappings(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		createCase(t, s, testCase(1, 7700000966, "lyon"))
		createCase(t, s, testCase(2, 7700000967, "lyon"))
		if err := s.SetTopic(ctx, -100777, 5, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.SetTopic(ctx, -100777, 5, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRelay(ctx, -100777, 50, handoff.Relay{CaseID: 1, ResidentMessageID: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRelay(ctx, -100777, 50, handoff.Relay{CaseID: 2, ResidentMessageID: 9}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCase(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if id, err := s.CaseByTopic(ctx, -100777, 5); err != nil || id != 2 {
			t.Errorf("CaseByTopic = %d, %v; want 2", id, err)
		}
		if r, err := s.Relay(ctx, -100777, 50); err != nil || r.CaseID != 2 {
			t.Errorf("Relay = %+v, %v; want case 2's", r, err)
		}
		// A relay recorded between DeleteCase's first read and its script.
		f, err := New(t.Context(), newClientLike(t, s), WithPrefix(s.Prefix()), WithKeys(testKeys))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.c.AddHook(beforeScriptHook{caseDeleteScript, func() {
			if err := s.PutRelay(ctx, -100888, 3, handoff.Relay{CaseID: 2, ResidentMessageID: 4}); err != nil {
				t.Error(err)
			}
		}})
		if err := f.DeleteCase(ctx, 2); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{s.topicsKey(-100777), s.relaysKey(-100777), s.relaysKey(-100888)} {
			if n := s.c.Exists(ctx, k).Val(); n != 0 {
				t.Errorf("%s still exists", k)
			}
		}
	})
}

// beforeScriptHook calls fn before each call of one script.
type beforeScriptHook struct {
	script *goredis.Script
	fn     func()
}

func (beforeScriptHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h beforeScriptHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		args := cmd.Args()
		if name := cmd.Name(); (name == "evalsha" || name == "eval") && len(args) > 1 {
			body := fmt.Sprint(args[1])
			if body == h.script.Hash() || goredis.NewScript(body).Hash() == h.script.Hash() {
				h.fn()
			}
		}
		return next(ctx, cmd)
	}
}
func (beforeScriptHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
