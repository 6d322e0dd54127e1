package storetest

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// CasesHarness opens stores for the handoff part of the suite.
type CasesHarness struct {
	// Open returns a fresh, empty store, isolated from every other store
	// Open returns. Called from parallel subtests; it fails t on error and
	// registers the store's release with t.Cleanup.
	Open func(t *testing.T, clk *clock.Fake) handoff.Store
	// Reopen closes old and opens the same data again (nil: skip the
	// persistence subtest).
	Reopen func(t *testing.T, old handoff.Store, clk *clock.Fake) handoff.Store
	// Scan returns everything the store holds as text, one entry per raw
	// key with its value (nil: skip the privacy checks).
	Scan func(t *testing.T, s handoff.Store) []string
	// DataKey reports whether a Scan entry is a person's data key, which
	// belongs to the person and outlives their cases (Forget deletes it).
	DataKey func(entry string) bool
}

// RunCases runs the handoff.Store suite as subtests of t.
func RunCases(t *testing.T, h CasesHarness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: CasesHarness.Open is required")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, h CasesHarness, s handoff.Store)
	}{
		{"NextCaseIDUnique", testCaseIDs},
		{"CreateAndGet", testCaseCreateGet},
		{"CreateTwice", testCaseCreateTwice},
		{"UpdateCompareAndSet", testCaseCAS},
		{"ConcurrentTake", testCaseConcurrentTake},
		{"Lists", testCaseLists},
		{"TopicsAndRelays", testCaseTopicsRelays},
		{"EventsInOrder", testCaseEvents},
		{"CountsSurviveDelete", testCaseCounts},
		{"CountsPerPartner", testCaseCountsPerPartner},
		{"Paused", testCasePaused},
		{"Artefacts", testCaseArtefacts},
		{"DeleteLeavesNothing", testCaseDelete},
		{"Persistence", testCasePersistence},
		{"Exporter", testCaseExporter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(Start)
			tc.fn(t, h, h.Open(t, clk))
		})
	}
}

// sampleCase is a complete case with every field set.
func sampleCase(id int64, resident int64, partner string) handoff.Case {
	return handoff.Case{
		Schema: 1, ID: id, ResidentID: resident, ResidentChat: resident, Lang: "ar",
		Departement: "69", Problem: handoff.ProblemNoAPI, DocKind: "cst",
		Expiry: "2027-06-30", Filed: "2027-03-05", APIExpiry: "2027-09-30",
		Risks: []handoff.Risk{handoff.RiskWork, handoff.RiskHousing}, Description: "API pas renouvelée",
		Urgent: true, Sensitive: false, PartnerID: partner, Tried: []string{"other"},
		Status: handoff.StatusWaiting, CardMessageID: 11, Pending: []int{5, 6},
		Created: Start.Add(time.Hour).UTC(), Routed: Start.Add(2 * time.Hour).UTC(),
	}
}

func mustCreate(t *testing.T, s handoff.Store, c handoff.Case) handoff.Case {
	t.Helper()
	v, err := s.CreateCase(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCase(%d): %v", c.ID, err)
	}
	if v <= 0 {
		t.Fatalf("CreateCase returned version %d; want > 0", v)
	}
	c.Version = v
	return c
}

