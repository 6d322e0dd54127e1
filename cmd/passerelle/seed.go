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
	"github.com/passerelle-bot/passerelle/internal/handoff"
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
//
// With --due-now every schedule entry is due at once, on a reminder that
// is really sent (a milestone of the card fell at the last reminder hour),
// so that a dispatcher started on the store rehearses a burst. With
// --cases N the first N residents each have an open hand-off case, waiting
// at the partners of PASSERELLE_PARTNERS in turn, with its SLA timer: the
// records of a busy day, without a card in the partner groups (the
// groups are Telegram's). Seeded cases are not counted in the anonymous
// statistics.
func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", stderr)
	n := fs.Int("n", 1000, "number of synthetic residents")
	storeURL := fs.String("store", "", "store URL (required), e.g. redis://127.0.0.1:6379/0?prefix=load or bolt:load.db")
	workers := fs.Int("workers", 16, "concurrent writers")
	dueNow := fs.Bool("due-now", false, "make every seeded reminder due now (a burst for the dispatcher)")
	cases := fs.Int("cases", 0, "open a hand-off case for the first N residents, across the partners of PASSERELLE_PARTNERS")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *storeURL == "" || *n <= 0 || *workers <= 0 || *cases < 0 || *cases > *n {
		fs.Usage()
		return fmt.Errorf("%w: seed needs --store, a positive -n and --cases between 0 and -n", errUsage)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	plan := seedPlan{cfg: cfg}
	if *cases > 0 {
		if plan.partners, err = seedPartners(cfg.Partners); err != nil {
			return err
		}
		plan.cases = *cases
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
	plan.docs, plan.sched, err = reminderParts(st)
	if err != nil {
		return err
	}
	if plan.cases > 0 {
		if plan.store, err = caseStore(st); err != nil {
			return err
		}
	}
	before, hasMem := usedMemory(ctx, st)

	plan.now = time.Now()
	plan.today = permit.DateOf(plan.now, cfg.Location)
	if *dueNow {
		if plan.dueAt, plan.expiry, plan.since, err = dueNowCard(plan.now, cfg); err != nil {
			return err
		}
	}
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *workers)
	next := make(chan int)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := plan.seedOne(ctx, st, i); err != nil {
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
	if *dueNow {
		fmt.Fprintf(stdout, "every reminder is due now (%s): a dispatcher sends them at once, outside quiet hours\n", plan.dueAt.Format(time.RFC3339))
	}
	if plan.cases > 0 {
		fmt.Fprintf(stdout, "%d residents have an open case, waiting at %d partners in turn\n", min(plan.cases, int(done.Load())), len(plan.partners))
	}
	if after, ok := usedMemory(ctx, st); ok && hasMem && done.Load() > 0 {
		grow := after - before
		fmt.Fprintf(stdout, "redis used_memory grew by %d bytes: %.0f bytes per resident (profile + document + schedule entry)\n", grow, float64(grow)/float64(done.Load()))
	}
	return err
}

// seedPlan is what every seeded resident gets.
type seedPlan struct {
	cfg   config
	docs  bot.DocumentStore
	sched interface {
		Schedule(context.Context, string, time.Time) error
	}
	now   time.Time
	today permit.Date
	// dueAt, when set (--due-now), is when every reminder is due, and
	// expiry and since the dates of a card with a milestone then.
	dueAt         time.Time
	expiry, since permit.Date
	// cases: the first cases residents have an open case, at partners
	// in turn, kept in store.
	cases    int
	partners []*handoff.Partner
	store    handoff.Store
}

// seedOne writes resident i: a profile, a carte de séjour temporaire ending
// within the next year (with --due-now, one with a milestone at dueAt),
// its schedule entry and, among the first cases residents, an open case.
func (sp *seedPlan) seedOne(ctx context.Context, st bot.Store, i int) error {
	user := int64(seedFirstUser + i)
	langs := []string{"fr", "en", "ar"}
	p := bot.Profile{Schema: bot.SchemaVersion, UserID: user, ChatID: user, Lang: langs[i%len(langs)], Created: sp.now, LastSeen: sp.now}
	if i < sp.cases {
		id, err := sp.seedCase(ctx, p, i)
		if err != nil {
			return fmt.Errorf("seed resident %d: %w", i, err)
		}
		p.OpenCase = id
	}
	if err := st.PutProfile(ctx, p); err != nil {
		return fmt.Errorf("seed resident %d: %w", i, err)
	}
	d := bot.Document{
		Schema: bot.SchemaVersion, UserID: user, ChatID: user, ID: "1",
		Kind: permit.KindCST, Mention: permit.MentionUnknown, Holder: bot.HolderMe,
		Expiry: sp.today.AddDays(30 + i%365), Since: sp.today, Created: sp.now,
	}
	due := bot.NextDue(d, sp.now, sp.cfg.ReminderHour, sp.cfg.Location, true)
	if !sp.dueAt.IsZero() {
		d.Expiry, d.Since, due = sp.expiry, sp.since, sp.dueAt
	}
	if !due.IsZero() {
		if err := sp.sched.Schedule(ctx, bot.ReminderID(user, d.ID), due); err != nil {
			return fmt.Errorf("seed resident %d: %w", i, err)
		}
	}
	if err := sp.docs.PutDocument(ctx, d); err != nil {
		return fmt.Errorf("seed resident %d: %w", i, err)
	}
	return nil
}

// seedCase opens resident p's case (the i-th) at the next partner, with
// its SLA timer, as the intake would, and returns its id.
func (sp *seedPlan) seedCase(ctx context.Context, p bot.Profile, i int) (int64, error) {
	partner := sp.partners[i%len(sp.partners)]
	dep := "75"
	if !partner.AllDepartements && len(partner.Departements) > 0 {
		dep = partner.Departements[0]
	}
	id, err := sp.store.NextCaseID(ctx)
	if err != nil {
		return 0, fmt.Errorf("case id: %w", err)
	}
	c := handoff.Case{
		Schema: 1, ID: id, ResidentID: p.UserID, ResidentChat: p.ChatID, Lang: p.Lang, Departement: dep,
		Problem: handoff.ProblemLogin, PartnerID: partner.ID, Status: handoff.StatusWaiting,
		Created: sp.now, Routed: sp.now,
	}
	if _, err := sp.store.CreateCase(ctx, c); err != nil {
		return 0, fmt.Errorf("create case: %w", err)
	}
	if err := sp.sched.Schedule(ctx, "c:"+strconv.FormatInt(id, 10), handoff.Deadline(c, partner)); err != nil {
		return 0, fmt.Errorf("case timer: %w", err)
	}
	return id, nil
}

// seedPartners returns the active partners of the partners file.
func seedPartners(path string) ([]*handoff.Partner, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --cases needs the partners file (PASSERELLE_PARTNERS)", errUsage)
	}
	ps, err := loadPartners(path)
	if err != nil {
		return nil, err
	}
	var out []*handoff.Partner
	for _, p := range ps.All() {
		if p.Active {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no active partner to open cases at", path)
	}
	return out, nil
}

// dueNowCard returns the last reminder time at or before now (the
// reminder hour today, or yesterday before it) and the end and start
// dates of a card that has a milestone then, so that its reminder is sent
// when claimed.
func dueNowCard(now time.Time, cfg config) (at time.Time, expiry, since permit.Date, err error) {
	local := now.In(cfg.Location)
	at = time.Date(local.Year(), local.Month(), local.Day(), cfg.ReminderHour, 0, 0, 0, cfg.Location)
	if at.After(now) {
		at = at.AddDate(0, 0, -1)
	}
	day := permit.DateOf(at, cfg.Location)
	for off := 0; off <= 800; off++ {
		d := bot.Document{Kind: permit.KindCST, Mention: permit.MentionUnknown, Holder: bot.HolderMe, Expiry: day.AddDays(off), Since: day}
		if bot.NextDue(d, at.Add(-time.Millisecond), cfg.ReminderHour, cfg.Location, false).Equal(at) {
			return at, d.Expiry, d.Since, nil
		}
	}
	return time.Time{}, permit.Date{}, permit.Date{}, fmt.Errorf("seed --due-now: no card end date gives a reminder on %s", day)
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
