package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// migratable is what migrate needs of a store: every part, and the
// listing extensions. Both stores are.
type migratable interface {
	bot.Store
	bot.Lister
	bot.DocumentStore
	reminder.Store
	reminder.Lister
	handoff.Store
	handoff.Exporter
	bot.Outbox
	bot.OutboxLister
}

func asMigratable(st bot.Store, name string) (migratable, error) {
	m, ok := st.(migratable)
	if !ok {
		return nil, fmt.Errorf("%s: store %T cannot be listed (migrate needs bot.Lister, reminder.Lister, handoff.Exporter and bot.OutboxLister)", name, st)
	}
	return m, nil
}

// runMigrate copies one store into another through the stores' own
// methods, then compares them.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	from := fs.String("from", "", "store to copy from, e.g. bolt:/data/passerelle.db (required)")
	to := fs.String("to", "", "store to copy into, e.g. redis://redis:6379/0 (required)")
	force := fs.Bool("force", false, "copy even when the destination already holds data (records with the same ids are replaced)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fs.Usage()
		return fmt.Errorf("%w: migrate needs --from and --to", errUsage)
	}
	if *from == *to {
		return fmt.Errorf("%w: --from and --to name the same store", errUsage)
	}
	for _, u := range []string{*from, *to} {
		if err := checkStoreURL(u); err != nil {
			return fmt.Errorf("store %s: %w", redactURL(u), err)
		}
	}
	// Both stores are sealed with the operator's master key.
	keys, err := loadKey(getenv, "PASSERELLE_DATA_KEY")
	if err != nil {
		return err
	}
	if keys == nil {
		return fmt.Errorf("migrate: %w", errNoDataKey)
	}
	srcStore, err := openStore(ctx, *from, keys)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer srcStore.Close()
	dstStore, err := openStore(ctx, *to, keys)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dstStore.Close()
	src, err := asMigratable(srcStore, "--from")
	if err != nil {
		return err
	}
	dst, err := asMigratable(dstStore, "--to")
	if err != nil {
		return err
	}
	if !*force {
		empty, err := isEmpty(ctx, dst)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		if !empty {
			return errors.New("--to already holds residents, reminders or cases: migrate into an empty store, or pass --force to merge")
		}
	}
	n, err := migrate(ctx, src, dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d residents, %d documents, %d reminder entries, %d cases (%d audit events, %d topics and relays, %d artefacts to delete later), %d relay copies waiting to be sent, %d counts, %d paused partners\n",
		n.profiles, n.documents, n.entries, n.cases, n.events, n.links, n.artefacts, n.queued, n.counts, n.paused)
	fmt.Fprintln(stdout, "not copied: conversation sessions (they expire within hours) and update marks (48 h of duplicate protection; stop the bot before migrating)")
	diffs, err := compareStores(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintln(stdout, "differs: "+d)
		}
		return fmt.Errorf("verify: %d differences between the stores", len(diffs))
	}
	fmt.Fprintln(stdout, "verify: both stores hold the same residents, documents, reminders, cases, artefacts and relay copies")
	return nil
}

// redactURL hides a password in a store URL for messages.
func redactURL(u string) string {
	if i, j := strings.Index(u, "://"), strings.LastIndex(u, "@"); i >= 0 && j > i {
		return u[:i+3] + "…@" + u[j+1:]
	}
	return u
}

var errStop = errors.New("stop")

func isEmpty(ctx context.Context, s migratable) (bool, error) {
	found := false
	stop := func() error { found = true; return errStop }
	for _, walk := range []func() error{
		func() error { return s.EachProfile(ctx, func(bot.Profile) error { return stop() }) },
		func() error { return s.EachDocument(ctx, func(bot.Document) error { return stop() }) },
		func() error { return s.Entries(ctx, func(reminder.Entry) error { return stop() }) },
	} {
		if err := walk(); err != nil && !errors.Is(err, errStop) {
			return false, err
		}
	}
	cases, err := s.Cases(ctx)
	if err != nil {
		return false, err
	}
	queued, err := outboxQueues(ctx, s)
	if err != nil {
		return false, err
	}
	return !found && len(cases) == 0 && len(queued) == 0, nil
}