func testCaseIDs(t *testing.T, _ CasesHarness, s handoff.Store) {
	seen := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				id, err := s.NextCaseID(t.Context())
				if err != nil {
					t.Errorf("NextCaseID: %v", err)
					return
				}
				mu.Lock()
				if seen[id] || id <= 0 {
					t.Errorf("NextCaseID returned %d twice or non-positive", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func testCaseCreateGet(t *testing.T, _ CasesHarness, s handoff.Store) {
	want := mustCreate(t, s, sampleCase(7, 1001, "lyon"))
	got, err := s.Case(t.Context(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if !casesEqual(got, want) {
		t.Errorf("Case = %+v\nwant %+v", got, want)
	}
	if _, err := s.Case(t.Context(), 8); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Case(absent) err = %v; want ErrNotFound", err)
	}
}

// casesEqual compares cases, times by instant.
func casesEqual(a, b handoff.Case) bool {
	for _, p := range [][2]*time.Time{{&a.Created, &b.Created}, {&a.Routed, &b.Routed}, {&a.Taken, &b.Taken}, {&a.Activity, &b.Activity}, {&a.Closed, &b.Closed}} {
		if !p[0].Equal(*p[1]) {
			return false
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	return a.ID == b.ID && a.ResidentID == b.ResidentID && a.ResidentChat == b.ResidentChat &&
		a.Lang == b.Lang && a.Departement == b.Departement && a.Problem == b.Problem &&
		a.DocKind == b.DocKind && a.Expiry == b.Expiry && a.Filed == b.Filed && a.APIExpiry == b.APIExpiry &&
		slices.Equal(a.Risks, b.Risks) && a.Description == b.Description && a.Urgent == b.Urgent &&
		a.Sensitive == b.Sensitive && a.PartnerID == b.PartnerID && slices.Equal(a.Tried, b.Tried) &&
		a.Status == b.Status && a.CardMessageID == b.CardMessageID && a.TopicID == b.TopicID &&
		a.SummaryMessageID == b.SummaryMessageID && a.TakenBy == b.TakenBy && a.TakenAlias == b.TakenAlias &&
		a.Steps == b.Steps && slices.Equal(a.Pending, b.Pending) && a.Nudged == b.Nudged &&
		a.Rating == b.Rating && a.Version == b.Version && a.Schema == b.Schema
}

func testCaseCreateTwice(t *testing.T, _ CasesHarness, s handoff.Store) {
	mustCreate(t, s, sampleCase(3, 1001, "lyon"))
	if _, err := s.CreateCase(t.Context(), sampleCase(3, 1002, "paris")); !errors.Is(err, handoff.ErrExists) {
		t.Errorf("second CreateCase err = %v; want ErrExists", err)
	}
	got, err := s.Case(t.Context(), 3)
	if err != nil || got.ResidentID != 1001 {
		t.Errorf("the first case was changed: %+v, %v", got, err)
	}
}

func testCaseCAS(t *testing.T, _ CasesHarness, s handoff.Store) {
	c := mustCreate(t, s, sampleCase(4, 1001, "lyon"))
	c.Status, c.TakenBy, c.TakenAlias, c.Taken = handoff.StatusTaken, 77, "Lina", Start.Add(3*time.Hour).UTC()
	v, err := s.UpdateCase(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if v == c.Version {
		t.Fatalf("UpdateCase kept version %d", v)
	}
	stale := c // still at the old version
	stale.TakenBy = 88
	if _, err := s.UpdateCase(t.Context(), stale); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("stale UpdateCase err = %v; want ErrConflict", err)
	}
	got, _ := s.Case(t.Context(), 4)
	if got.TakenBy != 77 || got.Version != v {
		t.Errorf("after a stale update: TakenBy %d version %d; want 77, %d", got.TakenBy, got.Version, v)
	}
	if _, err := s.UpdateCase(t.Context(), sampleCase(99, 1, "x")); !errors.Is(err, handoff.ErrConflict) && !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("UpdateCase of an absent case err = %v; want ErrConflict or ErrNotFound", err)
	}
}

// testCaseConcurrentTake: 20 rounds of two volunteers taking the same case
// at once; the compare-and-set lets exactly one win each round.
func testCaseConcurrentTake(t *testing.T, _ CasesHarness, s handoff.Store) {
	for round := range 20 {
		c := mustCreate(t, s, sampleCase(int64(100+round), 1001, "lyon"))
		var wins sync.WaitGroup
		results := make([]error, 2)
		start := make(chan struct{})
		for v := range 2 {
			wins.Add(1)
			go func() {
				defer wins.Done()
				mine := c
				mine.Status, mine.TakenBy = handoff.StatusTaken, int64(500+v)
				<-start
				_, results[v] = s.UpdateCase(t.Context(), mine)
			}()
		}
		close(start)
		wins.Wait()
		ok := 0
		for _, err := range results {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, handoff.ErrConflict):
				t.Fatalf("round %d: UpdateCase: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d volunteers took the case; want exactly 1", round, ok)
		}
		got, _ := s.Case(t.Context(), c.ID)
		if got.TakenBy != 500 && got.TakenBy != 501 {
			t.Fatalf("round %d: TakenBy = %d", round, got.TakenBy)
		}
	}
}

func testCaseLists(t *testing.T, _ CasesHarness, s handoff.Store) {
	a := mustCreate(t, s, sampleCase(1, 2001, "lyon"))
	mustCreate(t, s, sampleCase(2, 2002, "lyon"))
	b := sampleCase(3, 2001, "paris")
	b.Created = b.Created.Add(time.Hour)
	mustCreate(t, s, b)
	a.Status = handoff.StatusClosed
	if _, err := s.UpdateCase(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	mine, err := s.CasesOf(t.Context(), 2001)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || mine[0].ID != 1 || mine[1].ID != 3 {
		t.Errorf("CasesOf(2001) = %v; want cases 1 and 3, oldest first", ids(mine))
	}
	open, err := s.OpenCases(t.Context(), "lyon")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != 2 {
		t.Errorf("OpenCases(lyon) = %v; want [2] (case 1 is closed)", ids(open))
	}
	all, err := s.Cases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("Cases = %v; want 3", ids(all))
	}
	if none, err := s.CasesOf(t.Context(), 9999); err != nil || len(none) != 0 {
		t.Errorf("CasesOf(unknown) = %v, %v", ids(none), err)
	}
}

func ids(cs []handoff.Case) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testCaseTopicsRelays(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleCase(5, 3001, "lyon"))
	if err := s.SetTopic(ctx, -100123, 42, 5); err != nil {
		t.Fatal(err)
	}
	if id, err := s.CaseByTopic(ctx, -100123, 42); err != nil || id != 5 {
		t.Errorf("CaseByTopic = %d, %v; want 5", id, err)
	}
	if _, err := s.CaseByTopic(ctx, -100123, 43); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("CaseByTopic(other topic) err = %v", err)
	}
	if _, err := s.CaseByTopic(ctx, -100999, 42); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("CaseByTopic(other chat) err = %v", err)
	}
	r := handoff.Relay{CaseID: 5, ResidentMessageID: 17}
	if err := s.PutRelay(ctx, -100123, 900, r); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Relay(ctx, -100123, 900); err != nil || got != r {
		t.Errorf("Relay = %+v, %v; want %+v", got, err, r)
	}
	if _, err := s.Relay(ctx, -100123, 901); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Relay(unknown) err = %v", err)
	}
}

