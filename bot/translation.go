package bot

import (
	"context"
	"html"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// Translator machine-translates text between two locale tags. The only
// implementation is a self-hosted LibreTranslate server
// (internal/translate), used only when the operator configures one.
type Translator interface {
	Translate(ctx context.Context, text, from, to string) (string, error)
}

// translateWait bounds a translation inside an update's handling: a slow
// or absent server never holds up a resident or a volunteer for long.
const translateWait = 5 * time.Second

// translate returns text translated from one language to another, or ""
// when there is no translator, nothing to do, or it failed (logged).
func (b *Bot) translate(ctx context.Context, caseID int64, text, from, to string) string {
	if b.cfg.Translator == nil || strings.TrimSpace(text) == "" || from == to || from == "" || to == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, translateWait)
	defer cancel()
	out, err := b.cfg.Translator.Translate(ctx, text, from, to)
	if err != nil {
		b.log.Warn("translation_failed", "case", caseID, "from", from, "to", to, "err", err)
		return ""
	}
	return strings.TrimSpace(cleanText(out))
}

// translateIncoming adds the French machine translation of the texts the
// resident sent in another language.
func (b *Bot) translateIncoming(ctx context.Context, c handoff.Case, lang string, msgs []handoff.Incoming) {
	if b.cfg.Translator == nil || lang == StaffLanguage {
		return
	}
	for i, in := range msgs {
		if in.Form == handoff.FormText && in.Text != "" {
			msgs[i].Translated = b.translate(ctx, c.ID, in.Text, lang, StaffLanguage)
			if msgs[i].Translated != "" {
				msgs[i].From = lang
			}
		}
	}
}

// translationNote is the marked French translation under a copy.
func (b *Bot) translationNote(lang, translated string) string {
	return b.staff().T("case.machine_translation", "Language", languageName(lang)) + "\n<blockquote>" + html.EscapeString(translated) + "</blockquote>"
}
