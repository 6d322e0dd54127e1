package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
)

// loadPartners reads the partners file named by PASSERELLE_PARTNERS; an
// empty path means no hand-off (nil, nil).
func loadPartners(path string) (*handoff.Partners, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("PASSERELLE_PARTNERS: %w", err)
	}
	defer f.Close()
	ps, err := handoff.LoadPartners(f)
	if err != nil {
		return nil, fmt.Errorf("PASSERELLE_PARTNERS %s:\n%w", path, err)
	}
	return ps, nil
}

// caseStore returns the store's hand-off side.
func caseStore(st bot.Store) (handoff.Store, error) {
	cs, ok := st.(handoff.Store)
	if !ok {
		return nil, fmt.Errorf("store %T does not implement handoff.Store, so it cannot keep the hand-off cases PASSERELLE_PARTNERS needs (the bolt and Redis stores both do)", st)
	}
	return cs, nil
}

// outboxOf returns the store's relay outbox.
func outboxOf(st bot.Store) (bot.Outbox, error) {
	ob, ok := st.(bot.Outbox)
	if !ok {
		return nil, fmt.Errorf("store %T does not implement bot.Outbox, so it cannot keep the relay copies PASSERELLE_PARTNERS needs (the bolt and Redis stores both do)", st)
	}
	return ob, nil
}

// groupChecker is the transport's check of a partner group.
type groupChecker interface {
	CheckGroup(ctx context.Context, chatID int64) error
}

// checkGroups checks each partner's groups and marks a misconfigured
// partner unavailable (for every case when its volunteers' group is
// wrong, for sensitive cases when its referents' group is), with a log
// line that says what to fix.
func checkGroups(ctx context.Context, ps *handoff.Partners, gc groupChecker, b *bot.Bot, logger *slog.Logger) {
	for _, p := range ps.All() {
		if !p.Active {
			continue
		}
		if err := gc.CheckGroup(ctx, p.ChatID); err != nil {
			b.MarkPartnerMisconfigured(p.ID, err.Error())
			logger.Error("partner_unavailable", "partner", p.ID, "chat_id", p.ChatID, "reason", err.Error())
			continue
		}
		if p.ReferentsChatID != 0 {
			if err := gc.CheckGroup(ctx, p.ReferentsChatID); err != nil {
				b.SetReferentsUnavailable(p.ID)
				logger.Error("partner_referents_group_unavailable", "partner", p.ID, "chat_id", p.ReferentsChatID, "reason", err.Error())
			}
		}
		logger.Info("partner_ready", "partner", p.ID)
	}
}

// chatCommander sets a group's command menu (the Telegram transport).
type chatCommander interface {
	SyncChatCommands(ctx context.Context, chatID int64, cmds []telegram.Command) (bool, error)
}

// syncGroupCommands gives every partner group (volunteers' and referents')
// the volunteers' command menu, in French; residents' commands stay out
// of it. Failures are logged: the menu is a help, not a need.
func syncGroupCommands(ctx context.Context, ps *handoff.Partners, cc chatCommander, b *bot.Bot, logger *slog.Logger) {
	var cmds []telegram.Command
	for _, c := range b.GroupCommands() {
		cmds = append(cmds, telegram.Command{Name: c.Name, Description: c.Description})
	}
	for _, p := range ps.All() {
		for _, chat := range []int64{p.ChatID, p.ReferentsChatID} {
			if chat == 0 {
				continue
			}
			if _, err := cc.SyncChatCommands(ctx, chat, cmds); err != nil {
				logger.Warn("group_commands_not_set", "partner", p.ID, "chat_id", chat, "err", err)
			}
		}
	}
}
