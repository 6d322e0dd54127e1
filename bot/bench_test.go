package bot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	"github.com/passerelle-bot/passerelle/locales"
)

type discard struct{}

func (discard) Send(ctx context.Context, r bot.Reply) (int, error) { return 1, nil }

// benchHandle measures one update end to end in process: dedup check and
// mark, profile and session load, routing, rendering, sending (discarded)
// and saving. Users rotate over 1000 residents who already chose French.
func benchHandle(b *testing.B, st bot.Store) {
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		b.Fatal(err)
	}
	core, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: discard{}, FloodBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	base := int64(os.Getpid()) << 32
	var next atomic.Int64
	for u := int64(1); u <= 1000; u++ {
		id := base + next.Add(1)
		if err := core.Handle(ctx, bot.Update{ID: id, Kind: bot.KindCallback, ChatID: u, ChatType: bot.ChatPrivate, UserID: u, Data: "lang:fr"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	// Like the dispatcher's 16 workers: this many updates in flight per
	// GOMAXPROCS, so that store round trips overlap.
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			u := n%1000 + 1
			if err := core.Handle(ctx, bot.Update{ID: base + n, Kind: bot.KindCommand, ChatID: u, ChatType: bot.ChatPrivate, UserID: u, Command: "help"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer() // the caller's cleanup of the store is not timed
}

// benchFloor measures the floor of benchHandle: the store calls one such
// update needs, without the core — claim the update and read the profile
// and session (one round trip on Redis), then mark it handled (one) — on
// the same residents, with the same parallelism.
func benchFloor(b *testing.B, st bot.Store) {
	ctx := context.Background()
	base := int64(os.Getpid())<<32 + 1<<31
	for u := int64(1); u <= 1000; u++ {
		if err := st.PutProfile(ctx, bot.Profile{UserID: u, ChatID: u, Lang: "fr"}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			u := n%1000 + 1
			k := bot.SessionKey{ChatID: u, UserID: u}
			if loader, ok := st.(bot.StateLoader); ok {
				if _, err := loader.LoadState(ctx, base+n, time.Minute, u, k); err != nil {
					b.Error(err)
					return
				}
			} else {
				if _, err := st.ClaimUpdate(ctx, base+n, time.Minute); err != nil {
					b.Error(err)
					return
				}
				if _, err := st.Profile(ctx, u); err != nil {
					b.Error(err)
					return
				}
				if _, err := st.Session(ctx, k); err != nil && !errors.Is(err, bot.ErrNotFound) {
					b.Error(err)
					return
				}
			}
			if _, err := st.SaveState(ctx, bot.StateWrite{UpdateID: base + n, Handled: time.Now().Add(48 * time.Hour)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
}

func BenchmarkHandleBolt(b *testing.B) {
	st, err := bolt.Open(b.TempDir()+"/bench.db", bolt.WithKeys(seal.Ephemeral()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchHandle(b, st)
}

func BenchmarkHandleFloorBolt(b *testing.B) {
	st, err := bolt.Open(b.TempDir()+"/bench.db", bolt.WithKeys(seal.Ephemeral()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchFloor(b, st)
}

func BenchmarkHandleFloorRedis(b *testing.B) {
	st := benchRedis(b)
	benchFloor(b, st)
}

func BenchmarkHandleRedis(b *testing.B) {
	benchHandle(b, benchRedis(b))
}

// benchRedis opens a Redis store with a prefix of its own, emptied and
// closed at the end of the benchmark.
func benchRedis(b *testing.B) *redis.Store {
	url := os.Getenv("PASSERELLE_TEST_REDIS_URL")
	if url == "" {
		b.Skip("set PASSERELLE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to benchmark on Redis")
	}
	prefix := fmt.Sprintf("pasbench-%d-%d", os.Getpid(), time.Now().UnixNano())
	st, err := redis.Open(context.Background(), url, redis.WithPrefix(prefix), redis.WithKeys(seal.Ephemeral()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx := context.Background()
		c := st.Client()
		st.Scan(ctx, func(key, value string) error { return c.Del(ctx, key).Err() })
		st.Close()
	})
	return st
}
