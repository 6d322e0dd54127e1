package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// ParseURL turns a PASSERELLE_STORE Redis URL into client options:
//
//	redis://[user:pass@]host:port[/db][?option=value…]       one node
//	rediss://[user:pass@]host:port[/db][?option=value…]      one node, TLS
//	redis-cluster://[user:pass@]host:port[?addr=host2:port&addr=host3:port…]
//	rediss-cluster://…                                       cluster, TLS
//
// Query options are those of go-redis ParseURL and ParseClusterURL
// (dial_timeout, pool_size, …). A cluster URL always yields a cluster
// client, even with a single seed address. A host is required.
//
// Errors never contain the password, nor any part of the URL that could
// hold a mistyped one.
func ParseURL(raw string) (*goredis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: say nothing of it.
		return nil, errors.New(`redis store: malformed URL (check its syntax; percent-encode "@", ":", "/", "?", "#" and "%" in the user name and password)`)
	}
	cluster := false
	switch u.Scheme {
	case "redis", "rediss":
	case "redis-cluster", "rediss-cluster":
		cluster = true
	default:
		// The "scheme" of a URL without one may be a user name: do not echo it.
		return nil, errors.New("redis store: URL must start with redis://, rediss://, redis-cluster:// or rediss-cluster://")
	}
	if u.Opaque != "" || !strings.HasPrefix(strings.ToLower(raw), u.Scheme+"://") {
		return nil, errors.New("redis store: malformed URL: want " + u.Scheme + "://host:port")
	}
	// An "@" after the host, or a fragment, is the tail of a password with
	// an unescaped "/", "?" or "#": refuse it before go-redis quotes it.
	if strings.Contains(u.Path, "@") || strings.Contains(u.RawQuery, "@") || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, errors.New(`redis store: malformed URL: "@" after the host or a "#": percent-encode "/", "?" and "#" in the password (%2F, %3F, %23)`)
	}
	if u.Hostname() == "" {
		return nil, errors.New("redis store: URL has no host: want " + u.Scheme + "://host:port")
	}
	password, _ := u.User.Password()

	if !cluster {
		o, err := goredis.ParseURL(raw)
		if err != nil {
			return nil, redactErr("redis store: invalid URL", err, password)
		}
		return fromOptions(o), nil
	}

	switch strings.Trim(u.Path, "/") {
	case "", "0":
	default:
		return nil, errors.New("redis store: a cluster has only database 0; remove the path from the redis-cluster URL")
	}
	cu := *u
	cu.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
	cu.Path, cu.RawPath = "", ""
	co, err := goredis.ParseClusterURL(cu.String())
	if err != nil {
		return nil, redactErr("redis store: invalid cluster URL", err, password)
	}
	return fromClusterOptions(co), nil
}

// redactErr wraps err, with every occurrence of password (raw or escaped)
// removed from its text.
func redactErr(msg string, err error, password string) error {
	return &redactedError{msg: msg + ": " + redact(err.Error(), password), err: err}
}

func redact(s, password string) string {
	if password == "" {
		return s
	}
	for _, p := range []string{password, url.QueryEscape(password), url.PathEscape(password), url.UserPassword("", password).String()[1:]} {
		if p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return s
}

// redactedError is an error whose text has been cleaned of a secret; it
// still unwraps to the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func fromOptions(o *goredis.Options) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{
		Addrs:                   []string{o.Addr},
		ClientName:              o.ClientName,
		DB:                      o.DB,
		Protocol:                o.Protocol,
		Username:                o.Username,
		Password:                o.Password,
		MaxRetries:              o.MaxRetries,
		MinRetryBackoff:         o.MinRetryBackoff,
		MaxRetryBackoff:         o.MaxRetryBackoff,
		DialTimeout:             o.DialTimeout,
		DialerRetries:           o.DialerRetries,
		DialerRetryTimeout:      o.DialerRetryTimeout,
		ReadTimeout:             o.ReadTimeout,
		WriteTimeout:            o.WriteTimeout,
		ContextTimeoutEnabled:   true,
		PoolFIFO:                o.PoolFIFO,
		PoolSize:                o.PoolSize,
		MaxConcurrentDials:      o.MaxConcurrentDials,
		PoolTimeout:             o.PoolTimeout,
		MinIdleConns:            o.MinIdleConns,
		MaxIdleConns:            o.MaxIdleConns,
		MaxActiveConns:          o.MaxActiveConns,
		PipelinePoolSize:        o.PipelinePoolSize,
		PipelineReadBufferSize:  o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize,
		ConnMaxIdleTime:         o.ConnMaxIdleTime,
		ConnMaxLifetime:         o.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   o.ConnMaxLifetimeJitter,
		TLSConfig:               o.TLSConfig,
	}
}

func fromClusterOptions(o *goredis.ClusterOptions) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{
		Addrs:                   o.Addrs,
		IsClusterMode:           true,
		ClientName:              o.ClientName,
		Protocol:                o.Protocol,
		Username:                o.Username,
		Password:                o.Password,
		MaxRedirects:            o.MaxRedirects,
		ReadOnly:                o.ReadOnly,
		RouteByLatency:          o.RouteByLatency,
		RouteByLatencyTolerance: o.RouteByLatencyTolerance,
		RouteRandomly:           o.RouteRandomly,
		MaxRetries:              o.MaxRetries,
		MinRetryBackoff:         o.MinRetryBackoff,
		MaxRetryBackoff:         o.MaxRetryBackoff,
		DialTimeout:             o.DialTimeout,
		DialerRetries:           o.DialerRetries,
		DialerRetryTimeout:      o.DialerRetryTimeout,
		ReadTimeout:             o.ReadTimeout,
		WriteTimeout:            o.WriteTimeout,
		ContextTimeoutEnabled:   true,
		PoolFIFO:                o.PoolFIFO,
		PoolSize:                o.PoolSize,
		MaxConcurrentDials:      o.MaxConcurrentDials,
		PoolTimeout:             o.PoolTimeout,
		MinIdleConns:            o.MinIdleConns,
		MaxIdleConns:            o.MaxIdleConns,
		MaxActiveConns:          o.MaxActiveConns,
		PipelinePoolSize:        o.PipelinePoolSize,
		PipelineReadBufferSize:  o.PipelineReadBufferSize,
		PipelineWriteBufferSize: o.PipelineWriteBufferSize,
		ConnMaxIdleTime:         o.ConnMaxIdleTime,
		ConnMaxLifetime:         o.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   o.ConnMaxLifetimeJitter,
		FailingTimeoutSeconds:   o.FailingTimeoutSeconds,
		TLSConfig:               o.TLSConfig,
	}
}

// hosts names the addresses of o for error messages.
func hosts(o *goredis.UniversalOptions) string {
	if o.IsClusterMode || len(o.Addrs) > 1 {
		return "cluster " + strings.Join(o.Addrs, ",")
	}
	return fmt.Sprintf("%s db %d", strings.Join(o.Addrs, ","), o.DB)
}
