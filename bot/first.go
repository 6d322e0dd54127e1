package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
)

// commands lists the commands residents see, in menu order, with the
// catalog id of their description.
var commands = []struct{ name, desc string }{
	{"start", "command.start"},
	{"menu", "command.menu"},
	{"guide", "command.guide"},
	{"reminders", "command.reminders"},
	{"volunteer", "command.volunteer"},
	{"help", "command.help"},
	{"language", "command.language"},
	{"privacy", "command.privacy"},
	{"mydata", "command.mydata"},
	{"forget", "command.forget"},
}

// routes wires the first conversation: welcome, menu, help, language,
// privacy, the resident's data and its deletion.
func (b *Bot) routes() *Mux {
	m := NewMux()
	m.Command("start", HandlerFunc(b.start))
	m.Command("menu", HandlerFunc(b.menu))
	m.Command("help", HandlerFunc(b.help))
	m.Command("language", HandlerFunc(b.showPicker))
	m.Command("privacy", HandlerFunc(b.privacy))
	m.Command("mydata", HandlerFunc(b.myData))
	m.Command("forget", HandlerFunc(b.forgetAsk))
	m.Callback("menu", HandlerFunc(b.menuButton))
	m.Callback("lang", HandlerFunc(b.chooseLanguage))
	m.Callback("forget", HandlerFunc(b.forgetAnswer))
	m.Text(HandlerFunc(b.text))
	m.Media(HandlerFunc(b.unsupported))
	m.Fallback(HandlerFunc(b.stale))
	b.guideRoutes(m)
	b.reminderRoutes(m)
	b.handoffRoutes(m)
	b.operatorRoutes(m)
	return m
}

// CommandInfo is one entry of the command menu a transport installs.
type CommandInfo struct{ Name, Description string }

// CommandMenus returns the command menu for each shipped language whose
// tag is a two-letter code, and under "" the reference menu for everyone
// else.
func (b *Bot) CommandMenus() map[string][]CommandInfo {
	out := map[string][]CommandInfo{}
	for _, l := range b.cat.Languages() {
		p := b.cat.Printer(l.Tag)
		var list []CommandInfo
		for _, c := range commands {
			if c.name == "guide" && b.guide == nil || c.name == "reminders" && !b.remindersOn() || c.name == "volunteer" && !b.handoffOn() {
				continue
			}
			list = append(list, CommandInfo{Name: c.name, Description: p.T(c.desc)})
		}
		if l.Tag == catalog.Reference {
			out[""] = list
		}
		if code := TelegramLanguage(l.Tag); code != "" {
			out[code] = list
		}
	}
	return out
}

// TelegramLanguage returns the two-letter code Telegram's setMyCommands
// and setMyDescription take for a shipped locale ("zh" for "zh-Hans"), or ""
// when the locale has none.
func TelegramLanguage(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	if len(base) != 2 {
		return ""
	}
	return strings.ToLower(base)
}

// Descriptions returns the bot's description and short description for
// each shipped locale, keyed like CommandMenus ("" for the reference).
func (b *Bot) Descriptions() map[string][2]string {
	out := map[string][2]string{}
	for _, l := range b.cat.Languages() {
		p := b.cat.Printer(l.Tag)
		d := [2]string{p.T("bot.description"), p.T("bot.short_description")}
		if l.Tag == catalog.Reference {
			out[""] = d
		}
		if code := TelegramLanguage(l.Tag); code != "" {
			out[code] = d
		}
	}
	return out
}

func (b *Bot) menuRows(p *catalog.Printer) [][]Button {
	var rows [][]Button
	if b.guide != nil {
		rows = append(rows, []Button{{Label: p.T("guide.title"), Data: "g"}})
	}
	if b.remindersOn() {
		rows = append(rows, []Button{{Label: p.T("menu.reminders"), Data: "r"}})
	}
	if b.handoffOn() {
		rows = append(rows, []Button{{Label: p.T("guide.help_button"), Data: "h"}})
	}
	return append(rows, [][]Button{
		{{Label: p.T("menu.language"), Data: "menu:language"}, {Label: p.T("menu.help"), Data: "menu:help"}},
		{{Label: p.T("menu.privacy"), Data: "menu:privacy"}, {Label: p.T("menu.mydata"), Data: "menu:mydata"}},
		{{Label: p.T("menu.forget"), Data: "menu:forget"}},
	}...)
}

func backRow(p *catalog.Printer) []Button {
	return []Button{{Label: p.T("menu.back"), Data: "menu"}}
}

