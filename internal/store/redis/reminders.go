package redis

// The reminder schedule (reminder.Store), with prefix P:
//
//	P:{P:rem:N}:due    zset  member entry id, score due time (Unix ms);
//	                         the entries that are not leased
//	P:{P:rem:N}:lease  zset  member entry id, score lease expiry (Unix ms,
//	                         by Redis TIME); the leased entries
//	P:{P:rem:N}:tok    hash  entry id → "token|attempts|due (Unix ms)",
//	                         for each leased entry
//
// N = FNV-1a(id) % remShards: the schedule is spread over remShards shards,
// each with one hash tag, so every script touches one slot and the shards
// spread over a cluster. An entry is in exactly one of due and lease:
// Claim moves it from due to lease, Ack (with a next time) and Schedule
// move it back, Ack without a next time and Cancel remove it. So claiming
// reads due from its start and never skips leased entries, however many
// there are. An entry is claimable when its due time is at or before the
// caller's now, or when its lease has expired. Lease times come from Redis
// TIME inside the scripts, so every dispatcher judges leases by one clock
// (Redis ≥ 5 replicates script effects, the default since 7.0).
//
// Memory: an entry that is not leased is one zset member (about 115 bytes
// with a Telegram user id; BenchmarkMemoryPerResident), with no key of
// its own.
//
// A schedule written by the previous layout, which kept leased entries in
// due as well and "token|attempts" in tok, still works: such an entry is
// claimed again from due (at worst one duplicate reminder), and Ack and
// Cancel remove it from every set.

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

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	goredis "github.com/redis/go-redis/v9"
)

var _ reminder.Store = (*Store)(nil)

// remShards is the number of schedule shards. Changing it orphans entries
// scheduled under another count.
const remShards = 8

