// Package redis is the bot.Store for several instances: one Redis node or
// a Redis Cluster, through go-redis UniversalClient.
//
// Key layout, with prefix P (default "pas") and resident U:
//
//	P:{P:uU}:r           hash    the resident: k = wrapped data key
//	                             (seal.go), p = profile, d:<docID> =
//	                             tracked document, l:<docID> = its holder
//	                             label when set (binrecord.go,
//	                             documents.go), all sealed
//	P:{P:uU}:s:<chatID>  hash    rec = session JSON {"v":1,…} (without
//	                             version), sealed; ver = version, exp =
//	                             expiry in Unix ms; PEXPIRE at the expiry
//	P:{P:uU}:sessions    set     chat ids of U's sessions; its TTL is at
//	                             least that of every session in it
//	P:{P:uU}:cases       set     ids of U's hand-off cases (cases.go, with
//	                             the keys of the cases themselves)
//	P:upd:<updateID>     string  "<until>" once handled, "l:<token>:<until>"
//	                             while claimed (until in Unix ms); PEXPIRE
//	                             at until
//	P:keycheck           string  the master key's check (seal.go)
//
// Every key of a resident carries the hash tag {P:uU}, so they live in one
// cluster slot and SaveSession and Forget's deletion run as single scripts.
// Putting the prefix inside the tag keeps stores with different prefixes
// apart, even in slot terms. Update marks have no tag: they spread over the cluster.
//
// The resident hash holds what never expires, in compact sealed records
// (binrecord.go) that keep it a listpack (every value at most 64 bytes):
// see BenchmarkMemoryPerResident for what a resident with a profile, one
// document and its reminder entry costs.
//
// Time comes from the injected clock and is compared at millisecond
// resolution: a session whose stored expiry is at or before now is absent,
// even while its key still waits for Redis to expire it. TTLs are set to
// the remaining time by that clock, so Redis removes data soon after it
// stops being visible.
//
// Every operation is one round trip (a script: two the first time the
// server sees it, EVALSHA then EVAL; a write: two when another instance
// changed the resident's data key meanwhile, see seal.go), except Forget,
// which also deletes the resident's cases and sweeps the reminder
// schedule, which live in other slots (see Forget), and the hand-off cases
// (cases.go). Run Redis with maxmemory-policy
// noeviction: an evicted session index would hide sessions from Forget.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/passerelle-bot/passerelle/internal/seal"
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
	keys   *seal.Cache

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
	prefix   string
	now      func() time.Time
	keys     *seal.Keyring
	rotating bool // RotateKey: the key check may say a rotation runs
}

// WithKeys sets the master key that wraps every person's data key
// (required). Open refuses a store sealed with another master key.
func WithKeys(k *seal.Keyring) Option { return func(c *config) { c.keys = k } }

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
	if o.DialerRetries == 0 {
		// go-redis already tries a command MaxRetries more times, with
		// backoff: several dials per try only stretch each call while the
		// server is down (to about 2.5 s), which delays the core's notice
		// and its next try (bot.ErrUnavailable).
		o.DialerRetries = 1
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
	s := newStore(c, cfg)
	if !cfg.rotating {
		if err := s.checkMasterKey(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("redis store: %s (prefix %s): %w", hosts(o), cfg.prefix, err)
		}
	}
	return s, nil
}

// New wraps a client the caller built, and checks the master key as Open
// does. The Store owns the client from then on: Close closes it.
func New(ctx context.Context, c goredis.UniversalClient, opts ...Option) (*Store, error) {
	cfg, err := configure(opts)
	if err != nil {
		return nil, err
	}
	s := newStore(c, cfg)
	if err := s.checkMasterKey(ctx); err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	return s, nil
}

func configure(opts []Option) (config, error) {
	cfg := config{prefix: DefaultPrefix, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.prefix == "" || strings.ContainsAny(cfg.prefix, "{}*?[]\\ \t\r\n") {
		return cfg, fmt.Errorf("redis store: invalid key prefix %q: want non-empty, without braces, glob characters or spaces", cfg.prefix)
	}
	if cfg.keys == nil {
		return cfg, errors.New("redis store: no master key (WithKeys)")
	}
	return cfg, nil
}

func newStore(c goredis.UniversalClient, cfg config) *Store {
	c.AddHook(unavailableHook{})
	return &Store{
		c: c, prefix: cfg.prefix, tag: cfg.prefix + ":{" + cfg.prefix + ":u", now: cfg.now,
		keys: seal.NewCache(cfg.keys, 0), scanCount: defaultScanCount,
	}
}

// Client returns the underlying client, for features that keep their own
// keys (they should start them with Prefix).
func (s *Store) Client() goredis.UniversalClient { return s.c }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// Close closes the client.
func (s *Store) Close() error { return s.c.Close() }

// Ping reports whether Redis answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis store: ping: %w", err)
	}
	return nil
}

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
	return s.decodeProfile(s.c.HMGet(ctx, s.residentKey(userID), keyField, profileField, profileTail), userID)
}

