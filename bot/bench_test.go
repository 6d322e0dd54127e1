package bot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	"github.com/passerelle-bot/passerelle/locales"
	goredis "github.com/redis/go-redis/v9"
	bbolt "go.etcd.io/bbolt"
)

// The hot-path benchmarks (README, Benchmarks):
//
//	go test -run '^$' -bench 'Handle|Floor' -cpu 1 -count 3 ./bot
//
// BenchmarkHandleRedis and BenchmarkHandleBolt measure one update end to
// end in process (claim, profile and session load, routing, rendering,
// sending to a sender that discards, saving and marking), with
// benchInFlight updates in flight per GOMAXPROCS, as the dispatcher's
// workers do. Each also measures its floor on the same store and data,
// for as many updates, in turns of benchChunk updates alternating with
// the timed ones (the floor's turns are not timed by b), and reports it
// (floor-ns/op) with the ratio (x-floor) and the rate (updates/s);
// BenchmarkHandleBolt also reports how many updates shared a commit and
// its rate against BenchmarkHandleRedis's in the same run (x-redis-rate). BenchmarkFloorRedis and BenchmarkFloorBolt measure
// the floor alone.
//
// The floor is the store's I/O and nothing else:
//
//   - Redis: the same commands with go-redis — one pipeline of SET NX PX GET
//     (the claim), HMGET of the resident hash and HMGET of the session, then
//     one SET PX (the mark) — on the store's own client and keys.
//   - bbolt: the same transactions with bbolt — one read-only transaction
//     per update reading its mark, profile and session, and one read-write
//     transaction (two fdatasyncs) committing the marks of benchInFlight
//     updates together, as group commit allows at best.
//
// Floors do not open or seal records (AES-GCM, about a microsecond each):
// that is the store's own work, counted against it.
//
// The bbolt file is on disk, in $PASSERELLE_BENCH_DIR or /var/tmp (not
// in TMPDIR, which may be a tmpfs where fdatasync costs nothing).

// benchInFlight is how many updates are in flight per GOMAXPROCS.
const benchInFlight = 16

// benchResidents is how many residents the updates rotate over.
const benchResidents = 1000

type discard struct{}

func (discard) Send(ctx context.Context, r bot.Reply) (int, error) { return 1, nil }

var benchCatalog = sync.OnceValues(func() (*catalog.Catalog, error) { return catalog.Load(locales.FS) })

// benchCore builds a core on st whose benchResidents residents already
// chose French, and returns it with the first free update id.
func benchCore(b *testing.B, st bot.Store) (*bot.Bot, int64) {
	b.Helper()
	cat, err := benchCatalog()
	if err != nil {
		b.Fatal(err)
	}
	core, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: discard{}, FloodBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	base := int64(os.Getpid())<<32 + time.Now().UnixNano()%(1<<28)<<2
	for u := int64(1); u <= benchResidents; u++ {
		if err := core.Handle(ctx, bot.Update{ID: base + u, Kind: bot.KindCallback, ChatID: u, ChatType: bot.ChatPrivate, UserID: u, Data: "lang:fr"}); err != nil {
			b.Fatal(err)
		}
	}
	return core, base + benchResidents + 1
}

// inFlight runs fn(0) … fn(n-1) with benchInFlight×GOMAXPROCS goroutines
// and returns how long it took; the first error stops it.
func inFlight(n int, fn func(i int64) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	start := time.Now()
	for range benchInFlight * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || first.Load() != nil {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if e := first.Load(); e != nil {
		return d, *e
	}
	return d, nil
}

// handleN handles n /help commands of the residents, update ids from base.
func handleN(core *bot.Bot, n int, base int64) (time.Duration, error) {
	ctx := context.Background()
	return inFlight(n, func(i int64) error {
		u := i%benchResidents + 1
		return core.Handle(ctx, bot.Update{ID: base + i, Kind: bot.KindCommand, ChatID: u, ChatType: bot.ChatPrivate, UserID: u, Command: "help"})
	})
}

// benchChunk is how many updates each turn of a paired measurement
// handles before running the floor for as many: handle and floor
// alternate, so that a change of load on a shared machine affects both.
const benchChunk = 512

// paired measures b.N updates with handle, timed by b, alternating with
// b.N of floor, timed apart, and reports the floor (floor-ns/op), the
// ratio (x-floor) and the update rate (updates/s).
func paired(b *testing.B, handle, floor func(n int, base int64) (time.Duration, error), base int64) {
	b.Helper()
	var floorTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(benchChunk, b.N-done)
		b.StartTimer()
		_, err := handle(n, base+int64(done))
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		d, err := floor(n, base+int64(b.N+done))
		if err != nil {
			b.Fatal(err)
		}
		floorTime += d
		done += n
	}
	h := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	f := float64(floorTime.Nanoseconds()) / float64(b.N)
	b.ReportMetric(f, "floor-ns/op")
	b.ReportMetric(h/f, "x-floor")
	b.ReportMetric(1e9/h, "updates/s")
}

// redisRates are the update rates BenchmarkHandleRedis measured in this
// run, which BenchmarkHandleBolt compares itself with (it runs after).
var redisRates struct {
	sync.Mutex
	perSec []float64
}

func BenchmarkHandleRedis(b *testing.B) {
	st := benchRedis(b)
	core, base := benchCore(b, st)
	floor := newRedisFloor(st)
	b.ReportAllocs()
	paired(b, func(n int, base int64) (time.Duration, error) { return handleN(core, n, base) }, floor.run, base)
	if b.N > 1000 {
		redisRates.Lock()
		redisRates.perSec = append(redisRates.perSec, float64(b.N)/b.Elapsed().Seconds())
		redisRates.Unlock()
	}
}

