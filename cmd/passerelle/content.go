package main

import (
	"log/slog"
	"sync"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/locales"
)

// The catalogs and the guide built into the binary cannot change while it
// runs: a process loads and validates them once (parsing 14 locales takes
// a noticeable fraction of a second), whichever commands it runs.
var (
	builtinCatalog = sync.OnceValues(func() (*catalog.Catalog, error) {
		cat, err := catalog.Load(locales.FS)
		if err != nil {
			return nil, err
		}
		cat.SetMissing(missingLoggers.log)
		return cat, nil
	})
	builtinGuide = sync.OnceValues(func() (*guide.Guide, error) {
		cat, err := builtinCatalog()
		if err != nil {
			return nil, err
		}
		return mustGuide(cat)
	})
)

// builtinContent returns the built-in catalog and guide, and has logger
// told of every message missing from a locale until release is called.
func builtinContent(logger *slog.Logger) (cat *catalog.Catalog, g *guide.Guide, release func(), err error) {
	if cat, err = builtinCatalog(); err != nil {
		return nil, nil, nil, err
	}
	if g, err = builtinGuide(); err != nil {
		return nil, nil, nil, err
	}
	return cat, g, missingLoggers.add(logger), nil
}

// missingLoggers are the loggers of the commands running in this process
// (tests run several at once), each told of a missing message.
var missingLoggers loggerSet

type loggerSet struct {
	mu      sync.Mutex
	loggers map[*slog.Logger]int
}

func (s *loggerSet) add(l *slog.Logger) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loggers == nil {
		s.loggers = map[*slog.Logger]int{}
	}
	s.loggers[l]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.loggers[l]--; s.loggers[l] <= 0 {
				delete(s.loggers, l)
			}
		})
	}
}

func (s *loggerSet) log(lang, id string, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.loggers {
		l.Warn("catalog_missing", "lang", lang, "message_id", id)
	}
}
