package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
)

// handlerFunc adapts a function to bot.UpdateHandler.
type handlerFunc func(context.Context, bot.Update) error

func (f handlerFunc) Handle(ctx context.Context, u bot.Update) error { return f(ctx, u) }

func send(t *testing.T, c *console.Console, r bot.Reply) {
	t.Helper()
	if _, err := c.Send(context.Background(), r); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func TestKeyboardIsPrinted(t *testing.T) {
	var out strings.Builder
	c := console.New(&out)
	const leave = "🚪 End the help"
	send(t, c, bot.Reply{ChatID: 1, Text: "A volunteer will answer here.", Keyboard: [][]string{{leave}, {"A", " ", "B"}}})
	want := "bot> A volunteer will answer here.\n" +
		"     [keyboard] " + leave + "\n" +
		"     [keyboard] A   [keyboard] B\n"
	if out.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", out.String(), want)
	}

	// Inline buttons win, as on Telegram: no keyboard, no removal.
	out.Reset()
	send(t, c, bot.Reply{ChatID: 1, Text: "Closed.", RemoveKeyboard: true, Keyboard: [][]string{{"x"}},
		Buttons: [][]bot.Button{{{Label: "👍", Data: "fb:1"}}}})
	if got := out.String(); strings.Contains(got, "[keyboard") || !strings.Contains(got, "[1] 👍") {
		t.Errorf("inline buttons with a keyboard printed\n%s", got)
	}
	// Edits carry no reply keyboard.
	out.Reset()
	send(t, c, bot.Reply{ChatID: 1, EditMessageID: 1, Text: "Edited", Keyboard: [][]string{{"x"}}, RemoveKeyboard: true})
	if got := out.String(); strings.Contains(got, "[keyboard") {
		t.Errorf("edit printed a keyboard\n%s", got)
	}
	// Removal is printed once, while a keyboard is shown.
	out.Reset()
	send(t, c, bot.Reply{ChatID: 1, Text: "Help ended.", RemoveKeyboard: true})
	send(t, c, bot.Reply{ChatID: 1, Text: "Bye.", RemoveKeyboard: true})
	if want := "bot> Help ended.\n     [keyboard removed]\nbot> Bye.\n"; out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
}

// A keyboard button is chosen by typing its text: the core gets that text.
func TestKeyboardButtonIsTyped(t *testing.T) {
	var out strings.Builder
	c := console.New(&out)
	const leave = "🚪 End the help"
	var got []bot.Update
	h := handlerFunc(func(ctx context.Context, u bot.Update) error {
		got = append(got, u)
		if len(got) == 1 {
			_, err := c.Send(ctx, bot.Reply{ChatID: u.ChatID, Text: "Help started.", Keyboard: [][]string{{leave}}})
			return err
		}
		return nil
	})
	if err := c.Run(context.Background(), h, strings.NewReader("help\n"+leave+"\n"), console.Options{UserID: 7}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Kind != bot.KindText || got[1].Text != leave || got[1].UserID != 7 {
		t.Fatalf("updates = %+v", got)
	}
	if !strings.Contains(out.String(), "[keyboard] "+leave) {
		t.Errorf("keyboard not printed:\n%s", out.String())
	}
}
