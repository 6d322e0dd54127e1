package bot

import (
	"context"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
)

// shedLimit bounds the "please wait" of a shed update: reading the
// resident's language and sending.
const (
	shedLimit       = 30 * time.Second
	shedProfileWait = 2 * time.Second
)

// Dropped counts an update the Dispatcher shed (OutcomeShed).
func (b *Bot) Dropped(u Update) {
	if o := b.cfg.Observer; o != nil {
		o.UpdateReceived(u.Kind)
		o.UpdateHandled(u.Kind, OutcomeShed, 0)
	}
}

// Shed tells the sender of an update the Dispatcher dropped, because their
// chat's queue was full, to wait and send it again ("input.busy"): once per
// burst, in the resident's language (their choice, else what Telegram
// reports; the store is asked for at most 2 s, since a slow store may be
// why the chat is slow). In a partner group the answer replies to the
// message, in French, like every staff text. Nothing else happens: the
// update is not marked handled, so nothing about it is stored.
func (b *Bot) Shed(ctx context.Context, u Update) {
	if u.ChatID == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, shedLimit)
	defer cancel()
	rep := Reply{ChatID: u.ChatID, Lane: LaneInteractive}
	var p *catalog.Printer
	if u.Private() {
		p = b.shedPrinter(ctx, u)
	} else {
		if b.partnerByChat(u.ChatID) == nil {
			return // a group the bot does not serve: it never answers there
		}
		p = b.staff()
		rep.ThreadID = u.ThreadID
		rep.ReplyToMessageID = u.MessageID
	}
	rep.Text = p.T("input.busy")
	if err := b.send(ctx, laidOut(p, rep)); err != nil {
		b.log.Warn("shed_notice_failed", "update_id", u.ID, "chat_id", u.ChatID, "err", err)
		return
	}
	b.log.Info("shed_notice_sent", "update_id", u.ID, "chat_id", u.ChatID)
}

// shedPrinter returns the printer of the resident's chosen language, or of
// the language Telegram reports when the profile cannot be read in time.
func (b *Bot) shedPrinter(ctx context.Context, u Update) *catalog.Printer {
	pctx, cancel := context.WithTimeout(ctx, shedProfileWait)
	defer cancel()
	if p, err := b.store.Profile(pctx, u.UserID); err == nil && p.Lang != "" && b.cat.Has(p.Lang) {
		return b.cat.Printer(p.Lang)
	}
	return b.printerFor(&Request{Update: u, bot: b})
}
