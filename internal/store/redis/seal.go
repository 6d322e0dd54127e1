package redis

// Sealing (internal/seal). Every value about a person is sealed with the
// person's data key, which is kept wrapped by the master key in the field
// k of their resident hash:
//
//	P:{P:uU}:r   k = wrapped data key (61 bytes), p, d:<id>, l:<id> sealed
//	P:{P:uU}:s:C rec sealed; ver, exp in clear
//	P:{P:cC}     rec sealed with the case's resident's key; ver, partner,
//	             rid (the resident), parts (partners it went to) in clear
//	P:{P:cC}:ev  every item sealed with the same key
//	P:keycheck   "k1:<check>" of the master key (seal.Keyring.Check), or
//	             "k1r:<old>:<new>" while a rotation runs
//
// Each sealed value is bound to its field ("p", "d:<id>", "l:<id>",
// "s:<chat>", "c:<id>", "e:<id>"). Ids (keys, field names, mappings),
// session versions and expiries, case versions, the reminder schedule,
// update marks and the anonymous counts are not sealed.
//
// Every write to a resident's slot goes through residentScript, which
// checks that the resident's stored data key is the one the value was
// sealed with (the Store remembers keys it has seen, seal.Cache), or
// stores a new one when none is: so a value is never sealed with a key
// that another instance destroyed meanwhile. Making a new key removes the
// sealed values a destroyed key left behind (a Forget cut short). Values
// written by an earlier release (not sealed) are still read, and sealed
// when next written.
//
// Forget deletes k first. From then on no copy of the resident's values —
// in the AOF until its next rewrite, in an RDB snapshot, in a backup — can
// be opened without a copy of k made before, which itself opens only with
// the master key: rotate the master key (RotateKey) and destroy the old
// one to make those copies unreadable too.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/seal"
	goredis "github.com/redis/go-redis/v9"
)

// keyField is the field of the wrapped data key in the resident hash.
const keyField = "k"

// maxValue is the longest value of a hash that keeps it a listpack under
// Redis's default hash-max-listpack-value.
const maxValue = 64

// tailField is the field that holds what follows the first maxValue bytes
// of a longer sealed value of the resident hash: the field's name with its
// first letter in upper case ("p" → "P", "l:3" → "L:3"). A label of 30
// characters of a script of two bytes each is 89 bytes sealed; split, no
// value is longer than 64 bytes and the hash stays a listpack.
func tailField(field string) string {
	return strings.ToUpper(field[:1]) + field[1:]
}

// setSealed returns the field/value pairs that store sealed value v of
// field, and the tail field to delete when v fits in one.
func setSealed(field string, v []byte) (set []any, del string) {
	if len(v) <= maxValue {
		return []any{field, v}, tailField(field)
	}
	return []any{field, v[:maxValue], tailField(field), v[maxValue:]}, ""
}

// Errors about the master key.
var (
	// ErrWrongKey: the store was sealed with another master key.
	ErrWrongKey = errors.New("the store was sealed with another master key (PASSERELLE_DATA_KEY)")
	// ErrRotating: a key rotation was interrupted.
	ErrRotating = errors.New("a master key rotation was interrupted: run `passerelle rotate-key` again with the same keys")
	// errShredded: the person's data key is gone, so are their values.
	errShredded = errors.New("redis store: data key destroyed")
)

func (s *Store) keyCheckKey() string { return s.prefix + ":keycheck" }

func checkValue(k *seal.Keyring) string { return "k1:" + k.Check() }

func rotatingValue(old, next *seal.Keyring) string {
	return "k1r:" + old.Check() + ":" + next.Check()
}

// checkMasterKey compares the stored key check with the store's master
// key, and records it when none is stored.
func (s *Store) checkMasterKey(ctx context.Context) error {
	want := checkValue(s.keys.Keyring())
	old, err := s.c.Do(ctx, "set", s.keyCheckKey(), want, "nx", "get").Text()
	switch {
	case errors.Is(err, goredis.Nil), err == nil && old == want:
		return nil
	case err != nil:
		return wrap("key check", err)
	case strings.HasPrefix(old, "k1r:"):
		return ErrRotating
	}
	return ErrWrongKey
}

// ad is the associated data that binds a sealed value to its field.
func ad(field string) []byte { return []byte(field) }

