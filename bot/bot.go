package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// Config holds what the core needs. Zero durations take the defaults
// documented on each field.
type Config struct {
	Store   Store
	Catalog *catalog.Catalog
	Sender  Sender
	// Guide is the procedure finder; nil leaves it out of the menu.
	Guide *guide.Guide
	// Documents and Reminders enable tracked documents and reminders; both
	// are needed, and both are usually the Store itself.
	Documents DocumentStore
	Reminders reminder.Store
	// Partners, Cases and Groups enable the hand-off to partner
	// associations; Partners nil leaves it out. Groups may be nil only in
	// tests without partner groups (no topics, every member check fails).
	Partners *handoff.Partners
	Cases    handoff.Store
	Groups   Groups
	// Outbox keeps the relay copies on their way to partner groups (usually
	// the Store itself); nil keeps them in memory, lost at exit. RunRelay
	// sends them.
	Outbox Outbox
	// Translator, if set, translates between residents' languages and
	// French in case topics (a self-hosted LibreTranslate server the
	// operator chose; see translation.go). Nil: no machine translation.
	Translator Translator
	// Reviewed lists the locales a native speaker has reviewed (see
	// locales/STATUS.md). Other locales, except the reference, say so when
	// chosen, and their guide results show the French names next to the
	// translation.
	Reviewed map[string]bool
	// BotUsername (without "@") builds referral links.
	BotUsername string
	// Operator is who runs the service, named in /privacy and /start.
	Operator Operator
	// Admins are the Telegram user ids allowed the operator's commands
	// (/status, /partners, /notice) in a private chat with the bot.
	Admins []int64
	// Status, if set, gives /status the process side (version, queues,
	// errors); Observer, if set, is told about every update (metrics).
	Status   StatusReporter
	Observer Observer
	// Retention of a closed case's topic, then of its mappings and audit
	// log. Defaults: DefaultTopicRetention and DefaultMappingRetention.
	TopicRetention   time.Duration
	MappingRetention time.Duration
	// ReminderHour is the local hour (in Location) reminders are sent at;
	// default DefaultReminderHour (0 counts as unset: never at midnight).
	ReminderHour int
	// InactiveMonths: a resident who follows no document, has no open case
	// and sent no message for that many months is told, then forgotten
	// (inactive.go); default DefaultInactiveMonths.
	InactiveMonths int

	Clock  clock.Clock  // default clock.Real
	Logger *slog.Logger // default slog.Default()
	// Location is the zone dates are shown in; default Europe/Paris when
	// the time-zone database has it, else UTC.
	Location *time.Location

	SessionTTL  time.Duration // how long a conversation step is kept; default 6 h
	DedupTTL    time.Duration // how long update ids are remembered; default 48 h, at least 24 h
	HandleLimit time.Duration // deadline for handling one update; default 30 s

	// Flood limit per user: Burst updates at once, refilled at one per
	// FloodEvery. Defaults: 20 and 2 s.
	FloodBurst int
	FloodEvery time.Duration
}

// Bot is the conversation core. Create it with New; Handle is safe for
// concurrent use, but updates of one chat must be handled in order (the
// Dispatcher does that).
type Bot struct {
	cfg    Config
	store  Store
	cat    *catalog.Catalog
	sender Sender
	clock  clock.Clock
	log    *slog.Logger
	flood  *floodLimiter
	mux    *Mux
	guide  *guide.Guide
	docs   DocumentStore
	rem    reminder.Store

	partners       *handoff.Partners
	cases          handoff.Store
	groups         Groups
	outbox         Outbox
	relay          relayQueue
	unavailableMu  sync.Mutex
	unavailableIDs map[string]bool
	unavailableWhy map[string]string // why a partner is unavailable, for /partners
	notices        sync.WaitGroup    // service notices being sent
	// langs remembers the language of residents seen lately, to tell
	// them in it that the store is unavailable (NotifyUnavailable).
	langs langCache
	// unreleased: claims on updates this process could not release.
	unreleased claimTokens
	// names caches the first names of partner group members, as
	// getChatMember reports them (user id → name): cards name referents.
	names sync.Map
	// entryLabels maps a guide entry point to the answer label leading to it.
	entryLabels map[string]string
	h           Handler
}

