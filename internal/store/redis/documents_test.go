package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	goredis "github.com/redis/go-redis/v9"
)

func testDocument(userID int64, id string) bot.Document {
	filed := permit.Date{Year: 2027, Month: 3, Day: 2}
	return bot.Document{
		UserID: userID, ChatID: userID, ID: id,
		Kind: permit.KindCST, Mention: permit.MentionSalarie, Holder: bot.HolderMe,
		Expiry: permit.Date{Year: 2027, Month: 6, Day: 30}, Filed: &filed,
		Since: permit.Date{Year: 2026, Month: 3, Day: 14}, Created: remT0,
	}
}

// failScriptHook fails every call of one script with errInjected.
type failScriptHook struct{ script *goredis.Script }

var errInjected = errors.New("injected failure")

func (failScriptHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h failScriptHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		args := cmd.Args()
		if name := cmd.Name(); (name == "evalsha" || name == "eval") && len(args) > 1 {
			body := fmt.Sprint(args[1])
			if body == h.script.Hash() || goredis.NewScript(body).Hash() == h.script.Hash() {
				cmd.SetErr(errInjected)
				return errInjected
			}
		}
		return next(ctx, cmd)
	}
}
func (failScriptHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestForgetCancelsFirst: Forget removes the reminder entries before it
// deletes the documents, so when the deletion fails the documents are
// still there and a retry completes.
func TestForgetCancelsFirst(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const uid = 7700000951
		for _, id := range []string{"a", "b"} {
			if err := s.PutDocument(ctx, testDocument(uid, id)); err != nil {
				t.Fatal(err)
			}
			if err := s.Schedule(ctx, bot.ReminderID(uid, id), remT0); err != nil {
				t.Fatal(err)
			}
		}
		failing, err := New(t.Context(), newClientLike(t, s), WithPrefix(s.Prefix()), WithKeys(testKeys))
		if err != nil {
			t.Fatal(err)
		}
		defer failing.Close()
		failing.c.AddHook(failScriptHook{forgetScript})
		if err := failing.Forget(ctx, uid); !errors.Is(err, errInjected) {
			t.Fatalf("Forget with a failing script: err = %v, want the injected failure", err)
		}
		for _, id := range []string{"a", "b"} {
			if _, ok := mustGet(t, s, bot.ReminderID(uid, id)); ok {
				t.Errorf("entry %s survived the failed Forget: it must be cancelled first", id)
			}
		}
		// The data key went first: what is left cannot be opened.
		if docs, err := s.Documents(ctx, uid); err != nil || len(docs) != 0 {
			t.Fatalf("after the failed Forget, Documents = %d, %v; want none readable", len(docs), err)
		}
		if n, _ := s.c.HLen(ctx, s.residentKey(uid)).Result(); n != 2 {
			t.Fatalf("after the failed Forget the resident hash has %d fields; want the 2 documents, sealed, without their key", n)
		}
		if err := s.Forget(ctx, uid); err != nil {
			t.Fatalf("retried Forget: %v", err)
		}
		var left []string
		scanData(ctx, s, func(k, v string) error { left = append(left, k+" = "+v); return nil })
		if len(left) != 0 {
			t.Errorf("after the retried Forget, keys left: %q", left)
		}
	})
}

// newClientLike returns a new client to the server(s) behind s.
func newClientLike(t *testing.T, s *Store) goredis.UniversalClient {
	t.Helper()
	switch c := s.c.(type) {
	case *goredis.ClusterClient:
		return goredis.NewClusterClient(c.Options())
	case *goredis.Client:
		return goredis.NewClient(c.Options())
	}
	t.Fatalf("unexpected client %T", s.c)
	return nil
}

// TestDocumentsSorted: Documents orders by ID even when the hash returns
// its fields in another order (a hashtable-encoded hash does).
func TestDocumentsSorted(t *testing.T) {
	s := openTest(t, testURL(t, envURL))
	ctx := t.Context()
	const uid = 7700000952
	var want []string
	for i := 99; i >= 0; i-- {
		id := "d" + strconv.Itoa(i)
		want = append(want, id)
		d := testDocument(uid, id)
		d.Label = strings.Repeat("x", 30)
		if err := s.PutDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	docs, err := s.Documents(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Documents ids = %q, want %q", got, want)
	}
}

// TestDocumentCorrupt: a value that is not a document is an error naming
// the document, not a silent zero.
func TestDocumentCorrupt(t *testing.T) {
	s := openTest(t, testURL(t, envURL))
	ctx := t.Context()
	const uid = 7700000953
	if err := s.c.HSet(ctx, s.residentKey(uid), docField+"bad", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Document(ctx, uid, "bad"); err == nil || errors.Is(err, bot.ErrNotFound) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Document of a corrupt value: err = %v", err)
	}
	if _, err := s.Documents(ctx, uid); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Documents with a corrupt value: err = %v", err)
	}
}

