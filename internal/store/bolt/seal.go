package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/passerelle-bot/passerelle/internal/seal"
	bbolt "go.etcd.io/bbolt"
)

// Sealing (internal/seal): every record about a person is sealed with the
// person's data key, which is kept wrapped by the master key in the key
// file beside the bbolt file (keyfile.go), whose header also holds the
// master key's check value ("k1:<check>", or "k1r:<old>:<new>" while a
// rotation runs).
//
// Profiles, documents, session contents, cases and their audit logs are
// sealed; keys (user, chat, document, case ids), session versions and
// expiry times, case versions, residents and partners (the indexes), the
// reminder schedule, update marks, topic and relay mappings (ids only)
// and the anonymous counts are not. Forget overwrites the data key in the
// key file first, then deletes the records: a copy of them left in freed
// pages (bbolt does not zero them) cannot be opened any more.
//
// Records written by an earlier release (JSON, not sealed) are still read,
// and sealed when next written.

// Errors about the master key.
var (
	// ErrWrongKey: the store was sealed with another master key.
	ErrWrongKey = errors.New("the store was sealed with another master key (PASSERELLE_DATA_KEY)")
	// ErrRotating: a key rotation was interrupted.
	ErrRotating = errors.New("a master key rotation was interrupted: run `passerelle rotate-key` again with the same keys")
	// errShredded: the person's data key is gone, so are their records.
	errShredded = errors.New("bolt store: data key destroyed")
)

// checkValue is the meta value for a master key.
func checkValue(k *seal.Keyring) string { return "k1:" + k.Check() }

// rotatingValue is the meta value while records move from old to next.
func rotatingValue(old, next *seal.Keyring) string {
	return "k1r:" + old.Check() + ":" + next.Check()
}

// checkMasterKey compares the stored key check with s's master key, and
// records it in a store that has none.
func (s *Store) checkMasterKey() error {
	switch stored := s.kf.Check(); {
	case stored == "":
		return s.kf.SetCheck(checkValue(s.keys.Keyring()))
	case stored == checkValue(s.keys.Keyring()):
		return nil
	case strings.HasPrefix(stored, "k1r:"):
		return ErrRotating
	}
	return ErrWrongKey
}

// dataKey returns owner's data key, creating it when create is set (in a
// write transaction: the key file is synced before the transaction
// commits) and none is stored; errShredded otherwise.
func (s *Store) dataKey(_ *bbolt.Tx, owner int64, create bool) (*seal.DataKey, error) {
	if w := s.kf.Get(owner); w != nil {
		dk, err := s.keys.Unwrap(owner, w)
		if err != nil {
			return nil, fmt.Errorf("bolt store: %w", err)
		}
		return dk, nil
	}
	if !create {
		return nil, errShredded
	}
	dk, wrapped := s.keys.Keyring().NewDataKey(owner)
	if err := s.kf.Put(owner, wrapped); err != nil {
		return nil, err
	}
	s.keys.Put(owner, string(wrapped), dk)
	return dk, nil
}

// sealFor seals plain for owner, bound to ad, creating owner's data key if
// needed (write transactions only).
func (s *Store) sealFor(tx *bbolt.Tx, owner int64, ad string, plain []byte) ([]byte, error) {
	dk, err := s.dataKey(tx, owner, true)
	if err != nil {
		return nil, err
	}
	return dk.Seal(nil, plain, []byte(ad)), nil
}

// openFor returns the plaintext of v, a value of owner bound to ad: v
// itself when it is a record of an earlier release (not sealed),
// errShredded when owner's data key is gone. The result is a copy, safe
// after the transaction.
func (s *Store) openFor(tx *bbolt.Tx, owner int64, ad string, v []byte) ([]byte, error) {
	if !seal.IsSealed(v) {
		return v, nil
	}
	dk, err := s.dataKey(tx, owner, false)
	if err != nil {
		return nil, err
	}
	plain, err := dk.Open(nil, v, []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("bolt store: %s of %d: %w", ad, owner, err)
	}
	return plain, nil
}

// shred overwrites owner's data key: from then on nothing sealed with it
// opens.
func (s *Store) shred(owner int64) error {
	s.keys.Drop(owner)
	return s.kf.Delete(owner)
}

// RotateKey re-wraps every data key of the store at path from the master
// key old to next, and records next as the store's key. The records
// themselves are not touched. It may be run again after an interruption
// (with the same two keys): keys already wrapped by next are left as they
// are. No other process may use the store meanwhile (bbolt's lock ensures
// it). It returns how many keys it re-wrapped.
func RotateKey(ctx context.Context, path string, old, next *seal.Keyring) (int, error) {
	s, err := open(path, config{keys: old, rotating: true})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	switch stored := s.kf.Check(); stored {
	case "", checkValue(old), rotatingValue(old, next):
		if err := s.kf.SetCheck(rotatingValue(old, next)); err != nil {
			return 0, err
		}
	case checkValue(next):
		// Done before; check every key again all the same.
	default:
		return 0, fmt.Errorf("bolt store: rotate key: %w", ErrWrongKey)
	}
	n := 0
	for _, owner := range s.kf.Owners() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		w := s.kf.Get(owner)
		if _, err := next.Unwrap(owner, w); err == nil {
			continue // already moved
		}
		nw, err := old.Rewrap(owner, w, next)
		if err != nil {
			return n, fmt.Errorf("bolt store: rotate key: data key of %d: %w", owner, err)
		}
		if err := s.kf.Put(owner, nw); err != nil {
			return n, err
		}
		n++
	}
	if err := s.kf.SetCheck(checkValue(next)); err != nil {
		return n, err
	}
	return n, nil
}