func BenchmarkFloorRedis(b *testing.B) {
	st := benchRedis(b)
	ctx := context.Background()
	for u := int64(1); u <= benchResidents; u++ {
		if err := st.PutProfile(ctx, bot.Profile{UserID: u, ChatID: u, Lang: "fr"}); err != nil {
			b.Fatal(err)
		}
	}
	floor := newRedisFloor(st)
	b.ReportAllocs()
	b.ResetTimer()
	_, err := floor.run(b.N, int64(os.Getpid())<<32+time.Now().UnixNano()%(1<<28)<<2)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkHandleBolt(b *testing.B) {
	st, err := bolt.Open(benchBoltPath(b), bolt.WithKeys(seal.Ephemeral()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	core, base := benchCore(b, st)
	commits0 := st.Commits()
	b.ReportAllocs()
	paired(b, func(n int, base int64) (time.Duration, error) { return handleN(core, n, base) },
		func(n int, base int64) (time.Duration, error) { return boltFloor(st.DB(), n, base) }, base)
	b.ReportMetric(float64(b.N)/float64(max(1, st.Commits()-commits0)), "updates/commit")
	redisRates.Lock()
	if rates := redisRates.perSec; len(rates) > 0 {
		// Against the median of this run's Redis measurements.
		s := slices.Sorted(slices.Values(rates))
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/s[len(s)/2], "x-redis-rate")
	}
	redisRates.Unlock()
}

func BenchmarkFloorBolt(b *testing.B) {
	st, err := bolt.Open(benchBoltPath(b), bolt.WithKeys(seal.Ephemeral()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for u := int64(1); u <= benchResidents; u++ {
		if err := st.PutProfile(ctx, bot.Profile{UserID: u, ChatID: u, Lang: "fr"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	_, err = boltFloor(st.DB(), b.N, 1)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
}

// redisFloor issues the Redis commands of one update on a store's client
// and keys (internal/store/redis's layout).
type redisFloor struct {
	c      goredis.UniversalClient
	prefix string
}

func newRedisFloor(st *redis.Store) *redisFloor {
	return &redisFloor{c: st.Client(), prefix: st.Prefix()}
}

// run issues the commands of n updates, ids from base, with
// benchInFlight×GOMAXPROCS in flight.
func (f *redisFloor) run(n int, base int64) (time.Duration, error) {
	ctx := context.Background()
	tag := f.prefix + ":{" + f.prefix + ":u"
	return inFlight(n, func(i int64) error {
		u := strconv.FormatInt(i%benchResidents+1, 10)
		upd := f.prefix + ":upd:" + strconv.FormatInt(base+i, 10)
		now := time.Now().UnixMilli()
		_, err := f.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			p.Do(ctx, "set", upd, "l:0123456789abcdef01234567:"+strconv.FormatInt(now+45000, 10), "px", 45000, "nx", "get")
			p.HMGet(ctx, tag+u+"}:r", "k", "p", "P")
			p.HMGet(ctx, tag+u+"}:s:"+u, "rec", "ver", "exp")
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
		_, err = f.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			p.Set(ctx, upd, now+48*3600*1000, 48*time.Hour)
			return nil
		})
		return err
	})
}

// boltFloor runs the bbolt transactions of n updates, ids from base, on
// db (internal/store/bolt's layout): per update, a read-only
// transaction reading the update's mark, the profile and the session; per
// benchInFlight updates, one read-write transaction writing their marks
// and expiry index entries. One goroutine: nothing overlaps the fsyncs.
func boltFloor(db *bbolt.DB, n int, base int64) (time.Duration, error) {
	start := time.Now()
	var sink int
	for done := 0; done < n; done += benchInFlight {
		group := min(benchInFlight, n-done)
		for i := range group {
			id := base + int64(done+i)
			u := strconv.FormatInt(id%benchResidents+1, 10)
			err := db.View(func(tx *bbolt.Tx) error {
				sink += len(tx.Bucket([]byte("updates")).Get(strconv.AppendInt(nil, id, 10)))
				sink += len(tx.Bucket([]byte("profiles")).Get([]byte(u)))
				sink += len(tx.Bucket([]byte("sessions")).Get([]byte(u + "/" + u)))
				return nil
			})
			if err != nil {
				return 0, err
			}
		}
		until := time.Now().Add(48 * time.Hour).UnixMilli()
		err := db.Update(func(tx *bbolt.Tx) error {
			upd, exp := tx.Bucket([]byte("updates")), tx.Bucket([]byte("update_exp"))
			for i := range group {
				key := strconv.AppendInt(nil, base+int64(done+i), 10)
				if err := upd.Put(key, strconv.AppendInt(nil, until, 10)); err != nil {
					return err
				}
				k := make([]byte, 8, 8+len(key))
				for j := range 8 {
					k[j] = byte((uint64(until) ^ 1<<63) >> (56 - 8*j))
				}
				if err := exp.Put(append(k, key...), nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	_ = sink
	return time.Since(start), nil
}

// benchBoltPath returns a bbolt file path on disk, removed at the end.
func benchBoltPath(b *testing.B) string {
	dir := os.Getenv("PASSERELLE_BENCH_DIR")
	if dir == "" {
		dir = "/var/tmp"
	}
	d, err := os.MkdirTemp(dir, "passerelle-bench-")
	if err != nil {
		d = b.TempDir()
	} else {
		b.Cleanup(func() { os.RemoveAll(d) })
	}
	return d + "/bench.db"
}

// benchRedis opens a Redis store with a prefix of its own, emptied and
// closed at the end of the benchmark (b.Cleanup: after the timer stopped).
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
