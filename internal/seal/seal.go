// Package seal encrypts what the stores keep about a person, so that
// deleting one small key makes every copy of their data unreadable
// (crypto-shredding).
//
// Each person (a resident, by Telegram user id) has a data key: 32 random
// bytes that seal their records with AES-256-GCM. A data key is stored
// only wrapped (sealed) by the operator's master key, which lives outside
// the store (PASSERELLE_DATA_KEY or a key file). Deleting the wrapped data
// key first, before the records, makes the records unreadable wherever a
// copy of them survives: freed pages of a bbolt file, a Redis AOF or RDB
// file, a backup. A copy of the wrapped key itself (in the same places)
// is readable only with the master key: rotating the master key
// (Keyring.Rewrap) and destroying the old one makes those copies
// unreadable too.
//
// AES-256-GCM (standard library, hardware-accelerated on common CPUs) is
// used rather than XChaCha20-Poly1305 for its size: a sealed value is 28
// bytes longer than its plaintext (12-byte random nonce, 16-byte tag),
// where XChaCha20-Poly1305 adds 40, and the Redis store keeps each value of
// a resident's hash within 64 bytes so the hash stays a compact listpack.
// Random 96-bit nonces are safe here: a data key seals a few thousand
// values in a resident's life, a master key wraps one data key per
// resident, both far below the 2^32 messages per key that NIST allows
// with random nonces.
//
// Formats (the first byte is never a valid first byte of UTF-8 text, so
// sealed values are told apart from the plaintext records of earlier
// releases, which start with '{' or a digit):
//
//	sealed value  0xF5 | nonce (12) | ciphertext | tag (16)
//	wrapped key   0xF6 | nonce (12) | encrypted data key (32) | tag (16)   = 61 bytes
//
// Every sealed value is bound to what it is (associated data chosen by
// the store: the record kind and its id), so a value copied into another
// field or another person's record does not open. A wrapped key is bound
// to its owner's id.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// KeySize is the size of the master key and of data keys, in bytes.
const KeySize = 32

// Format bytes.
const (
	sealedTag  = 0xF5
	wrappedTag = 0xF6
)

// Overhead is how many bytes Seal adds to a plaintext.
const Overhead = 1 + 12 + 16

// WrappedSize is the size of a wrapped data key.
const WrappedSize = 1 + 12 + KeySize + 16

// Errors.
var (
	// ErrOpen: a sealed value or a wrapped key does not open with this key
	// (another key, another owner or field, or damaged bytes).
	ErrOpen = errors.New("seal: cannot open: wrong key or damaged data")
	// ErrNotSealed: the value does not have the sealed format.
	ErrNotSealed = errors.New("seal: value is not sealed")
	// ErrWeakKey: a master key that is not 32 random-looking bytes.
	ErrWeakKey = errors.New("seal: weak or malformed master key")
)

// Keyring holds the master key: it wraps and unwraps data keys. It is safe
// for concurrent use.
type Keyring struct {
	wrap  cipher.AEAD
	check string
}

// NewKey returns a new random master key as text (base64 of 32 bytes), as
// `passerelle keygen` prints it.
func NewKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(KeySize))
}

