// Package redis is the bot.Store for several instances: one Redis node or
// a Redis Cluster, through go-redis UniversalClient.
//
// Key layout, with prefix P (default "pas") and resident U:
//
//	P:{P:uU}:r           hash    the resident: p = profile, d:<docID> =
//	                             tracked document, l:<docID> = its holder
//	                             label when set (record.go, documents.go)
//	P:{P:uU}:s:<chatID>  hash    rec = session JSON {"v":1,…} (without version),
//	                             ver = version, exp = expiry in Unix ms;
//	                             PEXPIRE at the session's expiry
//	P:{P:uU}:sessions    set     chat ids of U's sessions; its TTL is at
//	                             least that of every session in it
//	P:{P:uU}:cases       set     ids of U's hand-off cases (cases.go, with
//	                             the keys of the cases themselves)
//	P:upd:<updateID>     string  until, Unix ms; PEXPIRE at until
//
// Every key of a resident carries the hash tag {P:uU}, so they live in one
// cluster slot and SaveSession and Forget's deletion run as single scripts.
// Putting the prefix inside the tag keeps stores with different prefixes
// apart, even in slot terms. Update marks have no tag: they spread over the cluster.
//
// The resident hash holds what never expires, in compact records (record.go)
// that keep it a listpack: a resident with a profile, one document and its
// reminder entry costs about 290 bytes of Redis used_memory (measured with
// 100,000 residents by BenchmarkMemoryPerResident), where a JSON string per
// profile and a JSON hash of documents cost about 750.
//
// Time comes from the injected clock and is compared at millisecond
// resolution: a session whose stored expiry is at or before now is absent,
// even while its key still waits for Redis to expire it. TTLs are set to
// the remaining time by that clock, so Redis removes data soon after it
// stops being visible.
//
// Every operation is one round trip (SaveSession: two the first time the
// server sees the script, EVALSHA then EVAL), except Forget, which also
// reads the resident's document ids and sweeps the reminder schedule, which
// lives in other slots (see Forget). Run Redis with maxmemory-policy
// noeviction: an evicted session index would hide sessions from Forget.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key unless WithPrefix says otherwise.
const DefaultPrefix = "pas"

// Store is a bot.Store on Redis. It is safe for concurrent use.
type Store struct {
	c      goredis.UniversalClient
	prefix string
	tag    string // prefix + ":{" + prefix + ":u": the start of every per-resident key
	now    func() time.Time

	// scanCount is the COUNT of each step of Forget's sweep of the
	// schedule (forgetEntries); tests lower it.
	scanCount int
}

var (
	_ bot.Store       = (*Store)(nil)
	_ bot.StateLoader = (*Store)(nil)
)

// Option configures Open and New.
type Option func(*config)

type config struct {
	prefix string
	now    func() time.Time
}

// WithPrefix sets the first component of every key (default
// DefaultPrefix), so that several stores can share one Redis. It must be
// non-empty and free of "{", "}", glob characters ("*?[]\") and spaces.
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithClock sets the time source used for session and update-mark expiry
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// Open parses rawURL (see ParseURL), connects and pings. Errors name the
// host(s), never the password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	c := goredis.NewUniversalClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, redactErr("redis store: cannot use "+hosts(o), err, o.Password)
	}
	if _, single := c.(*goredis.Client); single {
		// A plain client on a cluster node works until the first MOVED.
		// (INFO may be disabled on managed services: then trust the URL.)
		if info, err := c.Info(ctx, "cluster").Result(); err == nil && strings.Contains(info, "cluster_enabled:1") {
			c.Close()
			return nil, fmt.Errorf("redis store: %s is a cluster node: use a redis-cluster:// URL", hosts(o))
		}
	}
	return newStore(c, cfg), nil
}

// New wraps a client the caller built. The Store owns it from then on:
// Close closes it.
func New(c goredis.UniversalClient, opts ...Option) (*Store, error) {
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	return newStore(c, cfg), nil
}

