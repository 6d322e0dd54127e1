package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// Operator is who runs this deployment, the controller of the residents'
// data: named in /privacy and /start.
type Operator struct {
	Name    string
	Contact string
	DPO     string // the data protection officer's contact; optional
}

// StatusReporter tells the operator's /status what the core cannot see:
// the build, the transport's queues and the errors counted so far. The
// program (cmd) implements it.
type StatusReporter interface {
	Status(ctx context.Context) Status
}

// Status is the process side of /status.
type Status struct {
	Version string
	Uptime  time.Duration
	Store   string // the kind of store: bolt, redis, redis-cluster
	// Queued sends waiting in the transport, per lane.
	Interactive, Bulk int
	// Errors counted since start, by kind (e.g. "handler_error", "send_5xx").
	Errors map[string]int
}

// Notices the operator can send (/notice). Each is the catalog message
// "notice.<kind>", translated in every locale: the operator picks a
// situation, never types the text, so residents read it in their language.
var noticeKinds = []string{"anef_outage", "rule_changed", "maintenance"}

const (
	flowNotice    = "notice"
	stepNoticeOK  = "confirm"
	noticeKindKey = "kind"
)

// operatorRoutes adds the operator's commands and the residents' service
// news switch.
func (b *Bot) operatorRoutes(m *Mux) {
	m.Command("status", HandlerFunc(b.opStatus))
	m.Command("partners", HandlerFunc(b.opPartners))
	m.Command("notice", HandlerFunc(b.opNotice))
	m.Callback("op", HandlerFunc(b.opButton))
	m.Callback("news", HandlerFunc(b.newsButton))
}

// isAdmin reports whether the update comes from an operator in a private
// chat with the bot.
func (b *Bot) isAdmin(r *Request) bool {
	return r.Update.Private() && r.Update.UserID != 0 && slices.Contains(b.cfg.Admins, r.Update.UserID)
}

// adminOnly runs h for operators; anyone else gets the answer to an
// unknown command, so the commands are not revealed.
func (b *Bot) adminOnly(ctx context.Context, r *Request, action string, h func() error) error {
	if !b.isAdmin(r) {
		b.log.Warn("operator_refused", "user_id", r.Update.UserID, "action", action)
		if r.Update.Kind == KindCallback {
			return b.stale(ctx, r)
		}
		return b.unknownText(ctx, r)
	}
	err := h()
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	// The audit trail of operators: who did what, never any text.
	b.log.Info("operator_action", "user_id", r.Update.UserID, "action", action, "outcome", outcome)
	return err
}

// ---- /status ----

func (b *Bot) opStatus(ctx context.Context, r *Request) error {
	return b.adminOnly(ctx, r, "status", func() error {
		p := r.P
		var st Status
		if b.cfg.Status != nil {
			st = b.cfg.Status.Status(ctx)
		}
		due, oldest := "–", "–"
		if l, ok := b.rem.(reminder.Lister); ok && b.rem != nil {
			now := b.clock.Now()
			n, first, err := l.Backlog(ctx, now)
			if err != nil {
				return fmt.Errorf("status: backlog: %w", err)
			}
			due = strconv.Itoa(n)
			if n > 0 {
				oldest = formatAge(now.Sub(first))
			}
		}
		cases := p.T("op.none")
		if b.handoffOn() {
			var lines []string
			for _, partner := range b.partners.All() {
				open, err := b.cases.OpenCases(ctx, partner.ID)
				if err != nil {
					return fmt.Errorf("status: cases of %s: %w", partner.ID, err)
				}
				waiting, taken, escalated := 0, 0, 0
				for _, c := range open {
					switch c.Status {
					case handoff.StatusWaiting:
						waiting++
						if len(c.Tried) > 0 {
							escalated++
						}
					case handoff.StatusTaken:
						taken++
					}
				}
				lines = append(lines, "• "+p.T("op.status.cases", "Partner", partner.ID, "Waiting", waiting, "Escalated", escalated, "Taken", taken))
			}
			if len(lines) > 0 {
				cases = strings.Join(lines, "\n")
			}
		}
		errs := p.T("op.none")
		if len(st.Errors) > 0 {
			var lines []string
			for kind, n := range st.Errors {
				lines = append(lines, fmt.Sprintf("• %s: %d", kind, n))
			}
			slices.Sort(lines)
			errs = strings.Join(lines, "\n")
		}
		return r.Reply(ctx, p.T("op.status",
			"Version", orDash(st.Version), "Uptime", formatAge(st.Uptime), "Store", orDash(st.Store),
			"Interactive", st.Interactive, "Bulk", st.Bulk, "Due", due, "Oldest", oldest,
			"Cases", HTML(cases), "Errors", errs))
	})
}

