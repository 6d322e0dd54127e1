package telegram_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

func TestSyncCommands(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	want := map[string][]telegram.Command{
		"":   {{Name: "start", Description: "Start"}, {Name: "help", Description: "Help"}},
		"fa": {{Name: "start", Description: "شروع"}, {Name: "help", Description: "راهنما"}},
		"zh": {{Name: "start", Description: "开始"}},
	}
	changed, err := e.c.SyncCommands(ctx, want)
	if err != nil || changed != 3 {
		t.Fatalf("first SyncCommands = %d, %v; want 3, nil", changed, err)
	}
	if got := e.s.Commands(telegramtest.CommandScope{}, "fa"); len(got) != 2 || got[1].Description != "راهنما" {
		t.Errorf("fa commands = %+v", got)
	}
	if got := e.s.Commands(telegramtest.CommandScope{}, ""); len(got) != 2 || got[0].Command != "start" {
		t.Errorf("default commands = %+v", got)
	}
	changed, err = e.c.SyncCommands(ctx, want)
	if err != nil || changed != 0 {
		t.Fatalf("second SyncCommands = %d, %v; want 0, nil", changed, err)
	}
	if n := len(e.s.Calls("setMyCommands")); n != 3 {
		t.Errorf("setMyCommands calls = %d; want 3 (once per language)", n)
	}
	want["zh"] = append(want["zh"], telegram.Command{Name: "help", Description: "帮助"})
	if changed, err := e.c.SyncCommands(ctx, want); err != nil || changed != 1 {
		t.Errorf("SyncCommands after a change = %d, %v; want 1, nil", changed, err)
	}
}

func TestSyncCommandsRejects(t *testing.T) {
	e := newEnv(t, nil)
	for name, byLang := range map[string]map[string][]telegram.Command{
		"script subtag": {"zh-Hans": {{Name: "start", Description: "开始"}}},
		"upper case":    {"FA": {{Name: "start", Description: "x"}}},
		"bad name":      {"": {{Name: "Start!", Description: "x"}}},
		"no desc":       {"": {{Name: "start"}}},
	} {
		if _, err := e.c.SyncCommands(context.Background(), byLang); err == nil {
			t.Errorf("SyncCommands(%s) = nil; want an error", name)
		}
	}
	if n := len(e.s.Calls("")) - len(e.s.Calls("getMe")); n != 0 {
		t.Errorf("%d calls made for invalid input; want 0", n)
	}
}

func TestSetDescriptions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := e.c.SetDescriptions(ctx, "fa", "راهنمای اقامت", "کمک"); err != nil {
			t.Fatalf("SetDescriptions: %v", err)
		}
	}
	if got := e.s.Description("fa"); got != "راهنمای اقامت" {
		t.Errorf("Description(fa) = %q", got)
	}
	if got := e.s.ShortDescription("fa"); got != "کمک" {
		t.Errorf("ShortDescription(fa) = %q", got)
	}
	if n, m := len(e.s.Calls("setMyDescription")), len(e.s.Calls("setMyShortDescription")); n != 1 || m != 1 {
		t.Errorf("set calls = %d, %d; want 1, 1 (only when changed)", n, m)
	}
	if err := e.c.SetDescriptions(ctx, "pt-BR", "x", "y"); err == nil {
		t.Error("SetDescriptions(pt-BR) = nil; want an error")
	}
}

func TestNewRejectedToken(t *testing.T) {
	s := telegramtest.NewServer(t)
	_, err := telegram.New(context.Background(), telegram.Config{
		Token: "42:wrong-token", APIURL: s.APIURL(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if !errors.Is(err, telegram.ErrUnauthorized) {
		t.Fatalf("New with a wrong token = %v; want ErrUnauthorized", err)
	}
}

func TestUsername(t *testing.T) {
	e := newEnv(t, nil, telegramtest.WithBotUsername("aide_titre_bot"))
	if got := e.c.Username(); got != "aide_titre_bot" {
		t.Errorf("Username() = %q", got)
	}
}
