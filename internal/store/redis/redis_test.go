package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
	goredis "github.com/redis/go-redis/v9"
)

// Environment variables that point the tests at Redis (DESIGN.md, Testing).
const (
	envURL     = "PASSERELLE_TEST_REDIS_URL"
	envCluster = "PASSERELLE_TEST_REDIS_CLUSTER"
	envRequire = "PASSERELLE_TEST_REQUIRE_REDIS"
)

var examples = map[string]string{
	envURL:     "redis://127.0.0.1:6379/0",
	envCluster: "redis-cluster://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002",
}

// testURL returns the URL in the environment variable name, or skips the
// test (fails it when PASSERELLE_TEST_REQUIRE_REDIS=1).
func testURL(t *testing.T, name string) string {
	t.Helper()
	u := os.Getenv(name)
	if u == "" {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s is not set, and %s=1 requires the Redis tests", name, envRequire)
		}
		t.Skipf("Redis tests skipped: set %s (e.g. %s) to run them", name, examples[name])
	}
	return u
}

// testKeys is the master key of every store the tests open.
var testKeys = seal.Ephemeral()

// testPrefix returns a key prefix no other test uses.
func testPrefix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "pastest-" + hex.EncodeToString(b)
}

// openTest opens a store with a fresh prefix on rawURL, and registers a
// cleanup that closes it and deletes every key under the prefix.
func openTest(t *testing.T, rawURL string, opts ...Option) *Store {
	t.Helper()
	prefix := testPrefix()
	t.Cleanup(func() { deletePrefix(t, rawURL, prefix) })
	s, err := Open(t.Context(), rawURL, append([]Option{WithPrefix(prefix), WithKeys(testKeys)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// deletePrefix deletes every key under prefix, through its own client (the
// test's store may be closed), and checks that none is left. It never
// flushes: other tests share the server.
func deletePrefix(t *testing.T, rawURL, prefix string) {
	t.Helper()
	ctx := context.Background()
	// Whatever master key the test left the store with (see TestRotateKey).
	anyKey := func(c *config) { c.rotating = true }
	s, err := Open(ctx, rawURL, WithPrefix(prefix), WithKeys(testKeys), anyKey)
	if err != nil {
		t.Errorf("cleanup of %s: %v", prefix, err)
		return
	}
	defer s.Close()
	var keys []string
	if err := s.Scan(ctx, func(k, _ string) error { keys = append(keys, k); return nil }); err != nil {
		t.Errorf("cleanup of %s: %v", prefix, err)
		return
	}
	// One DEL per key: on a cluster they live in different slots.
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	if err != nil {
		t.Errorf("cleanup of %s: %v", prefix, err)
	}
	left := 0
	s.Scan(ctx, func(string, string) error { left++; return nil })
	if left > 0 {
		t.Errorf("cleanup of %s left %d keys", prefix, left)
	}
}

// scanData is Scan without the master key's check, which every store has.
func scanData(ctx context.Context, s *Store, fn func(k, v string) error) error {
	return s.Scan(ctx, func(k, v string) error {
		if k == s.keyCheckKey() {
			return nil
		}
		return fn(k, v)
	})
}

func harness(rawURL string) storetest.Harness {
	return storetest.Harness{
		Open: func(t *testing.T, clk *clock.Fake) bot.Store {
			return openTest(t, rawURL, WithClock(clk.Now))
		},
		Reopen: func(t *testing.T, old bot.Store, clk *clock.Fake) bot.Store {
			t.Helper()
			prefix := old.(*Store).Prefix()
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s, err := Open(t.Context(), rawURL, WithPrefix(prefix), WithKeys(testKeys), WithClock(clk.Now))
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Scan: func(t *testing.T, s bot.Store) []string { return scanAll(t, s.(*Store)) },
	}
}

func TestConformanceSingle(t *testing.T) {
	storetest.Run(t, harness(testURL(t, envURL)))
}

func TestConformanceCluster(t *testing.T) {
	storetest.Run(t, harness(clusterURL(t)))
}

// clusterURL returns the test cluster's URL, after checking that it really
// opens a cluster client.
func clusterURL(t *testing.T) string {
	t.Helper()
	u := testURL(t, envCluster)
	s := openTest(t, u)
	if _, ok := s.Client().(*goredis.ClusterClient); !ok {
		t.Fatalf("%s gave a %T, want a cluster client", envCluster, s.Client())
	}
	return u
}

// TestKeyLayout pins the documented layout: every key under the prefix,
// one hash tag per resident that includes the prefix.
func TestKeyLayout(t *testing.T) {
	for _, name := range []string{envURL, envCluster} {
		t.Run(name, func(t *testing.T) {
			u := testURL(t, name)
			s := openTest(t, u)
			ctx := t.Context()
			const uid = 4242
			if err := s.PutProfile(ctx, bot.Profile{UserID: uid, ChatID: uid}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SaveSession(ctx, bot.Session{Key: bot.SessionKey{ChatID: -77, UserID: uid}, Expires: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkUpdate(ctx, 99, time.Now().Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"card", "api"} {
				d := bot.Document{UserID: uid, ChatID: uid, ID: id, Expiry: permit.Date{Year: 2027, Month: 1, Day: 2}, Since: permit.Date{Year: 2026, Month: 1, Day: 2}}
				if id == "api" {
					d.Label = "ma fille"
				}
				if err := s.PutDocument(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			var keys []string
			if err := s.Scan(ctx, func(k, _ string) error { keys = append(keys, k); return nil }); err != nil {
				t.Fatal(err)
			}
			p := s.Prefix()
			tag := p + ":{" + p + ":u4242}"
			want := []string{tag + ":r", tag + ":s:-77", tag + ":sessions", p + ":upd:99", p + ":keycheck"}
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Fatalf("keys = %q, want %q", keys, want)
			}
			// The TTLs follow the session and the mark.
			for _, k := range []string{tag + ":s:-77", tag + ":sessions", p + ":upd:99"} {
				if ttl := s.c.PTTL(ctx, k).Val(); ttl <= 0 {
					t.Errorf("PTTL(%s) = %v, want > 0", k, ttl)
				}
			}
			if ttl := s.c.PTTL(ctx, tag+":r").Val(); ttl != -1*time.Nanosecond && ttl != -1*time.Millisecond {
				t.Errorf("PTTL(%s:r) = %v, want none", tag, ttl)
			}
			f := s.c.HKeys(ctx, tag+":r").Val()
			if want := []string{"d:api", "d:card", "k", "l:api", "p"}; !slices.Equal(slices.Sorted(slices.Values(f)), want) {
				t.Errorf("fields of %s:r = %q, want %q", tag, f, want)
			}
			if enc := s.c.ObjectEncoding(ctx, tag+":r").Val(); enc != "listpack" {
				t.Errorf("OBJECT ENCODING %s:r = %q, want listpack", tag, enc)
			}
			// On a cluster, a resident's keys share one slot.
			if cc, ok := s.Client().(*goredis.ClusterClient); ok {
				slot := func(k string) int64 { return cc.ClusterKeySlot(ctx, k).Val() }
				if slot(tag+":r") != slot(tag+":s:-77") || slot(tag+":r") != slot(tag+":sessions") {
					t.Errorf("a resident's keys are in different slots")
				}
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		addrs   []string
		db      int
		cluster bool
		tls     bool
		user    string
		pass    string
		err     string // substring of the error; "" for success
	}{
		{url: "redis://127.0.0.1:6379/0", addrs: []string{"127.0.0.1:6379"}},
		{url: "redis://localhost/3", addrs: []string{"localhost:6379"}, db: 3},
		{url: "redis://bob:s%40cr%2Ft@redis.example:6380/2", addrs: []string{"redis.example:6380"}, db: 2, user: "bob", pass: "s@cr/t"},
		{url: "redis://:onlypass@h:1", addrs: []string{"h:1"}, pass: "onlypass"},
		{url: "redis://h:6379/0?dial_timeout=3&pool_size=4", addrs: []string{"h:6379"}},
		{url: "rediss://u:p@secure.example:6380/1", addrs: []string{"secure.example:6380"}, db: 1, tls: true, user: "u", pass: "p"},
		{url: "REDIS://H:1", addrs: []string{"H:1"}},
		{url: "redis://[::1]:6379", addrs: []string{"[::1]:6379"}},
		{url: "redis-cluster://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}, cluster: true},
		{url: "redis-cluster://one.example:7000", addrs: []string{"one.example:7000"}, cluster: true},
		{url: "redis-cluster://u:pw@c:7000/?addr=c2:7000", addrs: []string{"c:7000", "c2:7000"}, cluster: true, user: "u", pass: "pw"},
		{url: "rediss-cluster://c:7000?addr=c2:7000", addrs: []string{"c:7000", "c2:7000"}, cluster: true, tls: true},

		{url: "http://127.0.0.1:6379", err: "must start with"},
		{url: "unix:///tmp/redis.sock", err: "must start with"},
		{url: "bolt:passerelle.db", err: "must start with"},
		{url: "127.0.0.1:6379", err: "malformed"},
		{url: "", err: "must start with"},
		{url: "redis://", err: "no host"},
		{url: "redis:///0", err: "no host"},
		{url: "redis://:secret@/0", err: "no host"},
		{url: "redis-cluster://?addr=h:1", err: "no host"},
		{url: "redis:host:6379", err: "malformed"},
		{url: "redis://h:6379/notanumber", err: "invalid database number"},
		{url: "redis://h:6379/0/1", err: "invalid URL path"},
		{url: "redis://h:6379/0?bogus=1", err: "unexpected option: bogus"},
		{url: "redis-cluster://h:7000/3", err: "only database 0"},
		{url: "redis-cluster://h:7000?addr=nohostport", err: "unable to parse addr"},
		{url: "redis://h:port/0", err: "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			o, err := ParseURL(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.url, err)
			}
			if !slices.Equal(o.Addrs, tc.addrs) || o.DB != tc.db || o.IsClusterMode != tc.cluster ||
				(o.TLSConfig != nil) != tc.tls || o.Username != tc.user || o.Password != tc.pass {
				t.Errorf("ParseURL(%q) = addrs %q db %d cluster %v tls %v user %q pass %q; want %q %d %v %v %q %q",
					tc.url, o.Addrs, o.DB, o.IsClusterMode, o.TLSConfig != nil, o.Username, o.Password,
					tc.addrs, tc.db, tc.cluster, tc.tls, tc.user, tc.pass)
			}
			if !o.ContextTimeoutEnabled {
				t.Errorf("ContextTimeoutEnabled is off")
			}
		})
	}
}

// TestParseURLHidesPassword feeds URLs whose password is mistyped in ways
// that make the parser see it elsewhere (path, query, port): the error must
// not quote it.
func TestParseURLHidesPassword(t *testing.T) {
	const secret = "Zq9secretXw"
	for _, raw := range []string{
		"redis://u:" + secret + "/x@h:6379/0",
		"redis://u:12/" + secret + "@h:6379/0",
		"redis://u:12?" + secret + "@h:6379",
		"redis://u:ab#" + secret + "@h:6379",
		"redis://u:" + secret + "%zz@h:6379",
		"redis://u:%" + secret + "@h:6379",
		"redis://u:" + secret + "@h:6379/" + secret,
		"redis://u:" + secret + "@h:6379/0?" + secret + "=1",
		"redis://u:" + secret + "@h:6379/0?dial_timeout=" + secret,
		"redis-cluster://u:" + secret + "@h:7000?addr=" + secret,
		"redis-cluster://u:" + secret + "@h:7000/" + secret,
		"http://u:" + secret + "@h",
		secret + ":" + secret + "@h:6379",
		"redis://u:" + secret + "@:6379",
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:6]) {
			t.Errorf("ParseURL(%q) error quotes the password: %v", raw, err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/0", "rediss://u:p@h:1/2?dial_timeout=3",
		"redis-cluster://h:7000?addr=h2:7001", "redis://u:p/q@h", "redis://:%zz@h",
		"redis://h:6379/0?bogus=%41", "rediss-cluster://u:p@h:1/0",
	} {
		f.Add(s, "hunter2pass")
	}
	f.Fuzz(func(t *testing.T, raw, pass string) {
		// Whatever the input, no panic.
		o, err := ParseURL(raw)
		if err == nil && o == nil {
			t.Fatal("nil options without error")
		}
		// A password placed in a URL, escaped or not, never reaches an error.
		if len(pass) < 6 {
			return
		}
		for _, u := range []string{
			strings.Replace(raw, "://", "://user:"+url.PathEscape(pass)+"@", 1),
			strings.Replace(raw, "://", "://user:"+pass+"@", 1),
		} {
			_, err := ParseURL(u)
			if err == nil {
				continue
			}
			// Only a password that is recognizably the password counts: one
			// that also occurs elsewhere in the URL may be echoed from there.
			if rest := strings.Replace(u, pass, "", 1); strings.Contains(rest, pass) || strings.Contains(raw, pass) {
				continue
			}
			if strings.Contains(err.Error(), pass) {
				t.Fatalf("ParseURL(%q) error quotes the password %q: %v", u, pass, err)
			}
		}
	})
}

func TestOpenErrorsHidePassword(t *testing.T) {
	const secret = "pw-Qk7vX2-not-for-logs"
	check := func(t *testing.T, raw, wantHost string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		s, err := Open(ctx, raw, WithKeys(testKeys))
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded", raw)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), url.QueryEscape(secret)) {
			t.Errorf("error quotes the password: %v", err)
		}
		if !strings.Contains(err.Error(), wantHost) {
			t.Errorf("error %q does not name %s", err, wantHost)
		}
	}
	t.Run("unreachable", func(t *testing.T) {
		check(t, "redis://user:"+secret+"@127.0.0.1:1/0?max_retries=-1&dial_timeout=2", "127.0.0.1:1")
	})
	t.Run("unreachable cluster", func(t *testing.T) {
		check(t, "redis-cluster://user:"+secret+"@127.0.0.1:1?addr=127.0.0.1:2&max_retries=-1&dial_timeout=2", "127.0.0.1:1")
	})
	for _, name := range []string{envURL, envCluster} {
		t.Run("wrong password "+name, func(t *testing.T) {
			u, err := url.Parse(testURL(t, name))
			if err != nil {
				t.Fatal(err)
			}
			// A user that does not exist: WRONGPASS, without touching the
			// server's ACL.
			u.User = url.UserPassword("pastest-nobody-"+testPrefix(), secret)
			check(t, u.String(), u.Host)
		})
	}
}

func TestOpenClusterNodeAsSingle(t *testing.T) {
	o, err := ParseURL(testURL(t, envCluster))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), "redis://"+o.Addrs[0]+"/0", WithKeys(testKeys))
	if err == nil {
		s.Close()
		t.Fatal("a redis:// URL to a cluster node was accepted")
	}
	if !strings.Contains(err.Error(), "redis-cluster://") {
		t.Errorf("error %q does not suggest redis-cluster://", err)
	}
}

func TestOpenBadPrefix(t *testing.T) {
	for _, p := range []string{"", "a{b", "a}b", "a*", "a b", "a?", "x[1]"} {
		if _, err := New(t.Context(), goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}), WithPrefix(p), WithKeys(testKeys)); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

// TestPrefixesDoNotCollide runs two stores with nested-looking prefixes on
// one server: neither sees, scans or forgets the other's keys.
func TestPrefixesDoNotCollide(t *testing.T) {
	u := testURL(t, envURL)
	base := testPrefix()
	a := openPrefixed(t, u, base)
	b := openPrefixed(t, u, base+"x")
	ctx := t.Context()
	for _, s := range []*Store{a, b} {
		if err := s.PutProfile(ctx, bot.Profile{UserID: 1, ChatID: 1, Lang: s.Prefix()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Forget(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if p, err := b.Profile(ctx, 1); err != nil || p.Lang != b.Prefix() {
		t.Fatalf("b.Profile = %+v, %v", p, err)
	}
	n := 0
	scanData(ctx, a, func(string, string) error { n++; return nil })
	if n != 0 {
		t.Errorf("a scans %d keys, want 0", n)
	}
}

func openPrefixed(t *testing.T, rawURL, prefix string) *Store {
	t.Helper()
	t.Cleanup(func() { deletePrefix(t, rawURL, prefix) })
	s, err := Open(t.Context(), rawURL, WithPrefix(prefix), WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSessionIndexExpires checks that the per-user session index does not
// outlive its sessions forever.
func TestSessionIndexExpires(t *testing.T) {
	u := testURL(t, envURL)
	s := openTest(t, u)
	ctx := t.Context()
	k := bot.SessionKey{ChatID: 5, UserID: 5}
	if _, err := s.SaveSession(ctx, bot.Session{Key: k, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSession(ctx, bot.Session{Key: bot.SessionKey{ChatID: 6, UserID: 5}, Expires: time.Now().Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSession(ctx, bot.Session{Key: k, Version: 1, Expires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	ttl := s.c.PTTL(ctx, s.indexKey(5)).Val()
	if ttl < time.Hour+59*time.Minute || ttl > 2*time.Hour {
		t.Errorf("index TTL = %v, want the longest session's (2h)", ttl)
	}
	// Saving an already expired session removes it from the index.
	if _, err := s.SaveSession(ctx, bot.Session{Key: k, Version: 2, Expires: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	members := s.c.SMembers(ctx, s.indexKey(5)).Val()
	if !slices.Equal(members, []string{"6"}) {
		t.Errorf("index = %q, want [6]", members)
	}
}

func TestClosedStoreErrors(t *testing.T) {
	s := openTest(t, testURL(t, envURL))
	s.Close()
	_, err := s.Profile(t.Context(), 1)
	if err == nil || !errors.Is(err, goredis.ErrClosed) {
		t.Errorf("Profile on a closed store: %v", err)
	}
}

func benchStore(b *testing.B) *Store {
	u := os.Getenv(envURL)
	if u == "" {
		b.Skipf("set %s to run Redis benchmarks", envURL)
	}
	prefix := testPrefix()
	s, err := Open(context.Background(), u, WithPrefix(prefix), WithKeys(testKeys))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		s.Scan(ctx, func(k, _ string) error { keys = append(keys, k); return nil })
		if len(keys) > 0 {
			s.c.Del(ctx, keys...)
		}
		s.Close()
	})
	return s
}

func BenchmarkProfileRoundTrip(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	p := bot.Profile{UserID: 42, ChatID: 42, Lang: "fr", Created: time.Now(), LastSeen: time.Now()}
	for b.Loop() {
		if err := s.PutProfile(ctx, p); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Profile(ctx, 42); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionCycle(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	sess := bot.Session{Key: bot.SessionKey{ChatID: 42, UserID: 42}, Flow: "guide", Step: "q1", Data: map[string]string{"a": "b"}}
	for b.Loop() {
		got, err := s.Session(ctx, sess.Key)
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			b.Fatal(err)
		}
		sess.Version = got.Version
		sess.Expires = time.Now().Add(time.Hour)
		if _, err := s.SaveSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkUpdate(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	var id int64
	for b.Loop() {
		id++
		if seen, err := s.SeenUpdate(ctx, id); err != nil || seen {
			b.Fatal(seen, err)
		}
		if err := s.MarkUpdate(ctx, id, time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

// countHook counts round trips: one per command, one per pipeline.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// TestRoundTrips pins the round trips of every operation: one, except
// Forget: 2 + the steps of its sweep of the schedule (one for a small
// schedule), whatever the number of documents.
func TestRoundTrips(t *testing.T) {
	s := openTest(t, testURL(t, envURL))
	h := &countHook{}
	s.c.AddHook(h)
	ctx := t.Context()
	k := bot.SessionKey{ChatID: -3, UserID: 3}
	doc := bot.Document{UserID: 4, ChatID: 4, ID: "a", Expiry: permit.Date{Year: 2027, Month: 1, Day: 2}, Since: permit.Date{Year: 2026, Month: 1, Day: 2}}
	doc2 := doc
	doc2.ID = "b"
	var claims []reminder.Claim
	ops := []struct {
		name string
		want int64
		fn   func() error
	}{
		{"PutProfile", 1, func() error { return s.PutProfile(ctx, bot.Profile{UserID: 3, ChatID: 3}) }},
		{"Profile", 1, func() error { _, err := s.Profile(ctx, 3); return err }},
		{"SaveSession", 1, func() error {
			_, err := s.SaveSession(ctx, bot.Session{Key: k, Expires: time.Now().Add(time.Hour)})
			return err
		}},
		{"Session", 1, func() error { _, err := s.Session(ctx, k); return err }},
		{"DeleteSession", 1, func() error { return s.DeleteSession(ctx, k) }},
		{"MarkUpdate", 1, func() error { return s.MarkUpdate(ctx, 3, time.Now().Add(time.Hour)) }},
		{"SeenUpdate", 1, func() error { _, err := s.SeenUpdate(ctx, 3); return err }},
		{"Forget without documents", 3, func() error { return s.Forget(ctx, 3) }},
		{"PutDocument", 1, func() error { return s.PutDocument(ctx, doc) }},
		{"PutDocument b", 1, func() error { return s.PutDocument(ctx, doc2) }},
		{"Document", 1, func() error { _, err := s.Document(ctx, 4, "a"); return err }},
		{"Documents", 1, func() error { _, err := s.Documents(ctx, 4); return err }},
		{"Forget with 2 documents", 3, func() error { return s.Forget(ctx, 4) }},
		{"DeleteDocument", 1, func() error { return s.DeleteDocument(ctx, 4, "a") }},
		{"LoadState", 1, func() error { _, err := s.LoadState(ctx, 3, time.Minute, 3, k); return err }},
		{"ClaimUpdate", 1, func() error { _, err := s.ClaimUpdate(ctx, 5, time.Minute); return err }},
		{"ReleaseUpdate", 1, func() error { return s.ReleaseUpdate(ctx, 5, "x") }},
		{"SaveState", 1, func() error {
			p := bot.Profile{UserID: 3, ChatID: 3, Lang: "fr"}
			_, err := s.SaveState(ctx, bot.StateWrite{Profile: &p, Session: &bot.Session{Key: bot.SessionKey{ChatID: 3, UserID: 3}, Expires: time.Now().Add(time.Hour)},
				UpdateID: 6, Handled: time.Now().Add(time.Hour)})
			if errors.Is(err, bot.ErrConflict) {
				err = nil // the second pass finds the first's session
			}
			return err
		}},
		{"SaveState mark only", 1, func() error {
			_, err := s.SaveState(ctx, bot.StateWrite{UpdateID: 7, Handled: time.Now().Add(time.Hour)})
			return err
		}},
		{"Schedule", 1, func() error { return s.Schedule(ctx, "4:a", remT0) }},
		{"Get", 1, func() error { _, _, err := s.Get(ctx, "4:a"); return err }},
		{"Claim", 2, func() error {
			var err error
			claims, err = s.Claim(ctx, remT0, 10, time.Minute)
			return err
		}},
		{"Ack", 1, func() error { return s.Ack(ctx, claims[0].ID, claims[0].Token, remT0) }},
		{"Cancel", 1, func() error { return s.Cancel(ctx, "4:a") }},
	}
	// The first pass loads the scripts and dials the connections (whose
	// handshake the hook also sees); the second pass is counted.
	for pass := range 2 {
		for _, op := range ops {
			before := h.n.Load()
			if err := op.fn(); err != nil && !errors.Is(err, bot.ErrNotFound) {
				t.Fatalf("%s: %v", op.name, err)
			}
			if n := h.n.Load() - before; pass == 1 && n != op.want {
				t.Errorf("%s took %d round trips, want %d", op.name, n, op.want)
			}
		}
	}
}
