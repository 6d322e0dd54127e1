package console_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
)

// TestFileIsWrittenToDisk: a reply carrying a file (the calendar) is
// written into FileDir and its path printed under the caption.
func TestFileIsWrittenToDisk(t *testing.T) {
	var out bytes.Buffer
	c := console.New(&out)
	c.FileDir = t.TempDir()
	data := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	if _, err := c.Send(context.Background(), bot.Reply{ChatID: 1, Text: "📅 Your dates", File: &bot.File{Name: "../passerelle.ics", Type: "text/calendar", Data: data}}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\[file\] (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no file path printed:\n%s", out.String())
	}
	got, err := os.ReadFile(m[1])
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file %s = %q, %v", m[1], got, err)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(c.FileDir) + `/[^/]+passerelle\.ics$`).MatchString(m[1]) {
		t.Errorf("file written outside FileDir: %s", m[1])
	}
}
