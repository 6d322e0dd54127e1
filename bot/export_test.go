package bot

import (
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// Mux exposes the routes to tests, which add handlers that panic or block.
func (b *Bot) Mux() *Mux { return b.mux }

// NewMemOutbox is the in-memory outbox, for the conformance suite.
func NewMemOutbox(clk clock.Clock) Outbox { return newMemOutbox(clk) }

// SourceLines shows the source lines of tags in lang, as guide results do.
func (b *Bot) SourceLines(lang string, tags []string) []string {
	return b.sourceLines(b.cat.Printer(lang), tags)
}

// ErrBusy is errBusy, for the dispatcher's tests.
var ErrBusy = errBusy

// LongDate writes a date as residents read it in p's language.
func LongDate(p *catalog.Printer, d permit.Date) string { return longDate(p, d) }
