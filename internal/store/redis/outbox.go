package redis

// The relay outbox (bot.Outbox), ids only, with prefix P and chat G:
//
//	P:{P:oG}:q                    list    items, oldest first: "seq|thread|case|msg"
//	P:{P:oG}:seq                  string  the last item number (INCR)
//	P:{P:oG}:lease                string  the seq of the leased first item, expiring with the lease (PX)
//	P:{P:oG}:k:thread:case:msg    string  Enqueue's memory of a message, expiring after its ttl (PX)
//	P:{P:outbox}:chats            set     chats whose queue may not be empty
//
// A chat's keys share one hash tag: Enqueue, Claim, Done and Retry are
// single scripts on one slot, and leases and memories expire by Redis's
// own clock. The set of chats is another slot: Enqueue adds the chat after
// pushing, and a Claim that finds the queue empty removes it, then checks
// the queue again and adds it back if an item arrived meanwhile, so a chat
// with items is never left out.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	goredis "github.com/redis/go-redis/v9"
)

var _ bot.Outbox = (*Store)(nil)

func (s *Store) outboxTag(chat int64) string { return s.hashTag("o" + strconv.FormatInt(chat, 10)) }
func (s *Store) outboxChatsKey() string      { return s.hashTag("outbox") + ":chats" }

// outboxEnqueueScript appends an item unless its message is remembered.
//
//	KEYS[1] queue, KEYS[2] sequence, KEYS[3] memory of the message
//	ARGV[1] the item without its seq, ARGV[2] ttl in milliseconds
//
// It returns the item's seq, or 0 when the message was remembered.
var outboxEnqueueScript = goredis.NewScript(`
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], seq .. '|' .. ARGV[1])
return seq
`)

// outboxClaimScript leases the first item.
//
//	KEYS[1] queue, KEYS[2] lease; ARGV[1] lease in milliseconds
//
// It returns {1, item}, {0, ”} when the queue is empty, or {-1, ms} when
// the first item is leased for ms more milliseconds.
var outboxClaimScript = goredis.NewScript(`
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {0, ''} end
local seq = string.match(head, '^(%d+)|')
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 and redis.call('GET', KEYS[2]) == seq then return {-1, ttl} end
redis.call('SET', KEYS[2], seq, 'PX', ARGV[1])
return {1, head}
`)

// outboxDoneScript removes the first item if it is seq, and its lease.
//
//	KEYS[1] queue, KEYS[2] lease; ARGV[1] seq
var outboxDoneScript = goredis.NewScript(`
local head = redis.call('LINDEX', KEYS[1], 0)
if head and string.match(head, '^(%d+)|') == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  redis.call('DEL', KEYS[2])
end
return 1
`)

// outboxRetryScript leases the first item for ARGV[2] ms if it is seq.
//
//	KEYS[1] queue, KEYS[2] lease; ARGV[1] seq, ARGV[2] milliseconds
var outboxRetryScript = goredis.NewScript(`
local head = redis.call('LINDEX', KEYS[1], 0)
if head and string.match(head, '^(%d+)|') == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then
    redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  else
    redis.call('DEL', KEYS[2])
  end
end
return 1
`)

func encodeOutboxItem(it bot.OutboxItem) string {
	return fmt.Sprintf("%d|%d|%d", it.Thread, it.Case, it.Message)
}

func decodeOutboxItem(chat int64, v string) (bot.OutboxItem, error) {
	f := strings.Split(v, "|")
	if len(f) != 4 {
		return bot.OutboxItem{}, fmt.Errorf("redis store: outbox item %q: malformed", v)
	}
	var n [4]int64
	for i, x := range f {
		var err error
		if n[i], err = strconv.ParseInt(x, 10, 64); err != nil {
			return bot.OutboxItem{}, fmt.Errorf("redis store: outbox item %q: %w", v, err)
		}
	}
	return bot.OutboxItem{Chat: chat, Seq: n[0], Thread: int(n[1]), Case: n[2], Message: int(n[3])}, nil
}

