package bot

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// cleanText removes what could make a relayed text lie about itself, both
// ways (a resident's message copied into a partner group, a volunteer's
// message sent to a resident, the resident's description on a card):
// bidirectional controls (embeddings, overrides, isolates, marks), which
// can reorder what a reader sees, and invisible characters (zero-width
// space, word joiner, byte-order mark, invisible operators, Hangul and
// Mongolian fillers), which can hide or glue words. Zero-width non-joiner
// and joiner stay where they join two visible characters, as Persian,
// Pashto, Urdu and Bengali spelling and emoji sequences need them, and go
// anywhere else. Other control characters but newlines and tabs go too.
func cleanText(s string) string {
	if !strings.ContainsFunc(s, suspicious) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, c := range rs {
		switch {
		case c == '\u200C' || c == '\u200D':
			if i > 0 && i+1 < len(rs) && visible(rs[i-1]) && visible(rs[i+1]) {
				b.WriteRune(c)
			}
		case suspicious(c):
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// suspicious reports whether c is a character cleanText looks at.
func suspicious(c rune) bool {
	switch {
	case c == '\n' || c == '\t':
		return false
	case unicode.Is(unicode.Bidi_Control, c), unicode.IsControl(c):
		return true
	}
	switch c {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u180E', '\u00AD',
		'\u2061', '\u2062', '\u2063', '\u2064', '\u115F', '\u1160', '\u3164', '\uFFA0':
		return true
	}
	return false
}

// visible reports whether c is a character a joiner may sit next to.
func visible(c rune) bool {
	return !unicode.IsSpace(c) && !suspicious(c) && unicode.IsGraphic(c)
}

// Limits of Telegram, in UTF-16 code units after entities are parsed.
const (
	maxTextUnits    = 4096
	maxCaptionUnits = 1024
)

func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// quote puts a resident's text, escaped, in a quotation block after the
// header: whatever it says, it reads as their words.
func quote(header, text string) string {
	if text == "" {
		return header
	}
	return header + "\n<blockquote>" + html.EscapeString(text) + "</blockquote>"
}

// chunks cuts text into pieces of at most n UTF-16 units, at line or word
// breaks when it can.
func chunks(text string, n int) []string {
	var out []string
	for utf16Units(text) > n {
		cut, units := 0, 0
		for i, r := range text {
			if units+utf16.RuneLen(r) > n {
				cut = i
				break
			}
			units += utf16.RuneLen(r)
		}
		if i := strings.LastIndexAny(text[:cut], "\n "); i > cut/2 {
			cut = i + 1
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}

// copyReplies frames the copy of one resident message for a partner
// group: each piece starts with the bot's header (the case number, "from
// the resident"). A text is sent again quoted, in as many messages as it
// needs; a captioned file is copied with the header and its quoted caption
// as the new caption (a caption too long goes in a message before it); a
// message without a caption (video note, sticker, location, contact…)
// comes right after a header message. The last reply is the copy itself.
func (b *Bot) copyReplies(c handoff.Case, in handoff.Incoming, chat int64, thread int) []Reply {
	header := b.staff().T("case.copy_header", "Case", c.ID)
	// The bulk lane: the bot's own replies in the group (a note, a card)
	// go before copies waiting for the group's limit, so that they never
	// wait long in an update's handling.
	base := Reply{ChatID: chat, ThreadID: thread, Lane: LaneBulk}
	text := func(t string) Reply { r := base; r.Text = t; return r }
	cp := base
	cp.CopyFromChatID, cp.CopyMessageID = c.ResidentChat, in.Msg
	switch in.Form {
	case handoff.FormText:
		// Room for the header and the markup around the quote.
		room := maxTextUnits - utf16Units(header) - 16
		var out []Reply
		for _, part := range chunks(in.Text, room) {
			out = append(out, text(quote(header, part)))
		}
		if in.Translated != "" {
			// The marked machine translation: under the last piece when
			// it fits, else in a message before the copy.
			note := b.translationNote(in.From, in.Translated)
			last := &out[len(out)-1]
			if utf16Units(last.Text)+utf16Units(note)+1 <= maxTextUnits {
				last.Text += "\n" + note
			} else if utf16Units(note) <= maxTextUnits {
				out = append([]Reply{text(note)}, out...)
			}
		}
		return out
	case handoff.FormCaption:
		caption := quote(header, in.Text)
		if utf16Units(header)+1+utf16Units(in.Text) <= maxCaptionUnits {
			cp.ReplaceCaption, cp.Text = true, caption
			return []Reply{cp}
		}
		cp.ReplaceCaption, cp.Text = true, ""
		return append(b.copyReplies(c, handoff.Incoming{Msg: in.Msg, Form: handoff.FormText, Text: in.Text}, chat, thread), cp)
	}
	return []Reply{text(header), cp}
}

// incoming describes a resident's update as a message to relay.
func incoming(u Update) handoff.Incoming {
	in := handoff.Incoming{Msg: u.MessageID, Form: handoff.FormHeader}
	switch {
	case u.Kind == KindText:
		in.Form, in.Text = handoff.FormText, cleanText(u.Text)
	case u.Kind.Captioned():
		in.Form, in.Text = handoff.FormCaption, cleanText(u.Text)
	}
	return in
}

// encodeIncoming and decodeIncoming keep a message waiting for the
// resident's go in the session: "id.form".
func encodeIncoming(in handoff.Incoming) string {
	return strconv.Itoa(in.Msg) + "." + string(in.Form)
}

func decodeIncoming(s string) (handoff.Incoming, bool) {
	id, form, ok := strings.Cut(s, ".")
	n, err := strconv.Atoi(id)
	f := handoff.Form(form)
	if !ok || err != nil || n <= 0 || (f != handoff.FormText && f != handoff.FormCaption && f != handoff.FormHeader) {
		return handoff.Incoming{}, false
	}
	return handoff.Incoming{Msg: n, Form: f}, true
}
