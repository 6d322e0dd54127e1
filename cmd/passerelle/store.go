package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
)

// openStore opens the store named by a PASSERELLE_STORE URL, sealed with
// the master key keys (see datakey.go).
func openStore(ctx context.Context, u string, keys *seal.Keyring) (bot.Store, error) {
	if keys == nil {
		return nil, errNoDataKey
	}
	if path, ok := strings.CutPrefix(u, "bolt:"); ok {
		if path == "" {
			return nil, fmt.Errorf("store %q: bolt needs a file path, e.g. bolt:passerelle.db", u)
		}
		st, err := bolt.Open(path, bolt.WithKeys(keys))
		return st, keyHint(err)
	}
	// prefix=NAME is ours: it sets the key prefix, so that several
	// deployments (or test runs) can share one Redis.
	raw, opts, err := redisURL(u)
	if err != nil {
		return nil, err
	}
	st, err := redis.Open(ctx, raw, append(opts, redis.WithKeys(keys))...)
	return st, keyHint(err)
}

// keyHint adds what to do to a store's refusal of the master key.
func keyHint(err error) error {
	switch {
	case errors.Is(err, bolt.ErrWrongKey), errors.Is(err, redis.ErrWrongKey):
		return fmt.Errorf("%w: set PASSERELLE_DATA_KEY to the key this store was first used with", err)
	}
	return err
}