func millis(d time.Duration) int64 { return max(1, d.Milliseconds()) }

// OutboxEnqueue appends it to its chat's queue unless the same message was
// enqueued within ttl, then lists the chat.
func (s *Store) OutboxEnqueue(ctx context.Context, it bot.OutboxItem, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	tag := s.outboxTag(it.Chat)
	memory := fmt.Sprintf("%s:k:%d:%d:%d", tag, it.Thread, it.Case, it.Message)
	seq, err := outboxEnqueueScript.Run(ctx, s.c, []string{tag + ":q", tag + ":seq", memory}, encodeOutboxItem(it), millis(ttl)).Int64()
	if err != nil {
		return false, wrap("enqueue", err)
	}
	if seq == 0 {
		return false, nil
	}
	return true, wrap("enqueue", s.c.SAdd(ctx, s.outboxChatsKey(), it.Chat).Err())
}

// OutboxClaim leases the first item of chat's queue.
func (s *Store) OutboxClaim(ctx context.Context, chat int64, lease time.Duration) (bot.OutboxItem, bool, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return bot.OutboxItem{}, false, 0, err
	}
	tag := s.outboxTag(chat)
	res, err := outboxClaimScript.Run(ctx, s.c, []string{tag + ":q", tag + ":lease"}, millis(lease)).Slice()
	if err != nil {
		return bot.OutboxItem{}, false, 0, wrap("claim", err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 1:
		v, _ := res[1].(string)
		it, err := decodeOutboxItem(chat, v)
		return it, err == nil, 0, err
	case -1:
		ms, _ := res[1].(int64)
		return bot.OutboxItem{}, false, time.Duration(ms) * time.Millisecond, nil
	}
	// Empty: leave the list of chats, unless an item came meanwhile.
	if err := s.c.SRem(ctx, s.outboxChatsKey(), chat).Err(); err != nil {
		return bot.OutboxItem{}, false, 0, wrap("claim", err)
	}
	n, err := s.c.LLen(ctx, tag+":q").Result()
	if err != nil {
		return bot.OutboxItem{}, false, 0, wrap("claim", err)
	}
	if n > 0 {
		if err := s.c.SAdd(ctx, s.outboxChatsKey(), chat).Err(); err != nil {
			return bot.OutboxItem{}, false, 0, wrap("claim", err)
		}
	}
	return bot.OutboxItem{}, false, 0, nil
}

// OutboxDone removes item seq from the front of chat's queue.
func (s *Store) OutboxDone(ctx context.Context, chat int64, seq int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tag := s.outboxTag(chat)
	return wrap("done", outboxDoneScript.Run(ctx, s.c, []string{tag + ":q", tag + ":lease"}, seq).Err())
}

// OutboxRetry leases item seq, first in chat's queue, for after.
func (s *Store) OutboxRetry(ctx context.Context, chat int64, seq int64, after time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tag := s.outboxTag(chat)
	ms := int64(0)
	if after > 0 {
		ms = millis(after)
	}
	return wrap("retry", outboxRetryScript.Run(ctx, s.c, []string{tag + ":q", tag + ":lease"}, seq, ms).Err())
}

// OutboxChats lists the chats whose queue may not be empty.
func (s *Store) OutboxChats(ctx context.Context) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members, err := s.c.SMembers(ctx, s.outboxChatsKey()).Result()
	if err != nil {
		return nil, wrap("outbox chats", err)
	}
	out := make([]int64, 0, len(members))
	for _, m := range members {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redis store: outbox chats: malformed %q", m)
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

var _ bot.OutboxLister = (*Store)(nil)

// OutboxItems lists chat's queue in order.
func (s *Store) OutboxItems(ctx context.Context, chat int64) ([]bot.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vs, err := s.c.LRange(ctx, s.outboxTag(chat)+":q", 0, -1).Result()
	if err != nil {
		return nil, wrap("outbox items", err)
	}
	var out []bot.OutboxItem
	for _, v := range vs {
		it, err := decodeOutboxItem(chat, v)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}
