package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
)

type recordSender struct {
	mu    sync.Mutex
	chats []int64
}

func (s *recordSender) Send(ctx context.Context, r bot.Reply) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats = append(s.chats, r.ChatID)
	return len(s.chats), nil
}

// TestSeedDueNowAndCases: `passerelle seed --due-now --cases N` on bbolt
// (and Redis when PASSERELLE_TEST_REDIS_URL is set) leaves every reminder
// due, each one sending its message when claimed, and N residents with an
// open case, waiting at the partners of the partners file in turn.
func TestSeedDueNowAndCases(t *testing.T) {
	t.Parallel()
	stores := map[string]string{"bolt": "bolt:" + filepath.Join(t.TempDir(), "seed.db")}
	if url := os.Getenv("PASSERELLE_TEST_REDIS_URL"); url != "" {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		stores["redis"] = fmt.Sprintf("%s%sprefix=seedtest-%d-%d", url, sep, os.Getpid(), time.Now().UnixNano())
	}
	const n, cases = 24, 10
	for name, url := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := envOf(map[string]string{"PASSERELLE_DATA_KEY": testDataKey, "PASSERELLE_PARTNERS": "../../partners.example.yaml"})
			var out bytes.Buffer
			args := []string{"seed", "-n", fmt.Sprint(n), "--due-now", "--cases", fmt.Sprint(cases), "--store", url}
			if err := run(context.Background(), args, env, nil, &out, &out); err != nil {
				t.Fatalf("seed: %v\n%s", err, out.String())
			}
			for _, want := range []string{"seeded 24 residents", "every reminder is due now", "10 residents have an open case"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("seed output lacks %q:\n%s", want, out.String())
				}
			}
			cfg, err := loadConfig(env)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			st, err := openStore(ctx, url, cfg.DataKey)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if name == "redis" {
				defer wipe(t, st)
			}
			docs, sched, _ := reminderParts(st)
			cs, _ := caseStore(st)
			partners, err := loadPartners(cfg.Partners)
			if err != nil {
				t.Fatal(err)
			}
			cat, err := sharedCatalog()
			if err != nil {
				t.Fatal(err)
			}
			sender := &recordSender{}
			b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: sender, Documents: docs, Reminders: sched, Partners: partners, Cases: cs, Location: cfg.Location})
			if err != nil {
				t.Fatal(err)
			}
			claims, err := sched.Claim(ctx, time.Now(), 1000, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			reminders := 0
			for _, c := range claims {
				if strings.HasPrefix(c.ID, "c:") {
					t.Errorf("case timer %s due at once; want it at the SLA deadline", c.ID)
					continue
				}
				reminders++
				if _, err := b.Notify(ctx, c); err != nil {
					t.Fatalf("Notify %s: %v", c.ID, err)
				}
			}
			if reminders != n || len(sender.chats) != n {
				t.Errorf("%d reminders due, %d sent; want %d of each", reminders, len(sender.chats), n)
			}
			perPartner := map[string]int{}
			for i := range n {
				user := int64(seedFirstUser + i)
				p, err := st.Profile(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				if (p.OpenCase != 0) != (i < cases) {
					t.Errorf("resident %d: open case %d", i, p.OpenCase)
				}
				if p.OpenCase == 0 {
					continue
				}
				c, err := cs.Case(ctx, p.OpenCase)
				if err != nil || c.ResidentID != user || c.Status != handoff.StatusWaiting {
					t.Errorf("case of resident %d = %+v, %v", i, c, err)
				}
				perPartner[c.PartnerID]++
				if e, ok, err := sched.Get(ctx, fmt.Sprintf("c:%d", c.ID)); err != nil || !ok || !e.Due.After(time.Now()) {
					t.Errorf("case %d timer = %+v, %v, %v", c.ID, e, ok, err)
				}
			}
			if len(perPartner) < 2 {
				t.Errorf("cases per partner = %v; want them across the partners", perPartner)
			}
		})
	}
}

// wipe removes every key of a Redis store's prefix.
func wipe(t *testing.T, st bot.Store) {
	ctx := context.Background()
	rs := st.(*redis.Store)
	if err := rs.Scan(ctx, func(key, _ string) error { return rs.Client().Del(ctx, key).Err() }); err != nil {
		t.Error(err)
	}
}
