package bot_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
)

// TestCalendarButton: "📅 Add to my calendar" sends one file: an event per
// milestone still ahead, the titles neutral in the resident's language,
// the descriptions saying what the reminder says; a stopped document has
// none, and without any date left the resident is told so.
func TestCalendarButton(t *testing.T) {
	f := newFixture(t)
	const user = 606
	f.registerWorkedExample(t, user, "ar")
	f.handle(t, press(user, "ar", "r:cal"))
	rep := f.sent.last(t, user)
	if rep.File == nil || rep.File.Name != bot.CalendarFile || !strings.HasPrefix(rep.File.Type, "text/calendar") {
		t.Fatalf("reply = %+v; want the calendar file", rep)
	}
	ics := string(rep.File.Data)
	if n := strings.Count(ics, "BEGIN:VEVENT"); n != 8 {
		t.Errorf("%d events; want the 8 milestones of the worked example", n)
	}
	title := f.cat.Printer("ar").T("cal.event.title")
	if strings.Count(ics, "SUMMARY:"+title) != 8 {
		t.Errorf("titles are not all the neutral Arabic title %q:\n%s", title, ics)
	}
	for _, leak := range []string{"Carte", "séjour", "ANEF", "titre"} {
		for _, line := range strings.Split(ics, "\r\n") {
			if strings.HasPrefix(line, "SUMMARY:") && strings.Contains(line, leak) {
				t.Errorf("a title names %q: %s", leak, line)
			}
		}
	}
	if !strings.Contains(ics, "DESCRIPTION:") || !bytes.Contains(rep.File.Data, []byte("بطاقة")) && !bytes.Contains(rep.File.Data, []byte("Carte de séjour temporaire")) {
		t.Errorf("descriptions do not say what the reminder says:\n%s", ics)
	}
	if rep.Text != f.cat.Printer("ar").T("cal.caption") {
		t.Errorf("caption = %q", rep.Text)
	}

	// Stopped: nothing to add.
	docs := f.docs(t, user)
	f.handle(t, press(user, "ar", "r:s:"+docs[0].ID))
	f.handle(t, press(user, "ar", "r:cal"))
	if rep := f.sent.last(t, user); rep.File != nil || rep.Text != f.cat.Printer("ar").T("cal.empty") {
		t.Errorf("stopped document: %+v; want the empty notice", rep)
	}
}

// TestRouter: each reply goes to the transport owning its chat; a copy
// from a web chat into a Telegram group goes as the web message's text.
func TestRouter(t *testing.T) {
	tg, web := newRecorder(), &textSource{recorder: newRecorder(), texts: map[int]string{7: "hello &amp; bye"}}
	r := bot.NewRouter(tg, bot.Route{Owns: bot.IsWebID, Sender: web})
	ctx := context.Background()
	webChat := bot.WebIDMin + 12345
	for _, rep := range []bot.Reply{{ChatID: 1001, Text: "tg"}, {ChatID: -100123, Text: "group"}, {ChatID: webChat, Text: "web"}} {
		if _, err := r.Send(ctx, rep); err != nil {
			t.Fatal(err)
		}
	}
	if len(tg.to(1001)) != 1 || len(tg.to(-100123)) != 1 || len(web.to(webChat)) != 1 || len(tg.to(webChat)) != 0 {
		t.Errorf("misrouted: telegram %v, web %v", tg.sent, web.sent)
	}
	if _, err := r.Send(ctx, bot.Reply{ChatID: -100123, ThreadID: 5, CopyFromChatID: webChat, CopyMessageID: 7}); err != nil {
		t.Fatal(err)
	}
	got := tg.last(t, -100123)
	if got.CopyFromChatID != 0 || got.Text != "hello &amp; bye" || got.ThreadID != 5 {
		t.Errorf("cross-transport copy sent as %+v", got)
	}
	if _, err := r.Send(ctx, bot.Reply{ChatID: -100123, CopyFromChatID: webChat, CopyMessageID: 8}); err == nil {
		t.Error("a copy of a message the web no longer keeps did not fail")
	}
	// A copy inside one transport stays a copy.
	if _, err := r.Send(ctx, bot.Reply{ChatID: -100123, CopyFromChatID: 1001, CopyMessageID: 3}); err != nil {
		t.Fatal(err)
	}
	if got := tg.last(t, -100123); got.CopyFromChatID != 1001 {
		t.Errorf("a Telegram copy was changed: %+v", got)
	}
}

type textSource struct {
	*recorder
	texts map[int]string
}

func (s *textSource) MessageText(ctx context.Context, chatID int64, id int) (string, error) {
	if t, ok := s.texts[id]; ok {
		return t, nil
	}
	return "", errors.New("not kept")
}
