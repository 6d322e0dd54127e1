package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
)

// A resident's page lives in the core's store as one session record of
// that resident (SessionKey{UserID: id, ChatID: pageChat}), so Forget
// deletes it with everything else, and a Redis store shares it between
// instances. It holds:
//
//   - the messages of the current step (what the last action produced),
//     shown on every visit until the next action;
//   - messages sent while no action was running (a volunteer's reply, a
//     reminder), kept until shown, then carried into the next step;
//   - the reply keyboard the bot shows, as Telegram keeps it;
//   - only while the resident has an open hand-off case, the texts they
//     typed, so that a case taken later can still receive them (Telegram
//     copies them from the chat; the page has no other copy).
//
// It expires StepTTL after the last change, or MailTTL while it holds
// unseen messages or kept texts.
const pageChat = 0

// record is the stored page.
type record struct {
	Msgs     []message  `json:"m,omitempty"`
	Keyboard [][]string `json:"k,omitempty"`
	Own      []own      `json:"o,omitempty"`
	// Resume is the key (UserID) of the resident's outstanding resume
	// code record, 0 for none.
	Resume int64 `json:"r,omitempty"`
}

// message is one message shown on the page.
type message struct {
	ID      int            `json:"i"`
	You     bool           `json:"y,omitempty"` // typed by the resident
	Text    string         `json:"t,omitempty"` // Telegram HTML (bot) or plain text (You)
	Buttons [][]bot.Button `json:"b,omitempty"`
	File    *bot.File      `json:"f,omitempty"`
	// Async: sent while no action of the resident was running.
	Async  bool `json:"a,omitempty"`
	Unseen bool `json:"u,omitempty"`
}

// own is a text the resident typed while a case was open.
type own struct {
	ID   int       `json:"i"`
	Text string    `json:"t"`
	At   time.Time `json:"at"`
}

// Bounds of a record.
const (
	maxMsgs = 40
	maxOwn  = 50
)

func pageKey(id int64) bot.SessionKey { return bot.SessionKey{UserID: id, ChatID: pageChat} }

// load returns the resident's page (empty when there is none).
func (t *Transport) load(ctx context.Context, id int64) (record, error) {
	s, err := t.cfg.Store.Session(ctx, pageKey(id))
	if errors.Is(err, bot.ErrNotFound) {
		return record{}, nil
	}
	if err != nil {
		return record{}, fmt.Errorf("web: load page: %w", err)
	}
	var rec record
	if err := json.Unmarshal([]byte(s.Data["page"]), &rec); err != nil {
		return record{}, fmt.Errorf("web: decode page: %w", err)
	}
	return rec, nil
}

// mutate applies change to the stored page with a compare-and-set,
// retrying on conflicts. change reports whether it changed anything.
func (t *Transport) mutate(ctx context.Context, id int64, change func(*record) bool) error {
	for attempt := 0; ; attempt++ {
		s, err := t.cfg.Store.Session(ctx, pageKey(id))
		switch {
		case errors.Is(err, bot.ErrNotFound):
			s = bot.Session{Key: pageKey(id)}
		case err != nil:
			return fmt.Errorf("web: load page: %w", err)
		}
		var rec record
		if v := s.Data["page"]; v != "" {
			if err := json.Unmarshal([]byte(v), &rec); err != nil {
				return fmt.Errorf("web: decode page: %w", err)
			}
		}
		if !change(&rec) {
			return nil
		}
		t.prune(&rec)
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("web: encode page: %w", err)
		}
		s.Key, s.Schema, s.Flow = pageKey(id), bot.SchemaVersion, "web"
		s.Data = map[string]string{"page": string(b)}
		s.Expires = t.cfg.Clock.Now().Add(t.ttl(rec))
		_, err = t.cfg.Store.SaveSession(ctx, s)
		if errors.Is(err, bot.ErrConflict) && attempt < 8 {
			continue
		}
		if err != nil {
			return fmt.Errorf("web: save page: %w", err)
		}
		return nil
	}
}

func (t *Transport) ttl(rec record) time.Duration {
	if len(rec.Own) > 0 || rec.Resume != 0 || slices.ContainsFunc(rec.Msgs, func(m message) bool { return m.Unseen }) {
		return t.cfg.MailTTL
	}
	return t.cfg.StepTTL
}

// prune keeps a record within its bounds: the latest messages, and kept
// texts younger than MailTTL.
func (t *Transport) prune(rec *record) {
	if n := len(rec.Msgs); n > maxMsgs {
		rec.Msgs = slices.Clone(rec.Msgs[n-maxMsgs:])
	}
	cutoff := t.cfg.Clock.Now().Add(-t.cfg.MailTTL)
	rec.Own = slices.DeleteFunc(rec.Own, func(o own) bool { return o.At.Before(cutoff) })
	if n := len(rec.Own); n > maxOwn {
		rec.Own = slices.Clone(rec.Own[n-maxOwn:])
	}
}

// newMsgID returns a message id not used in msgs: random, since ids are
// handed out both in memory (during an action) and in the store.
func newMsgID(used ...[]message) int {
	for {
		id := 1 + randIntN(1<<31-2)
		clash := false
		for _, ms := range used {
			if slices.ContainsFunc(ms, func(m message) bool { return m.ID == id }) {
				clash = true
			}
		}
		if !clash {
			return id
		}
	}
}