// openWith opens v, a value of owner's field, with the wrapped key read
// with it ("" when none is stored): v itself when it is a value of an
// earlier release, errShredded when it is sealed and no key is stored.
func (s *Store) openWith(owner int64, field, wrapped, v string) ([]byte, error) {
	if !seal.IsSealedString(v) {
		return []byte(v), nil
	}
	if wrapped == "" {
		s.keys.Drop(owner)
		return nil, errShredded
	}
	dk, err := s.keys.Unwrap(owner, []byte(wrapped))
	if err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	plain, err := dk.Open(nil, []byte(v), ad(field))
	if err != nil {
		return nil, fmt.Errorf("redis store: %s of %d: %w", field, owner, err)
	}
	return plain, nil
}

// fetchKey reads owner's wrapped key; "" when none is stored.
func (s *Store) fetchKey(ctx context.Context, owner int64) (string, error) {
	w, err := s.c.HGet(ctx, s.residentKey(owner), keyField).Result()
	if errors.Is(err, goredis.Nil) {
		s.keys.Drop(owner)
		return "", nil
	}
	if err != nil {
		return "", wrap("data key", err)
	}
	return w, nil
}

// openOwned opens v, a value of owner's field kept outside the resident's
// slot (a case, an event), with the key the store last saw for owner, or
// the stored one when that fails.
func (s *Store) openOwned(ctx context.Context, owner int64, field, v string) ([]byte, error) {
	if !seal.IsSealedString(v) {
		return []byte(v), nil
	}
	if w, _, ok := s.keys.Known(owner); ok {
		if plain, err := s.openWith(owner, field, w, v); err == nil {
			return plain, nil
		}
	}
	w, err := s.fetchKey(ctx, owner)
	if err != nil {
		return nil, err
	}
	return s.openWith(owner, field, w, v)
}

// ownerKey returns owner's data key for sealing a value kept outside the
// resident's slot: the one last seen, else the stored one, else a new one
// stored through residentScript.
func (s *Store) ownerKey(ctx context.Context, owner int64) (*seal.DataKey, error) {
	if _, dk, ok := s.keys.Known(owner); ok {
		return dk, nil
	}
	w, err := s.fetchKey(ctx, owner)
	if err != nil {
		return nil, err
	}
	if w != "" {
		dk, err := s.keys.Unwrap(owner, []byte(w))
		if err != nil {
			return nil, fmt.Errorf("redis store: %w", err)
		}
		return dk, nil
	}
	if _, err := s.writeResident(ctx, owner, residentWrite{}, nil); err != nil {
		return nil, err
	}
	_, dk, _ := s.keys.Known(owner)
	return dk, nil
}

// residentScript writes to a resident's slot, after checking the data key.
//
//	KEYS[1] resident hash, KEYS[2] session index, KEYS[3] session hash
//	        (or any key of the slot when no session is written)
//	ARGV[1] the wrapped key the values were sealed with,
//	ARGV[2] "1": store ARGV[1] if no key is stored,
//	ARGV[3] the prefix of the resident's session keys,
//	ARGV[4] n, then n field/value pairs to HSET in the resident hash,
//	then m, then m fields to HDEL,
//	then the session: expected version ("" = no session), now (ms),
//	expiry (ms), TTL (ms), record, chat id
//
// It returns {-9, stored key} when the stored key is not ARGV[1] (nothing
// written), {-1} on a session conflict (the resident hash is written), or
// {the session's new version, or 0 without session}. A new key first
// removes the sealed values a destroyed key left: values of the hash that
// are sealed (first byte 0xF5) and tails (tailField: the field's name
// starts with an upper-case letter), and the sessions.
var residentScript = goredis.NewScript(`
local k = redis.call('HGET', KEYS[1], 'k')
if k ~= ARGV[1] then
  if k or ARGV[2] ~= '1' then return {-9, k} end
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if string.byte(all[i + 1], 1) == 245 or string.find(all[i], '^%u') then redis.call('HDEL', KEYS[1], all[i]) end
  end
  for _, c in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', ARGV[3] .. c) end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'k', ARGV[1])
end
local i = 4
local n = tonumber(ARGV[i])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, i + 1, i + 2 * n)) end
i = i + 1 + 2 * n
n = tonumber(ARGV[i])
if n > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, i + 1, i + n)) end
i = i + 1 + n
if ARGV[i] == '' then return {0} end
local cur = redis.call('HMGET', KEYS[3], 'ver', 'exp')
local ver = tonumber(cur[1]) or 0
local live = ver
if (tonumber(cur[2]) or 0) <= tonumber(ARGV[i + 1]) then live = 0 end
if live ~= tonumber(ARGV[i]) then return {-1} end
local ttl = tonumber(ARGV[i + 3])
if ttl <= 0 then
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[2], ARGV[i + 5])
  return {ver + 1}
end
redis.call('HSET', KEYS[3], 'rec', ARGV[i + 4], 'ver', ver + 1, 'exp', ARGV[i + 2])
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('SADD', KEYS[2], ARGV[i + 5])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return {ver + 1}
`)