type migrated struct {
	profiles, documents, entries, cases, events, links, artefacts, queued, counts, paused int
}

// migrateDedup is how long the destination remembers a migrated relay
// copy so that it is not queued twice: as long as the bot itself
// remembers one (48 h, as long as Telegram may deliver an update again).
const migrateDedup = 48 * time.Hour

// outboxQueues returns the relay copies queued in s, per chat, in order
// (chats with an empty queue left out).
func outboxQueues(ctx context.Context, s migratable) (map[int64][]bot.OutboxItem, error) {
	chats, err := s.OutboxChats(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64][]bot.OutboxItem{}
	for _, chat := range chats {
		its, err := s.OutboxItems(ctx, chat)
		if err != nil {
			return nil, err
		}
		if len(its) > 0 {
			out[chat] = its
		}
	}
	return out, nil
}

// migrate copies everything but sessions and update marks from src to dst.
func migrate(ctx context.Context, src, dst migratable) (migrated, error) {
	var n migrated
	err := src.EachProfile(ctx, func(p bot.Profile) error {
		n.profiles++
		return dst.PutProfile(ctx, p)
	})
	if err != nil {
		return n, fmt.Errorf("residents: %w", err)
	}
	err = src.EachDocument(ctx, func(d bot.Document) error {
		n.documents++
		return dst.PutDocument(ctx, d)
	})
	if err != nil {
		return n, fmt.Errorf("documents: %w", err)
	}
	// Leases are not copied: a claimed entry is due again at once, and
	// delivery is at least once anyway.
	err = src.Entries(ctx, func(e reminder.Entry) error {
		n.entries++
		return dst.Schedule(ctx, e.ID, e.Due)
	})
	if err != nil {
		return n, fmt.Errorf("reminders: %w", err)
	}
	cases, err := src.Cases(ctx)
	if err != nil {
		return n, fmt.Errorf("cases: %w", err)
	}
	var maxID int64
	for _, c := range cases {
		maxID = max(maxID, c.ID)
		c.Version = 0
		if _, err := dst.CreateCase(ctx, c); err != nil && !errors.Is(err, handoff.ErrExists) {
			return n, fmt.Errorf("case %d: %w", c.ID, err)
		} else if errors.Is(err, handoff.ErrExists) {
			// --force: replace the destination's copy.
			cur, err := dst.Case(ctx, c.ID)
			if err != nil {
				return n, fmt.Errorf("case %d: %w", c.ID, err)
			}
			c.Version = cur.Version
			if _, err := dst.UpdateCase(ctx, c); err != nil {
				return n, fmt.Errorf("case %d: %w", c.ID, err)
			}
		}
		n.cases++
		have, err := dst.Events(ctx, c.ID)
		if err != nil {
			return n, fmt.Errorf("case %d: %w", c.ID, err)
		}
		events, err := src.Events(ctx, c.ID)
		if err != nil {
			return n, fmt.Errorf("case %d: %w", c.ID, err)
		}
		for _, e := range events[min(len(have), len(events)):] {
			if err := dst.AddEvent(ctx, c.ID, e); err != nil {
				return n, fmt.Errorf("case %d: %w", c.ID, err)
			}
			n.events++
		}
		links, err := src.Links(ctx, c.ID)
		if err != nil {
			return n, fmt.Errorf("case %d: %w", c.ID, err)
		}
		for _, l := range links {
			if l.Topic != 0 {
				err = dst.SetTopic(ctx, l.ChatID, l.Topic, c.ID)
			} else {
				err = dst.PutRelay(ctx, l.ChatID, l.Message, l.Relay)
			}
			if err != nil {
				return n, fmt.Errorf("case %d: %w", c.ID, err)
			}
			n.links++
		}
		// What the case left in partner groups: closing, retention and
		// /forget delete them from this record.
		arts, err := src.Artefacts(ctx, c.ID)
		if err != nil {
			return n, fmt.Errorf("case %d: artefacts: %w", c.ID, err)
		}
		for _, a := range arts {
			if err := dst.AddArtefact(ctx, c.ID, a); err != nil {
				return n, fmt.Errorf("case %d: artefacts: %w", c.ID, err)
			}
			n.artefacts++
		}
	}
	// Relay copies not sent yet, in their order. Leases are not copied:
	// a copy being sent when the bot stopped is sent again (at least
	// once, as after any restart).
	queues, err := outboxQueues(ctx, src)
	if err != nil {
		return n, fmt.Errorf("relay copies: %w", err)
	}
	for _, chat := range slices.Sorted(maps.Keys(queues)) {
		for _, it := range queues[chat] {
			it.Seq = 0
			if _, err := dst.OutboxEnqueue(ctx, it, migrateDedup); err != nil {
				return n, fmt.Errorf("relay copies: %w", err)
			}
			n.queued++
		}
	}
	if err := dst.EnsureCaseID(ctx, maxID); err != nil {
		return n, fmt.Errorf("case numbers: %w", err)
	}
	// Counts outlive cases: bring the destination's to the source's.
	want, err := src.Counts(ctx)
	if err != nil {
		return n, fmt.Errorf("counts: %w", err)
	}
	have, err := dst.Counts(ctx)
	if err != nil {
		return n, fmt.Errorf("counts: %w", err)
	}
	haveN := map[handoff.Count]int{}
	for _, c := range have {
		haveN[countKey(c)] = c.N
	}
	for _, c := range want {
		if d := c.N - haveN[countKey(c)]; d > 0 {
			if err := dst.AddCount(ctx, handoff.Count{Month: c.Month, Departement: c.Departement, Problem: c.Problem, Partner: c.Partner, N: d}); err != nil {
				return n, fmt.Errorf("counts: %w", err)
			}
		}
		n.counts++
	}
	paused, err := src.PausedPartners(ctx)
	if err != nil {
		return n, fmt.Errorf("paused partners: %w", err)
	}
	for _, id := range paused {
		if err := dst.SetPaused(ctx, id, true); err != nil {
			return n, fmt.Errorf("paused partners: %w", err)
		}
		n.paused++
	}
	return n, nil
}

