package redis

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
	goredis "github.com/redis/go-redis/v9"
)

// startAOFServer starts a redis-server of its own on a free loopback port,
// with append-only persistence (fsync always) in a temporary directory, and
// stops it at the end of the test. It returns its URL and directory.
func startAOFServer(t *testing.T) (url, dir string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("redis-server is not installed, and %s=1 requires the Redis tests", envRequire)
		}
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir = t.TempDir()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	for i := 0; ; i++ { // a watchdog on the server's start, not a timer the test waits for
		if c.Ping(t.Context()).Err() == nil {
			return url, dir
		}
		if i == 100 {
			t.Fatalf("redis-server on port %d did not start", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// aofBytes returns every append-only file of the server in dir.
func aofBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".aof") {
			return err
		}
		b, err := os.ReadFile(p)
		all = append(all, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no append-only file")
	}
	return all
}

// dumpAll returns the DUMP serialization of every key of s (the bytes an
// RDB file holds) and their values as Scan renders them.
func dumpAll(t *testing.T, s *Store) []byte {
	t.Helper()
	ctx := t.Context()
	var out []byte
	err := s.Scan(ctx, func(k, v string) error {
		d, err := s.c.Dump(ctx, k).Result()
		if err != nil && err != goredis.Nil {
			return err
		}
		out = append(append(append(out, k...), d...), v...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNothingReadableAtRest: what a resident leaves — a holder label, text
// typed in a conversation, document dates, a case's text and details — is
// in no key of Redis (DUMP), and in no append-only file, in readable form,
// before or after Forget; after Forget no key holds the resident's data
// key, and once Redis rewrote its append-only file, no file does either.
func TestNothingReadableAtRest(t *testing.T) {
	url, dir := startAOFServer(t)
	ctx := t.Context()
	s, err := Open(ctx, url, WithPrefix("pas"), WithKeys(testKeys), WithClock(clock.NewFake(storetest.Start).Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const user = 7700006060
	const (
		label = "ma-fille-Zoé-7f3a"
		typed = "texte-de-session-91b2"
		story = "description-du-cas-55c1"
		alias = "Benevole-Alias-33"
	)
	now := storetest.Start
	if err := s.PutProfile(ctx, bot.Profile{UserID: user, ChatID: user, Lang: "fa", Created: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSession(ctx, bot.Session{Key: bot.SessionKey{ChatID: user, UserID: user}, Flow: "rem",
		Data: map[string]string{"l": typed}, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	filed := permit.Date{Year: 2027, Month: 2, Day: 11}
	if err := s.PutDocument(ctx, bot.Document{UserID: user, ChatID: user, ID: "1", Kind: permit.KindCST, Holder: bot.HolderChild, Label: label,
		Expiry: permit.Date{Year: 2027, Month: 6, Day: 30}, Filed: &filed, Since: permit.Date{Year: 2026, Month: 3, Day: 14}, Created: now}); err != nil {
		t.Fatal(err)
	}
	c := handoff.Case{ID: 61, ResidentID: user, ResidentChat: user, Lang: "fa", Departement: "93", Problem: handoff.ProblemOQTF,
		Expiry: "2027-06-30", Filed: "2027-02-11", Description: story, Sensitive: true, PartnerID: "lyon",
		Status: handoff.StatusTaken, TakenBy: 77, TakenAlias: alias, Created: now, Routed: now}
	if _, err := s.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, 61, handoff.Event{At: now, Actor: 77, Action: "taken", Detail: alias}); err != nil {
		t.Fatal(err)
	}
	// (The anonymous counts — month, département, problem — are kept on
	// purpose: they are not the resident's, and survive the case.)
	readable := []string{label, typed, story, alias, "2027-06-30", "20270630", "30/06/2027", "2027-02-11", "20270211", `"rem"`, `"sensitive"`}
	check := func(when, what string, b []byte) {
		t.Helper()
		for _, text := range readable {
			if bytes.Contains(b, []byte(text)) {
				t.Errorf("%s, %s holds %q", when, what, text)
			}
		}
	}
	check("before Forget", "a key", dumpAll(t, s))
	check("before Forget", "the append-only file", aofBytes(t, dir))
	if !bytes.Contains(aofBytes(t, dir), []byte(fmt.Sprint(user))) {
		t.Fatal("the append-only file does not show the resident's id: the search cannot work")
	}

	if err := s.Forget(ctx, user); err != nil {
		t.Fatal(err)
	}
	check("after Forget", "a key", dumpAll(t, s))
	check("after Forget", "the append-only file", aofBytes(t, dir))
	if bytes.Contains(dumpAll(t, s), []byte(fmt.Sprint(user))) {
		t.Error("after Forget a key still names the resident")
	}
	// The append-only file keeps its history (with the data key) until
	// Redis rewrites it; then nothing can open what it kept.
	if err := s.c.BgRewriteAOF(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // a watchdog on the rewrite, not a timer the test waits for
		info := s.c.Info(ctx, "persistence").Val()
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			break
		}
		if i == 200 {
			t.Fatal("the append-only file was not rewritten")
		}
		time.Sleep(20 * time.Millisecond)
	}
	raw := aofBytes(t, dir)
	for i := 0; i+seal.WrappedSize <= len(raw); i++ {
		if raw[i] == 0xF6 {
			if _, err := testKeys.Unwrap(user, raw[i:i+seal.WrappedSize]); err == nil {
				t.Fatal("after the rewrite, the append-only file still holds the resident's data key")
			}
		}
	}
	if bytes.Contains(raw, []byte(fmt.Sprint(user))) {
		t.Error("after the rewrite, the append-only file still names the resident")
	}
}

// TestRotateKey: rotation re-wraps the data keys, not the records: every
// other value stays byte for byte, and opens with the new master key; the
// old one opens the store no more; run again, it has nothing left to do.
func TestRotateKey(t *testing.T) {
	for _, name := range []string{envURL, envCluster} {
		t.Run(name, func(t *testing.T) {
			u := testURL(t, name)
			s := openTest(t, u) // sealed with testKeys
			ctx := t.Context()
			for _, user := range []int64{7700006161, 7700006162} {
				if err := s.PutProfile(ctx, bot.Profile{UserID: user, ChatID: user, Lang: "ti"}); err != nil {
					t.Fatal(err)
				}
				d := testDocument(user, "1")
				d.Label = "étiquette"
				if err := s.PutDocument(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			createCase(t, s, testCase(62, 7700006161, "lyon"))
			before := scanAll(t, s)
			next := seal.Ephemeral()
			n, err := RotateKey(ctx, u, testKeys, next, WithPrefix(s.Prefix()))
			if err != nil || n != 2 {
				t.Fatalf("RotateKey = %d, %v; want 2", n, err)
			}
			if n, err := RotateKey(ctx, u, testKeys, next, WithPrefix(s.Prefix())); err != nil || n != 0 {
				t.Fatalf("RotateKey again = %d, %v; want 0", n, err)
			}
			if _, err := Open(ctx, u, WithPrefix(s.Prefix()), WithKeys(testKeys)); err == nil || !strings.Contains(err.Error(), ErrWrongKey.Error()) {
				t.Fatalf("Open with the old key: %v; want ErrWrongKey", err)
			}
			r, err := Open(ctx, u, WithPrefix(s.Prefix()), WithKeys(next))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			after := scanAll(t, r)
			if len(after) != len(before) {
				t.Fatalf("%d keys before, %d after", len(before), len(after))
			}
			for i := range before {
				if before[i] == after[i] {
					continue
				}
				// Only the k field of the two resident hashes changed.
				strip := func(e string) string {
					k := strings.Index(e, " k=")
					return e[:k] + e[k+3+seal.WrappedSize:]
				}
				if !strings.Contains(before[i], " k=") || strip(before[i]) != strip(after[i]) {
					t.Errorf("rotation changed more than the data key:\n%q\n%q", before[i], after[i])
				}
			}
			if d, err := r.Document(ctx, 7700006162, "1"); err != nil || d.Label != "étiquette" {
				t.Errorf("after rotation Document = %+v, %v", d, err)
			}
			if c, err := r.Case(ctx, 62); err != nil || c.Description != "texte-du-cas" {
				t.Errorf("after rotation Case = %+v, %v", c, err)
			}
		})
	}
}
