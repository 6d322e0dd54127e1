package bolt

import (
	"strconv"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
)

func TestCasesConformance(t *testing.T) {
	storetest.RunCases(t, storetest.CasesHarness{
		Open: func(t *testing.T, clk *clock.Fake) handoff.Store { return openTemp(t, clk) },
		Reopen: func(t *testing.T, old handoff.Store, clk *clock.Fake) handoff.Store {
			t.Helper()
			path := old.(*Store).Path()
			if err := old.(*Store).Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s, err := Open(path, WithClock(clk.Now))
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Scan: func(t *testing.T, s handoff.Store) []string {
			t.Helper()
			var out []string
			err := s.(*Store).Scan(func(k, v []byte) error {
				out = append(out, strconv.Quote(string(k))+" = "+string(v))
				return nil
			})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			return out
		},
	})
}
