// Package console runs the conversation core in a terminal: the resident
// types, the bot answers, buttons become numbered choices, and reply-keyboard
// buttons are shown as "[keyboard] text", chosen by typing that text. It needs no
// token and no network, and with piped input it makes scriptable
// transcripts.
package console

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/passerelle-bot/passerelle/bot"
)

// Options describe the simulated resident.
type Options struct {
	UserID       int64  // default 1
	LanguageCode string // as a Telegram client would report it; may be empty
	// Echo prints each input line, for transcripts of piped input.
	Echo bool
	// Prompt is printed before reading each line (interactive use).
	Prompt string
}

// Console is both the transport (Run) and the bot.Sender that prints.
type Console struct {
	mu       sync.Mutex
	out      io.Writer
	nextID   int
	choices  []bot.Button // buttons of the latest message that has some
	messages map[int]string
	// keyboard: a reply keyboard is shown. Its buttons are chosen by typing
	// their text, as a tap on Telegram sends it.
	keyboard bool
	// FileDir is where files the bot sends (the calendar) are written;
	// default: the system's temporary directory.
	FileDir string
}

// New returns a console printing to out.
func New(out io.Writer) *Console {
	return &Console{out: out, messages: map[int]string{}}
}

// Send prints a reply. It implements bot.Sender.
func (c *Console) Send(ctx context.Context, r bot.Reply) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	label := "bot> "
	id := r.EditMessageID
	text := plain(r.Text)
	edit := false
	switch {
	case r.CopyFromChatID != 0:
		c.nextID++
		id = c.nextID
		text = fmt.Sprintf("[copy of message %d]", r.CopyMessageID)
	case id != 0:
		edit = true
		label = "bot (edited)> "
	default:
		c.nextID++
		id = c.nextID
	}
	if r.File != nil {
		path, err := c.saveFile(r.File)
		if err != nil {
			return 0, fmt.Errorf("console: save %s: %w", r.File.Name, err)
		}
		text += "\n[file] " + path
	}
	c.messages[id] = text
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		switch {
		case i == 0:
			b.WriteString(label)
		case line == "":
		default:
			b.WriteString(strings.Repeat(" ", len([]rune(label))))
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if len(r.Buttons) > 0 {
		c.choices = c.choices[:0]
		for _, row := range r.Buttons {
			var cells []string
			for _, btn := range row {
				c.choices = append(c.choices, btn)
				cell := fmt.Sprintf("[%d] %s", len(c.choices), btn.Label)
				if btn.URL != "" {
					cell += " <" + btn.URL + ">"
				}
				cells = append(cells, cell)
			}
			b.WriteString("     " + strings.Join(cells, "   ") + "\n")
		}
	}
	// A message carries one markup: inline buttons win over the reply
	// keyboard, as on Telegram, and edits carry no reply keyboard.
	if len(r.Buttons) == 0 && !edit {
		switch {
		case hasKeyboard(r.Keyboard):
			c.keyboard = true
			for _, row := range r.Keyboard {
				var cells []string
				for _, t := range row {
					if strings.TrimSpace(t) != "" {
						cells = append(cells, "[keyboard] "+t)
					}
				}
				if len(cells) > 0 {
					b.WriteString("     " + strings.Join(cells, "   ") + "\n")
				}
			}
		case r.RemoveKeyboard && c.keyboard:
			c.keyboard = false
			b.WriteString("     [keyboard removed]\n")
		}
	}
	_, err := io.WriteString(c.out, b.String())
	return id, err
}

// Run reads lines from in until it ends, /quit, or ctx is done, turning
// each into an update for h. Typing the number of a button presses it.
func (c *Console) Run(ctx context.Context, h bot.UpdateHandler, in io.Reader, opt Options) error {
	if opt.UserID == 0 {
		opt.UserID = 1
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var updateID int64
	for {
		if opt.Prompt != "" {
			c.print(opt.Prompt)
		}
		if !sc.Scan() {
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if opt.Echo {
			c.print("you> " + line + "\n")
		}
		if line == "/quit" {
			return nil
		}
		updateID++
		u := c.update(updateID, line, opt)
		if err := h.Handle(ctx, u); err != nil {
			c.print(fmt.Sprintf("(update %d not handled: %v)\n", updateID, err))
		}
		if err := ctx.Err(); err != nil {
			return nil
		}
	}
}

func (c *Console) print(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.out, s)
}

func (c *Console) update(id int64, line string, opt Options) bot.Update {
	c.mu.Lock()
	c.nextID++
	msgID := c.nextID
	choices := c.choices
	c.mu.Unlock()
	u := bot.Update{
		ID: id, ChatID: opt.UserID, ChatType: bot.ChatPrivate, UserID: opt.UserID,
		LanguageCode: opt.LanguageCode, MessageID: msgID, Text: line,
	}
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(choices) && choices[n-1].Data != "" {
		u.Kind, u.Data, u.Text = bot.KindCallback, choices[n-1].Data, ""
		u.CallbackID = strconv.FormatInt(id, 10)
		return u
	}
	if strings.HasPrefix(line, "/") {
		u.Kind = bot.KindCommand
		cmd, args, _ := strings.Cut(line[1:], " ")
		cmd, _, _ = strings.Cut(cmd, "@")
		u.Command, u.Args = strings.ToLower(cmd), strings.TrimSpace(args)
		return u
	}
	u.Kind = bot.KindText
	return u
}

// saveFile writes a file the bot sent into FileDir, under its own name
// prefixed with the time, and returns its path.
func (c *Console) saveFile(f *bot.File) (string, error) {
	dir := c.FileDir
	if dir == "" {
		dir = os.TempDir()
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, filepath.Base(f.Name))
	out, err := os.CreateTemp(dir, "*-"+name)
	if err != nil {
		return "", err
	}
	if _, err := out.Write(f.Data); err != nil {
		out.Close()
		return "", err
	}
	return out.Name(), out.Close()
}

// hasKeyboard reports whether rows hold a button with a text.
func hasKeyboard(rows [][]string) bool {
	for _, row := range rows {
		for _, t := range row {
			if strings.TrimSpace(t) != "" {
				return true
			}
		}
	}
	return false
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// plain turns Telegram HTML into terminal text.
func plain(s string) string {
	return html.UnescapeString(tagRE.ReplaceAllString(s, ""))
}
