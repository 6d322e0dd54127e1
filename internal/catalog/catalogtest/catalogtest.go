// Package catalogtest gives a package's tests the shipped catalog, loaded
// once per test binary: a load parses 14 locales (about a second under
// -race) and nearly every conversation test needs one. A message that
// falls back to English in any test is recorded; the package's TestMain
// fails the binary with the list (Exit).
package catalogtest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/locales"
)

var shipped = sync.OnceValues(func() (*catalog.Catalog, error) {
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		return nil, err
	}
	cat.SetMissing(fallbacks.add)
	return cat, nil
})

// Shipped returns the shared catalog, failing t when it cannot be loaded.
// Tests must not change it (SetMissing): load their own for that.
func Shipped(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// Exit is for TestMain after m.Run: with code 0 and a fallback recorded,
// it prints them and exits 1; otherwise it exits with code.
func Exit(code int) {
	if seen := fallbacks.all(); len(seen) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d catalog fallbacks in the tests' shared catalog:\n  %s\n", len(seen), strings.Join(seen, "\n  "))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

var fallbacks missing

type missing struct {
	mu   sync.Mutex
	seen []string
}

func (m *missing) add(lang, id string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := lang + " " + id
	if err != nil {
		s += ": " + err.Error()
	}
	m.seen = append(m.seen, s)
}

func (m *missing) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.seen)
}