// New checks cfg and builds the core with its middleware and routes.
func New(cfg Config) (*Bot, error) {
	if cfg.Store == nil || cfg.Catalog == nil || cfg.Sender == nil {
		return nil, errors.New("bot: Store, Catalog and Sender are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
		if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
			cfg.Location = loc
		}
	}
	if cfg.ReminderHour <= 0 || cfg.ReminderHour > 23 {
		cfg.ReminderHour = DefaultReminderHour
	}
	if cfg.InactiveMonths <= 0 {
		cfg.InactiveMonths = DefaultInactiveMonths
	}
	if (cfg.Documents == nil) != (cfg.Reminders == nil) {
		return nil, errors.New("bot: Documents and Reminders go together")
	}
	if (cfg.Partners == nil) != (cfg.Cases == nil) {
		return nil, errors.New("bot: Partners and Cases go together")
	}
	if cfg.TopicRetention <= 0 {
		cfg.TopicRetention = DefaultTopicRetention
	}
	if cfg.MappingRetention <= cfg.TopicRetention {
		cfg.MappingRetention = max(DefaultMappingRetention, cfg.TopicRetention+24*time.Hour)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 6 * time.Hour
	}
	if cfg.DedupTTL < 24*time.Hour {
		cfg.DedupTTL = 48 * time.Hour
	}
	if cfg.HandleLimit <= 0 {
		cfg.HandleLimit = 30 * time.Second
	}
	if cfg.FloodBurst <= 0 {
		cfg.FloodBurst = 20
	}
	if cfg.FloodEvery <= 0 {
		cfg.FloodEvery = 2 * time.Second
	}
	b := &Bot{cfg: cfg, store: cfg.Store, cat: cfg.Catalog, sender: cfg.Sender, guide: cfg.Guide, docs: cfg.Documents, rem: cfg.Reminders, partners: cfg.Partners, cases: cfg.Cases, groups: cfg.Groups, outbox: cfg.Outbox, clock: cfg.Clock, log: cfg.Logger}
	if b.outbox == nil {
		b.outbox = newMemOutbox(cfg.Clock)
	}
	b.flood = newFloodLimiter(cfg.Clock, cfg.FloodBurst, cfg.FloodEvery)
	b.mux = b.routes()
	b.h = chain(b.mux, b.dedup, b.recoverer, b.membership, b.floodLimit, b.state, b.languageGate)
	return b, nil
}

// Handle runs one update through the middleware and the routes. Errors are
// logged and answered inside; the returned error only says the update
// could not be handled and may be retried (the store was unreachable).
func (b *Bot) Handle(ctx context.Context, u Update) (err error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.HandleLimit)
	defer cancel()
	r := &Request{Update: u, bot: b}
	if o := b.cfg.Observer; o != nil {
		start := b.clock.Now()
		o.UpdateReceived(u.Kind)
		defer func() { // runs after the recover below
			outcome := r.outcome
			switch {
			case err != nil:
				outcome = OutcomeRetry
			case outcome == "":
				outcome = OutcomeOK
			}
			o.UpdateHandled(u.Kind, outcome, b.clock.Now().Sub(start))
		}()
	}
	defer func() {
		// Last resort: the recoverer middleware handles panics of flows;
		// this one only keeps the process alive if middleware itself fails.
		if v := recover(); v != nil {
			b.log.Error("middleware_panic", "update_id", u.ID, "panic", fmt.Sprint(v))
			r.outcome = OutcomePanic
			err = nil
		}
	}()
	return b.h.Handle(ctx, r)
}

// send delivers a reply and applies what the transport learned: a
// resident who blocked the bot is marked so.
//
// While an update is handled, replies to its own chat are held (see
// replyBuffer) and go out once what the update changed is saved.
func (b *Bot) send(ctx context.Context, rep Reply) error {
	if buf := heldReplies(ctx); buf != nil && rep.ChatID == buf.chat && buf.add(rep) {
		return nil
	}
	return b.deliver(ctx, rep)
}

