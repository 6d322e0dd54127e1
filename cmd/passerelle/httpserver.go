package main

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// httpTimeouts bound every connection of the HTTP servers the binary
// starts (run, web), so that a slow or idle client cannot hold one open:
// reading the headers, reading the whole request, writing the answer
// (counted from the end of the headers, so it covers the handler), and
// waiting between two requests on a keep-alive connection.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// defaultHTTPTimeouts: the webhook waits up to 25 s for its update to be
// handled and a web page action up to the 30 s handling limit, both well
// inside read and write. The live stream of the web page (Server-Sent
// Events) sets its own deadlines (internal/transport/web/events.go).
var defaultHTTPTimeouts = httpTimeouts{
	readHeader: 10 * time.Second,
	read:       60 * time.Second,
	write:      60 * time.Second,
	idle:       120 * time.Second,
}

// httpTimeoutsKey carries other timeouts in the context given to run, for
// tests (there is no setting: operators have no need to change them).
type httpTimeoutsKey struct{}

func withHTTPTimeouts(ctx context.Context, t httpTimeouts) context.Context {
	return context.WithValue(ctx, httpTimeoutsKey{}, t)
}

// newHTTPServer returns the server of h with the timeouts of ctx, else the
// defaults.
func newHTTPServer(ctx context.Context, h http.Handler) *http.Server {
	t, ok := ctx.Value(httpTimeoutsKey{}).(httpTimeouts)
	if !ok {
		t = defaultHTTPTimeouts
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
	}
}

// pinger is a store that can say whether it answers (both stores can).
type pinger interface {
	Ping(ctx context.Context) error
}

// readyPing bounds the store's answer to /readyz.
const readyPing = time.Second

// readyHandler answers /readyz: 200 "ready" once ready() and while the
// store answers a ping, else 503 with a short reason ("starting" or
// "stopping", "store unavailable"). The reason never holds the store's
// address or error (they are logged, at most once per outage).
func readyHandler(ready func() bool, st any, log func(err error)) http.Handler {
	p, _ := st.(pinger)
	var down atomic.Bool // logged this outage already
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !ready() {
			http.Error(w, "not ready: starting or stopping", http.StatusServiceUnavailable)
			return
		}
		if p != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyPing)
			err := p.Ping(ctx)
			cancel()
			if err != nil {
				if !down.Swap(true) && log != nil {
					log(err)
				}
				http.Error(w, "not ready: store unavailable", http.StatusServiceUnavailable)
				return
			}
			down.Store(false)
		}
		io.WriteString(w, "ready\n")
	})
}
