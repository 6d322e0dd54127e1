package bolt

import (
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
)

func TestCasesConformance(t *testing.T) {
	storetest.RunCases(t, storetest.CasesHarness{
		Open: func(t *testing.T, clk *clock.Fake) handoff.Store { return openTemp(t, clk) },
		Reopen: func(t *testing.T, old handoff.Store, clk *clock.Fake) handoff.Store {
			return reopen(t, old.(*Store), clk)
		},
		Scan:    func(t *testing.T, s handoff.Store) []string { return scanAll(t, s.(*Store)) },
		DataKey: func(entry string) bool { return strings.HasPrefix(entry, `"keys/`) },
	})
}
