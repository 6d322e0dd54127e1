package bot

import (
	"context"
	"html"

	"github.com/passerelle-bot/passerelle/internal/catalog"
)

// Request is one update on its way through the middleware, with the state
// loaded for it. Handlers read and change it; the session middleware saves
// what changed.
type Request struct {
	Update   Update
	Callback Callback // parsed button data, for KindCallback

	Profile    Profile
	HasProfile bool
	Session    Session
	// Lang is the resolved locale; NeedLanguage is set when neither a stored
	// choice nor a confident match of the client's language exists.
	Lang         string
	NeedLanguage bool
	P            *catalog.Printer

	bot          *Bot
	preload      *LoadedState // read by dedup with the update's claim, when the store can
	stateLoaded  bool         // the state middleware loaded Profile and Session
	sessionDirty bool
	profileDirty bool
	forgotten    bool
	outcome      string // for the Observer; "" is OutcomeOK
}

// Reply sends text with optional rows of buttons to the chat (and topic)
// the update came from.
// Text and labels composed of several catalog messages are laid out again
// in the resident's language (catalog.Printer.Layout): every line of a
// right-to-left language reads right to left.
func (r *Request) Reply(ctx context.Context, text string, rows ...[]Button) error {
	return r.bot.send(ctx, laidOut(r.P, Reply{ChatID: r.Update.ChatID, ThreadID: r.Update.ThreadID, Text: text, Buttons: rows}))
}

// Toast answers the button press of a KindCallback update with a short
// text shown for a moment to whoever pressed it (not a message in the
// chat; text as the catalog renders it, sent as plain text). It is best effort: a press too old to answer is only logged.
func (r *Request) Toast(ctx context.Context, text string) {
	u := r.Update
	if u.Kind != KindCallback || u.CallbackID == "" {
		return
	}
	if _, err := r.bot.sender.Send(ctx, Reply{ChatID: u.ChatID, Text: html.UnescapeString(text), AnswerCallbackID: u.CallbackID}); err != nil {
		r.bot.log.Info("toast_failed", "chat_id", u.ChatID, "error", err.Error())
	}
}

// laidOut applies the printer's layout rule (right-to-left paragraphs,
// isolated left-to-right runs) to a reply's text, button labels and
// keyboard texts. It is idempotent: what Printer.T rendered is unchanged,
// lines the bot composed around it get the rule too. Button data is never
// touched.
func laidOut(p *catalog.Printer, rep Reply) Reply {
	if p == nil || !p.RTL() {
		return rep
	}
	rep.Text = p.Layout(rep.Text)
	if len(rep.Buttons) > 0 {
		rows := make([][]Button, len(rep.Buttons))
		for i, row := range rep.Buttons {
			rows[i] = make([]Button, len(row))
			for j, btn := range row {
				btn.Label = p.Layout(btn.Label)
				rows[i][j] = btn
			}
		}
		rep.Buttons = rows
	}
	if len(rep.Keyboard) > 0 {
		rows := make([][]string, len(rep.Keyboard))
		for i, row := range rep.Keyboard {
			rows[i] = make([]string, len(row))
			for j, label := range row {
				rows[i][j] = p.Layout(label)
			}
		}
		rep.Keyboard = rows
	}
	return rep
}

// SetFlow records the conversation's current flow and step.
func (r *Request) SetFlow(flow, step string) {
	r.Session.Flow, r.Session.Step = flow, step
	r.sessionDirty = true
}

// ClearFlow ends the current flow.
func (r *Request) ClearFlow() {
	if r.Session.Flow == "" && r.Session.Step == "" && len(r.Session.Data) == 0 {
		return
	}
	r.Session.Flow, r.Session.Step, r.Session.Data = "", "", nil
	r.sessionDirty = true
}

// setData sets one value of the session's flow data.
func (r *Request) setData(key, value string) {
	if r.Session.Data == nil {
		r.Session.Data = map[string]string{}
	}
	if r.Session.Data[key] == value {
		return
	}
	r.Session.Data[key] = value
	r.sessionDirty = true
}

// SetLang stores the resident's choice of language.
func (r *Request) SetLang(tag string) {
	r.Profile.Lang = tag
	r.Lang = tag
	r.NeedLanguage = false
	r.P = r.bot.cat.Printer(tag)
	r.profileDirty = true
}

// Forgotten tells the middleware that everything about the resident was
// deleted: nothing may be written back for this update.
func (r *Request) Forgotten() { r.forgotten = true }