// ParseKey reads a master key written by NewKey (standard or URL base64,
// with or without padding; surrounding spaces ignored). It refuses
// anything that is not 32 bytes, and keys too regular to be random (fewer
// than 12 distinct byte values: a random key has about 30), with an error
// that never repeats the key.
func ParseKey(text string) (*Keyring, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("%w: empty", ErrWeakKey)
	}
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			raw = b
			break
		}
	}
	switch {
	case raw == nil:
		return nil, fmt.Errorf("%w: not base64 (make one with `passerelle keygen`)", ErrWeakKey)
	case len(raw) != KeySize:
		return nil, fmt.Errorf("%w: %d bytes, want %d (make one with `passerelle keygen`)", ErrWeakKey, len(raw), KeySize)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range raw {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < 12 {
		return nil, fmt.Errorf("%w: too regular to be random (make one with `passerelle keygen`)", ErrWeakKey)
	}
	return newKeyring(raw)
}

// Ephemeral returns a keyring with a random master key that is never
// written anywhere: what it seals is unreadable once the process ends. For
// `passerelle chat` on a temporary store, and tests.
func Ephemeral() *Keyring {
	k, err := newKeyring(randomBytes(KeySize))
	if err != nil {
		panic(err) // AES accepts every 32-byte key
	}
	return k
}

func newKeyring(master []byte) (*Keyring, error) {
	wrapKey, err := hkdf.Key(sha256.New, master, nil, "passerelle data-key wrap v1", KeySize)
	if err != nil {
		return nil, fmt.Errorf("seal: derive wrapping key: %w", err)
	}
	aead, err := newAEAD(wrapKey)
	if err != nil {
		return nil, err
	}
	checkKey, err := hkdf.Key(sha256.New, master, nil, "passerelle key check v1", KeySize)
	if err != nil {
		return nil, fmt.Errorf("seal: derive check: %w", err)
	}
	mac := hmac.New(sha256.New, checkKey)
	mac.Write([]byte("passerelle"))
	return &Keyring{wrap: aead, check: hex.EncodeToString(mac.Sum(nil)[:12])}, nil
}

// Check returns a short public fingerprint of the master key (24 hex
// digits): stores keep it to refuse a wrong key at open. It reveals
// nothing about the key.
func (k *Keyring) Check() string { return k.check }

// NewDataKey makes a new data key for owner and returns it with its
// wrapped form, to be stored.
func (k *Keyring) NewDataKey(owner int64) (*DataKey, []byte) {
	raw := randomBytes(KeySize)
	dk, err := newDataKey(raw)
	if err != nil {
		panic(err) // AES accepts every 32-byte key
	}
	wrapped := k.wrap.Seal([]byte{wrappedTag}, nil, raw, ownerAD(owner))
	return dk, wrapped
}

// Unwrap opens owner's wrapped data key.
func (k *Keyring) Unwrap(owner int64, wrapped []byte) (*DataKey, error) {
	raw, err := k.unwrap(owner, wrapped)
	if err != nil {
		return nil, err
	}
	return newDataKey(raw)
}

// Rewrap returns owner's wrapped data key wrapped by to instead of k: the
// data key, and so every value it sealed, stays the same.
func (k *Keyring) Rewrap(owner int64, wrapped []byte, to *Keyring) ([]byte, error) {
	raw, err := k.unwrap(owner, wrapped)
	if err != nil {
		return nil, err
	}
	return to.wrap.Seal([]byte{wrappedTag}, nil, raw, ownerAD(owner)), nil
}

func (k *Keyring) unwrap(owner int64, wrapped []byte) ([]byte, error) {
	if len(wrapped) != WrappedSize || wrapped[0] != wrappedTag {
		return nil, fmt.Errorf("%w: wrapped key of %d: bad format", ErrOpen, owner)
	}
	raw, err := k.wrap.Open(nil, nil, wrapped[1:], ownerAD(owner))
	if err != nil {
		return nil, fmt.Errorf("%w (data key of %d)", ErrOpen, owner)
	}
	return raw, nil
}

func ownerAD(owner int64) []byte {
	return strconv.AppendInt([]byte("passerelle/dk/"), owner, 10)
}

// DataKey seals and opens one person's values. Safe for concurrent use.
type DataKey struct{ aead cipher.AEAD }

func newDataKey(raw []byte) (*DataKey, error) {
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &DataKey{aead: aead}, nil
}

// Seal appends the sealed form of plain, bound to ad, to dst.
func (d *DataKey) Seal(dst, plain, ad []byte) []byte {
	dst = append(dst, sealedTag)
	return d.aead.Seal(dst, nil, plain, ad)
}

// Open appends the plaintext of sealed, which must have been sealed with
// the same ad, to dst.
func (d *DataKey) Open(dst, sealed, ad []byte) ([]byte, error) {
	if !IsSealed(sealed) {
		return nil, ErrNotSealed
	}
	out, err := d.aead.Open(dst, nil, sealed[1:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// IsSealed reports whether v has the sealed format (it may still not
// open).
func IsSealed(v []byte) bool { return len(v) >= Overhead && v[0] == sealedTag }

// IsSealedString is IsSealed for a string.
func IsSealedString(v string) bool { return len(v) >= Overhead && v[0] == sealedTag }

// newAEAD returns AES-256-GCM that draws a random nonce for each Seal and
// puts it in front of the ciphertext.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return b
}