func configure(opts []Option) (config, error) {
	cfg := config{prefix: DefaultPrefix, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.prefix == "" || strings.ContainsAny(cfg.prefix, "{}*?[]\\ \t\r\n") {
		return cfg, fmt.Errorf("redis store: invalid key prefix %q: want non-empty, without braces, glob characters or spaces", cfg.prefix)
	}
	return cfg, nil
}

func newStore(c goredis.UniversalClient, cfg config) *Store {
	return &Store{
		c: c, prefix: cfg.prefix, tag: cfg.prefix + ":{" + cfg.prefix + ":u", now: cfg.now,
		scanCount: defaultScanCount,
	}
}

// Client returns the underlying client, for features that keep their own
// keys (they should start them with Prefix).
func (s *Store) Client() goredis.UniversalClient { return s.c }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// Close closes the client.
func (s *Store) Close() error { return s.c.Close() }

// ---- keys ----

// userTag returns "P:{P:uU}", the start of every key of resident U.
func (s *Store) userTag(userID int64) string {
	return s.tag + strconv.FormatInt(userID, 10) + "}"
}

// residentKey is the hash of the resident's profile and documents.
func (s *Store) residentKey(userID int64) string { return s.userTag(userID) + ":r" }
func (s *Store) indexKey(userID int64) string    { return s.userTag(userID) + ":sessions" }
func (s *Store) sessionPrefix(userID int64) string {
	return s.userTag(userID) + ":s:"
}
func (s *Store) sessionKey(k bot.SessionKey) string {
	return s.sessionPrefix(k.UserID) + strconv.FormatInt(k.ChatID, 10)
}
func (s *Store) updateKey(id int64) string {
	return s.prefix + ":upd:" + strconv.FormatInt(id, 10)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("redis store: %s: %w", op, err)
}

// ---- profiles ----

// profileField is the field of the profile in the resident hash.
const profileField = "p"

// Profile returns the resident's profile, or bot.ErrNotFound.
func (s *Store) Profile(ctx context.Context, userID int64) (bot.Profile, error) {
	if err := ctx.Err(); err != nil {
		return bot.Profile{}, err
	}
	return decodeProfile(s.c.HGet(ctx, s.residentKey(userID), profileField), userID)
}

func decodeProfile(cmd *goredis.StringCmd, userID int64) (bot.Profile, error) {
	v, err := cmd.Result()
	if errors.Is(err, goredis.Nil) {
		return bot.Profile{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Profile{}, wrap("profile", err)
	}
	p, err := decodeProfileRecord(userID, v)
	if err != nil {
		return bot.Profile{}, fmt.Errorf("redis store: profile %d: %w", userID, err)
	}
	return p, nil
}

// PutProfile creates or replaces a profile, as a record of the current
// format (bot.SchemaVersion; see record.go). Created and LastSeen are kept
// to the second.
func (s *Store) PutProfile(ctx context.Context, p bot.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap("put profile", s.c.HSet(ctx, s.residentKey(p.UserID), profileField, encodeProfile(p)).Err())
}

// ---- sessions ----

// sessionRecord is the "rec" field of a session hash. The version lives in
// its own field, where the CAS script reads and bumps it.
type sessionRecord struct {
	V       int               `json:"v"`
	Flow    string            `json:"flow,omitempty"`
	Step    string            `json:"step,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
	Expires time.Time         `json:"expires"`
}

// Session returns the session, or bot.ErrNotFound when absent or expired.
func (s *Store) Session(ctx context.Context, k bot.SessionKey) (bot.Session, error) {
	if err := ctx.Err(); err != nil {
		return bot.Session{}, err
	}
	return s.decodeSession(s.c.HMGet(ctx, s.sessionKey(k), "rec", "ver", "exp"), k)
}

func (s *Store) decodeSession(cmd *goredis.SliceCmd, k bot.SessionKey) (bot.Session, error) {
	vals, err := cmd.Result()
	if err != nil {
		return bot.Session{}, wrap("session", err)
	}
	rec, _ := vals[0].(string)
	ver, _ := vals[1].(string)
	exp, _ := vals[2].(string)
	if rec == "" {
		return bot.Session{}, bot.ErrNotFound
	}
	expMs, err1 := strconv.ParseInt(exp, 10, 64)
	version, err2 := strconv.ParseInt(ver, 10, 64)
	var r sessionRecord
	if err := errors.Join(err1, err2, json.Unmarshal([]byte(rec), &r)); err != nil {
		return bot.Session{}, fmt.Errorf("redis store: session %d/%d: %w", k.UserID, k.ChatID, err)
	}
	if expMs <= s.now().UnixMilli() {
		return bot.Session{}, bot.ErrNotFound
	}
	return bot.Session{
		Schema:  r.V,
		Key:     k,
		Flow:    r.Flow,
		Step:    r.Step,
		Data:    r.Data,
		Expires: r.Expires,
		Version: version,
	}, nil
}

// saveScript is the compare-and-set of SaveSession.
//
//	KEYS[1] session hash, KEYS[2] the user's session index
//	ARGV[1] expected version, ARGV[2] now (ms), ARGV[3] expiry (ms),
//	ARGV[4] TTL (ms), ARGV[5] record JSON, ARGV[6] chat id
//
// It returns the new version, or -1 on conflict. An expired session counts
// as absent (version 0), but the new version continues from the stored one
// while the key survives, so a stale writer of the old session cannot
// match a new one.
var saveScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'ver', 'exp')
local ver = tonumber(cur[1]) or 0
local live = ver
if (tonumber(cur[2]) or 0) <= tonumber(ARGV[2]) then live = 0 end
if live ~= tonumber(ARGV[1]) then return -1 end
local ttl = tonumber(ARGV[4])
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[6])
  return ver + 1
end
redis.call('HSET', KEYS[1], 'rec', ARGV[5], 'ver', ver + 1, 'exp', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SADD', KEYS[2], ARGV[6])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return ver + 1
`)

// SaveSession stores sess if the stored version equals sess.Version (an
// absent or expired session counts as 0) and returns the new version;
// otherwise bot.ErrConflict. A session whose Expires has already passed is
// accepted and immediately absent.
func (s *Store) SaveSession(ctx context.Context, sess bot.Session) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if sess.Expires.IsZero() {
		return 0, errors.New("redis store: SaveSession: session has no expiry")
	}
	rec, err := json.Marshal(sessionRecord{
		V:       bot.SchemaVersion,
		Flow:    sess.Flow,
		Step:    sess.Step,
		Data:    sess.Data,
		Expires: sess.Expires,
	})
	if err != nil {
		return 0, fmt.Errorf("redis store: encode session: %w", err)
	}
	nowMs, expMs := s.now().UnixMilli(), sess.Expires.UnixMilli()
	keys := []string{s.sessionKey(sess.Key), s.indexKey(sess.Key.UserID)}
	v, err := saveScript.Run(ctx, s.c, keys,
		sess.Version, nowMs, expMs, expMs-nowMs, rec, sess.Key.ChatID).Int64()
	if err != nil {
		return 0, wrap("save session", err)
	}
	if v < 0 {
		return 0, bot.ErrConflict
	}
	return v, nil
}

// DeleteSession removes a session; absent is not an error.
func (s *Store) DeleteSession(ctx context.Context, k bot.SessionKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Both keys share the user's hash tag: one MULTI on one node.
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.sessionKey(k))
		p.SRem(ctx, s.indexKey(k.UserID), strconv.FormatInt(k.ChatID, 10))
		return nil
	})
	return wrap("delete session", err)
}

