package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseKey(t *testing.T) {
	good := NewKey()
	raw, _ := base64.StdEncoding.DecodeString(good)
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"keygen output", good, true},
		{"with spaces and newline", "  " + good + "\n", true},
		{"url base64 without padding", base64.RawURLEncoding.EncodeToString(raw), true},
		{"empty", "", false},
		{"passphrase", "correct horse battery staple", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"64 bytes", base64.StdEncoding.EncodeToString(append(raw, raw...)), false},
		{"all zero", base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
		{"repeated pattern", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("abcd"), 8)), false},
		{"hex text of 16 bytes", strings.Repeat("0123456789abcdef", 2), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.text)
			if tc.ok {
				if err != nil || k == nil {
					t.Fatalf("ParseKey: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrWeakKey) {
				t.Fatalf("ParseKey = %v; want ErrWeakKey", err)
			}
			if tc.text != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.text)) {
				t.Errorf("the error repeats the key: %v", err)
			}
		})
	}
}

func TestCheckIdentifiesKey(t *testing.T) {
	text := NewKey()
	a, _ := ParseKey(text)
	b, _ := ParseKey(text)
	c, _ := ParseKey(NewKey())
	if a.Check() != b.Check() || a.Check() == c.Check() || len(a.Check()) != 24 {
		t.Errorf("checks: %s %s %s; want the same key's equal, another's different, 24 digits", a.Check(), b.Check(), c.Check())
	}
	if strings.Contains(text, a.Check()) {
		t.Error("the check is part of the key")
	}
}

func TestSealOpen(t *testing.T) {
	keys := Ephemeral()
	dk, wrapped := keys.NewDataKey(7700001234)
	if len(wrapped) != WrappedSize || wrapped[0] != wrappedTag {
		t.Fatalf("wrapped key of %d bytes, first %#x", len(wrapped), wrapped[0])
	}
	plain := []byte("mon fils «Ünïcödé»")
	sealed := dk.Seal(nil, plain, []byte("l:1"))
	if len(sealed) != len(plain)+Overhead || !IsSealed(sealed) || utf8.Valid(sealed[:1]) {
		t.Fatalf("sealed = %d bytes (want %d), first byte %#x", len(sealed), len(plain)+Overhead, sealed[0])
	}
	if bytes.Contains(sealed, []byte("fils")) {
		t.Fatal("the sealed value shows the plaintext")
	}
	again := dk.Seal(nil, plain, []byte("l:1"))
	if bytes.Equal(sealed, again) {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
	got, err := dk.Open(nil, sealed, []byte("l:1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}

	// The unwrapped key opens it too; other keys, owners and fields do not.
	dk2, err := keys.Unwrap(7700001234, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dk2.Open(nil, sealed, []byte("l:1")); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open with the unwrapped key = %q, %v", got, err)
	}
	if _, err := dk.Open(nil, sealed, []byte("l:2")); !errors.Is(err, ErrOpen) {
		t.Errorf("Open bound to another field: %v; want ErrOpen", err)
	}
	other, _ := keys.NewDataKey(7700001234)
	if _, err := other.Open(nil, sealed, []byte("l:1")); !errors.Is(err, ErrOpen) {
		t.Errorf("Open with another data key: %v; want ErrOpen", err)
	}
	if _, err := keys.Unwrap(7700005678, wrapped); !errors.Is(err, ErrOpen) {
		t.Errorf("Unwrap for another owner: %v; want ErrOpen", err)
	}
	if _, err := Ephemeral().Unwrap(7700001234, wrapped); !errors.Is(err, ErrOpen) {
		t.Errorf("Unwrap with another master key: %v; want ErrOpen", err)
	}
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	if _, err := dk.Open(nil, damaged, []byte("l:1")); !errors.Is(err, ErrOpen) {
		t.Errorf("Open of damaged bytes: %v; want ErrOpen", err)
	}
	if _, err := dk.Open(nil, []byte(`{"v":1}`), nil); !errors.Is(err, ErrNotSealed) {
		t.Errorf("Open of a plaintext record: %v; want ErrNotSealed", err)
	}
}

// TestRewrap: rotation changes the wrapped key, not the data key, so what
// was sealed before opens after; the old master key no longer unwraps it.
func TestRewrap(t *testing.T) {
	old, next := Ephemeral(), Ephemeral()
	dk, wrapped := old.NewDataKey(42)
	sealed := dk.Seal(nil, []byte("30/06/2027"), []byte("d:1"))
	rewrapped, err := old.Rewrap(42, wrapped, next)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(rewrapped, wrapped) || len(rewrapped) != WrappedSize {
		t.Fatal("Rewrap did not change the wrapped key")
	}
	dk2, err := next.Unwrap(42, rewrapped)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dk2.Open(nil, sealed, []byte("d:1")); err != nil || string(got) != "30/06/2027" {
		t.Fatalf("after rotation Open = %q, %v", got, err)
	}
	if _, err := old.Unwrap(42, rewrapped); !errors.Is(err, ErrOpen) {
		t.Errorf("the old master key unwraps the rotated key: %v", err)
	}
	if _, err := next.Rewrap(42, wrapped, next); !errors.Is(err, ErrOpen) {
		t.Errorf("Rewrap with the wrong source key: %v; want ErrOpen", err)
	}
}

func TestCache(t *testing.T) {
	keys := Ephemeral()
	c := NewCache(keys, 2)
	dk, wrapped := keys.NewDataKey(1)
	got, err := c.Unwrap(1, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Unwrap(1, wrapped); again != got {
		t.Error("the second Unwrap of the same key did not come from memory")
	}
	if w, k, ok := c.Known(1); !ok || w != string(wrapped) || k != got {
		t.Errorf("Known(1) = %v, %v", ok, k)
	}
	// Another wrapped key for the same owner replaces it.
	_, wrapped2 := keys.NewDataKey(1)
	if k, _ := c.Unwrap(1, wrapped2); k == got {
		t.Error("a new wrapped key returned the cached data key")
	}
	c.Put(2, "x", dk)
	c.Put(3, "y", dk)
	if len(c.m) > 2 {
		t.Errorf("cache holds %d keys; want at most 2", len(c.m))
	}
	c.Drop(3)
	if _, _, ok := c.Known(3); ok {
		t.Error("Drop left the key")
	}
}
