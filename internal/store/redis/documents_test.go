package redis

import (
	"context"
	"errors"
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

// failEvalHook fails every script call with errInjected.
type failEvalHook struct{}

var errInjected = errors.New("injected failure")

func (failEvalHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (failEvalHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}
func (failEvalHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestForgetCancelsFirst: Forget cancels the reminder entries before it
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
		failing, err := New(newClientLike(t, s), WithPrefix(s.Prefix()))
		if err != nil {
			t.Fatal(err)
		}
		defer failing.Close()
		failing.c.AddHook(failEvalHook{})
		if err := failing.Forget(ctx, uid); !errors.Is(err, errInjected) {
			t.Fatalf("Forget with a failing script: err = %v, want the injected failure", err)
		}
		for _, id := range []string{"a", "b"} {
			if _, ok := mustGet(t, s, bot.ReminderID(uid, id)); ok {
				t.Errorf("entry %s survived the failed Forget: it must be cancelled first", id)
			}
		}
		if docs, err := s.Documents(ctx, uid); err != nil || len(docs) != 2 {
			t.Fatalf("after the failed Forget, Documents = %d, %v; want both", len(docs), err)
		}
		if err := s.Forget(ctx, uid); err != nil {
			t.Fatalf("retried Forget: %v", err)
		}
		var left []string
		s.Scan(ctx, func(k, v string) error { left = append(left, k+" = "+v); return nil })
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
	if err := s.c.HSet(ctx, s.docsKey(uid), "bad", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Document(ctx, uid, "bad"); err == nil || errors.Is(err, bot.ErrNotFound) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Document of a corrupt value: err = %v", err)
	}
	if _, err := s.Documents(ctx, uid); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Documents with a corrupt value: err = %v", err)
	}
}

// TestResidentMemory logs the memory used per resident with a profile, one
// document and one schedule entry (single node). The target is 500 B with
// the default prefix; test prefixes are 17 bytes longer, in two keys'
// names and tags.
func TestResidentMemory(t *testing.T) {
	s := openTest(t, testURL(t, envURL))
	ctx := t.Context()
	used := func() int64 {
		info, err := s.c.Info(ctx, "memory").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatal("no used_memory in INFO memory")
		return 0
	}
	const n = 2000
	uid := func(i int) int64 { return 7000000000 + int64(i)*7919 }
	before := used()
	for i := range n {
		u := uid(i)
		if err := s.PutProfile(ctx, bot.Profile{UserID: u, ChatID: u, Lang: "fr", Created: remT0, LastSeen: remT0}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutDocument(ctx, testDocument(u, "d1")); err != nil {
			t.Fatal(err)
		}
		if err := s.Schedule(ctx, bot.ReminderID(u, "d1"), remT0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	after := used()
	doc, _ := s.c.HGet(ctx, s.docsKey(uid(0)), "d1").Result()
	t.Logf("%d residents: used_memory +%.1f B/resident; MEMORY USAGE profile %d B, docs hash %d B (%s, value %d B)",
		n, float64(after-before)/n,
		s.c.MemoryUsage(ctx, s.profileKey(uid(0)), 0).Val(),
		s.c.MemoryUsage(ctx, s.docsKey(uid(0)), 0).Val(),
		s.c.ObjectEncoding(ctx, s.docsKey(uid(0))).Val(), len(doc))
}
