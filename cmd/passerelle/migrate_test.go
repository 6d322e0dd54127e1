package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// fillStore writes residents, documents, schedule entries and cases with
// their audit logs, topics, relays, artefacts, counts and a paused
// partner, and relay copies waiting in two chats (one of them leased, as
// when the bot stopped while sending it).
func fillStore(t *testing.T, s migratable) {
	t.Helper()
	ctx := context.Background()
	created := time.Date(2026, 3, 14, 9, 26, 53, 123e6, time.UTC)
	for i, u := range []int64{7701, 7702, 7703} {
		p := bot.Profile{Schema: bot.SchemaVersion, UserID: u, ChatID: u, Lang: []string{"ar", "fr", "zh-Hans"}[i], Created: created, LastSeen: created.Add(time.Hour), News: i == 1, Partner: "lyon"}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		d := bot.Document{Schema: bot.SchemaVersion, UserID: u, ChatID: u, ID: "d1", Kind: permit.KindCST, Holder: bot.HolderChild, Label: "mon fils",
			Expiry: permit.Date{Year: 2027, Month: time.June, Day: 30}, Since: permit.Date{Year: 2026, Month: time.March, Day: 14}, Created: created}
		if err := s.PutDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := s.Schedule(ctx, bot.ReminderID(u, "d1"), created.AddDate(0, i+1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{1, 2} {
		if _, err := s.NextCaseID(ctx); err != nil {
			t.Fatal(err)
		}
		c := handoff.Case{Schema: 1, ID: id, ResidentID: 7701, ResidentChat: 7701, Lang: "ar", Departement: "69",
			Problem: handoff.ProblemNoAPI, PartnerID: "lyon", Status: handoff.StatusWaiting, Created: created, Routed: created,
			Description: "API pas renouvelée", Risks: []handoff.Risk{handoff.RiskWork}}
		if id == 2 {
			c.Status, c.TakenBy, c.TakenAlias, c.TopicID, c.Taken = handoff.StatusTaken, 555, "Léa", 42, created.Add(time.Hour)
		}
		if _, err := s.CreateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, id, handoff.Event{At: created, Actor: 0, Action: "created"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Schedule(ctx, "c:"+string(rune('0'+id)), created.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{
		s.AddEvent(ctx, 2, handoff.Event{At: created.Add(time.Hour), Actor: 555, Action: "taken", Detail: "lyon"}),
		s.SetTopic(ctx, -1001234, 42, 2),
		s.PutRelay(ctx, -1001234, 900, handoff.Relay{CaseID: 2, ResidentMessageID: 17}),
		s.PutRelay(ctx, 7701, 31, handoff.Relay{CaseID: 2}),
		s.AddCount(ctx, handoff.Count{Month: "2025-11", Departement: "75", Problem: handoff.ProblemLogin, N: 4}),
		s.SetPaused(ctx, "paris", true),
		// What case 2 left in the group, to be deleted when it goes.
		s.AddArtefact(ctx, 2, handoff.Artefact{Chat: -1001234, Message: 899, Kind: handoff.ArtefactCard}),
		s.AddArtefact(ctx, 2, handoff.Artefact{Chat: -1001234, Thread: 42, Kind: handoff.ArtefactTopic}),
		s.AddArtefact(ctx, 2, handoff.Artefact{Chat: -1001234, Thread: 42, Message: 900, Kind: handoff.ArtefactCopy}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []bot.OutboxItem{
		{Chat: -1001234, Thread: 42, Case: 2, Message: 18},
		{Chat: -1001234, Thread: 42, Case: 2, Message: 19},
		{Chat: -1001234, Thread: 42, Case: 2, Message: 20},
		{Chat: -1009999, Thread: 7, Case: 1, Message: 5},
	} {
		if _, err := s.OutboxEnqueue(ctx, it, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _, err := s.OutboxClaim(ctx, -1001234, time.Hour); !ok || err != nil {
		t.Fatalf("OutboxClaim = %v, %v", ok, err)
	}
}

// TestMigrate: `passerelle migrate` moves residents, documents, the
// schedule and cases from bbolt into Redis (or a second bbolt file without
// Redis), and the conformance scan finds both stores equal; a change on
// one side is then found.
func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	from := "bolt:" + filepath.Join(dir, "from.db")
	targets := []backend{{"bolt", func(t *testing.T) string { return "bolt:" + filepath.Join(t.TempDir(), "to.db") }}}
	for _, be := range backends(t) {
		if be.name == "redis" {
			targets = append(targets, be)
		}
	}
	src, err := openStore(context.Background(), from, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, src.(migratable))
	src.Close()

	for _, be := range targets {
		t.Run(be.name, func(t *testing.T) {
			to := be.store(t)
			var out bytes.Buffer
			if err := run(context.Background(), []string{"migrate", "--from", from, "--to", to}, envOf(map[string]string{"PASSERELLE_DATA_KEY": testDataKey}), nil, &out, &out); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out.String())
			}
			for _, want := range []string{"copied 3 residents, 3 documents, 5 reminder entries, 2 cases (3 audit events, 3 topics and relays, 3 artefacts to delete later), 4 relay copies waiting to be sent", "verify: both stores hold the same"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("migrate output lacks %q:\n%s", want, out.String())
				}
			}
			// A second run refuses a store that holds data.
			out.Reset()
			if err := run(context.Background(), []string{"migrate", "--from", from, "--to", to}, envOf(map[string]string{"PASSERELLE_DATA_KEY": testDataKey}), nil, &out, &out); err == nil {
				t.Errorf("migrate into a full store succeeded:\n%s", out.String())
			}

			ctx := context.Background()
			a, err := openStore(ctx, from, testKeys)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := openStore(ctx, to, testKeys)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			dst := b.(migratable)
			// The next case number continues after the migrated ones.
			if id, err := dst.NextCaseID(ctx); err != nil || id <= 2 {
				t.Errorf("NextCaseID after migrate = %d, %v; want above 2", id, err)
			}
			// The relay copies keep their order, and the one leased in the
			// source is not leased in the destination.
			if its, err := dst.OutboxItems(ctx, -1001234); err != nil || len(its) != 3 || its[0].Message != 18 || its[2].Message != 20 {
				t.Errorf("destination queue = %+v, %v", its, err)
			}
			if it, ok, _, err := dst.OutboxClaim(ctx, -1001234, time.Minute); !ok || err != nil || it.Message != 18 {
				t.Errorf("destination OutboxClaim = %+v, %v, %v; want message 18", it, ok, err)
			}
			// The scan can fail: change one field of each kind.
			p, _ := dst.Profile(ctx, 7702)
			p.News = false
			dst.PutProfile(ctx, p)
			dst.Schedule(ctx, bot.ReminderID(7703, "d1"), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			dst.AddEvent(ctx, 1, handoff.Event{At: time.Now(), Action: "extra"})
			dst.SetPaused(ctx, "paris", false)
			dst.RemoveArtefacts(ctx, 2, []handoff.Artefact{{Chat: -1001234, Thread: 42, Message: 900, Kind: handoff.ArtefactCopy}})
			dst.OutboxEnqueue(ctx, bot.OutboxItem{Chat: -1009999, Thread: 7, Case: 1, Message: 6}, time.Hour)
			diffs, err := compareStores(ctx, a.(migratable), dst)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"resident 7702: not the same", "reminder 7703:d1: not the same", "audit log of case #1: not the same", "paused partners",
				"artefacts of case #2: not the same", "relay copies waiting for chat -1009999: not the same"}
			if len(diffs) != len(want) {
				t.Errorf("diffs = %q; want %d", diffs, len(want))
			}
			for _, w := range want {
				found := false
				for _, d := range diffs {
					found = found || strings.HasPrefix(d, w)
				}
				if !found {
					t.Errorf("diffs %q lack %q", diffs, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "from.db")); err != nil {
		t.Fatal(err)
	}
}
