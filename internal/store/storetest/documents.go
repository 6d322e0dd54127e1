package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// The documents part of the suite: bot.DocumentStore, which every
// backend's Store implements next to reminder.Store. Forget's part (the
// documents and their reminder entries go too) is in testForget.

// docStore returns s as a bot.DocumentStore, or fails t.
func docStore(t *testing.T, s bot.Store) bot.DocumentStore {
	t.Helper()
	ds, ok := s.(bot.DocumentStore)
	if !ok {
		t.Fatalf("storetest: %T does not implement bot.DocumentStore", s)
	}
	return ds
}

// remStore returns s as a reminder.Store, or fails t.
func remStore(t *testing.T, s bot.Store) reminder.Store {
	t.Helper()
	rs, ok := s.(reminder.Store)
	if !ok {
		t.Fatalf("storetest: %T does not implement reminder.Store", s)
	}
	return rs
}

// date returns y-m-d; test data only, so an impossible date panics.
func date(y int, m time.Month, d int) permit.Date {
	dt, err := permit.NewDate(y, m, d)
	if err != nil {
		panic(err)
	}
	return dt
}

func datePtr(y int, m time.Month, d int) *permit.Date {
	dt := date(y, m, d)
	return &dt
}

// newDocument returns a document of userID with only the fields a stored
// document needs.
func newDocument(userID int64, id string) bot.Document {
	return bot.Document{
		UserID: userID, ChatID: userID, ID: id,
		Kind: permit.KindCST, Holder: bot.HolderMe,
		Expiry: date(2027, time.June, 30), Since: date(2026, time.March, 14),
		Created: Start,
	}
}

// fullDocument returns a document of userID with every field set.
func fullDocument(userID int64, id string) bot.Document {
	return bot.Document{
		UserID: userID, ChatID: userID, ID: id,
		Kind: permit.KindVLSTS, Mention: permit.MentionEtudiant,
		Holder: bot.HolderChild, Label: "мой сын «Ünïcödé» <b>&",
		Expiry:         date(2026, time.September, 1),
		Filed:          datePtr(2026, time.May, 2),
		APIExpiry:      datePtr(2026, time.December, 31),
		Arrival:        datePtr(2025, time.September, 1),
		FirstMultiYear: true,
		Since:          date(2026, time.March, 14),
		Stopped:        true,
		Created:        time.Date(2026, 3, 14, 10, 26, 53, 123456789, time.FixedZone("CET", 3600)),
	}
}

func mustPutDocument(t *testing.T, ds bot.DocumentStore, d bot.Document) {
	t.Helper()
	if err := ds.PutDocument(t.Context(), d); err != nil {
		t.Fatalf("PutDocument(%d, %q): %v", d.UserID, d.ID, err)
	}
}

func mustDocuments(t *testing.T, ds bot.DocumentStore, userID int64) []bot.Document {
	t.Helper()
	docs, err := ds.Documents(t.Context(), userID)
	if err != nil {
		t.Fatalf("Documents(%d): %v", userID, err)
	}
	return docs
}

func mustDeleteDocument(t *testing.T, ds bot.DocumentStore, userID int64, id string) {
	t.Helper()
	if err := ds.DeleteDocument(t.Context(), userID, id); err != nil {
		t.Fatalf("DeleteDocument(%d, %q): %v", userID, id, err)
	}
}

// checkDocument reads want's document back and compares every field.
func checkDocument(t *testing.T, ds bot.DocumentStore, want bot.Document) {
	t.Helper()
	got, err := ds.Document(t.Context(), want.UserID, want.ID)
	if err != nil {
		t.Fatalf("Document(%d, %q): %v", want.UserID, want.ID, err)
	}
	if d := diffDocument(want, got); d != "" {
		t.Errorf("Document(%d, %q) differs from what was put:%s", want.UserID, want.ID, d)
	}
}

func wantNoDocument(t *testing.T, ds bot.DocumentStore, userID int64, id string) {
	t.Helper()
	got, err := ds.Document(t.Context(), userID, id)
	if !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("Document(%d, %q) = %+v, %v; want ErrNotFound", userID, id, got, err)
	}
}

