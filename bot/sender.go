package bot

import (
	"context"
	"errors"
)

// Sender delivers replies. Transports implement it. Send blocks until the
// reply is delivered, has failed for good, or ctx is done; it applies the
// transport's rate limits, serving LaneInteractive before LaneBulk. It
// returns the id of the message sent or edited.
type Sender interface {
	Send(ctx context.Context, r Reply) (messageID int, err error)
}

// Errors a Sender reports, wrapped.
var (
	// ErrBlocked: the recipient of a private chat blocked the bot, deleted
	// their account, or never started it. The core marks the resident
	// blocked and stops sending.
	ErrBlocked = errors.New("bot: recipient unreachable")
	// ErrRejected: the transport refused the reply for good (bad request).
	ErrRejected = errors.New("bot: reply rejected")
)
