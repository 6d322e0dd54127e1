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
	// IDBase: update and message ids start after it. A store reused from
	// an earlier run has marked that run's update ids as handled (for
	// 48 h) and mapped its message ids: a later run must not reuse them.
	IDBase int64
	// Volunteer, when set, plays partner groups in the same terminal: a
	// line "@vol TEXT" is TEXT sent by this volunteer in the group the bot
	// posted in last (in its latest forum topic, if any), and "@vol N"
	// presses button N of that group's latest message with buttons.
	Volunteer *Volunteer
}

// Volunteer is the volunteer a console plays in partner groups.
type Volunteer struct {
	UserID    int64
	FirstName string
}

// VolunteerPrefix starts a line typed as the volunteer.
const VolunteerPrefix = "@vol "

// Console is both the transport (Run) and the bot.Sender that prints. It
// also plays the forum groups of partners (bot.Groups) when names are
// given to their chats.
type Console struct {
	mu       sync.Mutex
	out      io.Writer
	nextID   int
	choices  map[int64][]bot.Button // per chat: buttons of the latest message that has some
	messages map[int]string
	// keyboard: a reply keyboard is shown. Its buttons are chosen by typing
	// their text, as a tap on Telegram sends it.
	keyboard bool
	// FileDir is where files the bot sends (the calendar) are written;
	// default: the system's temporary directory.
	FileDir string

	groups     map[int64]string // group chat id → name shown
	nextThread int
	lastGroup  int64 // the group the bot posted a new message in last
	lastThread map[int64]int
	posts      int64           // new messages the bot posted in groups
	posted     map[int64]int64 // group chat id → posts when it posted there last

	// handleMu lets one update at a time reach the handler, whichever
	// terminal it was typed in.
	handleMu sync.Mutex
	updateID int64 // the last update id given
	idBase   int64
	// remotes: group chat id → the volunteer terminal that shows it
	// (see ServeVolunteers).
	remotes map[int64]*remote
}

// New returns a console printing to out.
func New(out io.Writer) *Console {
	return &Console{out: out, messages: map[int]string{}, choices: map[int64][]bot.Button{}, lastThread: map[int64]int{},
		posted: map[int64]int64{}, remotes: map[int64]*remote{}}
}

// SetIDBase makes update and message ids start after base (see
// Options.IDBase); Run does it too. Call it before ServeVolunteers.
func (c *Console) SetIDBase(base int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idBase = max(c.idBase, base)
	c.updateID = max(c.updateID, base)
	if int64(c.nextID) < base {
		c.nextID = int(base)
	}
}

// nextUpdateID returns a new update id, and the same counted from the
// run's base (for messages).
func (c *Console) nextUpdateID() (id, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updateID++
	return c.updateID, c.updateID - c.idBase
}

// handle passes one update to h, one at a time.
func (c *Console) handle(ctx context.Context, h bot.UpdateHandler, u bot.Update) error {
	c.handleMu.Lock()
	defer c.handleMu.Unlock()
	return h.Handle(ctx, u)
}

// AddGroup names a partner group's chat, so that what the bot posts there
// is shown as "bot → NAME>" (and "bot → NAME #topic>" in a forum topic).
func (c *Console) AddGroup(chatID int64, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups == nil {
		c.groups = map[int64]string{}
	}
	c.groups[chatID] = name
}

// Send prints a reply. It implements bot.Sender.
func (c *Console) Send(ctx context.Context, r bot.Reply) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.AnswerCallbackID != "" {
		// Telegram shows it for a moment over the chat.
		return 0, c.write(r.ChatID, "bot (notice)> "+r.Text+"\n")
	}
	label := "bot> "
	if name, ok := c.groups[r.ChatID]; ok {
		label = "bot → " + name + "> "
		if r.ThreadID != 0 {
			label = fmt.Sprintf("bot → %s #%d> ", name, r.ThreadID)
		}
		if r.EditMessageID == 0 {
			c.lastGroup = r.ChatID
			c.lastThread[r.ChatID] = r.ThreadID
			c.posts++
			c.posted[r.ChatID] = c.posts
		}
	}
	id := r.EditMessageID
	text := plain(r.Text)
	edit := false
	switch {
	case r.CopyFromChatID != 0:
		c.nextID++
		id = c.nextID
		text = "[copy] " + c.messages[r.CopyMessageID]
	case id != 0:
		edit = true
		label = strings.TrimSuffix(label, "> ") + " (edited)> "
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
		choices := c.choices[r.ChatID][:0]
		for _, row := range r.Buttons {
			var cells []string
			for _, btn := range row {
				choices = append(choices, btn)
				cell := fmt.Sprintf("[%d] %s", len(choices), btn.Label)
				if btn.URL != "" {
					cell += " <" + btn.URL + ">"
				}
				cells = append(cells, cell)
			}
			b.WriteString("     " + strings.Join(cells, "   ") + "\n")
		}
		c.choices[r.ChatID] = choices
	}
	// A message carries one markup: inline buttons win over the reply
	// keyboard, as on Telegram, and edits carry no reply keyboard.
	if _, group := c.groups[r.ChatID]; len(r.Buttons) == 0 && !edit && !group {
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
	return id, c.write(r.ChatID, b.String())
}

