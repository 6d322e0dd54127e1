package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
)

// The master key that wraps every resident's data key (internal/seal):
// PASSERELLE_DATA_KEY, or the file PASSERELLE_DATA_KEY_FILE (for Docker
// secrets). `passerelle keygen` prints a new one.

// errNoDataKey is returned by commands that need the master key.
var errNoDataKey = errors.New("PASSERELLE_DATA_KEY is not set: make a key with `passerelle keygen`, keep it safe (without it the stored data cannot be read), and set it, or PASSERELLE_DATA_KEY_FILE to a file holding it; see README.md")

// loadKey reads the master key from the variable name or the file named by
// name_FILE. It returns nil, nil when neither is set. Errors never repeat
// the key.
func loadKey(getenv func(string) string, name string) (*seal.Keyring, error) {
	text := strings.TrimSpace(getenv(name))
	file := strings.TrimSpace(getenv(name + "_FILE"))
	switch {
	case text != "" && file != "":
		return nil, fmt.Errorf("%s and %s_FILE are both set: set one", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s_FILE: %w", name, err)
		}
		k, err := seal.ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s_FILE %s: %w", name, file, err)
		}
		return k, nil
	case text != "":
		k, err := seal.ParseKey(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return k, nil
	}
	return nil, nil
}

// runKeygen prints a new master key.
func runKeygen(stdout io.Writer) error {
	_, err := fmt.Fprintln(stdout, seal.NewKey())
	return err
}

// runRotateKey re-wraps every data key of the store (PASSERELLE_STORE or
// --store) from the current master key (PASSERELLE_DATA_KEY or its _FILE)
// to the new one (PASSERELLE_NEW_DATA_KEY or its _FILE). The sealed data is
// not touched. Stop every instance of the bot first.
func runRotateKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("rotate-key", stderr)
	storeURL := fs.String("store", "", "store URL (default: PASSERELLE_STORE)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	old, err := loadKey(getenv, "PASSERELLE_DATA_KEY")
	if err != nil {
		return err
	}
	if old == nil {
		return errors.New("PASSERELLE_DATA_KEY (or PASSERELLE_DATA_KEY_FILE) must be the current master key")
	}
	next, err := loadKey(getenv, "PASSERELLE_NEW_DATA_KEY")
	if err != nil {
		return err
	}
	if next == nil {
		return errors.New("PASSERELLE_NEW_DATA_KEY (or PASSERELLE_NEW_DATA_KEY_FILE) must be the new master key (make one with `passerelle keygen`)")
	}
	if old.Check() == next.Check() {
		return errors.New("the new master key is the current one")
	}
	u := *storeURL
	if u == "" {
		u = orDefault(getenv("PASSERELLE_STORE"), "bolt:passerelle.db")
	}
	n, err := rotateStoreKey(ctx, u, old, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-wrapped %d data keys with the new master key.\nSet PASSERELLE_DATA_KEY to the new key, start the bot, then destroy the old key: copies made before (backups, old AOF files) can then no longer be read.\n", n)
	return nil
}

// rotateStoreKey dispatches RotateKey on the kind of store.
func rotateStoreKey(ctx context.Context, u string, old, next *seal.Keyring) (int, error) {
	if path, ok := strings.CutPrefix(u, "bolt:"); ok {
		if path == "" {
			return 0, fmt.Errorf("store %q: bolt needs a file path", u)
		}
		return bolt.RotateKey(ctx, path, old, next)
	}
	raw, opts, err := redisURL(u)
	if err != nil {
		return 0, err
	}
	return redis.RotateKey(ctx, raw, old, next, opts...)
}

// redisURL splits our prefix=NAME query parameter off a Redis store URL.
func redisURL(u string) (string, []redis.Option, error) {
	if !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") && !strings.HasPrefix(u, "redis-cluster://") {
		return "", nil, fmt.Errorf("store: unknown kind (want bolt:PATH, redis://, rediss:// or redis-cluster://)")
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return "", nil, fmt.Errorf("store: malformed Redis URL (check its syntax; the password is not shown)")
	}
	var opts []redis.Option
	q := parsed.Query()
	if p := q.Get("prefix"); p != "" {
		opts = append(opts, redis.WithPrefix(p))
		q.Del("prefix")
		parsed.RawQuery = q.Encode()
	}
	return parsed.String(), opts, nil
}