// TestResidentHashCompact: a resident with a profile and documents, with
// or without a label of 30 characters, keeps a listpack-encoded hash under
// Redis's default hash-max-listpack-value (64 bytes), the point of the
// compact records.
func TestResidentHashCompact(t *testing.T) {
	s := openTest(t, testURL(t, envURL))
	ctx := t.Context()
	if v, err := s.c.ConfigGet(ctx, "hash-max-listpack-value").Result(); err == nil && v["hash-max-listpack-value"] != "64" {
		t.Skipf("hash-max-listpack-value is %q, not the default 64", v["hash-max-listpack-value"])
	}
	const uid = 7700000954
	p := bot.Profile{UserID: uid, ChatID: uid, Lang: "zh-Hans", Created: remT0, LastSeen: remT0, Blocked: true}
	if err := s.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	full := testDocument(uid, "1")
	full.Kind, full.Mention, full.Holder = permit.KindVLSTS, permit.MentionTravailleurTemporaire, bot.HolderHelped
	full.APIExpiry = &permit.Date{Year: 2027, Month: 9, Day: 30}
	full.Arrival = &permit.Date{Year: 2025, Month: 9, Day: 1}
	full.FirstMultiYear, full.Stopped = true, true
	labelled := testDocument(uid, "2")
	labelled.Holder, labelled.Label = bot.HolderChild, strings.Repeat("д", bot.MaxLabel) // 60 bytes
	for _, d := range []bot.Document{full, labelled} {
		if err := s.PutDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	key := s.residentKey(uid)
	if enc := s.c.ObjectEncoding(ctx, key).Val(); enc != "listpack" {
		m := s.c.HGetAll(ctx, key).Val()
		t.Errorf("OBJECT ENCODING = %q, want listpack; fields: %q", enc, m)
	}
	t.Logf("MEMORY USAGE of the resident hash: %d B", s.c.MemoryUsage(ctx, key, 0).Val())
}

// TestForgetSweepsLargeSchedule: Forget finds the resident's entries that
// have no document, leased or not, in a schedule big enough that each
// shard is a hashtable the sweep walks in several steps, and leaves every
// other entry alone, including those of ids that start with the same
// digits.
func TestForgetSweepsLargeSchedule(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		s.scanCount = 50
		const uid, others = 7700000955, 3000
		var kept []string
		for i := range others {
			kept = append(kept, fmt.Sprintf("%d:1", 7700000000+int64(i)*7))
		}
		kept = append(kept, "77000009551:1", "770000095:1", "17700000955:1")
		_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range kept {
				p.ZAdd(ctx, s.remKeys(remShard(id))[0], goredis.Z{Score: float64(remT0.Add(time.Duration(i) * time.Second).UnixMilli()), Member: id})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		mine := []string{"a", "b", "c", "d", "e", "f"}
		for i, doc := range mine {
			if err := s.Schedule(ctx, bot.ReminderID(uid, doc), remT0.Add(time.Duration(i-1)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutDocument(ctx, testDocument(uid, "a")); err != nil { // one with its document
			t.Fatal(err)
		}
		if cs := mustClaim(t, s, remT0.Add(-time.Hour), 10, time.Hour); len(cs) != 1 || cs[0].ID != bot.ReminderID(uid, "a") {
			t.Fatalf("Claim = %+v, want only 7700000955:a", cs)
		}
		h := &countHook{}
		s.c.AddHook(h)
		if err := s.Forget(ctx, uid); err != nil {
			t.Fatal(err)
		}
		if h.n.Load() <= 3 {
			t.Errorf("Forget took %d round trips: the sweep did not take several steps", h.n.Load())
		}
		var members int
		err = scanData(ctx, s, func(k, v string) error {
			for _, m := range strings.Fields(v) {
				if strings.HasPrefix(m, "7700000955:") {
					t.Errorf("after Forget, %s still holds an entry of the resident: %s", k, m)
				}
				members++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if members != len(kept) {
			t.Errorf("after Forget, %d entries are left, want the %d of others", members, len(kept))
		}
		for _, id := range kept[len(kept)-3:] {
			if _, ok := mustGet(t, s, id); !ok {
				t.Errorf("Forget removed %s", id)
			}
		}
	})
}