// ---- updates ----

// SeenUpdate reports whether update id was marked handled and the mark has
// not expired.
func (s *Store) SeenUpdate(ctx context.Context, id int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.decodeSeen(s.c.Get(ctx, s.updateKey(id)))
}

func (s *Store) decodeSeen(cmd *goredis.StringCmd) (bool, error) {
	until, err := cmd.Int64()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrap("seen update", err)
	}
	return s.now().UnixMilli() < until, nil
}

// LoadState reads the update mark, the profile and the session in one
// pipelined round trip (on a cluster, one per node involved). It
// implements bot.StateLoader.
func (s *Store) LoadState(ctx context.Context, updateID, userID int64, k bot.SessionKey) (bot.LoadedState, error) {
	if err := ctx.Err(); err != nil {
		return bot.LoadedState{}, err
	}
	pipe := s.c.Pipeline()
	seenCmd := pipe.Get(ctx, s.updateKey(updateID))
	profCmd := pipe.HGet(ctx, s.residentKey(userID), profileField)
	sessCmd := pipe.HMGet(ctx, s.sessionKey(k), "rec", "ver", "exp")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return bot.LoadedState{}, wrap("load state", err)
	}
	var st bot.LoadedState
	var err error
	if st.Seen, err = s.decodeSeen(seenCmd); err != nil {
		return bot.LoadedState{}, err
	}
	st.Profile, err = decodeProfile(profCmd, userID)
	switch {
	case err == nil:
		st.HasProfile = true
	case !errors.Is(err, bot.ErrNotFound):
		return bot.LoadedState{}, err
	}
	st.Session, err = s.decodeSession(sessCmd, k)
	switch {
	case err == nil:
		st.HasSession = true
	case !errors.Is(err, bot.ErrNotFound):
		return bot.LoadedState{}, err
	}
	return st, nil
}

// MarkUpdate records update id as handled until the given time, replacing
// an earlier mark (SET with PX: a later mark extends an earlier one).
func (s *Store) MarkUpdate(ctx context.Context, id int64, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	untilMs := until.UnixMilli()
	ttl := time.Duration(untilMs-s.now().UnixMilli()) * time.Millisecond
	if ttl <= 0 {
		return wrap("mark update", s.c.Del(ctx, s.updateKey(id)).Err())
	}
	return wrap("mark update", s.c.Set(ctx, s.updateKey(id), untilMs, ttl).Err())
}