// residentWrite is what one residentScript writes.
type residentWrite struct {
	// set returns sealed values of fields of the resident hash, sealed
	// with dk (stored with setSealed).
	set func(dk *seal.DataKey) ([]sealedField, error)
	// del lists fields of the resident hash to delete.
	del []string
	// session, when set, is saved as SaveSession does.
	session *bot.Session
}

// sealedField is a sealed value of a field of the resident hash.
type sealedField struct {
	field string
	value []byte
}

// writeResident runs residentScript for owner with the data key the store
// last saw (or a new one when it saw none), and again, resealed, when the
// stored key is another. extra, when set, adds commands to the first
// attempt's pipeline (SaveState's update mark): they run whatever the
// script does. It returns the session's new version (0 without session),
// or bot.ErrConflict.
func (s *Store) writeResident(ctx context.Context, owner int64, w residentWrite, extra func(p goredis.Pipeliner)) (int64, error) {
	wrapped, dk, known := s.keys.Known(owner)
	create := !known
	if create {
		var raw []byte
		dk, raw = s.keys.Keyring().NewDataKey(owner)
		wrapped = string(raw)
	}
	keys := []string{s.residentKey(owner), s.indexKey(owner), s.indexKey(owner)}
	for attempt := 0; ; attempt++ {
		args, err := s.residentArgs(owner, w, dk, wrapped, create)
		if err != nil {
			return 0, err
		}
		if w.session != nil {
			keys[2] = s.sessionKey(w.session.Key)
		}
		var res []any
		if extra != nil && attempt == 0 {
			res, err = s.runPipelined(ctx, residentScript, keys, args, extra)
		} else {
			res, err = residentScript.Run(ctx, s.c, keys, args...).Slice()
		}
		if err != nil {
			return 0, err
		}
		code, _ := res[0].(int64)
		switch {
		case code == -1:
			s.remember(owner, wrapped, dk, create)
			return 0, bot.ErrConflict
		case code >= 0:
			s.remember(owner, wrapped, dk, create)
			return code, nil
		case code != -9 || attempt >= 3:
			return 0, fmt.Errorf("redis store: write of %d: unexpected script result %v", owner, res)
		}
		// Another key is stored (or none): seal again with it.
		stored, _ := res[1].(string)
		if stored == "" {
			s.keys.Drop(owner)
			var raw []byte
			dk, raw = s.keys.Keyring().NewDataKey(owner)
			wrapped, create = string(raw), true
			continue
		}
		if dk, err = s.keys.Unwrap(owner, []byte(stored)); err != nil {
			return 0, fmt.Errorf("redis store: %w", err)
		}
		wrapped, create = stored, false
	}
}

func (s *Store) remember(owner int64, wrapped string, dk *seal.DataKey, created bool) {
	if created {
		s.keys.Put(owner, wrapped, dk)
	}
}

// residentArgs builds residentScript's ARGV.
func (s *Store) residentArgs(owner int64, w residentWrite, dk *seal.DataKey, wrapped string, create bool) ([]any, error) {
	args := []any{wrapped, "0", s.sessionPrefix(owner)}
	if create {
		args[1] = "1"
	}
	var set []any
	del := w.del
	if w.set != nil {
		fields, err := w.set(dk)
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			pairs, tail := setSealed(f.field, f.value)
			set = append(set, pairs...)
			if tail != "" {
				del = append(del, tail)
			}
		}
	}
	args = append(args, len(set)/2)
	args = append(args, set...)
	args = append(args, len(del))
	for _, f := range del {
		args = append(args, f)
	}
	if w.session == nil {
		return append(args, ""), nil
	}
	sess := w.session
	rec, err := encodeSession(sess, dk)
	if err != nil {
		return nil, err
	}
	nowMs, expMs := s.now().UnixMilli(), sess.Expires.UnixMilli()
	return append(args, sess.Version, nowMs, expMs, expMs-nowMs, rec, sess.Key.ChatID), nil
}