// deliver sends rep at once.
func (b *Bot) deliver(ctx context.Context, rep Reply) error {
	_, err := b.sender.Send(ctx, rep)
	if errors.Is(err, ErrBlocked) && rep.ChatID > 0 {
		b.log.Info("resident_unreachable", "chat_id", rep.ChatID)
		if merr := b.markBlocked(ctx, rep.ChatID, true); merr != nil {
			return errors.Join(err, merr)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// markBlocked records that the resident of a private chat (chat id = user
// id) blocked or unblocked the bot.
func (b *Bot) markBlocked(ctx context.Context, userID int64, blocked bool) error {
	p, err := b.store.Profile(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load profile: %w", err)
	}
	if p.Blocked == blocked {
		return nil
	}
	p.Blocked = blocked
	if err := b.store.PutProfile(ctx, p); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
}

// ChatMigrated is told by the transport that a group became a supergroup.
// Residents talk in private chats, which never migrate; partner groups are
// configuration, so this only records the event for the operator.
func (b *Bot) ChatMigrated(ctx context.Context, from, to int64) {
	b.log.Warn("chat_migrated", "chat_id", from, "new_chat_id", to)
}

// reviewed reports whether a native speaker reviewed locale tag; the
// reference locale is the team's own text.
func (b *Bot) reviewed(tag string) bool {
	return tag == catalog.Reference || b.cfg.Reviewed[tag]
}

// printerFor returns the best printer available for r before or without
// the state middleware.
func (b *Bot) printerFor(r *Request) *catalog.Printer {
	if r.P != nil {
		return r.P
	}
	if tag, ok := b.cat.Match(r.Update.LanguageCode); ok {
		return b.cat.Printer(tag)
	}
	return b.cat.Printer(catalog.Reference)
}

// recoverer turns a panic or an unexpected error into a logged event and a
// translated apology; the process goes on.
func (b *Bot) recoverer(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) (err error) {
		defer func() {
			if v := recover(); v != nil {
				b.log.Error("handler_panic", "update_id", r.Update.ID, "chat_id", r.Update.ChatID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				r.outcome = OutcomePanic
				err = nil
				b.apologize(ctx, r)
			}
		}()
		err = next.Handle(ctx, r)
		if err != nil && !errors.Is(err, errRetry) && errors.Is(err, ErrUnavailable) {
			// The store went away in the middle of a flow: the update is
			// handled again once it is back (nothing was sent: see
			// replyBuffer), rather than apologised for.
			return fmt.Errorf("%w: %w", errRetry, err)
		}
		if err != nil && !errors.Is(err, errRetry) {
			b.log.Error("handler_error", "update_id", r.Update.ID, "chat_id", r.Update.ChatID, "err", err)
			r.outcome = OutcomeError
			b.apologize(ctx, r)
			return nil
		}
		return err
	})
}

func (b *Bot) apologize(ctx context.Context, r *Request) {
	if r.Update.ChatID == 0 || !r.Update.Private() {
		return
	}
	p := b.printerFor(r)
	if err := b.send(ctx, laidOut(p, Reply{ChatID: r.Update.ChatID, Text: p.T("error.apology"), Buttons: [][]Button{{{Label: p.T("menu.back"), Data: "menu"}}}})); err != nil {
		b.log.Error("apology_failed", "update_id", r.Update.ID, "chat_id", r.Update.ChatID, "err", err)
	}
}

// NotifyUnavailable tells the resident who sent u, in their language, that
// Passerelle cannot answer for now and will as soon as it can: the
// Dispatcher calls it once per chat while the store is unreachable. It
// needs no store: the language is the one last seen for the resident by
// this process, else the one their client reports.
func (b *Bot) NotifyUnavailable(ctx context.Context, u Update) {
	if !u.Private() || u.ChatID == 0 || u.UserID == 0 {
		return
	}
	switch u.Kind {
	case KindMember, KindEdited:
		return
	}
	tag, ok := b.langs.get(u.UserID)
	if !ok {
		if tag, ok = b.cat.Match(u.LanguageCode); !ok {
			tag = catalog.Reference
		}
	}
	p := b.cat.Printer(tag)
	if _, err := b.sender.Send(ctx, laidOut(p, Reply{ChatID: u.ChatID, Text: p.T("error.unavailable")})); err != nil {
		b.log.Warn("unavailable_notice_failed", "update_id", u.ID, "chat_id", u.ChatID, "err", err)
		return
	}
	b.log.Info("unavailable_notice", "update_id", u.ID, "chat_id", u.ChatID)
}

// langCache maps user ids to the language last resolved for them, for
// NotifyUnavailable. It holds at most langCacheSize users (then starts
// afresh): a language code per user, never stored.
type langCache struct {
	mu sync.Mutex
	m  map[int64]string
}

const langCacheSize = 50_000

func (c *langCache) put(userID int64, tag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[userID] == tag {
		return
	}
	if c.m == nil || len(c.m) >= langCacheSize {
		c.m = make(map[int64]string)
	}
	c.m[userID] = tag
}

func (c *langCache) drop(userID int64) {
	c.mu.Lock()
	delete(c.m, userID)
	c.mu.Unlock()
}

func (c *langCache) get(userID int64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tag, ok := c.m[userID]
	return tag, ok
}

// errRetry marks errors after which the update should be delivered again
// (the store could not be reached, or another instance holds it): it is
// not marked as handled.
var errRetry = errors.New("bot: retry later")

// errBusy marks an update another handler has claimed: it is tried again
// until that one has handled it, or its claim has ended.
var errBusy = errors.New("bot: update being handled elsewhere")

// claimLease is how long a claimed update stays reserved for its handler
// beyond the handling deadline (HandleLimit), after which another
// instance may take it.
const claimLease = 15 * time.Second

// dedup claims each update by id before it is handled, so that it is
// handled once even when two instances receive it, and commits what the
// handling changed: the profile and session the state middleware kept,
// and the mark that the update was handled, in one write. A handling that
// asks to be retried releases the claim instead.
func (b *Bot) dedup(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) error {
		id := r.Update.ID
		// Save before sending: the replies to the update's chat wait
		// until its state and its handled mark are saved, so that an
		// update handled again after a failed save (the store went away
		// meanwhile) has sent nothing the first time, and the resident
		// gets one answer, not the welcome twice.
		// Partner groups' updates keep their sends in line with the
		// case's own records (artefact.go).
		flush := func() {}
		if r.Update.Private() && r.Update.ChatID != 0 {
			buf := &replyBuffer{chat: r.Update.ChatID}
			// Not flushed (the update will be handled again): what it
			// held is dropped, and later sends go at once.
			defer buf.close()
			ctx = context.WithValue(ctx, replyBufferKey{}, buf)
			flush = func() { b.flush(context.WithValue(ctx, replyBufferKey{}, (*replyBuffer)(nil)), r, buf) }
		}
		if id == 0 {
			herr := next.Handle(ctx, r)
			if errors.Is(herr, errRetry) {
				return herr
			}
			if err := b.commit(ctx, r, 0); err != nil {
				return errors.Join(herr, err)
			}
			flush()
			return herr
		}
		lease := b.cfg.HandleLimit + claimLease
		if tok, ok := b.unreleased.get(id); ok {
			// An earlier attempt here claimed it and could not release
			// it (the store went away): end that claim first, or this
			// process would find its own claim busy until the lease ends.
			if err := b.store.ReleaseUpdate(ctx, id, tok); err != nil {
				return fmt.Errorf("%w: release earlier claim: %w", errRetry, err)
			}
			b.unreleased.drop(id)
		}
		var claim UpdateClaim
		var err error
		if loader, ok := b.store.(StateLoader); ok && r.Update.Private() && r.Update.UserID != 0 {
			// One round trip for the claim, the profile and the session.
			var st LoadedState
			st, err = loader.LoadState(ctx, id, lease, r.Update.UserID, SessionKey{ChatID: r.Update.ChatID, UserID: r.Update.UserID})
			claim, r.preload = st.Claim, &st
		} else {
			claim, err = b.store.ClaimUpdate(ctx, id, lease)
		}
		switch {
		case err != nil:
			return fmt.Errorf("%w: claim update: %w", errRetry, err)
		case claim.Status == ClaimHandled:
			b.log.Debug("update_duplicate", "update_id", id)
			r.outcome = OutcomeDuplicate
			return nil
		case claim.Status != ClaimGranted:
			// Another instance is handling it: once it is done, a later
			// delivery finds it handled; if that instance dies, its claim
			// ends and a later delivery takes it.
			b.log.Info("update_busy", "update_id", id)
			return fmt.Errorf("%w: %w: update %d", errRetry, errBusy, id)
		}
		herr := next.Handle(ctx, r)
		if errors.Is(herr, errRetry) {
			b.releaseClaim(ctx, id, claim.Token)
			return herr
		}
		if err := b.commit(ctx, r, id); err != nil {
			b.releaseClaim(ctx, id, claim.Token)
			return errors.Join(herr, err)
		}
		flush()
		return herr
	})
}

