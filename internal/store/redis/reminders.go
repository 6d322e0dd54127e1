package redis

// The reminder schedule (reminder.Store), with prefix P:
//
//	P:{P:rem:N}:due    zset  member entry id, score due time (Unix ms)
//	P:{P:rem:N}:lease  zset  member entry id, score lease expiry (Unix ms,
//	                         by Redis TIME); only claimed entries
//	P:{P:rem:N}:tok    hash  entry id → "token|attempts"; only entries
//	                         claimed since they were last scheduled or acked
//
// N = FNV-1a(id) % remShards: the schedule is spread over remShards shards,
// each with one hash tag, so every script touches one slot and the shards
// spread over a cluster. An entry stays in due while leased (Get keeps its
// due time); it is claimable when due ≤ the caller's now and it holds no
// live lease, or when its lease has expired. Lease times come from Redis
// TIME inside the scripts, so every dispatcher judges leases by one clock
// (Redis ≥ 5 replicates script effects, the default since 7.0).
//
// Memory: an unclaimed entry is one zset member (no per-entry key).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/reminder"
	goredis "github.com/redis/go-redis/v9"
)

var _ reminder.Store = (*Store)(nil)

// remShards is the number of schedule shards. Changing it orphans entries
// scheduled under another count.
const remShards = 8

// remShard returns the shard of entry id.
func remShard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % remShards)
}

// remKeys returns the due, lease and tok keys of shard n.
func (s *Store) remKeys(n int) []string {
	tag := s.prefix + ":{" + s.prefix + ":rem:" + strconv.Itoa(n) + "}:"
	return []string{tag + "due", tag + "lease", tag + "tok"}
}

// remClaimScript finds, and unless ARGV[4] is empty leases, the claimable
// entries of one shard, earliest first.
//
//	KEYS   due, lease, tok
//	ARGV[1] now (ms, the caller's clock), ARGV[2] lease (ms),
//	ARGV[3] limit, ARGV[4] token stem ("" = only look)
//
// It returns a flat list: id, due (ms) for a look; id, due, token,
// attempts for a claim.
var remClaimScript = goredis.NewScript(`
local t = redis.call('TIME')
local tnow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[3])
if limit <= 0 then return {} end
local cand = {}
-- Entries due by now, skipping live leases: at most ZCARD lease of them
-- are skipped, so this window is wide enough.
local nlease = redis.call('ZCARD', KEYS[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit + nlease)
if nlease == 0 and ARGV[4] == '' then return due end -- the common look: nothing to skip
for i = 1, #due, 2 do
  local l = nlease > 0 and redis.call('ZSCORE', KEYS[2], due[i])
  if not l or tonumber(l) <= tnow then
    cand[#cand + 1] = {due[i], tonumber(due[i + 1])}
  end
end
-- Expired leases of entries not due by this caller's clock.
local extra = false
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', tnow)) do
  local d = redis.call('ZSCORE', KEYS[1], id)
  if d and tonumber(d) > now then
    cand[#cand + 1] = {id, tonumber(d)}
    extra = true
  end
end
if extra then
  table.sort(cand, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
end
local out = {}
local until_ms = tnow + tonumber(ARGV[2])
for i = 1, math.min(limit, #cand) do
  local id, d = cand[i][1], string.format('%d', cand[i][2])
  if ARGV[4] == '' then
    out[#out + 1] = id
    out[#out + 1] = d
  else
    local v = redis.call('HGET', KEYS[3], id)
    local attempts = 1
    if v then attempts = (tonumber(string.match(v, '|(%d+)$')) or 0) + 1 end
    local token = ARGV[4] .. '.' .. i
    redis.call('HSET', KEYS[3], id, token .. '|' .. attempts)
    redis.call('ZADD', KEYS[2], until_ms, id)
    out[#out + 1] = id
    out[#out + 1] = d
    out[#out + 1] = token
    out[#out + 1] = attempts
  end
end
return out
`)