// checkDocuments lists userID's documents and compares them with want,
// which must be ordered by ID.
func checkDocuments(t *testing.T, ds bot.DocumentStore, userID int64, want []bot.Document) {
	t.Helper()
	got := mustDocuments(t, ds, userID)
	if !slices.Equal(docIDs(got), docIDs(want)) {
		t.Fatalf("Documents(%d) ids = %q, want %q", userID, docIDs(got), docIDs(want))
	}
	for i := range want {
		if d := diffDocument(want[i], got[i]); d != "" {
			t.Errorf("Documents(%d)[%d] (%q) differs from what was put:%s", userID, i, want[i].ID, d)
		}
	}
}

func docIDs(docs []bot.Document) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids
}

func diffDocument(want, got bot.Document) string {
	var b strings.Builder
	diff := func(name string, g, w any) {
		if g != w {
			fmt.Fprintf(&b, "\n  %s = %v, want %v", name, g, w)
		}
	}
	diff("Schema", got.Schema, bot.SchemaVersion)
	diff("UserID", got.UserID, want.UserID)
	diff("ChatID", got.ChatID, want.ChatID)
	diff("ID", got.ID, want.ID)
	diff("Kind", got.Kind, want.Kind)
	diff("Mention", got.Mention, want.Mention)
	diff("Holder", got.Holder, want.Holder)
	diff("Label", got.Label, want.Label)
	diff("Expiry", got.Expiry, want.Expiry)
	diff("Filed", fmtDate(got.Filed), fmtDate(want.Filed))
	diff("APIExpiry", fmtDate(got.APIExpiry), fmtDate(want.APIExpiry))
	diff("Arrival", fmtDate(got.Arrival), fmtDate(want.Arrival))
	diff("FirstMultiYear", got.FirstMultiYear, want.FirstMultiYear)
	diff("Since", got.Since, want.Since)
	diff("Stopped", got.Stopped, want.Stopped)
	if !sameSecond(got.Created, want.Created) {
		fmt.Fprintf(&b, "\n  Created = %v, want %v (to the second)", got.Created, want.Created)
	}
	return b.String()
}

// fmtDate shows an optional date: "nil" or its text.
func fmtDate(d *permit.Date) string {
	if d == nil {
		return "nil"
	}
	return d.String()
}

// ---- subtests ----

func testDocumentRoundTrip(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	const uid = 7700000301
	if docs := mustDocuments(t, ds, uid); len(docs) != 0 {
		t.Fatalf("Documents of an unknown user = %q, want none", docIDs(docs))
	}
	wantNoDocument(t, ds, uid, "card")

	d := newDocument(uid, "card")
	mustPutDocument(t, ds, d)
	checkDocument(t, ds, d)
	checkDocuments(t, ds, uid, []bot.Document{d})
	wantNoDocument(t, ds, uid, "card2")
	wantNoDocument(t, ds, uid, "car")

	// PutDocument replaces, every field included.
	e.clk.Advance(24 * time.Hour)
	r := fullDocument(uid, "card")
	mustPutDocument(t, ds, r)
	checkDocument(t, ds, r)
	checkDocuments(t, ds, uid, []bot.Document{r})

	// And back: optional fields that were set are cleared.
	mustPutDocument(t, ds, d)
	checkDocument(t, ds, d)
}