// runPipelined runs script with extra commands in one pipeline and
// returns the script's reply. When the server does not know the script yet
// (NOSCRIPT), the extra commands have run and the script runs again alone.
func (s *Store) runPipelined(ctx context.Context, script *goredis.Script, keys []string, args []any, extra func(p goredis.Pipeliner)) ([]any, error) {
	var cmd *goredis.Cmd
	cmds, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		cmd = script.EvalSha(ctx, p, keys, args...)
		extra(p)
		return nil
	})
	if e := cmd.Err(); e != nil && goredis.HasErrorPrefix(e, "NOSCRIPT") {
		for _, c := range cmds[1:] {
			if c.Err() != nil {
				return nil, c.Err()
			}
		}
		return script.Run(ctx, s.c, keys, args...).Slice()
	}
	if err != nil {
		return nil, err
	}
	return cmd.Slice()
}

// RotateKey re-wraps every data key of the store at rawURL (see Open;
// opts as for Open, without WithKeys) from the master key old to next,
// and records next as the store's key; the sealed values are not touched.
// It may be run again after an interruption (with the same two keys):
// keys already wrapped by next are left as they are. Stop every instance
// first: an instance with the old key cannot open what was re-wrapped. It
// returns how many keys it re-wrapped.
func RotateKey(ctx context.Context, rawURL string, old, next *seal.Keyring, opts ...Option) (int, error) {
	opts = append(opts, WithKeys(old), func(c *config) { c.rotating = true })
	s, err := Open(ctx, rawURL, opts...)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return s.rotateKey(ctx, next)
}

func (s *Store) rotateKey(ctx context.Context, next *seal.Keyring) (int, error) {
	old := s.keys.Keyring()
	stored, err := s.c.Get(ctx, s.keyCheckKey()).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, wrap("rotate key", err)
	}
	switch stored {
	case "", checkValue(old), rotatingValue(old, next):
		if err := s.c.Set(ctx, s.keyCheckKey(), rotatingValue(old, next), 0).Err(); err != nil {
			return 0, wrap("rotate key", err)
		}
	case checkValue(next):
		// Done before; check every key again all the same.
	default:
		return 0, fmt.Errorf("redis store: rotate key: %w", ErrWrongKey)
	}
	n := 0
	pattern := s.tag + "*}:r" // every resident hash
	err = s.eachKey(ctx, pattern, func(key string) error {
		owner, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(key, s.tag), "}:r"), 10, 64)
		if err != nil {
			return nil // not a resident hash
		}
		w, err := s.c.HGet(ctx, key, keyField).Result()
		if errors.Is(err, goredis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := next.Unwrap(owner, []byte(w)); err == nil {
			return nil // already moved
		}
		nw, err := old.Rewrap(owner, []byte(w), next)
		if err != nil {
			return fmt.Errorf("data key of %d: %w", owner, err)
		}
		ok, err := rewrapScript.Run(ctx, s.c, []string{key}, w, nw).Int()
		if err != nil {
			return err
		}
		n += ok
		return nil
	})
	if err != nil {
		return n, wrap("rotate key", err)
	}
	if err := s.c.Set(ctx, s.keyCheckKey(), checkValue(next), 0).Err(); err != nil {
		return n, wrap("rotate key", err)
	}
	s.keys = seal.NewCache(next, 0)
	return n, nil
}

// rewrapScript replaces the wrapped key ARGV[1] of KEYS[1] by ARGV[2];
// it returns 1, or 0 when the stored key is another (Forget, a new key).
var rewrapScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'k') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'k', ARGV[2])
return 1
`)

// eachKey calls fn for every key matching pattern (on a cluster, on every
// master), in key order.
func (s *Store) eachKey(ctx context.Context, pattern string, fn func(key string) error) error {
	keys, err := s.scanKeys(ctx, pattern)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}