// releaseClaim ends this handler's claim on update id so that it can be
// handled again at once; when the store cannot be reached, the token is
// kept for the next attempt (dedup).
func (b *Bot) releaseClaim(ctx context.Context, id int64, token string) {
	if err := b.store.ReleaseUpdate(context.WithoutCancel(ctx), id, token); err != nil {
		b.log.Warn("update_release_failed", "update_id", id, "err", err)
		b.unreleased.put(id, token)
	}
}

// claimTokens keeps the claims this process could not release, by update
// id. An update waits in the Dispatcher until it is handled, so entries
// are few and short-lived; the map is bounded all the same.
type claimTokens struct {
	mu sync.Mutex
	m  map[int64]string
}

func (c *claimTokens) put(id int64, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 10_000 {
		c.m = make(map[int64]string)
	}
	c.m[id] = token
}

func (c *claimTokens) get(id int64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tok, ok := c.m[id]
	return tok, ok
}

func (c *claimTokens) drop(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// replyBuffer holds the replies to the chat of the update being handled
// until dedup has saved what the update changed (Bot.send). A reply is
// then sent at most once per handling that counts: if the process dies
// between the save and the send, that reply is lost (the resident sees no
// answer and writes again) rather than sent twice, as it was when a save
// that failed after the sends made the whole update run again.
type replyBuffer struct {
	chat   int64
	mu     sync.Mutex
	reps   []Reply
	closed bool // flushed: later sends (a flow's background work) go at once
}

type replyBufferKey struct{}

// add holds rep, and reports false once the buffer was flushed.
func (buf *replyBuffer) add(rep Reply) bool {
	buf.mu.Lock()
	defer buf.mu.Unlock()
	if buf.closed {
		return false
	}
	buf.reps = append(buf.reps, rep)
	return true
}

func (buf *replyBuffer) close() {
	buf.mu.Lock()
	buf.reps, buf.closed = nil, true
	buf.mu.Unlock()
}

func heldReplies(ctx context.Context) *replyBuffer {
	buf, _ := ctx.Value(replyBufferKey{}).(*replyBuffer)
	return buf
}

// flush sends the held replies in order. A failure is logged: the update
// is handled and saved, so it is not run again for one lost reply.
func (b *Bot) flush(ctx context.Context, r *Request, buf *replyBuffer) {
	buf.mu.Lock()
	reps := buf.reps
	buf.reps, buf.closed = nil, true
	buf.mu.Unlock()
	for _, rep := range reps {
		if err := b.deliver(ctx, rep); err != nil {
			b.log.Error("reply_failed", "update_id", r.Update.ID, "chat_id", rep.ChatID, "err", err)
		}
	}
}

// commit writes what the state middleware kept of r (nothing after
// /forget) and marks update id handled (unless 0), in one SaveState. A
// session changed meanwhile by another handler is logged and left as it
// is. Other errors ask for a retry.
func (b *Bot) commit(ctx context.Context, r *Request, id int64) error {
	w := StateWrite{UpdateID: id}
	now := b.clock.Now()
	if id != 0 {
		w.Handled = now.Add(b.cfg.DedupTTL)
	}
	if r.forgotten {
		b.langs.drop(r.Update.UserID)
	}
	if r.stateLoaded && !r.forgotten {
		if r.profileDirty {
			r.Profile.Schema = SchemaVersion
			w.Profile = &r.Profile
		}
		if r.sessionDirty {
			r.Session.Schema = SchemaVersion
			r.Session.Expires = now.Add(b.cfg.SessionTTL)
			w.Session = &r.Session
		}
	}
	if w.Profile == nil && w.Session == nil && w.UpdateID == 0 {
		return nil
	}
	_, err := b.store.SaveState(ctx, w)
	switch {
	case errors.Is(err, ErrConflict):
		b.log.Warn("session_conflict", "update_id", r.Update.ID, "chat_id", r.Update.ChatID)
		return nil
	case err != nil:
		b.log.Error("state_not_saved", "update_id", r.Update.ID, "chat_id", r.Update.ChatID, "err", err)
		return fmt.Errorf("%w: save state: %w", errRetry, err)
	}
	return nil
}

// membership applies the bot's own membership changes and filters what the
// resident-facing flows never act on: edits, and chats other than private
// ones (partner groups arrive with the handoff feature).
func (b *Bot) membership(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) error {
		u := r.Update
		switch {
		case u.Kind == KindMember:
			if u.Private() {
				blocked := u.MemberStatus == "kicked"
				b.log.Info("resident_membership", "chat_id", u.ChatID, "blocked", blocked)
				if err := b.markBlocked(ctx, u.UserID, blocked); err != nil {
					return fmt.Errorf("%w: %w", errRetry, err)
				}
				if !blocked {
					if err := b.resumeReminders(ctx, u.UserID); err != nil {
						return fmt.Errorf("%w: %w", errRetry, err)
					}
				}
			}
			return nil
		case u.Kind == KindEdited && !u.Private() && b.handoffOn() && b.partnerByChat(u.ChatID) != nil:
			return b.group(ctx, r) // an edit in a case topic is answered there
		case u.Kind == KindEdited:
			r.outcome = OutcomeIgnored
			return nil
		case !u.Private() && b.handoffOn() && b.partnerByChat(u.ChatID) != nil:
			return b.group(ctx, r)
		case !u.Private():
			b.log.Debug("update_ignored", "update_id", u.ID, "chat_type", string(u.ChatType), "kind", u.Kind.String())
			r.outcome = OutcomeIgnored
			return nil
		case u.UserID == 0:
			return nil
		}
		return next.Handle(ctx, r)
	})
}