func (b *Bot) start(ctx context.Context, r *Request) error {
	r.ClearFlow()
	if id, ok := strings.CutPrefix(r.Update.Args, "p-"); ok && b.handoffOn() {
		if partner := b.partner(id); partner != nil {
			r.Profile.Partner = partner.ID
			r.profileDirty = true
			if err := r.Reply(ctx, r.P.T("help.referred", "Partner", partner.Name)); err != nil {
				return err
			}
		}
	}
	return b.welcome(ctx, r)
}

func (b *Bot) welcome(ctx context.Context, r *Request) error {
	p := r.P
	if !r.HasProfile && r.Profile.Lang == "" && !b.reviewed(r.Lang) {
		// The language came from Telegram, not from a choice: say once,
		// at the first contact, that no native speaker checked it yet.
		if err := r.Reply(ctx, p.T("language.unreviewed")); err != nil {
			return err
		}
	}
	text := "<b>" + p.T("welcome.title") + "</b>\n\n" + p.T("welcome.body")
	if !b.handoffOn() {
		// "Coming soon: help from volunteers" is true only without partners.
		text += "\n\n" + p.T("welcome.soon")
	}
	if op := b.cfg.Operator; op.Name != "" {
		text += "\n\n" + p.T("welcome.operator", "Name", op.Name, "Contact", orDash(op.Contact))
	}
	return r.Reply(ctx, text, b.menuRows(p)...)
}

func (b *Bot) menu(ctx context.Context, r *Request) error {
	r.ClearFlow()
	return r.Reply(ctx, r.P.T("menu.title"), b.menuRows(r.P)...)
}

func (b *Bot) menuButton(ctx context.Context, r *Request) error {
	switch r.Callback.Arg {
	case "":
		return b.menu(ctx, r)
	case "language":
		return b.showPicker(ctx, r)
	case "help":
		return b.help(ctx, r)
	case "privacy":
		return b.privacy(ctx, r)
	case "mydata":
		return b.myData(ctx, r)
	case "forget":
		return b.forgetAsk(ctx, r)
	}
	return b.stale(ctx, r)
}

func (b *Bot) help(ctx context.Context, r *Request) error {
	return r.Reply(ctx, r.P.T("help.body"), backRow(r.P))
}

func (b *Bot) privacy(ctx context.Context, r *Request) error {
	text := r.P.T("privacy.body") + "\n\n" + r.P.N("privacy.inactive", b.cfg.InactiveMonths)
	if op := b.operatorLines(r.P); op != "" {
		text += "\n\n" + op
	}
	news := r.P.T("privacy.news.off")
	if r.Profile.News {
		news = r.P.T("privacy.news.on")
	}
	return r.Reply(ctx, text+"\n\n"+news, newsRow(r.P, r.Profile.News), backRow(r.P))
}

// showPicker shows every shipped language by its own name. Its text is the
// prompt in every language, so that anyone can read it.
func (b *Bot) showPicker(ctx context.Context, r *Request) error {
	langs := b.cat.Languages()
	lines := make([]string, 0, len(langs))
	var rows [][]Button
	for i, l := range langs {
		lines = append(lines, b.cat.Printer(l.Tag).T("language.choose"))
		btn := Button{Label: l.Native, Data: "lang:" + l.Tag}
		if i%2 == 0 {
			rows = append(rows, []Button{btn})
		} else {
			rows[len(rows)-1] = append(rows[len(rows)-1], btn)
		}
	}
	return r.Reply(ctx, strings.Join(lines, "\n"), rows...)
}

func isLangCallback(data string) bool {
	cb, err := ParseCallback(data)
	return err == nil && cb.Prefix == "lang"
}

func (b *Bot) chooseLanguage(ctx context.Context, r *Request) error {
	tag := r.Callback.Arg
	l, ok := b.cat.Language(tag)
	if !ok {
		return b.showPicker(ctx, r)
	}
	wasStart := r.Session.Flow == "lang" && r.Session.Step == "start"
	r.SetLang(tag)
	r.ClearFlow()
	if !b.reviewed(tag) {
		if err := r.Reply(ctx, r.P.T("language.unreviewed")); err != nil {
			return err
		}
	}
	if wasStart {
		if err := r.Reply(ctx, r.P.T("language.set", "Language", l.Native)); err != nil {
			return err
		}
		return b.welcome(ctx, r)
	}
	return r.Reply(ctx, r.P.T("language.set", "Language", l.Native), b.menuRows(r.P)...)
}

// dateLayout is the date form printed on French documents.
const dateLayout = "02/01/2006"

