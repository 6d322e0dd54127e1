package bot

import (
	"context"
	"fmt"
)

// Chat id spaces. Every transport feeds the same core, so the ids it gives
// residents must never meet another transport's:
//
//   - Telegram: user and private chat ids are positive with at most 52
//     significant bits (Bot API documentation), so below 2^53; groups and
//     channels are negative.
//   - The web page (internal/transport/web): residents get ids in
//     [WebIDMin, 2^63), derived from their random cookie, far above any
//     Telegram id. Short-lived web records that are not residents (resume
//     codes) use [2^61, 2^62).
//   - The terminal (passerelle chat) simulates one Telegram resident with a
//     Telegram-shaped id; it never runs beside the Telegram transport.
const (
	// WebIDMin is the first id of the web space.
	WebIDMin int64 = 1 << 62
)

// IsWebID reports whether id (a chat, a user or an update id) belongs to
// the web space.
func IsWebID(id int64) bool { return id >= WebIDMin }

// MessageSource is implemented by transports that can give back a message
// a resident sent, as Telegram HTML, so that a copy into a chat of another
// transport (a web resident's message into a partner's Telegram topic) is
// sent as text.
type MessageSource interface {
	MessageText(ctx context.Context, chatID int64, messageID int) (string, error)
}

// Route gives a transport the chats whose id Owns reports.
type Route struct {
	Owns   func(chatID int64) bool
	Sender Sender
}

// Router is the one Sender the core is given when several transports run:
// it sends each reply through the transport owning the reply's chat (the
// first Route that owns it, else the fallback). A copy whose source chat
// belongs to another transport is sent as text when that transport is a
// MessageSource; otherwise the target transport receives the copy as is
// (the web page shows that a file could not be shown).
type Router struct {
	fallback Sender
	routes   []Route
}

// NewRouter returns a Router sending to fallback what no route owns.
func NewRouter(fallback Sender, routes ...Route) *Router {
	return &Router{fallback: fallback, routes: routes}
}

func (r *Router) owner(chatID int64) Sender {
	for _, rt := range r.routes {
		if rt.Owns(chatID) {
			return rt.Sender
		}
	}
	return r.fallback
}

// Send implements Sender.
func (r *Router) Send(ctx context.Context, rep Reply) (int, error) {
	to := r.owner(rep.ChatID)
	if rep.CopyFromChatID != 0 {
		if from := r.owner(rep.CopyFromChatID); from != to {
			if src, ok := from.(MessageSource); ok {
				text, err := src.MessageText(ctx, rep.CopyFromChatID, rep.CopyMessageID)
				if err != nil {
					return 0, fmt.Errorf("copy across transports: %w", err)
				}
				rep.Text, rep.CopyFromChatID, rep.CopyMessageID = text, 0, 0
			}
		}
	}
	return to.Send(ctx, rep)
}