// formatAge is a duration for the operator: 3d4h, 2h05m, 4m, 12s.
func formatAge(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// ---- /partners ----

// MarkPartnerMisconfigured records why a partner's group cannot take
// cases (shown by /partners) and makes it unavailable.
func (b *Bot) MarkPartnerMisconfigured(id, reason string) {
	b.SetPartnerUnavailable(id)
	b.unavailableMu.Lock()
	defer b.unavailableMu.Unlock()
	if b.unavailableWhy == nil {
		b.unavailableWhy = map[string]string{}
	}
	b.unavailableWhy[id] = reason
}

func (b *Bot) opPartners(ctx context.Context, r *Request) error {
	return b.adminOnly(ctx, r, "partners", func() error {
		p := r.P
		if !b.handoffOn() {
			return r.Reply(ctx, p.T("op.partners.title")+"\n"+p.T("op.none"))
		}
		lines := []string{p.T("op.partners.title")}
		for _, partner := range b.partners.All() {
			var state string
			paused, err := b.cases.Paused(ctx, partner.ID)
			if err != nil {
				return fmt.Errorf("partners: %w", err)
			}
			b.unavailableMu.Lock()
			why, misconfigured := b.unavailableWhy[partner.ID]
			misconfigured = misconfigured || b.unavailableIDs[partner.ID]
			b.unavailableMu.Unlock()
			switch {
			case !partner.Active:
				state = p.T("op.partner.inactive")
			case misconfigured:
				state = p.T("op.partner.misconfigured", "Reason", orDash(why))
			case paused:
				state = p.T("op.partner.paused")
			default:
				state = p.T("op.partner.available")
			}
			lines = append(lines, "• "+p.T("op.partner.line", "Name", partner.Name, "ID", partner.ID, "State", state))
		}
		return r.Reply(ctx, strings.Join(lines, "\n"))
	})
}

// ---- /notice ----

// newsReaders returns the residents who asked for service news and have
// not blocked the bot.
func (b *Bot) newsReaders(ctx context.Context) ([]Profile, error) {
	l, ok := b.store.(Lister)
	if !ok {
		return nil, errors.New("notice: the store cannot list residents")
	}
	var out []Profile
	err := l.EachProfile(ctx, func(p Profile) error {
		if p.News && !p.Blocked {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func (b *Bot) opNotice(ctx context.Context, r *Request) error {
	return b.adminOnly(ctx, r, "notice", func() error {
		readers, err := b.newsReaders(ctx)
		if err != nil {
			return err
		}
		p := r.P
		rows := make([][]Button, 0, len(noticeKinds)+1)
		for _, k := range noticeKinds {
			rows = append(rows, []Button{{Label: p.T("op.notice.kind." + k), Data: "op:n:" + k}})
		}
		rows = append(rows, []Button{{Label: p.T("op.notice.cancel"), Data: "op:c"}})
		r.SetFlow(flowNotice, "")
		return r.Reply(ctx, p.T("op.notice.choose", "Readers", len(readers)), rows...)
	})
}

// noticeText is the notice of kind as residents of p's language read it.
func noticeText(p *catalog.Printer, kind string) string {
	return "<b>" + p.T("notice.title") + "</b>\n" + p.T("notice."+kind) + "\n\n" + p.T("notice.footer")
}

func (b *Bot) opButton(ctx context.Context, r *Request) error {
	code, arg, _ := strings.Cut(r.Callback.Arg, ":")
	return b.adminOnly(ctx, r, "notice_"+code, func() error {
		p := r.P
		inFlow := r.Session.Flow == flowNotice
		switch {
		case code == "n" && inFlow && slices.Contains(noticeKinds, arg):
			return b.noticePreview(ctx, r, arg)
		case code == "c" && inFlow:
			r.ClearFlow()
			return r.Reply(ctx, p.T("op.notice.cancelled"))
		case code == "s" && inFlow && r.Session.Step == stepNoticeOK && slices.Contains(noticeKinds, r.Session.Data[noticeKindKey]):
			kind := r.Session.Data[noticeKindKey]
			r.ClearFlow() // a second press finds no draft: sent once
			readers, err := b.newsReaders(ctx)
			if err != nil {
				return err
			}
			b.log.Info("notice_sending", "user_id", r.Update.UserID, "kind", kind, "residents", len(readers))
			b.sendNotice(ctx, kind, readers, r.Update.ChatID, r.Lang)
			return nil
		}
		return b.stale(ctx, r)
	})
}

// noticePreview shows the draft in French first, then in every other
// language, and asks for the go.
func (b *Bot) noticePreview(ctx context.Context, r *Request, kind string) error {
	p := r.P
	readers, err := b.newsReaders(ctx)
	if err != nil {
		return err
	}
	r.SetFlow(flowNotice, stepNoticeOK)
	r.setData(noticeKindKey, kind)
	langs := b.cat.Languages()
	slices.SortStableFunc(langs, func(a, c catalog.Language) int {
		switch {
		case a.Tag == StaffLanguage:
			return -1
		case c.Tag == StaffLanguage:
			return 1
		}
		return 0
	})
	var chunk []string
	size := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := r.Reply(ctx, strings.Join(chunk, "\n\n"))
		chunk, size = nil, 0
		return err
	}
	if err := r.Reply(ctx, p.T("op.notice.preview")); err != nil {
		return err
	}
	for _, l := range langs {
		part := "<b>[" + l.Tag + "] " + html.EscapeString(l.Native) + "</b>\n" + noticeText(b.cat.Printer(l.Tag), kind)
		if size+len(part) > 3500 {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, part)
		size += len(part) + 2
	}
	if err := flush(); err != nil {
		return err
	}
	return r.Reply(ctx, p.T("op.notice.confirm"), []Button{
		{Label: p.T("op.notice.send", "Readers", len(readers)), Data: "op:s"},
		{Label: p.T("op.notice.cancel"), Data: "op:c"},
	})
}

// sendNotice sends the notice on the bulk lane, each resident in their
// language, in the background (it may take minutes at Telegram's rate),
// then tells the operator how it went.
func (b *Bot) sendNotice(ctx context.Context, kind string, readers []Profile, adminChat int64, adminLang string) {
	ctx = context.WithoutCancel(ctx)
	b.notices.Add(1)
	go func() {
		defer b.notices.Done()
		sent, failed := 0, 0
		for _, res := range readers {
			lang := res.Lang
			if lang == "" || !b.cat.Has(lang) {
				lang = catalog.Reference
			}
			err := b.send(ctx, Reply{ChatID: res.ChatID, Text: noticeText(b.cat.Printer(lang), kind), Lane: LaneBulk,
				Buttons: [][]Button{{{Label: b.cat.Printer(lang).T("privacy.news.unsubscribe"), Data: "news:off"}}}})
			if err != nil {
				failed++
				b.log.Warn("notice_not_sent", "chat_id", res.ChatID, "err", err)
				continue
			}
			sent++
		}
		b.log.Info("notice_sent", "kind", kind, "sent", sent, "failed", failed)
		p := b.cat.Printer(adminLang)
		if err := b.send(ctx, Reply{ChatID: adminChat, Text: p.T("op.notice.sent", "Sent", sent, "Failed", failed)}); err != nil {
			b.log.Warn("notice_report_failed", "err", err)
		}
	}()
}

// WaitNotices waits until the notices being sent are done, or ctx is.
func (b *Bot) WaitNotices(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.notices.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ---- service news, for residents ----

// newsRow is the switch shown under /privacy.
func newsRow(p *catalog.Printer, on bool) []Button {
	if on {
		return []Button{{Label: p.T("privacy.news.unsubscribe"), Data: "news:off"}}
	}
	return []Button{{Label: p.T("privacy.news.subscribe"), Data: "news:on"}}
}

func (b *Bot) newsButton(ctx context.Context, r *Request) error {
	var on bool
	switch r.Callback.Arg {
	case "on":
		on = true
	case "off":
	default:
		return b.stale(ctx, r)
	}
	if r.Profile.News != on {
		r.Profile.News = on
		r.profileDirty = true
		if on && r.Profile.Lang == "" {
			// Notices go out in the language the resident reads now.
			r.Profile.Lang = r.Lang
		}
		b.log.Info("service_news", "chat_id", r.Update.ChatID, "on", on)
	}
	text := r.P.T("privacy.news.off")
	if on {
		text = r.P.T("privacy.news.on")
	}
	return r.Reply(ctx, text, newsRow(r.P, on), backRow(r.P))
}

// operatorLines names the operator for /privacy.
func (b *Bot) operatorLines(p *catalog.Printer) string {
	op := b.cfg.Operator
	if op.Name == "" {
		return ""
	}
	s := p.T("privacy.operator", "Name", op.Name, "Contact", orDash(op.Contact))
	if op.DPO != "" {
		s += "\n" + p.T("privacy.dpo", "Contact", op.DPO)
	}
	return s
}
