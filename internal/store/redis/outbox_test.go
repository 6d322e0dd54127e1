package redis

import (
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
)

func outboxHarness(rawURL string) storetest.OutboxHarness {
	return storetest.OutboxHarness{
		Open: func(t *testing.T, clk *clock.Fake) bot.Outbox {
			return openTest(t, rawURL, WithClock(clk.Now))
		},
		Reopen: func(t *testing.T, old bot.Outbox, clk *clock.Fake) bot.Outbox {
			t.Helper()
			prefix := old.(*Store).Prefix()
			if err := old.(*Store).Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s, err := Open(t.Context(), rawURL, WithPrefix(prefix), WithKeys(testKeys), WithClock(clk.Now))
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

func TestOutboxConformanceSingle(t *testing.T) {
	storetest.RunOutbox(t, outboxHarness(testURL(t, envURL)))
}

func TestOutboxConformanceCluster(t *testing.T) {
	storetest.RunOutbox(t, outboxHarness(clusterURL(t)))
}
