package redis

import (
	"context"
	"crypto/rand"
	"flag"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	goredis "github.com/redis/go-redis/v9"
)

var memoryN = flag.Int("memory.n", 10000, "residents BenchmarkMemoryPerResident writes")

// BenchmarkMemoryPerResident writes -memory.n residents through the
// store's public methods, as `passerelle seed` does: a profile
// (PutProfile), then one tracked card without label (PutDocument), then
// its reminder entry (Schedule). It reports the growth of Redis INFO
// used_memory per resident after each part, and in total (the target is
// at most 500 B). used_memory counts the whole server, so run it on a
// single node nothing else writes to, e.g.
//
//	PASSERELLE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	  go test -run '^$' -bench MemoryPerResident -benchtime 1x ./internal/store/redis/ -memory.n 100000
//
// The keys use a fresh prefix as long as DefaultPrefix, so the figures are
// those of a deployment, and are deleted afterwards. User ids have 10
// digits, like today's Telegram ids; the document id is "1", the id the
// bot gives a resident's first document.
func BenchmarkMemoryPerResident(b *testing.B) {
	u := os.Getenv(envURL)
	if u == "" {
		b.Skipf("set %s to run Redis benchmarks", envURL)
	}
	ctx := context.Background()
	n := *memoryN
	s := memoryStore(b, u)
	var profile, document, entry float64
	for b.Loop() {
		deleteKeys(b, s)
		m0 := usedMemory(b, s)
		memoryWrite(b, n, func(i int, user int64) error {
			return s.PutProfile(ctx, memoryProfile(i, user))
		})
		m1 := usedMemory(b, s)
		memoryWrite(b, n, func(i int, user int64) error {
			return s.PutDocument(ctx, memoryDocument(i, user))
		})
		m2 := usedMemory(b, s)
		memoryWrite(b, n, func(i int, user int64) error {
			return s.Schedule(ctx, bot.ReminderID(user, "1"), memoryStart.Add(time.Duration(i)*time.Minute))
		})
		m3 := usedMemory(b, s)
		profile += float64(m1-m0) / float64(n)
		document += float64(m2-m1) / float64(n)
		entry += float64(m3-m2) / float64(n)
	}
	runs := float64(b.N)
	b.ReportMetric(profile/runs, "B/profile")
	b.ReportMetric(document/runs, "B/document")
	b.ReportMetric(entry/runs, "B/entry")
	b.ReportMetric((profile+document+entry)/runs, "B/resident")
	key := s.residentKey(memoryUser(0))
	b.Logf("%d residents; resident hash: %s, MEMORY USAGE %d B, fields %q",
		n, s.c.ObjectEncoding(ctx, key).Val(), s.c.MemoryUsage(ctx, key, 0).Val(), s.c.HGetAll(ctx, key).Val())
	deleteKeys(b, s)
}

// memoryStart is the base time of the benchmark's residents.
var memoryStart = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// memoryUser is resident i's Telegram user id (10 digits).
func memoryUser(i int) int64 { return 7_000_000_000 + int64(i)*7 }

func memoryProfile(i int, user int64) bot.Profile {
	langs := []string{"fr", "en", "ar"}
	at := memoryStart.Add(time.Duration(i) * time.Second)
	return bot.Profile{UserID: user, ChatID: user, Lang: langs[i%len(langs)], Created: at, LastSeen: at}
}

func memoryDocument(i int, user int64) bot.Document {
	today := permit.DateOf(memoryStart, time.UTC)
	return bot.Document{
		UserID: user, ChatID: user, ID: "1",
		Kind: permit.KindCST, Mention: permit.MentionSalarie, Holder: bot.HolderMe,
		Expiry: today.AddDays(30 + i%365), Since: today, Created: memoryStart.Add(time.Duration(i) * time.Second),
	}
}

// memoryWrite calls write for residents 0..n-1 from 16 goroutines.
func memoryWrite(b *testing.B, n int, write func(i int, user int64) error) {
	b.Helper()
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := write(i, memoryUser(i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// memoryStore opens a store on rawURL, a single node, with a fresh prefix
// of three characters (as long as DefaultPrefix) under which no key exists.
func memoryStore(b *testing.B, rawURL string) *Store {
	b.Helper()
	ctx := context.Background()
	for range 100 {
		s, err := Open(ctx, rawURL, WithPrefix("m"+strings.ToLower(rand.Text()[:2])), WithKeys(testKeys))
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := s.c.(*goredis.Client); !ok {
			b.Fatalf("%s is not a single node: used_memory would count one node of several", envURL)
		}
		used := false
		it := s.c.Scan(ctx, 0, s.prefix+":*", 1000).Iterator()
		for !used && it.Next(ctx) {
			used = it.Val() != s.keyCheckKey() // Open wrote that one
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		if !used {
			b.Cleanup(func() { s.Close() })
			return s
		}
		s.Close()
	}
	b.Fatal("no free prefix")
	return nil
}

// deleteKeys deletes every key under s's prefix.
func deleteKeys(b *testing.B, s *Store) {
	b.Helper()
	ctx := context.Background()
	it := s.c.Scan(ctx, 0, s.prefix+":*", 1000).Iterator()
	var keys []string
	flush := func() {
		if len(keys) > 0 {
			if err := s.c.Unlink(ctx, keys...).Err(); err != nil {
				b.Fatal(err)
			}
			keys = keys[:0]
		}
	}
	for it.Next(ctx) {
		keys = append(keys, it.Val())
		if len(keys) == 1000 {
			flush()
		}
	}
	if err := it.Err(); err != nil {
		b.Fatal(err)
	}
	flush()
}

// usedMemory returns INFO used_memory, once the server has freed what
// UNLINK handed to its background thread.
func usedMemory(b *testing.B, s *Store) int64 {
	b.Helper()
	ctx := context.Background()
	for {
		info, err := s.c.Info(ctx, "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		var used, pending int64 = -1, 0
		for line := range strings.SplitSeq(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				used, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(line, "lazyfree_pending_objects:"); ok {
				pending, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if used < 0 {
			b.Fatal("no used_memory in INFO memory")
		}
		if pending == 0 {
			return used
		}
		time.Sleep(10 * time.Millisecond)
	}
}