// testCaseArtefacts: the record of what a case left in partner groups is
// a set, ordered by chat, thread and message, kept apart per case, and
// forgets what RemoveArtefacts names.
func testCaseArtefacts(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleCase(8, 4101, "lyon"))
	mustCreate(t, s, sampleCase(9, 4102, "lyon"))
	card := handoff.Artefact{Chat: -1001000000001, Message: 11, Kind: handoff.ArtefactCard}
	topic := handoff.Artefact{Chat: -1001000000101, Thread: 120, Kind: handoff.ArtefactTopic}
	copy1 := handoff.Artefact{Chat: -1001000000101, Thread: 120, Message: 125, Kind: handoff.ArtefactCopy}
	oldCard := handoff.Artefact{Chat: -1001000000002, Message: 7, Kind: handoff.ArtefactCard}
	note := handoff.Artefact{Chat: -1001000000001, Message: 30, Kind: handoff.ArtefactNote}
	for _, a := range []handoff.Artefact{copy1, card, topic, oldCard, note, card} { // card twice
		if err := s.AddArtefact(ctx, 8, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddArtefact(ctx, 9, handoff.Artefact{Chat: -1001000000001, Message: 40, Kind: handoff.ArtefactCard}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Artefacts(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := []handoff.Artefact{topic, copy1, oldCard, card, note} // chat ids are negative
	if !slices.Equal(got, want) {
		t.Errorf("Artefacts = %+v\nwant %+v (a set, by chat, thread, message)", got, want)
	}
	if err := s.RemoveArtefacts(ctx, 8, []handoff.Artefact{topic, copy1, {Chat: 1, Message: 1, Kind: handoff.ArtefactNote}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Artefacts(ctx, 8); !slices.Equal(got, []handoff.Artefact{oldCard, card, note}) {
		t.Errorf("after RemoveArtefacts: %+v", got)
	}
	if got, _ := s.Artefacts(ctx, 9); len(got) != 1 || got[0].Message != 40 {
		t.Errorf("case 9's artefacts changed: %+v", got)
	}
	if got, err := s.Artefacts(ctx, 99); err != nil || len(got) != 0 {
		t.Errorf("Artefacts(unknown case) = %+v, %v", got, err)
	}
	if err := s.RemoveArtefacts(ctx, 8, nil); err != nil {
		t.Errorf("RemoveArtefacts(nothing) = %v", err)
	}
}

func testCaseEvents(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleCase(6, 4001, "lyon"))
	want := []handoff.Event{
		{At: Start.UTC(), Actor: 0, Action: "created", Detail: "lyon"},
		{At: Start.Add(time.Minute).UTC(), Actor: 77, Action: "taken", Detail: "Lina"},
		{At: Start.Add(2 * time.Minute).UTC(), Actor: 77, Action: "sent"},
	}
	for _, e := range want {
		if err := s.AddEvent(ctx, 6, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Events(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Events = %+v", got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Actor != want[i].Actor || got[i].Action != want[i].Action || got[i].Detail != want[i].Detail {
			t.Errorf("event %d = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func testCaseCounts(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	for i, dep := range []string{"69", "69", "75"} {
		c := sampleCase(int64(20+i), 5001, "lyon")
		c.Departement = dep
		mustCreate(t, s, c)
	}
	if err := s.DeleteCase(ctx, 20); err != nil {
		t.Fatal(err)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	month := sampleCase(0, 0, "").Created.Format("2006-01")
	got := map[string]int{}
	for _, c := range counts {
		if c.Month != month || c.Problem != handoff.ProblemNoAPI {
			t.Errorf("unexpected count %+v", c)
		}
		got[c.Departement] += c.N
	}
	if got["69"] != 2 || got["75"] != 1 {
		t.Errorf("counts by département = %v; want 69:2 75:1 (deleting a case keeps its count)", got)
	}
}

// testCaseCountsPerPartner: each count cell is kept per partner the case
// was first sent to (a later transfer moves nothing); a count made
// without a partner (before they were kept per partner, or copied by
// migrate) stays a cell of its own. Counts hold numbers only.
func testCaseCountsPerPartner(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	x, ok := s.(handoff.Exporter)
	if !ok {
		t.Fatalf("%T does not implement handoff.Exporter", s)
	}
	for i, partner := range []string{"lyon", "paris", "lyon"} {
		mustCreate(t, s, sampleCase(int64(40+i), int64(6001+i), partner))
	}
	c, err := s.Case(ctx, 41)
	if err != nil {
		t.Fatal(err)
	}
	c.PartnerID, c.Tried = "lyon", []string{"paris"}
	if _, err := s.UpdateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	month := sampleCase(0, 0, "").Created.Format("2006-01")
	for _, add := range []handoff.Count{
		{Month: month, Departement: "69", Problem: handoff.ProblemNoAPI, N: 4},
		{Month: month, Departement: "69", Problem: handoff.ProblemNoAPI, Partner: "paris", N: 2},
	} {
		if err := x.AddCount(ctx, add); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range counts {
		if c.Month != month || c.Departement != "69" || c.Problem != handoff.ProblemNoAPI {
			t.Errorf("unexpected count %+v", c)
			continue
		}
		if _, dup := got[c.Partner]; dup {
			t.Errorf("two cells for partner %q: %+v", c.Partner, counts)
		}
		got[c.Partner] = c.N
	}
	if want := map[string]int{"lyon": 2, "paris": 3, "": 4}; !maps.Equal(got, want) {
		t.Errorf("counts by partner = %v; want %v", got, want)
	}
}

func testCasePaused(t *testing.T, _ CasesHarness, s handoff.Store) {
	ctx := t.Context()
	if p, err := s.Paused(ctx, "lyon"); err != nil || p {
		t.Fatalf("Paused(never set) = %v, %v", p, err)
	}
	if err := s.SetPaused(ctx, "lyon", true); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Paused(ctx, "lyon"); !p {
		t.Error("Paused after SetPaused(true) = false")
	}
	if p, _ := s.Paused(ctx, "paris"); p {
		t.Error("pausing lyon paused paris")
	}
	if err := s.SetPaused(ctx, "lyon", false); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Paused(ctx, "lyon"); p {
		t.Error("Paused after SetPaused(false) = true")
	}
}

// testCaseDelete: DeleteCase removes the case, its topic and relay
// mappings and its audit log; a scan finds no trace of the resident.
func testCaseDelete(t *testing.T, h CasesHarness, s handoff.Store) {
	ctx := t.Context()
	const resident = 7700009876
	c := sampleCase(31, resident, "lyon")
	c.Description = "zorglub-description"
	mustCreate(t, s, c)
	mustCreate(t, s, sampleCase(32, 1234, "lyon"))
	if err := s.SetTopic(ctx, -100123, 4242, 31); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRelay(ctx, -100123, 4243, handoff.Relay{CaseID: 31, ResidentMessageID: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, 31, handoff.Event{At: Start, Action: "created"}); err != nil {
		t.Fatal(err)
	}
	if h.Scan != nil {
		for _, entry := range h.Scan(t, s) {
			if strings.Contains(entry, "zorglub-description") {
				t.Errorf("a case's text is stored in clear: %s", entry)
			}
		}
	}
	if err := s.AddArtefact(ctx, 31, handoff.Artefact{Chat: -100123, Thread: 4242, Kind: handoff.ArtefactTopic}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCase(ctx, 31); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCase(ctx, 31); err != nil {
		t.Errorf("DeleteCase(absent) = %v", err)
	}
	if _, err := s.Case(ctx, 31); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Case after delete err = %v", err)
	}
	if _, err := s.CaseByTopic(ctx, -100123, 4242); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("topic mapping after delete err = %v", err)
	}
	if _, err := s.Relay(ctx, -100123, 4243); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("relay mapping after delete err = %v", err)
	}
	if ev, _ := s.Events(ctx, 31); len(ev) != 0 {
		t.Errorf("events after delete: %+v", ev)
	}
	if as, _ := s.Artefacts(ctx, 31); len(as) != 0 {
		t.Errorf("artefacts after delete: %+v", as)
	}
	if mine, _ := s.CasesOf(ctx, resident); len(mine) != 0 {
		t.Errorf("CasesOf after delete: %v", ids(mine))
	}
	if _, err := s.Case(ctx, 32); err != nil {
		t.Errorf("the other case: %v", err)
	}
	if h.Scan == nil {
		return
	}
	for _, entry := range h.Scan(t, s) {
		if h.DataKey != nil && h.DataKey(entry) {
			continue
		}
		if strings.Contains(entry, "7700009876") || strings.Contains(entry, "zorglub-description") {
			t.Errorf("after DeleteCase the store still holds: %s", entry)
		}
	}
}

func testCasePersistence(t *testing.T, h CasesHarness, s handoff.Store) {
	if h.Reopen == nil {
		t.Skip("backend cannot reopen")
	}
	ctx := t.Context()
	want := mustCreate(t, s, sampleCase(40, 6001, "lyon"))
	if err := s.SetTopic(ctx, -100123, 7, 40); err != nil {
		t.Fatal(err)
	}
	id, err := s.NextCaseID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2 := h.Reopen(t, s, clock.NewFake(Start))
	got, err := s2.Case(ctx, 40)
	if err != nil || !casesEqual(got, want) {
		t.Errorf("after reopen: %+v, %v", got, err)
	}
	if c, err := s2.CaseByTopic(ctx, -100123, 7); err != nil || c != 40 {
		t.Errorf("topic after reopen: %d, %v", c, err)
	}
	next, err := s2.NextCaseID(ctx)
	if err != nil || next <= id {
		t.Errorf("NextCaseID after reopen = %d, %v; want > %d", next, err, id)
	}
}