func (b *Bot) myData(ctx context.Context, r *Request) error {
	p, prof := r.P, r.Profile
	lines := []string{
		p.T("mydata.title"),
		"",
		p.T("mydata.user", "UserID", fmt.Sprint(prof.UserID)),
	}
	if l, ok := b.cat.Language(prof.Lang); ok {
		lines = append(lines, p.T("mydata.language", "Language", l.Native))
	} else {
		lines = append(lines, p.T("mydata.language_unset"))
	}
	news := p.T("mydata.news_off")
	if prof.News {
		news = p.T("mydata.news_on")
	}
	lines = append(lines,
		p.T("mydata.created", "Date", b.date(prof.Created)),
		p.T("mydata.last_seen", "Date", b.date(prof.LastSeen)),
		news,
		"",
		p.N("mydata.session", int(b.cfg.SessionTTL/time.Hour)),
	)
	if b.remindersOn() {
		docs, err := b.docs.Documents(ctx, prof.UserID)
		if err != nil {
			return fmt.Errorf("load documents: %w", err)
		}
		lines = append(lines, "", p.N("mydata.documents", len(docs)))
		for _, d := range docs {
			lines = append(lines, "• "+b.docTitle(p, d))
			for _, f := range b.docFacts(p, d) {
				lines = append(lines, "   "+f)
			}
			if d.Stopped {
				lines = append(lines, "   "+p.T("rem.list.stopped"))
			}
		}
	}
	if b.handoffOn() {
		cl, err := b.caseLines(ctx, p, prof.UserID)
		if err != nil {
			return err
		}
		lines = append(lines, "")
		lines = append(lines, cl...)
	}
	lines = append(lines, p.T("mydata.footer"))
	return r.Reply(ctx, strings.Join(lines, "\n"), backRow(p))
}

func (b *Bot) date(t time.Time) string {
	return t.In(b.cfg.Location).Format(dateLayout)
}

func (b *Bot) forgetAsk(ctx context.Context, r *Request) error {
	r.SetFlow("forget", "confirm")
	p := r.P
	return r.Reply(ctx, p.T("forget.confirm"), []Button{
		{Label: p.T("forget.yes"), Data: "forget:yes"},
		{Label: p.T("forget.no"), Data: "forget:no"},
	})
}

func (b *Bot) forgetAnswer(ctx context.Context, r *Request) error {
	confirmed := r.Session.Flow == "forget" && r.Session.Step == "confirm"
	switch {
	case r.Callback.Arg == "yes" && confirmed:
		if err := b.forgetResident(ctx, r.Update.UserID); err != nil {
			return err
		}
		r.Forgotten()
		b.log.Info("resident_forgotten", "chat_id", r.Update.ChatID)
		return r.Reply(ctx, r.P.T("forget.done"))
	case r.Callback.Arg == "no" && confirmed:
		r.ClearFlow()
		return r.Reply(ctx, r.P.T("forget.cancelled"), b.menuRows(r.P)...)
	}
	return b.stale(ctx, r)
}

// text handles typed text: a date the guide asked for, else the guide's
// suggestions, else a pointer to the menu.
func (b *Bot) text(ctx context.Context, r *Request) error {
	if handled, err := b.helpText(ctx, r); handled {
		return err
	}
	if handled, err := b.remText(ctx, r); handled {
		return err
	}
	if r.Session.Flow == "" || r.Session.Flow == "relay" {
		if handled, err := b.relayResident(ctx, r); handled || err != nil {
			return err
		}
	}
	switch {
	case b.guide != nil && r.Session.Flow == flowGuide && r.Session.Step == stepDate:
		return b.guideDate(ctx, r)
	case b.guide != nil:
		return b.guideSuggest(ctx, r)
	}
	return b.unknownText(ctx, r)
}

func (b *Bot) unknownText(ctx context.Context, r *Request) error {
	return r.Reply(ctx, r.P.T("input.unknown"), backRow(r.P))
}

func (b *Bot) unsupported(ctx context.Context, r *Request) error {
	if r.Update.Kind.Media() {
		if handled, err := b.relayResident(ctx, r); handled || err != nil {
			return err
		}
	}
	return r.Reply(ctx, r.P.T("input.unsupported"), backRow(r.P))
}

func (b *Bot) stale(ctx context.Context, r *Request) error {
	if r.Update.Kind == KindCommand {
		return b.unknownText(ctx, r)
	}
	r.ClearFlow()
	return r.Reply(ctx, r.P.T("input.stale"), b.menuRows(r.P)...)
}