func countKey(c handoff.Count) handoff.Count { c.N = 0; return c }

// snapshot is what a store holds, normalised for comparison: times to
// the second in UTC (a compact encoding may drop the rest), no record
// versions (each store numbers its own writes), no leases.
type snapshot struct {
	Profiles map[int64]bot.Profile
	Docs     map[string]bot.Document
	Entries  map[string]time.Time
	Cases    map[int64]handoff.Case
	Events   map[int64][]handoff.Event
	Links    map[int64][]handoff.Link
	Arts     map[int64][]handoff.Artefact
	Outbox   map[int64][]bot.OutboxItem // without Seq: each store numbers its own
	Counts   map[handoff.Count]int
	Paused   []string
}

func second(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}

func takeSnapshot(ctx context.Context, s migratable) (snapshot, error) {
	sn := snapshot{
		Profiles: map[int64]bot.Profile{}, Docs: map[string]bot.Document{}, Entries: map[string]time.Time{},
		Cases: map[int64]handoff.Case{}, Events: map[int64][]handoff.Event{}, Links: map[int64][]handoff.Link{},
		Arts: map[int64][]handoff.Artefact{}, Counts: map[handoff.Count]int{},
	}
	err := s.EachProfile(ctx, func(p bot.Profile) error {
		p.Created, p.LastSeen = second(p.Created), second(p.LastSeen)
		sn.Profiles[p.UserID] = p
		return nil
	})
	if err != nil {
		return sn, err
	}
	err = s.EachDocument(ctx, func(d bot.Document) error {
		d.Created = second(d.Created)
		sn.Docs[bot.ReminderID(d.UserID, d.ID)] = d
		return nil
	})
	if err != nil {
		return sn, err
	}
	if err := s.Entries(ctx, func(e reminder.Entry) error { sn.Entries[e.ID] = e.Due.UTC(); return nil }); err != nil {
		return sn, err
	}
	cases, err := s.Cases(ctx)
	if err != nil {
		return sn, err
	}
	for _, c := range cases {
		c.Version = 0
		for _, t := range []*time.Time{&c.Created, &c.Routed, &c.Taken, &c.Activity, &c.Closed} {
			*t = second(*t)
		}
		sn.Cases[c.ID] = c
		events, err := s.Events(ctx, c.ID)
		if err != nil {
			return sn, err
		}
		for i := range events {
			events[i].At = second(events[i].At)
		}
		sn.Events[c.ID] = events
		links, err := s.Links(ctx, c.ID)
		if err != nil {
			return sn, err
		}
		slices.SortFunc(links, func(a, b handoff.Link) int {
			if a.ChatID != b.ChatID {
				return cmpInt(a.ChatID, b.ChatID)
			}
			if a.Topic != b.Topic {
				return cmpInt(int64(a.Topic), int64(b.Topic))
			}
			return cmpInt(int64(a.Message), int64(b.Message))
		})
		sn.Links[c.ID] = links
		arts, err := s.Artefacts(ctx, c.ID)
		if err != nil {
			return sn, err
		}
		slices.SortFunc(arts, handoff.CompareArtefacts)
		if len(arts) > 0 {
			sn.Arts[c.ID] = arts
		}
	}
	if sn.Outbox, err = outboxQueues(ctx, s); err != nil {
		return sn, err
	}
	for _, its := range sn.Outbox {
		for i := range its {
			its[i].Seq = 0
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		return sn, err
	}
	for _, c := range counts {
		sn.Counts[countKey(c)] += c.N
	}
	if sn.Paused, err = s.PausedPartners(ctx); err != nil {
		return sn, err
	}
	slices.Sort(sn.Paused)
	return sn, nil
}

func cmpInt(a, b int64) int { return cmp.Compare(a, b) }

// compareStores returns one line per difference between two stores, by
// kind and id only (never the data itself).
func compareStores(ctx context.Context, a, b migratable) ([]string, error) {
	sa, err := takeSnapshot(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	sb, err := takeSnapshot(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	var diffs []string
	diffs = append(diffs, diffMaps("resident", sa.Profiles, sb.Profiles, func(k int64) string { return strconv.FormatInt(k, 10) })...)
	diffs = append(diffs, diffMaps("document", sa.Docs, sb.Docs, func(k string) string { return k })...)
	diffs = append(diffs, diffMaps("reminder", sa.Entries, sb.Entries, func(k string) string { return k })...)
	caseID := func(k int64) string { return "#" + strconv.FormatInt(k, 10) }
	diffs = append(diffs, diffMaps("case", sa.Cases, sb.Cases, caseID)...)
	diffs = append(diffs, diffMaps("audit log of case", sa.Events, sb.Events, caseID)...)
	diffs = append(diffs, diffMaps("topics and relays of case", sa.Links, sb.Links, caseID)...)
	diffs = append(diffs, diffMaps("artefacts of case", sa.Arts, sb.Arts, caseID)...)
	diffs = append(diffs, diffMaps("relay copies waiting for chat", sa.Outbox, sb.Outbox, func(k int64) string { return strconv.FormatInt(k, 10) })...)
	diffs = append(diffs, diffMaps("count", sa.Counts, sb.Counts, func(k handoff.Count) string {
		return k.Month + "/" + k.Departement + "/" + string(k.Problem)
	})...)
	if !slices.Equal(sa.Paused, sb.Paused) {
		diffs = append(diffs, fmt.Sprintf("paused partners: %v in the source, %v in the destination", sa.Paused, sb.Paused))
	}
	return diffs, nil
}

func diffMaps[K comparable, V any](kind string, a, b map[K]V, name func(K) string) []string {
	var out []string
	for k, va := range a {
		vb, ok := b[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s %s: missing in the destination", kind, name(k)))
		case !reflect.DeepEqual(va, vb):
			out = append(out, fmt.Sprintf("%s %s: not the same", kind, name(k)))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s %s: only in the destination", kind, name(k)))
		}
	}
	slices.Sort(out)
	return out
}
