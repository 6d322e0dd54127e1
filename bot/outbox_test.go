package bot_test

import (
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
)

// TestMemOutboxConformance: the outbox a bot uses without a store (the
// terminal) behaves like the stores' ones, but for persistence.
func TestMemOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, storetest.OutboxHarness{
		Open: func(t *testing.T, clk *clock.Fake) bot.Outbox { return bot.NewMemOutbox(clk) },
	})
}
