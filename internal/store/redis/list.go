package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	goredis "github.com/redis/go-redis/v9"
)

// Listing (bot.Lister, reminder.Lister, handoff.Exporter) for migrate and
// the operator's metrics. Residents are found by SCAN over their hashes
// (every master of a cluster), then read through the ordinary methods, so
// records decode exactly as the bot reads them.

var (
	_ bot.Lister       = (*Store)(nil)
	_ reminder.Lister  = (*Store)(nil)
	_ handoff.Exporter = (*Store)(nil)
)

// scanKeys returns every key matching pattern, on every master, sorted.
func (s *Store) scanKeys(ctx context.Context, pattern string) ([]string, error) {
	var (
		mu   sync.Mutex
		keys []string
	)
	collect := func(ctx context.Context, c goredis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return collect(ctx, c) })
	} else {
		err = collect(ctx, s.c)
	}
	if err != nil {
		return nil, wrap("scan", err)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// residents returns the ids of the residents that have a hash.
func (s *Store) residents(ctx context.Context) ([]int64, error) {
	// "P:{P:u<id>}:r"; the prefix holds no glob characters.
	keys, err := s.scanKeys(ctx, s.tag+"*}:r")
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(keys))
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, s.tag)
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimSuffix(rest, "}:r"), 10, 64)
		if err != nil {
			continue // another kind of key under the same tag
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// EachProfile calls fn for every stored profile.
func (s *Store) EachProfile(ctx context.Context, fn func(bot.Profile) error) error {
	ids, err := s.residents(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		p, err := s.Profile(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			continue // documents only, or deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// EachDocument calls fn for every tracked document.
func (s *Store) EachDocument(ctx context.Context, fn func(bot.Document) error) error {
	ids, err := s.residents(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		docs, err := s.Documents(ctx, id)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// Entries calls fn for every schedule entry, shard by shard.
func (s *Store) Entries(ctx context.Context, fn func(reminder.Entry) error) error {
	for n := range remShards {
		keys := s.remKeys(n)
		var ids []string
		for _, k := range keys[:2] { // due and lease
			members, err := s.c.ZRange(ctx, k, 0, -1).Result()
			if err != nil {
				return wrap("list reminders", err)
			}
			ids = append(ids, members...)
		}
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			e, ok, err := s.Get(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Backlog counts the entries due at or before now and not leased.
func (s *Store) Backlog(ctx context.Context, now time.Time) (int, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	max := strconv.FormatInt(now.UnixMilli(), 10)
	var n int64
	var oldest int64 = -1
	for shard := range remShards {
		due := s.remKeys(shard)[0]
		c, err := s.c.ZCount(ctx, due, "-inf", max).Result()
		if err != nil {
			return 0, time.Time{}, wrap("backlog", err)
		}
		if c == 0 {
			continue
		}
		n += c
		first, err := s.c.ZRangeWithScores(ctx, due, 0, 0).Result()
		if err != nil {
			return 0, time.Time{}, wrap("backlog", err)
		}
		if len(first) == 1 && (oldest < 0 || int64(first[0].Score) < oldest) {
			oldest = int64(first[0].Score)
		}
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return int(n), time.UnixMilli(oldest).UTC(), nil
}

// Links returns the topics and relayed copies mapped to a case.
func (s *Store) Links(ctx context.Context, caseID int64) ([]handoff.Link, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members, err := s.c.SMembers(ctx, s.caseLinksKey(caseID)).Result()
	if err != nil {
		return nil, wrap("links", err)
	}
	slices.Sort(members)
	var out []handoff.Link
	for _, m := range members {
		kind, rest, _ := strings.Cut(m, "|")
		chat, idText, _ := strings.Cut(rest, "|")
		chatID, err1 := strconv.ParseInt(chat, 10, 64)
		id, err2 := strconv.Atoi(idText)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("redis store: malformed link %q", m)
		}
		switch kind {
		case linkTopic:
			got, err := s.CaseByTopic(ctx, chatID, id)
			if errors.Is(err, handoff.ErrNotFound) || err == nil && got != caseID {
				continue // the topic went to another case since
			}
			if err != nil {
				return nil, err
			}
			out = append(out, handoff.Link{ChatID: chatID, Topic: id})
		case linkRelay:
			r, err := s.Relay(ctx, chatID, id)
			if errors.Is(err, handoff.ErrNotFound) || err == nil && r.CaseID != caseID {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, handoff.Link{ChatID: chatID, Message: id, Relay: r})
		}
	}
	return out, nil
}

// PausedPartners returns the partners that paused intake.
func (s *Store) PausedPartners(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids, err := s.c.SMembers(ctx, s.pausedKey()).Result()
	if err != nil {
		return nil, wrap("paused partners", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// AddCount adds c.N to one anonymous count.
func (s *Store) AddCount(ctx context.Context, c handoff.Count) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	field := cellField(c)
	return wrap("add count", s.c.HIncrBy(ctx, s.countsKey(), field, int64(c.N)).Err())
}

// ensureSeqScript raises the case sequence to ARGV[1] if it is below.
var ensureSeqScript = goredis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`)

// EnsureCaseID makes NextCaseID return only ids above id.
func (s *Store) EnsureCaseID(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap("ensure case id", ensureSeqScript.Run(ctx, s.c, []string{s.caseSeqKey()}, id).Err())
}
