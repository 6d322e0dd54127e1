package bolt

import (
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
)

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, storetest.OutboxHarness{
		Open: func(t *testing.T, clk *clock.Fake) bot.Outbox { return openTemp(t, clk) },
		Reopen: func(t *testing.T, old bot.Outbox, clk *clock.Fake) bot.Outbox {
			return reopen(t, old.(*Store), clk)
		},
	})
}
