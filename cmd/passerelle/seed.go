package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	goredis "github.com/redis/go-redis/v9"
)

// seedFirstUser is the first synthetic user id: far above the ids Telegram
// gives people today, so seeded residents are easy to tell apart.
const seedFirstUser = 9_000_000_000_000

// runSeed fills a store with n synthetic residents, each with one tracked
// card and its schedule entry, for benchmarks and load tests. On Redis it
// reports the growth of used_memory per resident.
func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", stderr)
	n := fs.Int("n", 1000, "number of synthetic residents")
	storeURL := fs.String("store", "", "store URL (required), e.g. redis://127.0.0.1:6379/0?prefix=load or bolt:load.db")
	workers := fs.Int("workers", 16, "concurrent writers")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *storeURL == "" || *n <= 0 || *workers <= 0 {
		fs.Usage()
		return fmt.Errorf("%w: seed needs --store and a positive -n", errUsage)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	keys := cfg.DataKey
	if keys == nil {
		// Synthetic residents for a load test: a key that dies with the
		// process is enough, and keeps real keys out of test stores.
		keys = seal.Ephemeral()
		fmt.Fprintln(stdout, "PASSERELLE_DATA_KEY is not set: sealing with a temporary key (the seeded residents cannot be read afterwards)")
	}
	st, err := openStore(ctx, *storeURL, keys)
	if err != nil {
		return err
	}
	defer st.Close()
	docs, sched, err := reminderParts(st)
	if err != nil {
		return err
	}
	before, hasMem := usedMemory(ctx, st)

	now := time.Now()
	today := permit.DateOf(now, cfg.Location)
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *workers)
	next := make(chan int)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := seedOne(ctx, st, docs, sched, i, now, today, cfg); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	start := time.Now()
feed:
	for i := 0; i < *n; i++ {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d residents (one card each) in %s (%.0f residents/s)\n", done.Load(), took.Round(time.Millisecond), float64(done.Load())/took.Seconds())
	if after, ok := usedMemory(ctx, st); ok && hasMem && done.Load() > 0 {
		grow := after - before
		fmt.Fprintf(stdout, "redis used_memory grew by %d bytes: %.0f bytes per resident (profile + document + schedule entry)\n", grow, float64(grow)/float64(done.Load()))
	}
	return err
}

// seedOne writes resident i: a profile, a carte de séjour temporaire ending
// within the next year, and its schedule entry.
func seedOne(ctx context.Context, st bot.Store, docs bot.DocumentStore, sched interface {
	Schedule(context.Context, string, time.Time) error
}, i int, now time.Time, today permit.Date, cfg config) error {
	user := int64(seedFirstUser + i)
	langs := []string{"fr", "en", "ar"}
	p := bot.Profile{Schema: bot.SchemaVersion, UserID: user, ChatID: user, Lang: langs[i%len(langs)], Created: now, LastSeen: now}
	if err := st.PutProfile(ctx, p); err != nil {
		return fmt.Errorf("seed resident %d: %w", i, err)
	}
	d := bot.Document{
		Schema: bot.SchemaVersion, UserID: user, ChatID: user, ID: "1",
		Kind: permit.KindCST, Mention: permit.MentionUnknown, Holder: bot.HolderMe,
		Expiry: today.AddDays(30 + i%365), Since: today, Created: now,
	}
	due := bot.NextDue(d, now, cfg.ReminderHour, cfg.Location, true)
	if !due.IsZero() {
		if err := sched.Schedule(ctx, bot.ReminderID(user, d.ID), due); err != nil {
			return fmt.Errorf("seed resident %d: %w", i, err)
		}
	}
	if err := docs.PutDocument(ctx, d); err != nil {
		return fmt.Errorf("seed resident %d: %w", i, err)
	}
	return nil
}

// usedMemory reads Redis INFO used_memory when st is a Redis store.
func usedMemory(ctx context.Context, st bot.Store) (int64, bool) {
	rs, ok := st.(*redis.Store)
	if !ok {
		return 0, false
	}
	if _, cluster := rs.Client().(*goredis.ClusterClient); cluster {
		return 0, false // INFO would reach one node only
	}
	info, err := rs.Client().Info(ctx, "memory").Result()
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(info, "\n") {
		if v, found := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); found {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