// remAckScript ends a claim if ARGV[2] is the entry's current token.
//
//	KEYS   due, lease, tok
//	ARGV[1] id, ARGV[2] token, ARGV[3] next due (ms), or "" to remove
//
// It returns 1, or 0 when the token is not current.
var remAckScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[3], ARGV[1])
if not v or string.match(v, '^([^|]*)|') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`)

// remGetScript returns {due (ms), leased (0 or 1)}, or nil when absent.
//
//	KEYS   due, lease
//	ARGV[1] id
var remGetScript = goredis.NewScript(`
local d = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not d then return false end
local l = redis.call('ZSCORE', KEYS[2], ARGV[1])
local leased = 0
if l then
  local t = redis.call('TIME')
  if tonumber(l) > tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) then leased = 1 end
end
return {string.format('%d', tonumber(d)), leased}
`)

// Schedule creates entry id due at due, or moves it there; a lease on it
// ends (its holder's Ack fails with reminder.ErrLeaseLost) and its attempt
// count restarts. Due is kept to the millisecond.
func (s *Store) Schedule(ctx context.Context, id string, due time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := s.remKeys(remShard(id))
	// All three keys share the shard's hash tag: one MULTI on one node.
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, k[0], goredis.Z{Score: float64(due.UnixMilli()), Member: id})
		p.ZRem(ctx, k[1], id)
		p.HDel(ctx, k[2], id)
		return nil
	})
	return wrap("schedule reminder", err)
}

// Cancel removes entry id, leased or not. Absent is not an error.
func (s *Store) Cancel(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := s.remKeys(remShard(id))
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZRem(ctx, k[0], id)
		p.ZRem(ctx, k[1], id)
		p.HDel(ctx, k[2], id)
		return nil
	})
	return wrap("cancel reminder", err)
}

// remCand is a claimable entry seen by a look.
type remCand struct {
	shard int
	id    string
	due   int64
}

func remLess(aDue int64, aID string, bDue int64, bID string) int {
	if aDue != bDue {
		if aDue < bDue {
			return -1
		}
		return 1
	}
	return strings.Compare(aID, bID)
}

// Claim leases up to limit claimable entries, earliest first. It takes two
// pipelined round trips: a look at every shard, which picks how many
// entries to take from each, then a claim on the shards that have some.
// Under concurrent claimers a shard may yield fewer than it showed; Claim
// then returns fewer than it could have, never an entry twice.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]reminder.Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	nowMs, leaseMs := now.UnixMilli(), lease.Milliseconds()

	all := make([]int, remShards)
	for i := range all {
		all[i] = i
	}
	looks, err := s.runShards(ctx, remClaimScript, all, func(int) []any {
		return []any{nowMs, leaseMs, limit, ""}
	})
	if err != nil {
		return nil, wrap("claim reminders", err)
	}
	var cands []remCand
	for n, vals := range looks {
		for i := 0; i+1 < len(vals); i += 2 {
			id, _ := vals[i].(string)
			due, err := strconv.ParseInt(fmt.Sprint(vals[i+1]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("redis store: claim reminders: bad due %v: %w", vals[i+1], err)
			}
			cands = append(cands, remCand{shard: n, id: id, due: due})
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	slices.SortFunc(cands, func(a, b remCand) int { return remLess(a.due, a.id, b.due, b.id) })
	take := make([]int, remShards)
	var shards []int
	for _, c := range cands[:min(limit, len(cands))] {
		if take[c.shard] == 0 {
			shards = append(shards, c.shard)
		}
		take[c.shard]++
	}
	slices.Sort(shards)

	stem := make([]byte, 8)
	rand.Read(stem)
	res, err := s.runShards(ctx, remClaimScript, shards, func(n int) []any {
		return []any{nowMs, leaseMs, take[n], hex.EncodeToString(stem) + strconv.Itoa(n)}
	})
	if err != nil {
		return nil, wrap("claim reminders", err)
	}
	var out []reminder.Claim
	for _, vals := range res {
		for i := 0; i+3 < len(vals); i += 4 {
			id, _ := vals[i].(string)
			token, _ := vals[i+2].(string)
			due, err1 := strconv.ParseInt(fmt.Sprint(vals[i+1]), 10, 64)
			attempts, err2 := strconv.Atoi(fmt.Sprint(vals[i+3]))
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("redis store: claim reminders: bad reply: %w", err)
			}
			out = append(out, reminder.Claim{ID: id, Due: time.UnixMilli(due), Token: token, Attempts: attempts})
		}
	}
	slices.SortFunc(out, func(a, b reminder.Claim) int {
		return remLess(a.Due.UnixMilli(), a.ID, b.Due.UnixMilli(), b.ID)
	})
	return out, nil
}

// runShards runs script once on each of shards, in one pipeline (on a
// cluster, one per node), and returns each shard's reply list by shard.
// It tries EVALSHA, then EVAL for the shards whose node lacks the script.
func (s *Store) runShards(ctx context.Context, script *goredis.Script, shards []int, args func(n int) []any) (map[int][]any, error) {
	cmds := make(map[int]*goredis.Cmd, len(shards))
	pipe := func(eval bool, which []int) error {
		_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, n := range which {
				if eval {
					cmds[n] = script.Eval(ctx, p, s.remKeys(n), args(n)...)
				} else {
					cmds[n] = script.EvalSha(ctx, p, s.remKeys(n), args(n)...)
				}
			}
			return nil
		})
		return err
	}
	if err := pipe(false, shards); err != nil {
		var again []int
		for _, n := range shards {
			if e := cmds[n].Err(); e != nil {
				if !goredis.HasErrorPrefix(e, "NOSCRIPT") {
					return nil, e
				}
				again = append(again, n)
			}
		}
		if len(again) == 0 {
			return nil, err
		}
		if err := pipe(true, again); err != nil {
			return nil, err
		}
	}
	out := make(map[int][]any, len(shards))
	for _, n := range shards {
		vals, err := cmds[n].Slice()
		if err != nil {
			return nil, err
		}
		out[n] = vals
	}
	return out, nil
}

// Ack ends the claim whose token is given: with a non-zero next the entry
// is re-scored to next (attempts restart), otherwise removed. A token that
// is no longer current (the entry was claimed again, rescheduled, cancelled
// or already acked) gives reminder.ErrLeaseLost. An expired lease that no
// one claimed again can still be acked.
func (s *Store) Ack(ctx context.Context, id, token string, next time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nextArg := ""
	if !next.IsZero() {
		nextArg = strconv.FormatInt(next.UnixMilli(), 10)
	}
	ok, err := remAckScript.Run(ctx, s.c, s.remKeys(remShard(id)), id, token, nextArg).Int64()
	if err != nil {
		return wrap("ack reminder", err)
	}
	if ok != 1 {
		return reminder.ErrLeaseLost
	}
	return nil
}

// Get returns entry id; Leased says whether a lease on it still holds by
// Redis TIME.
func (s *Store) Get(ctx context.Context, id string) (reminder.Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return reminder.Entry{}, false, err
	}
	vals, err := remGetScript.Run(ctx, s.c, s.remKeys(remShard(id))[:2], id).Slice()
	if errors.Is(err, goredis.Nil) {
		return reminder.Entry{}, false, nil
	}
	if err != nil {
		return reminder.Entry{}, false, wrap("get reminder", err)
	}
	if len(vals) != 2 {
		return reminder.Entry{}, false, fmt.Errorf("redis store: get reminder: bad reply %v", vals)
	}
	due, err := strconv.ParseInt(fmt.Sprint(vals[0]), 10, 64)
	if err != nil {
		return reminder.Entry{}, false, fmt.Errorf("redis store: get reminder: %w", err)
	}
	leased, _ := vals[1].(int64)
	return reminder.Entry{ID: id, Due: time.UnixMilli(due), Leased: leased == 1}, true, nil
}