func testDocumentFields(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	const uid = 7700000311
	withSchema := newDocument(uid, "schema")
	withSchema.Schema = 99
	onlyFiled := newDocument(uid, "filed")
	onlyFiled.Filed = datePtr(2027, time.February, 28)
	onlyAPI := newDocument(uid, "api")
	onlyAPI.Kind, onlyAPI.APIExpiry = permit.KindAPI, datePtr(2028, time.February, 29)
	stopped := newDocument(uid, "stopped")
	stopped.Stopped = true
	helped := newDocument(uid, "helped")
	helped.Holder, helped.Label, helped.Mention = bot.HolderHelped, "ابني الكبير", permit.MentionVPF
	group := newDocument(uid, "group")
	group.ChatID = groupChat
	noCreated := newDocument(uid, "no-created")
	noCreated.Created = time.Time{}
	edges := newDocument(uid, "edges")
	edges.Expiry, edges.Since = date(9999, time.December, 31), date(1, time.January, 1)

	tests := []struct {
		name string
		d    bot.Document
	}{
		{"required fields only", newDocument(uid, "plain")},
		{"every field", fullDocument(uid, "full")},
		{"only the filing date", onlyFiled},
		{"only the API expiry", onlyAPI},
		{"stopped", stopped},
		{"helped person, RTL label", helped},
		{"group chat", group},
		{"zero Created", noCreated},
		{"extreme dates", edges},
		{"largest user id", newDocument(1<<63-1, "max")},
		{"negative user id", newDocument(-7700000312, "neg")},
		{"schema field is ignored on write", withSchema},
	}
	for _, tc := range tests {
		mustPutDocument(t, ds, tc.d)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkDocument(t, ds, tc.d) })
	}
}

func testDocumentList(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	const uid = 7700000321
	// Put out of order; listed in byte order of the IDs, not numerically.
	ids := []string{"b", "c2", "a", "c10", "A", "a-1", "é", "0"}
	byID := map[string]bot.Document{}
	for i, id := range ids {
		d := newDocument(uid, id)
		d.Expiry = date(2027, time.January, 1+i) // tell them apart
		mustPutDocument(t, ds, d)
		byID[id] = d
	}
	var want []bot.Document
	for _, id := range slices.Sorted(slices.Values(ids)) {
		want = append(want, byID[id])
	}
	checkDocuments(t, ds, uid, want)
	for _, d := range want {
		checkDocument(t, ds, d)
	}
}

