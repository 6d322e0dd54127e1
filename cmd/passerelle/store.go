package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
)

// openStore opens the store named by a PASSERELLE_STORE URL.
func openStore(ctx context.Context, u string) (bot.Store, error) {
	switch {
	case strings.HasPrefix(u, "bolt:"):
		path := strings.TrimPrefix(u, "bolt:")
		if path == "" {
			return nil, fmt.Errorf("store %q: bolt needs a file path, e.g. bolt:passerelle.db", u)
		}
		return bolt.Open(path)
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"), strings.HasPrefix(u, "redis-cluster://"):
		// prefix=NAME is ours: it sets the key prefix, so that several
		// deployments (or test runs) can share one Redis.
		parsed, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("store: malformed Redis URL (check its syntax; the password is not shown)")
		}
		var opts []redis.Option
		q := parsed.Query()
		if p := q.Get("prefix"); p != "" {
			opts = append(opts, redis.WithPrefix(p))
			q.Del("prefix")
			parsed.RawQuery = q.Encode()
		}
		return redis.Open(ctx, parsed.String(), opts...)
	}
	return nil, fmt.Errorf("store: unknown kind (want bolt:PATH, redis://, rediss:// or redis-cluster://)")
}