// floodLimit drops updates of a user who sends too fast, telling them once.
func (b *Bot) floodLimit(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) error {
		switch b.flood.allow(r.Update.UserID) {
		case floodAllow:
			return next.Handle(ctx, r)
		case floodWarn:
			r.outcome = OutcomeFlooded
			b.log.Info("flood_limited", "update_id", r.Update.ID, "chat_id", r.Update.ChatID)
			return b.send(ctx, Reply{ChatID: r.Update.ChatID, Text: b.printerFor(r).T("input.flood")})
		default:
			r.outcome = OutcomeFlooded
			return nil
		}
	})
}

// state loads the profile and session before the handler; dedup saves
// what changed after it (commit).
func (b *Bot) state(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) error {
		u := r.Update
		now := b.clock.Now()
		p, err := b.loadProfile(ctx, r)
		switch {
		case errors.Is(err, ErrNotFound):
			p = Profile{Schema: SchemaVersion, UserID: u.UserID, ChatID: u.ChatID, Created: now, LastSeen: now}
			r.profileDirty = true
		case err != nil:
			return fmt.Errorf("%w: load profile: %w", errRetry, err)
		default:
			r.HasProfile = true
			if p.Blocked {
				// Writing again after blocking the bot: reminders resume.
				if err := b.resumeReminders(ctx, u.UserID); err != nil {
					return fmt.Errorf("%w: %w", errRetry, err)
				}
			}
			if p.Blocked || p.ChatID != u.ChatID || now.Sub(p.LastSeen) >= time.Hour {
				p.Blocked, p.ChatID, p.LastSeen = false, u.ChatID, now
				r.profileDirty = true
			}
		}
		r.Profile = p
		key := SessionKey{ChatID: u.ChatID, UserID: u.UserID}
		s, err := b.loadSession(ctx, r, key)
		switch {
		case errors.Is(err, ErrNotFound):
			s = Session{Schema: SchemaVersion}
		case err != nil:
			return fmt.Errorf("%w: load session: %w", errRetry, err)
		}
		s.Key = key
		r.Session = s

		switch {
		case p.Lang != "" && b.cat.Has(p.Lang):
			r.Lang = p.Lang
		default:
			if tag, ok := b.cat.Match(u.LanguageCode); ok {
				r.Lang = tag
			} else {
				r.Lang, r.NeedLanguage = catalog.Reference, true
			}
		}
		r.P = b.cat.Printer(r.Lang)
		if !r.NeedLanguage {
			b.langs.put(u.UserID, r.Lang)
		}

		r.stateLoaded = true
		// dedup writes the profile and session with the update's mark.
		return next.Handle(ctx, r)
	})
}

// languageGate shows the language picker first when the resident's
// language is unknown, whatever they sent, except a language choice.
func (b *Bot) languageGate(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, r *Request) error {
		if r.NeedLanguage && !(r.Update.Kind == KindCallback && isLangCallback(r.Update.Data)) {
			if r.Update.Kind == KindCommand && r.Update.Command == "start" {
				r.SetFlow("lang", "start")
			}
			return b.showPicker(ctx, r)
		}
		return next.Handle(ctx, r)
	})
}

// loadProfile returns the resident's profile, from what dedup preloaded
// when the store could read it in the same round trip.
func (b *Bot) loadProfile(ctx context.Context, r *Request) (Profile, error) {
	if st := r.preload; st != nil {
		if !st.HasProfile {
			return Profile{}, ErrNotFound
		}
		return st.Profile, nil
	}
	return b.store.Profile(ctx, r.Update.UserID)
}

// loadSession is loadProfile for the session.
func (b *Bot) loadSession(ctx context.Context, r *Request, key SessionKey) (Session, error) {
	if st := r.preload; st != nil {
		if !st.HasSession {
			return Session{}, ErrNotFound
		}
		return st.Session, nil
	}
	return b.store.Session(ctx, key)
}
