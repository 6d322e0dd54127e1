package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// serving is a run() of the real program that serves HTTP on addr.
type serving struct {
	addr string
	logs *syncBuffer
}

// serve starts run(ctx, args) with env, waits until addr answers /healthz,
// and stops it (as SIGTERM would) at the end of the test.
func serve(t *testing.T, ctx context.Context, args []string, env map[string]string, addr string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	s := &serving{addr: addr, logs: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, s.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run %v returned %v\nlogs:\n%s", args, err, s.logs.String())
			}
		case <-time.After(wait):
			t.Errorf("run %v did not stop\nlogs:\n%s", args, s.logs.String())
		}
	})
	deadline := time.Now().Add(wait)
	for {
		select {
		case err := <-done:
			t.Fatalf("run %v returned early: %v\nlogs:\n%s", args, err, s.logs.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %v does not serve %s\nlogs:\n%s", args, addr, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// servers starts each server the binary runs: `run` (long polling on the
// fake Bot API) and `web`, on store, with the timeouts of ctx.
func servers(t *testing.T, ctx context.Context, store func(t *testing.T) string) map[string]*serving {
	tg := telegramtest.NewServer(t)
	runEnv := baseEnv(t, tg, store(t))
	webAddr := freeAddr(t)
	webEnv := map[string]string{"PASSERELLE_DATA_KEY": testDataKey}
	return map[string]*serving{
		"run": serve(t, ctx, []string{"run"}, runEnv, runEnv["PASSERELLE_LISTEN"]),
		"web": serve(t, ctx, []string{"web", "--listen", webAddr, "--store", store(t)}, webEnv, webAddr),
	}
}

func boltStore(t *testing.T) string { return "bolt:" + filepath.Join(t.TempDir(), "s.db") }

// TestIdleConnectionClosed: a keep-alive connection left idle is closed by
// the server after the idle timeout, on every server the binary starts
// (before, none had an idle or read timeout: it stayed open for ever).
func TestIdleConnectionClosed(t *testing.T) {
	t.Parallel()
	ctx := withHTTPTimeouts(context.Background(), httpTimeouts{readHeader: time.Second, read: 2 * time.Second, write: 2 * time.Second, idle: 100 * time.Millisecond})
	for name, s := range servers(t, ctx, boltStore) {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", s.addr)
			rd := bufio.NewReader(conn)
			resp, err := http.ReadResponse(rd, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("GET /healthz = %d (close: %v); want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
			}
			// Now idle: the server must close it (EOF), long before the
			// test's generous bound.
			conn.SetReadDeadline(time.Now().Add(wait))
			_, err = rd.ReadByte()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("idle connection still open after %v", wait)
			}
			if !errors.Is(err, io.EOF) {
				t.Errorf("idle connection: read = %v; want EOF (closed by the server)", err)
			}
		})
	}
}

func TestServerTimeoutsSet(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(context.Background(), http.NotFoundHandler())
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout, "WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 {
			t.Errorf("%s = %v; want a bound", name, d)
		}
	}
	// The webhook waits up to 25 s for its update, a page action up to the
	// 30 s handling limit: both inside the read and write timeouts.
	if srv.ReadTimeout <= 30*time.Second || srv.WriteTimeout <= 30*time.Second {
		t.Errorf("read %v, write %v: too short for a webhook call or a page action", srv.ReadTimeout, srv.WriteTimeout)
	}
}

// redisProxy is a TCP proxy to Redis that the test can cut and restore,
// as a Redis restart or a network fault would.
type redisProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newRedisProxy(t *testing.T, target string) *redisProxy {
	p := &redisProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.start(ln)
	t.Cleanup(p.down)
	return p
}

func (p *redisProxy) start(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// down closes the listener and every connection.
func (p *redisProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// up listens again on the same address.
func (p *redisProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.start(ln)
}

func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: wait}
	resp, err := client.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestReadyzReflectsTheStore: /readyz answers 503 with a short reason while
// the store does not answer, 200 before and after, in `run` and in `web`
// (before, it answered 200 while Redis was down).
func TestReadyzReflectsTheStore(t *testing.T) {
	t.Parallel()
	redisURL := os.Getenv("PASSERELLE_TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("PASSERELLE_TEST_REQUIRE_REDIS") == "1" {
			t.Fatal("PASSERELLE_TEST_REQUIRE_REDIS=1 but PASSERELLE_TEST_REDIS_URL is not set")
		}
		t.Skip("set PASSERELLE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
	}
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newRedisProxy(t, u.Host)
	prefix := fmt.Sprintf("pasready-%d-%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { cleanRedis(t, redisURL, prefix) })
	via := *u
	via.Host = proxy.addr
	q := via.Query()
	q.Set("prefix", prefix)
	via.RawQuery = q.Encode()
	store := func(*testing.T) string { return via.String() }

	all := servers(t, context.Background(), store)
	// check asks every server's /readyz at once (a ping of a store that is
	// down takes up to its 1 s bound).
	check := func(phase string, want int, wantBody string) {
		t.Helper()
		var wg sync.WaitGroup
		for name, s := range all {
			wg.Go(func() {
				code, body := readyz(t, s.addr)
				if code != want || wantBody != "" && body != wantBody {
					t.Errorf("%s: /readyz with Redis %s = %d %q; want %d %q", name, phase, code, body, want, wantBody)
				}
				if strings.Contains(body, proxy.addr) {
					t.Errorf("%s: /readyz names the store's address: %q", name, body)
				}
			})
		}
		wg.Wait()
	}
	check("up", http.StatusOK, "ready")
	proxy.down()
	check("down", http.StatusServiceUnavailable, "not ready: store unavailable")
	check("still down", http.StatusServiceUnavailable, "not ready: store unavailable")
	proxy.up()
	check("back", http.StatusOK, "ready")
	for name, s := range all {
		if n := strings.Count(s.logs.String(), `"msg":"store_unavailable","source":"readyz"`); n != 1 {
			t.Errorf("%s: the outage was logged %d times by /readyz; want once", name, n)
		}
	}
}