// ---- forget ----

// forgetScript deletes a resident's hash (profile and documents),
// sessions and session index, case index, and the keys of the layout before the
// resident hash (a JSON profile string and a JSON documents hash), so that
// Forget also removes what an earlier release wrote. The session keys are
// built from ARGV[1]; they carry the same hash tag as KEYS, so they live in
// the same slot.
//
//	KEYS   resident hash, session index, case index, then the old profile
//	       and documents keys
var forgetScript = goredis.NewScript(`
local chats = redis.call('SMEMBERS', KEYS[2])
for _, c in ipairs(chats) do redis.call('DEL', ARGV[1] .. c) end
redis.call('DEL', unpack(KEYS))
return #chats
`)

// Forget deletes the resident's profile, every session of that user (in
// every chat), the resident's documents and every reminder entry of the
// resident (bot.ReminderID). Absent is not an error.
//
// The resident's cases are not Forget's: the bot deletes them first
// (DeleteCase). Forget deletes the resident's case index, which is empty
// then unless a DeleteCase was cut short after it deleted the case (see
// cases.go).
//
// The reminder entries live in the schedule's slots, not the resident's,
// so Forget first removes them (forgetEntries): those of the stored
// documents, then whatever a sweep of the schedule finds under the
// resident's id, such as the entry of a document that was never written
// (the bot schedules before it writes) or was deleted before its entry was
// cancelled. Then it deletes the resident's keys atomically. A failure in
// between leaves the resident's keys, so a retry starts over. Round trips:
// 2 + the steps of the sweep, about (entries per shard) / scanCount (a
// small schedule is one step).
func (s *Store) Forget(ctx context.Context, userID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.forgetEntries(ctx, userID); err != nil {
		return err
	}
	tag := s.userTag(userID)
	keys := []string{s.residentKey(userID), s.indexKey(userID), s.residentCasesKey(userID), tag + ":profile", tag + ":docs"}
	return wrap("forget", forgetScript.Run(ctx, s.c, keys, s.sessionPrefix(userID)).Err())
}

// ---- scan ----

// Scan calls fn, in key order, for every key that starts with the store's
// prefix (on a cluster, on every master), with its value as text: strings
// as they are; hashes as "field=value" pairs and sets as members, sorted
// and space-separated; other types by their name in angle brackets. It is
// meant for tests and diagnostics (privacy checks), not for the hot path.
func (s *Store) Scan(ctx context.Context, fn func(key, value string) error) error {
	pattern := s.prefix + ":*" // the prefix has no glob characters
	var (
		mu   sync.Mutex
		keys []string
	)
	collect := func(ctx context.Context, c *goredis.Client) error {
		it := c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	switch c := s.c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *goredis.Client:
		err = collect(ctx, c)
	default:
		it := s.c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			keys = append(keys, it.Val())
		}
		err = it.Err()
	}
	if err != nil {
		return wrap("scan", err)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		v, ok, err := s.render(ctx, k)
		if err != nil {
			return wrap("scan", err)
		}
		if !ok {
			continue // expired since SCAN saw it
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// render returns key's value as text; ok is false if the key is gone.
func (s *Store) render(ctx context.Context, key string) (string, bool, error) {
	typ, err := s.c.Type(ctx, key).Result()
	if err != nil {
		return "", false, err
	}
	var v string
	switch typ {
	case "none":
		return "", false, nil
	case "string":
		v, err = s.c.Get(ctx, key).Result()
	case "hash":
		var m map[string]string
		m, err = s.c.HGetAll(ctx, key).Result()
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, f+"="+m[f])
		}
		v = strings.Join(parts, " ")
	case "set":
		var members []string
		members, err = s.c.SMembers(ctx, key).Result()
		slices.Sort(members)
		v = strings.Join(members, " ")
	case "list":
		var items []string
		items, err = s.c.LRange(ctx, key, 0, -1).Result()
		v = strings.Join(items, " ")
	case "zset":
		var zs []goredis.Z
		zs, err = s.c.ZRangeWithScores(ctx, key, 0, -1).Result()
		var parts []string
		for _, z := range zs {
			parts = append(parts, fmt.Sprintf("%v:%v", z.Member, z.Score))
		}
		v = strings.Join(parts, " ")
	default:
		v = "<" + typ + ">"
	}
	if errors.Is(err, goredis.Nil) {
		return "", false, nil
	}
	return v, err == nil, err
}
