package bot_test

import (
	"context"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
)

// TestShedTellsTheSender: the "please wait" of a shed update goes to the
// resident in the language they chose (not the one Telegram reports), to a
// partner group as a reply in the message's topic, in French, and nowhere
// in a group the bot does not serve.
func TestShedTellsTheSender(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	h.handle(t, command(51, "en", "start"))
	h.handle(t, press(51, "en", "lang:ar"))
	before := len(h.sent.to(51))

	h.bot.Shed(ctx, bot.Update{ID: 900, Kind: bot.KindText, ChatID: 51, ChatType: bot.ChatPrivate, UserID: 51, LanguageCode: "en", Text: "x"})
	got := h.sent.to(51)
	if len(got) != before+1 || got[len(got)-1].Text != h.cat.Printer("ar").Layout(h.cat.Printer("ar").T("input.busy")) {
		t.Fatalf("resident got %+v; want the Arabic input.busy", got[before:])
	}

	// A resident the store does not know yet: Telegram's language.
	h.bot.Shed(ctx, bot.Update{ID: 901, Kind: bot.KindText, ChatID: 52, ChatType: bot.ChatPrivate, UserID: 52, LanguageCode: "es", Text: "x"})
	if got := h.sent.last(t, 52).Text; got != h.cat.Printer("es").T("input.busy") {
		t.Errorf("new resident got %q; want the Spanish input.busy", got)
	}

	const group = -1001000000001
	u := groupText(group, 77, 100000011, "Léa", "on en parle", 0)
	u.ID, u.MessageID = 902, 4242
	h.bot.Shed(ctx, u)
	rep := h.sent.last(t, group)
	if rep.Text != h.cat.Printer("fr").T("input.busy") || rep.ThreadID != 77 || rep.ReplyToMessageID != 4242 {
		t.Errorf("group got %+v; want the French input.busy replying in topic 77 to message 4242", rep)
	}

	h.bot.Shed(ctx, groupText(-1009999999999, 0, 5, "X", "hello", 0))
	if n := len(h.sent.to(-1009999999999)); n != 0 {
		t.Errorf("%d messages to a group the bot does not serve", n)
	}
}