// allShards lists the shards, for the scripts that run on each.
var allShards = func() []int {
	all := make([]int, remShards)
	for i := range all {
		all[i] = i
	}
	return all
}()

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
// entries of one shard, earliest first: due entries (which form a prefix
// of due) merged with entries whose lease has expired (at most limit of
// them, the oldest leases first), by due time then id in byte order (the
// order of zset members and of Go strings; Lua's < follows the locale).
//
//	KEYS   due, lease, tok
//	ARGV[1] now (ms, the caller's clock), ARGV[2] lease (ms),
//	ARGV[3] limit, ARGV[4] token stem ("" = only look)
//
// It returns a flat list: id, due (ms) for a look; id, due, attempts for
// a claim, where the i-th entry's token is ARGV[4] .. "." .. i. Large
// replies are built with one call per thousand arguments, not one per
// entry.
var remClaimScript = goredis.NewScript(`
local limit = tonumber(ARGV[3])
if limit <= 0 then return {} end
local t = redis.call('TIME')
local tnow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, limit)
local exp = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', tnow, 'LIMIT', 0, limit)
local look = ARGV[4] == ''
if look and #exp == 0 then return due end -- the common look
local cand = {}
for i = 1, #due, 2 do cand[#cand + 1] = {due[i], tonumber(due[i + 1]), 0} end
if #exp > 0 then
  for _, id in ipairs(exp) do
    local v = redis.call('HGET', KEYS[3], id)
    local a, d
    if v then a, d = string.match(v, '^[^|]*|(%d+)|(%-?%d+)$') end
    -- Without a due time the entry is of the previous layout, still in due.
    if d then cand[#cand + 1] = {id, tonumber(d), tonumber(a)} end
  end
  table.sort(cand, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    local p, q = x[1], y[1]
    for i = 1, math.min(#p, #q) do
      local b, c = string.byte(p, i), string.byte(q, i)
      if b ~= c then return b < c end
    end
    return #p < #q
  end)
end
local n = math.min(limit, #cand)
local out = {}
if look then
  for i = 1, n do
    out[#out + 1] = cand[i][1]
    out[#out + 1] = cand[i][2]
  end
  return out
end
local function bulk(cmd, key, args)
  for i = 1, #args, 1000 do
    redis.call(cmd, key, unpack(args, i, math.min(i + 999, #args)))
  end
end
local until_ms = tnow + tonumber(ARGV[2])
local from_due, leases, toks = {}, {}, {}
for i = 1, n do
  local id, d, attempts = cand[i][1], cand[i][2], cand[i][3] + 1
  if attempts == 1 then from_due[#from_due + 1] = id end
  leases[#leases + 1] = until_ms
  leases[#leases + 1] = id
  toks[#toks + 1] = id
  toks[#toks + 1] = ARGV[4] .. '.' .. i .. '|' .. attempts .. '|' .. string.format('%d', d)
  out[#out + 1] = id
  out[#out + 1] = d
  out[#out + 1] = attempts
end
bulk('ZREM', KEYS[1], from_due)
bulk('ZADD', KEYS[2], leases)
bulk('HSET', KEYS[3], toks)
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

// remRenewScript extends the leases of the entries whose token is
// current to ARGV[1] ms from Redis TIME.
//
//	KEYS   due, lease, tok
//	ARGV[1] lease (ms), ARGV[2..] id, token pairs
//
// It returns the ids whose token is not current.
var remRenewScript = goredis.NewScript(`
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV - 1, 2 do
  local id, tok = ARGV[i], ARGV[i + 1]
  local v = redis.call('HGET', KEYS[3], id)
  if v and tok ~= '' and string.match(v, '^([^|]*)|') == tok and redis.call('ZSCORE', KEYS[2], id) then
    redis.call('ZADD', KEYS[2], until_ms, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
`)

// remGetScript returns {due (ms), leased (0 or 1)}, or nil when absent.
//
//	KEYS   due, lease, tok
//	ARGV[1] id
var remGetScript = goredis.NewScript(`
local d = redis.call('ZSCORE', KEYS[1], ARGV[1])
local l = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not d and not l then return false end
local leased = 0
if l then
  local t = redis.call('TIME')
  if tonumber(l) > tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) then leased = 1 end
  if not d then
    local v = redis.call('HGET', KEYS[3], ARGV[1])
    d = v and string.match(v, '^[^|]*|%d+|(%-?%d+)$')
    if not d then return redis.error_reply('ERR reminder entry ' .. ARGV[1] .. ' is leased without a due time') end
  end
end
return {string.format('%d', tonumber(d)), leased}
`)

// remForgetScript removes entries from one shard: those of ARGV[6..]
// outright, then those that one step of a ZSCAN of due and of lease and
// an HSCAN of tok find with MATCH ARGV[1]. Each step looks at about
// ARGV[2] members, so the server is never blocked long.
//
//	KEYS   due, lease, tok
//	ARGV[1] pattern, ARGV[2] count,
//	ARGV[3], ARGV[4], ARGV[5] the cursors of due, lease and tok ("" = done),
//	ARGV[6..] ids
//
// It returns the next cursors ("" = done).
var remForgetScript = goredis.NewScript(`
local function drop(id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
end
for i = 6, #ARGV do drop(ARGV[i]) end
local out = {}
for k, cmd in ipairs({'ZSCAN', 'ZSCAN', 'HSCAN'}) do
  local cur = ARGV[2 + k]
  if cur ~= '' then
    local r = redis.call(cmd, KEYS[k], cur, 'MATCH', ARGV[1], 'COUNT', ARGV[2])
    for j = 1, #r[2], 2 do drop(r[2][j]) end
    cur = r[1]
    if cur == '0' then cur = '' end
  end
  out[k] = cur
end
return out
`)

// defaultScanCount is the COUNT of each step of Forget's sweep: a step
// visits about that many members of a shard's due set in well under a
// millisecond, and a schedule of E entries takes about E / (8 × 1000)
// steps, pipelined over the shards.
const defaultScanCount = 1000

// forgetEntries removes every reminder entry of the resident from the
// schedule: first those of the resident's stored documents (ids), then every
// entry whose id starts with "<userID>:" (bot.ReminderID) that a sweep of
// each shard's due, lease and tok finds. An entry scheduled while the
// sweep runs may be missed; the bot does not schedule for a resident
// while it handles that resident's /forget.
func (s *Store) forgetEntries(ctx context.Context, userID int64, ids []string) error {
	known := make(map[int][]any)
	for _, id := range ids {
		rid := bot.ReminderID(userID, id)
		n := remShard(rid)
		known[n] = append(known[n], rid)
	}
	pattern := strconv.FormatInt(userID, 10) + ":*" // no glob characters in a number
	cursors := make(map[int][3]string, remShards)
	for _, n := range allShards {
		cursors[n] = [3]string{"0", "0", "0"}
	}
	shards := allShards
	for len(shards) > 0 {
		res, err := s.runShards(ctx, remForgetScript, shards, func(n int) []any {
			c := cursors[n]
			return append([]any{pattern, s.scanCount, c[0], c[1], c[2]}, known[n]...)
		})
		if err != nil {
			return wrap("forget: reminders", err)
		}
		clear(known)
		var more []int
		for _, n := range shards {
			vals := res[n]
			var c [3]string
			for i := range c {
				if i < len(vals) {
					c[i], _ = vals[i].(string)
				}
			}
			if c != [3]string{} {
				cursors[n] = c
				more = append(more, n)
			}
		}
		shards = more
	}
	return nil
}

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

// replyInt reads an integer of a script's reply: a Lua number comes as an
// integer, a zset score as text.
func replyInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}

// lookSize is how many candidates Claim first asks of each shard. Entry
// ids are hashed over the shards, so the earliest limit entries spread
// evenly: a shard rarely holds more than twice its share of them, and one
// that might is asked again for limit (claimLook).
func lookSize(limit int) int {
	share := (limit + remShards - 1) / remShards
	return min(limit, 2*share+16)
}

// claimLook looks at every shard and returns the earliest limit
// claimable entries it saw, in order. It asks each shard for lookSize
// entries, then, in a second round trip that evenly spread entries make
// rare, asks again for limit of the shards that showed all they were
// asked for and whose last entry comes before the limit-th overall: they
// may hold more of the earliest.
func (s *Store) claimLook(ctx context.Context, nowMs, leaseMs int64, limit int) ([]remCand, error) {
	byShard := make(map[int][]remCand, remShards)
	look := func(shards []int, size int) error {
		looks, err := s.runShards(ctx, remClaimScript, shards, func(int) []any {
			return []any{nowMs, leaseMs, size, ""}
		})
		if err != nil {
			return err
		}
		for n, vals := range looks {
			cs := make([]remCand, 0, len(vals)/2)
			for i := 0; i+1 < len(vals); i += 2 {
				id, _ := vals[i].(string)
				due, err := replyInt(vals[i+1])
				if err != nil {
					return fmt.Errorf("bad due: %w", err)
				}
				cs = append(cs, remCand{shard: n, id: id, due: due})
			}
			byShard[n] = cs
		}
		return nil
	}
	merge := func() []remCand {
		var all []remCand
		for _, cs := range byShard {
			all = append(all, cs...)
		}
		slices.SortFunc(all, func(a, b remCand) int { return remLess(a.due, a.id, b.due, b.id) })
		return all
	}
	size := lookSize(limit)
	if err := look(allShards, size); err != nil {
		return nil, err
	}
	cands := merge()
	if size < limit {
		var again []int
		for _, n := range allShards {
			cs := byShard[n]
			if len(cs) < size {
				continue // the shard showed everything it has
			}
			last := cs[len(cs)-1]
			if len(cands) < limit || remLess(last.due, last.id, cands[limit-1].due, cands[limit-1].id) < 0 {
				again = append(again, n)
			}
		}
		if len(again) > 0 {
			if err := look(again, limit); err != nil {
				return nil, err
			}
			cands = merge()
		}
	}
	return cands[:min(limit, len(cands))], nil
}

// Claim leases up to limit claimable entries, earliest first. It takes two
// pipelined round trips (rarely three, see claimLook): a look at every
// shard, which picks how many entries to take from each, then a claim on
// the shards that have some. Under concurrent claimers a shard may yield
// fewer than it showed; Claim then returns fewer than it could have, never
// an entry twice. The lease is rounded up to the millisecond.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]reminder.Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	nowMs, leaseMs := now.UnixMilli(), (lease + time.Millisecond - 1).Milliseconds()

	cands, err := s.claimLook(ctx, nowMs, leaseMs, limit)
	if err != nil {
		return nil, wrap("claim reminders", err)
	}
	if len(cands) == 0 {
		return nil, nil
	}
	take := make([]int, remShards)
	var shards []int
	for _, c := range cands {
		if take[c.shard] == 0 {
			shards = append(shards, c.shard)
		}
		take[c.shard]++
	}
	slices.Sort(shards)

	var b [8]byte
	rand.Read(b[:])
	stem := hex.EncodeToString(b[:])
	res, err := s.runShards(ctx, remClaimScript, shards, func(n int) []any {
		return []any{nowMs, leaseMs, take[n], stem + strconv.Itoa(n)}
	})
	if err != nil {
		return nil, wrap("claim reminders", err)
	}
	out := make([]reminder.Claim, 0, min(limit, len(cands)))
	for n, vals := range res {
		tokenStem := stem + strconv.Itoa(n) + "."
		for i, j := 0, 1; i+2 < len(vals); i, j = i+3, j+1 {
			id, _ := vals[i].(string)
			due, err1 := replyInt(vals[i+1])
			attempts, err2 := replyInt(vals[i+2])
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("redis store: claim reminders: bad reply: %w", err)
			}
			out = append(out, reminder.Claim{ID: id, Due: time.UnixMilli(due), Token: tokenStem + strconv.Itoa(j), Attempts: int(attempts)})
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

// Renew extends the leases of held to lease from Redis TIME, with one
// script per shard in one pipeline, and returns the ids whose token is no
// longer current.
func (s *Store) Renew(ctx context.Context, held []reminder.Claim, lease time.Duration) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(held) == 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("redis store: Renew: lease %s is not positive", lease)
	}
	leaseMs := (lease + time.Millisecond - 1).Milliseconds()
	byShard := make(map[int][]any)
	for _, c := range held {
		n := remShard(c.ID)
		byShard[n] = append(byShard[n], c.ID, c.Token)
	}
	shards := make([]int, 0, len(byShard))
	for n := range byShard {
		shards = append(shards, n)
	}
	slices.Sort(shards)
	res, err := s.runShards(ctx, remRenewScript, shards, func(n int) []any {
		return append([]any{leaseMs}, byShard[n]...)
	})
	if err != nil {
		return nil, wrap("renew reminders", err)
	}
	var lost []string
	for _, n := range shards {
		for _, v := range res[n] {
			id, _ := v.(string)
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// Get returns entry id; Leased says whether a lease on it still holds by
// Redis TIME.
func (s *Store) Get(ctx context.Context, id string) (reminder.Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return reminder.Entry{}, false, err
	}
	vals, err := remGetScript.Run(ctx, s.c, s.remKeys(remShard(id)), id).Slice()
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