// profileTail is the tail field of a long profile (tailField).
var profileTail = tailField(profileField)

// decodeProfile reads the reply of HMGET resident k p P.
func (s *Store) decodeProfile(cmd *goredis.SliceCmd, userID int64) (bot.Profile, error) {
	vals, err := cmd.Result()
	if err != nil {
		return bot.Profile{}, wrap("profile", err)
	}
	wrapped, _ := vals[0].(string)
	v, ok := vals[1].(string)
	tail, _ := vals[2].(string)
	v += tail
	if wrapped == "" {
		s.keys.Drop(userID)
	}
	if !ok {
		return bot.Profile{}, bot.ErrNotFound
	}
	var p bot.Profile
	plain, err := s.openWith(userID, profileField, wrapped, v)
	switch {
	case errors.Is(err, errShredded):
		return bot.Profile{}, bot.ErrNotFound
	case err != nil:
		return bot.Profile{}, err
	case seal.IsSealedString(v):
		p, err = decodeProfileBin(userID, plain)
	default: // an earlier release's text record
		p, err = decodeProfileText(userID, v)
	}
	if err != nil {
		return bot.Profile{}, fmt.Errorf("redis store: profile %d: %w", userID, err)
	}
	return p, nil
}

// Profiles calls fn for every profile, in no given order: a SCAN of the
// resident hashes (on a cluster, of every master), then their profiles in
// pipelines of loadBatch.
func (s *Store) Profiles(ctx context.Context, fn func(bot.Profile) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var owners []int64
	err := s.eachKey(ctx, s.tag+"*}:r", func(key string) error {
		if owner, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(key, s.tag), "}:r"), 10, 64); err == nil {
			owners = append(owners, owner)
		}
		return nil
	})
	if err != nil {
		return wrap("profiles", err)
	}
	for chunk := range slices.Chunk(owners, loadBatch) {
		cmds := make([]*goredis.SliceCmd, len(chunk))
		_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, o := range chunk {
				cmds[i] = p.HMGet(ctx, s.residentKey(o), keyField, profileField, profileTail)
			}
			return nil
		})
		if err != nil {
			return wrap("profiles", err)
		}
		for i, cmd := range cmds {
			p, err := s.decodeProfile(cmd, chunk[i])
			if errors.Is(err, bot.ErrNotFound) {
				continue // a resident hash without profile, or shredded
			}
			if err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// profileSet returns the sealed profile's field and value.
func profileSet(p bot.Profile) func(dk *seal.DataKey) ([]sealedField, error) {
	return func(dk *seal.DataKey) ([]sealedField, error) {
		return []sealedField{{profileField, dk.Seal(nil, encodeProfileBin(p), ad(profileField))}}, nil
	}
}

// PutProfile creates or replaces a profile, sealed, as a record of the
// current format (bot.SchemaVersion; see binrecord.go). Created, LastSeen
// and Warned are kept to the second.
func (s *Store) PutProfile(ctx context.Context, p bot.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.writeResident(ctx, p.UserID, residentWrite{set: profileSet(p)}, nil)
	return wrap("put profile", err)
}

// ---- sessions ----

// sessionRecord is the "rec" field of a session hash, sealed. The version
// lives in its own field, where the CAS script reads and bumps it.
type sessionRecord struct {
	V       int               `json:"v"`
	Flow    string            `json:"flow,omitempty"`
	Step    string            `json:"step,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
	Expires time.Time         `json:"expires"`
}

func sessionField(k bot.SessionKey) string { return "s:" + strconv.FormatInt(k.ChatID, 10) }

// encodeSession returns sess's record, sealed with dk.
func encodeSession(sess *bot.Session, dk *seal.DataKey) ([]byte, error) {
	rec, err := json.Marshal(sessionRecord{
		V:       bot.SchemaVersion,
		Flow:    sess.Flow,
		Step:    sess.Step,
		Data:    sess.Data,
		Expires: sess.Expires,
	})
	if err != nil {
		return nil, fmt.Errorf("redis store: encode session: %w", err)
	}
	return dk.Seal(nil, rec, ad(sessionField(sess.Key))), nil
}

// Session returns the session, or bot.ErrNotFound when absent or expired.
func (s *Store) Session(ctx context.Context, k bot.SessionKey) (bot.Session, error) {
	if err := ctx.Err(); err != nil {
		return bot.Session{}, err
	}
	var sessCmd *goredis.SliceCmd
	var keyCmd *goredis.StringCmd
	// Both keys are in the resident's slot: one round trip.
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		sessCmd = p.HMGet(ctx, s.sessionKey(k), "rec", "ver", "exp")
		keyCmd = p.HGet(ctx, s.residentKey(k.UserID), keyField)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return bot.Session{}, wrap("session", err)
	}
	return s.decodeSession(sessCmd, keyCmd.Val(), k)
}

// decodeSession reads the reply of HMGET session rec ver exp, with the
// resident's wrapped key. A session sealed with a destroyed key is absent.
func (s *Store) decodeSession(cmd *goredis.SliceCmd, wrapped string, k bot.SessionKey) (bot.Session, error) {
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
	if err := errors.Join(err1, err2); err != nil {
		return bot.Session{}, fmt.Errorf("redis store: session %d/%d: %w", k.UserID, k.ChatID, err)
	}
	if expMs <= s.now().UnixMilli() {
		return bot.Session{}, bot.ErrNotFound
	}
	plain, err := s.openWith(k.UserID, sessionField(k), wrapped, rec)
	if errors.Is(err, errShredded) {
		return bot.Session{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Session{}, err
	}
	var r sessionRecord
	if err := json.Unmarshal(plain, &r); err != nil {
		return bot.Session{}, fmt.Errorf("redis store: session %d/%d: %w", k.UserID, k.ChatID, err)
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

// SaveSession stores sess if the stored version equals sess.Version (an
// absent or expired session counts as 0) and returns the new version;
// otherwise bot.ErrConflict. A session whose Expires has already passed is
// accepted and immediately absent. The compare-and-set is residentScript
// (seal.go): an expired session counts as absent (version 0), but the new
// version continues from the stored one while the key survives, so a
// stale writer of the old session cannot match a new one.
func (s *Store) SaveSession(ctx context.Context, sess bot.Session) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if sess.Expires.IsZero() {
		return 0, errors.New("redis store: SaveSession: session has no expiry")
	}
	v, err := s.writeResident(ctx, sess.Key.UserID, residentWrite{session: &sess}, nil)
	if errors.Is(err, bot.ErrConflict) {
		return 0, err
	}
	return v, wrap("save session", err)
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

// ---- state ----

// LoadState claims the update (see ClaimUpdate), and reads the profile and
// the session, in one pipelined round trip (on a cluster, one per node
// involved; a claim whose lease ended by the store's clock but not yet by
// Redis's takes one more). It implements bot.StateLoader.
func (s *Store) LoadState(ctx context.Context, updateID int64, lease time.Duration, userID int64, k bot.SessionKey) (bot.LoadedState, error) {
	if err := ctx.Err(); err != nil {
		return bot.LoadedState{}, err
	}
	var (
		claim    *goredis.Cmd
		value    string
		profCmd  *goredis.SliceCmd
		sessCmd  *goredis.SliceCmd
		keyOfSes *goredis.StringCmd
	)
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		if updateID != 0 {
			claim, value = s.claimCmd(ctx, p, updateID, lease)
		}
		profCmd = p.HMGet(ctx, s.residentKey(userID), keyField, profileField, profileTail)
		sessCmd = p.HMGet(ctx, s.sessionKey(k), "rec", "ver", "exp")
		if k.UserID != userID {
			keyOfSes = p.HGet(ctx, s.residentKey(k.UserID), keyField)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return bot.LoadedState{}, wrap("load state", err)
	}
	var st bot.LoadedState
	if claim != nil {
		if st.Claim, err = s.decodeClaim(ctx, updateID, lease, claim, value); err != nil {
			return bot.LoadedState{}, err
		}
	}
	st.Profile, err = s.decodeProfile(profCmd, userID)
	switch {
	case err == nil:
		st.HasProfile = true
	case !errors.Is(err, bot.ErrNotFound):
		return bot.LoadedState{}, err
	}
	wrapped, _ := profCmd.Val()[0].(string)
	if keyOfSes != nil {
		wrapped = keyOfSes.Val()
	}
	st.Session, err = s.decodeSession(sessCmd, wrapped, k)
	switch {
	case err == nil:
		st.HasSession = true
	case !errors.Is(err, bot.ErrNotFound):
		return bot.LoadedState{}, err
	}
	return st, nil
}

// SaveState writes the profile and the session with one residentScript,
// and the update's mark, in one pipelined round trip (bot.Store). The
// mark is written whatever the script does.
func (s *Store) SaveState(ctx context.Context, w bot.StateWrite) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if w.Session != nil && w.Session.Expires.IsZero() {
		return 0, errors.New("redis store: SaveState: session has no expiry")
	}
	var owner int64
	switch {
	case w.Session != nil:
		owner = w.Session.Key.UserID
	case w.Profile != nil:
		owner = w.Profile.UserID
	default:
		return 0, s.MarkUpdate(ctx, w.UpdateID, w.Handled)
	}
	rw := residentWrite{session: w.Session}
	if w.Profile != nil {
		if w.Profile.UserID != owner {
			// Two slots: the profile first, on its own.
			if err := s.PutProfile(ctx, *w.Profile); err != nil {
				return 0, err
			}
		} else {
			rw.set = profileSet(*w.Profile)
		}
	}
	var mark func(p goredis.Pipeliner)
	if w.UpdateID != 0 {
		mark = func(p goredis.Pipeliner) { s.markCmd(ctx, p, w.UpdateID, w.Handled) }
	}
	v, err := s.writeResident(ctx, owner, rw, mark)
	if errors.Is(err, bot.ErrConflict) {
		return 0, err
	}
	return v, wrap("save state", err)
}

// ---- updates ----

// An update's key holds "<until>" once it was handled, or
// "l:<token>:<until>" while a handler claims it (until in Unix ms by the
// store's clock); Redis expires the key at until.

// SeenUpdate reports whether update id was marked handled and the mark has
// not expired.
func (s *Store) SeenUpdate(ctx context.Context, id int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	v, err := s.c.Get(ctx, s.updateKey(id)).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrap("seen update", err)
	}
	until, lease, _ := parseUpdateValue(v)
	return !lease && s.now().UnixMilli() < until, nil
}

// parseUpdateValue reads an update key's value: its end, whether it is a
// claim, and the claim's token.
func parseUpdateValue(v string) (until int64, lease bool, token string) {
	if rest, ok := strings.CutPrefix(v, "l:"); ok {
		tok, u, _ := strings.Cut(rest, ":")
		n, _ := strconv.ParseInt(u, 10, 64)
		return n, true, tok
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, false, ""
}

// claimCmd queues the claim of update id: SET NX with a lease, which also
// returns what the key held (GET).
func (s *Store) claimCmd(ctx context.Context, p interface {
	Do(ctx context.Context, args ...any) *goredis.Cmd
}, id int64, lease time.Duration) (*goredis.Cmd, string) {
	ms := max(1, lease.Milliseconds())
	value := "l:" + newToken() + ":" + strconv.FormatInt(s.now().UnixMilli()+ms, 10)
	return p.Do(ctx, "set", s.updateKey(id), value, "px", ms, "nx", "get"), value
}

// decodeClaim reads the reply of claimCmd. A mark or claim that Redis
// still keeps but that has ended by the store's clock is taken over with
// claimTakeoverScript.
func (s *Store) decodeClaim(ctx context.Context, id int64, lease time.Duration, cmd *goredis.Cmd, value string) (bot.UpdateClaim, error) {
	for attempt := 0; ; attempt++ {
		old, err := cmd.Text()
		if errors.Is(err, goredis.Nil) {
			_, _, tok := parseUpdateValue(value)
			return bot.UpdateClaim{Status: bot.ClaimGranted, Token: tok}, nil
		}
		if err != nil {
			return bot.UpdateClaim{}, wrap("claim update", err)
		}
		until, isLease, _ := parseUpdateValue(old)
		switch {
		case until > s.now().UnixMilli() && isLease:
			return bot.UpdateClaim{Status: bot.ClaimBusy}, nil
		case until > s.now().UnixMilli():
			return bot.UpdateClaim{Status: bot.ClaimHandled}, nil
		case attempt >= 3:
			return bot.UpdateClaim{Status: bot.ClaimBusy}, nil
		}
		ms := max(1, lease.Milliseconds())
		value = "l:" + newToken() + ":" + strconv.FormatInt(s.now().UnixMilli()+ms, 10)
		cmd = claimTakeoverScript.Run(ctx, s.c, []string{s.updateKey(id)}, old, value, ms)
	}
}

// claimTakeoverScript claims an update whose mark or claim ended: if the
// key still holds ARGV[1] (or nothing), it sets ARGV[2] for ARGV[3] ms and
// returns nil; otherwise it returns what the key holds, as SET NX GET.
var claimTakeoverScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return v end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return false
`)

// ClaimUpdate claims update id: SET NX PX of a claim with a fresh token,
// in one round trip.
func (s *Store) ClaimUpdate(ctx context.Context, id int64, lease time.Duration) (bot.UpdateClaim, error) {
	if err := ctx.Err(); err != nil {
		return bot.UpdateClaim{}, err
	}
	cmd, value := s.claimCmd(ctx, s.c, id, lease)
	return s.decodeClaim(ctx, id, lease, cmd, value)
}

// releaseScript deletes an update's claim if ARGV[1] is its token.
var releaseScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`)

// ReleaseUpdate ends the claim whose token is given (a script that checks
// the token).
func (s *Store) ReleaseUpdate(ctx context.Context, id int64, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if token == "" {
		return nil
	}
	return wrap("release update", releaseScript.Run(ctx, s.c, []string{s.updateKey(id)}, "l:"+token+":").Err())
}

// markCmd queues the mark of update id until the given time (SET PX,
// replacing a claim; DEL when until has passed).
func (s *Store) markCmd(ctx context.Context, p goredis.Cmdable, id int64, until time.Time) {
	untilMs := until.UnixMilli()
	ttl := time.Duration(untilMs-s.now().UnixMilli()) * time.Millisecond
	if ttl <= 0 {
		p.Del(ctx, s.updateKey(id))
		return
	}
	p.Set(ctx, s.updateKey(id), untilMs, ttl)
}

// MarkUpdate records update id as handled until the given time, replacing
// an earlier mark or a claim (SET with PX: a later mark extends an earlier
// one).
func (s *Store) MarkUpdate(ctx context.Context, id int64, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		s.markCmd(ctx, p, id, until)
		return nil
	})
	return wrap("mark update", err)
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
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

// Forget deletes, first, the resident's data key: from then on nothing
// sealed with it can be opened, wherever a copy of it is. In the same
// round trip it reads the resident's case and document ids. Then it
// deletes the resident's cases (DeleteCase, with their mappings and audit
// logs; counts stay), every reminder entry of the resident
// (bot.ReminderID), and finally the profile, every session of that user
// (in every chat), the documents and the indexes, in one script. Absent is
// not an error. A failure part-way leaves what a retry deletes, unreadable
// meanwhile.
//
// The reminder entries live in the schedule's slots, not the resident's,
// so Forget removes them (forgetEntries): those of the stored documents,
// then whatever a sweep of the schedule finds under the resident's id,
// such as the entry of a document that was never written (the bot
// schedules before it writes) or was deleted before its entry was
// cancelled. Round trips: 2 + the resident's cases + the steps of the
// sweep, about (entries per shard) / scanCount (a small schedule is one
// step).
func (s *Store) Forget(ctx context.Context, userID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var casesCmd, fieldsCmd *goredis.StringSliceCmd
	// All in the resident's slot: one MULTI on one node.
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HDel(ctx, s.residentKey(userID), keyField)
		casesCmd = p.SMembers(ctx, s.residentCasesKey(userID))
		fieldsCmd = p.HKeys(ctx, s.residentKey(userID))
		return nil
	})
	s.keys.Drop(userID)
	if err != nil {
		return wrap("forget", err)
	}
	for _, m := range casesCmd.Val() {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			continue
		}
		if err := s.DeleteCase(ctx, id); err != nil {
			return err
		}
	}
	var docIDs []string
	for _, f := range fieldsCmd.Val() {
		if id, ok := strings.CutPrefix(f, docField); ok {
			docIDs = append(docIDs, id)
		}
	}
	if err := s.forgetEntries(ctx, userID, docIDs); err != nil {
		return err
	}
	tag := s.userTag(userID)
	keys := []string{s.residentKey(userID), s.indexKey(userID), s.residentCasesKey(userID), tag + ":profile", tag + ":docs"}
	err = forgetScript.Run(ctx, s.c, keys, s.sessionPrefix(userID)).Err()
	s.keys.Drop(userID)
	return wrap("forget", err)
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