// write prints s in the terminal that shows chat: a volunteer terminal
// for the groups of the partner it plays, else this one. The caller holds
// c.mu.
func (c *Console) write(chat int64, s string) error {
	if r := c.remotes[chat]; r != nil {
		if err := r.send(wireMsg{Out: s}); err == nil {
			return nil
		}
		// The volunteer terminal is gone: show its groups here again.
		c.detachLocked(r)
	}
	_, err := io.WriteString(c.out, s)
	return err
}

// printIn prints s in the terminal that shows chat.
func (c *Console) printIn(chat int64, s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write(chat, s)
}

// Run reads lines from in until it ends, /quit, or ctx is done, turning
// each into an update for h. Typing the number of a button presses it.
func (c *Console) Run(ctx context.Context, h bot.UpdateHandler, in io.Reader, opt Options) error {
	if opt.UserID == 0 {
		opt.UserID = 1
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	c.SetIDBase(opt.IDBase)
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
		updateID, n := c.nextUpdateID()
		var u bot.Update
		if text, ok := strings.CutPrefix(line, VolunteerPrefix); ok && opt.Volunteer != nil {
			var found bool
			if u, found = c.volunteerUpdate(updateID, strings.TrimSpace(text), opt.Volunteer, nil); !found {
				c.print("(no partner group yet: the bot has posted in none)\n")
				continue
			}
		} else {
			u = c.update(updateID, line, opt)
		}
		if err := c.handle(ctx, h, u); err != nil {
			c.print(fmt.Sprintf("(update %d not handled: %v)\n", n, err))
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
	choices := c.choices[opt.UserID]
	c.messages[msgID] = line
	c.mu.Unlock()
	u := bot.Update{
		ID: id, ChatID: opt.UserID, ChatType: bot.ChatPrivate, UserID: opt.UserID,
		LanguageCode: opt.LanguageCode, MessageID: msgID, Text: line,
	}
	return parseLine(u, line, choices)
}

// volunteerUpdate is a line typed as the volunteer, in the group the bot
// posted in last (in its latest topic); found is false before any. With
// chats, only those groups count (the groups of one partner).
func (c *Console) volunteerUpdate(id int64, line string, v *Volunteer, chats []int64) (u bot.Update, found bool) {
	c.mu.Lock()
	c.nextID++
	msgID := c.nextID
	chat := c.lastGroup
	if chats != nil {
		chat = 0
		for _, g := range chats {
			if c.posted[g] > c.posted[chat] {
				chat = g
			}
		}
	}
	thread := c.lastThread[chat]
	choices := c.choices[chat]
	c.messages[msgID] = line
	c.mu.Unlock()
	if chat == 0 {
		return bot.Update{}, false
	}
	u = bot.Update{
		ID: id, ChatID: chat, ChatType: bot.ChatSupergroup, UserID: v.UserID, FirstName: v.FirstName,
		LanguageCode: "fr", MessageID: msgID, Text: line, ThreadID: thread, IsTopicMessage: thread != 0,
	}
	return parseLine(u, line, choices), true
}

// parseLine makes u a button press, a command or text.
func parseLine(u bot.Update, line string, choices []bot.Button) bot.Update {
	id := u.ID
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

// The console plays the forum side of partner groups (bot.Groups): topics
// are numbered from 1, pins are printed, and every member check passes
// (the volunteer typing here is a member of every group).

// CreateForumTopic prints the new topic and returns its number.
func (c *Console) CreateForumTopic(ctx context.Context, chatID int64, name string) (int, error) {
	c.mu.Lock()
	c.nextThread++
	id := c.nextThread
	group := c.groups[chatID]
	c.mu.Unlock()
	c.printIn(chatID, fmt.Sprintf("bot → %s> [new topic #%d: %s]\n", group, id, plain(name)))
	return id, ctx.Err()
}

// DeleteForumTopic prints the deletion.
func (c *Console) DeleteForumTopic(ctx context.Context, chatID int64, threadID int) error {
	c.mu.Lock()
	group := c.groups[chatID]
	c.mu.Unlock()
	c.printIn(chatID, fmt.Sprintf("bot → %s> [topic #%d deleted]\n", group, threadID))
	return ctx.Err()
}

// PinMessage prints the pin.
func (c *Console) PinMessage(ctx context.Context, chatID int64, messageID int) error {
	c.mu.Lock()
	group := c.groups[chatID]
	c.mu.Unlock()
	c.printIn(chatID, fmt.Sprintf("bot → %s> [message pinned]\n", group))
	return ctx.Err()
}

// DeleteMessage prints the deletion.
func (c *Console) DeleteMessage(ctx context.Context, chatID int64, messageID int) error {
	c.mu.Lock()
	group := c.groups[chatID]
	c.mu.Unlock()
	c.printIn(chatID, fmt.Sprintf("bot → %s> [message deleted]\n", group))
	return ctx.Err()
}

// Member says every user is a member: in the terminal, whoever types as
// the volunteer is in the group.
func (c *Console) Member(ctx context.Context, chatID, userID int64) (bot.Membership, error) {
	return bot.Membership{Status: "member", IsMember: true}, ctx.Err()
}

var _ bot.Groups = (*Console)(nil)
