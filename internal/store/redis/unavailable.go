package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	goredis "github.com/redis/go-redis/v9"
)

// unavailableHook marks the errors that say Redis cannot be reached for
// now (connection refused or reset, timeouts, a server still loading its
// AOF after a restart, a cluster without a master) with bot.ErrUnavailable,
// on the command itself, so that every caller sees it whichever way it reads
// the error: the core then keeps the update and tries again later instead
// of apologising (bot.ErrUnavailable).
type unavailableHook struct{}

func (unavailableHook) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil && transient(err) {
			err = fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
		}
		return conn, err
	}
}

func (unavailableHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && transient(err) {
			err = fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
			cmd.SetErr(err)
		}
		return err
	}
}

func (unavailableHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if e := cmd.Err(); e != nil && transient(e) {
				cmd.SetErr(fmt.Errorf("%w: %w", bot.ErrUnavailable, e))
			}
		}
		if err != nil && transient(err) {
			err = fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
		}
		return err
	}
}

// transientReplies are the error replies of a server that will answer
// again soon.
var transientReplies = []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"}

// transient reports whether err says Redis is unreachable for now, rather
// than that the request was wrong or the caller gave up.
func transient(err error) bool {
	switch {
	case errors.Is(err, bot.ErrUnavailable):
		return false // already marked
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, goredis.ErrClosed), errors.Is(err, goredis.Nil):
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, goredis.ErrPoolTimeout):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	for _, p := range transientReplies {
		if goredis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return strings.Contains(err.Error(), "cluster has no nodes")
}