func testDocumentConcurrentPuts(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	const uid, n = 7700000331, 10
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	for i := range n {
		wg.Go(func() { errs[i] = ds.PutDocument(t.Context(), newDocument(uid, "doc"+strconv.Itoa(i))) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("PutDocument %d: %v", i, err)
		}
	}
	if docs := mustDocuments(t, ds, uid); len(docs) != n {
		t.Errorf("after %d concurrent puts, Documents = %q", n, docIDs(docs))
	}
}

func testDeleteDocument(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	const uid = 7700000341
	// Absent is not an error: unknown user, then unknown id.
	mustDeleteDocument(t, ds, uid, "card")
	a, b, c := newDocument(uid, "a"), newDocument(uid, "b"), newDocument(uid, "c")
	for _, d := range []bot.Document{a, b, c} {
		mustPutDocument(t, ds, d)
	}
	mustDeleteDocument(t, ds, uid, "nope")
	checkDocuments(t, ds, uid, []bot.Document{a, b, c})

	mustDeleteDocument(t, ds, uid, "b")
	wantNoDocument(t, ds, uid, "b")
	checkDocuments(t, ds, uid, []bot.Document{a, c})
	mustDeleteDocument(t, ds, uid, "b")

	mustDeleteDocument(t, ds, uid, "a")
	mustDeleteDocument(t, ds, uid, "c")
	if docs := mustDocuments(t, ds, uid); len(docs) != 0 {
		t.Fatalf("Documents after deleting all = %q, want none", docIDs(docs))
	}
	// A deleted document can be put again.
	mustPutDocument(t, ds, b)
	checkDocuments(t, ds, uid, []bot.Document{b})
}

func testDocumentResidents(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	// The first id's decimal text is a prefix of the second's.
	const one, other = 7700000351, 77000003511
	mine, theirs := newDocument(one, "card"), fullDocument(other, "card")
	mustPutDocument(t, ds, mine)
	mustPutDocument(t, ds, theirs)
	mustPutDocument(t, ds, newDocument(other, "passport"))

	checkDocument(t, ds, mine)
	checkDocument(t, ds, theirs)
	checkDocuments(t, ds, one, []bot.Document{mine})
	wantNoDocument(t, ds, one, "passport")
	wantNoDocument(t, ds, one+1, "card")

	mustDeleteDocument(t, ds, one, "card")
	wantNoDocument(t, ds, one, "card")
	checkDocument(t, ds, theirs)
	if got := docIDs(mustDocuments(t, ds, other)); !slices.Equal(got, []string{"card", "passport"}) {
		t.Errorf("Documents(%d) = %q after deleting another resident's document", int64(other), got)
	}
}

func testDocumentInvalid(t *testing.T, e *env) {
	ds := docStore(t, e.s)
	ctx := t.Context()
	const uid = 7700000361
	good := newDocument(uid, "good")
	mustPutDocument(t, ds, good)

	bad := func(change func(d *bot.Document)) bot.Document {
		d := newDocument(uid, "bad")
		change(&d)
		return d
	}
	puts := []struct {
		name string
		d    bot.Document
	}{
		{"user id 0", bad(func(d *bot.Document) { d.UserID = 0 })},
		{"empty id", bad(func(d *bot.Document) { d.ID = "" })},
		{"id with a colon", bad(func(d *bot.Document) { d.ID = "a:b" })},
		{"id that is a colon", bad(func(d *bot.Document) { d.ID = ":" })},
		{"no expiry", bad(func(d *bot.Document) { d.Expiry = permit.Date{} })},
		{"no since", bad(func(d *bot.Document) { d.Since = permit.Date{} })},
		{"impossible expiry", bad(func(d *bot.Document) { d.Expiry = permit.Date{Year: 2027, Month: 2, Day: 30} })},
		{"zero filing date", bad(func(d *bot.Document) { d.Filed = &permit.Date{} })},
		{"zero API expiry", bad(func(d *bot.Document) { d.APIExpiry = &permit.Date{} })},
		{"zero arrival", bad(func(d *bot.Document) { d.Arrival = &permit.Date{} })},
	}
	for _, tc := range puts {
		t.Run("PutDocument/"+tc.name, func(t *testing.T) {
			if err := ds.PutDocument(ctx, tc.d); err == nil {
				t.Fatalf("PutDocument(%+v) succeeded, want an error", tc.d)
			}
		})
	}
	// Nothing was stored.
	checkDocuments(t, ds, uid, []bot.Document{good})

	keys := []struct {
		name   string
		userID int64
		id     string
	}{
		{"user id 0", 0, "good"},
		{"empty id", uid, ""},
		{"id with a colon", uid, "good:x"},
	}
	for _, k := range keys {
		t.Run("Document/"+k.name, func(t *testing.T) {
			if _, err := ds.Document(ctx, k.userID, k.id); err == nil || errors.Is(err, bot.ErrNotFound) {
				t.Errorf("Document(%d, %q): err = %v, want an error other than ErrNotFound", k.userID, k.id, err)
			}
		})
		t.Run("DeleteDocument/"+k.name, func(t *testing.T) {
			if err := ds.DeleteDocument(ctx, k.userID, k.id); err == nil {
				t.Errorf("DeleteDocument(%d, %q) succeeded, want an error", k.userID, k.id)
			}
		})
	}
	if docs, err := ds.Documents(ctx, 0); err == nil {
		t.Errorf("Documents(0) = %q, nil; want an error", docIDs(docs))
	}
	checkDocuments(t, ds, uid, []bot.Document{good})
}

func testDocumentReopen(t *testing.T, e *env) {
	if e.h.Reopen == nil {
		t.Skip("storetest: backend has no Reopen")
	}
	const uid = 7700000371
	docs := []bot.Document{fullDocument(uid, "a"), newDocument(uid, "b")}
	for _, d := range docs {
		mustPutDocument(t, docStore(t, e.s), d)
	}
	mustDeleteDocument(t, docStore(t, e.s), uid, "b")

	e.s = e.h.Reopen(t, e.s, e.clk)

	ds := docStore(t, e.s)
	checkDocuments(t, ds, uid, docs[:1])
	wantNoDocument(t, ds, uid, "b")
	mustPutDocument(t, ds, docs[1])
	checkDocuments(t, ds, uid, docs)
}
