package web

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// hub passes messages sent to a resident outside of their actions to the
// pages they have open (in this process).
type hub struct {
	mu   sync.Mutex
	subs map[int64]map[chan message]bool
}

func newHub() *hub { return &hub{subs: map[int64]map[chan message]bool{}} }

func (h *hub) subscribe(id int64) (chan message, func()) {
	ch := make(chan message, 16)
	h.mu.Lock()
	if h.subs[id] == nil {
		h.subs[id] = map[chan message]bool{}
	}
	h.subs[id][ch] = true
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[id], ch)
		if len(h.subs[id]) == 0 {
			delete(h.subs, id)
		}
		h.mu.Unlock()
	}
}

// publish never blocks: a page too slow to take a message finds it on its
// next load.
func (h *hub) publish(id int64, m message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[id] {
		select {
		case ch <- m:
		default:
		}
	}
}

// keepAlive is how often an idle stream sends a comment, so that proxies
// keep it open.
const keepAlive = 25 * time.Second

// getEvents streams the resident's new messages as Server-Sent Events:
// event "msg", data the message's HTML.
func (t *Transport) getEvents(w http.ResponseWriter, r *http.Request) {
	res, ok := fromCookie(r)
	if !ok {
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	ch, cancel := t.hub.subscribe(res.id)
	defer cancel()
	t.headers(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	send := func(s string) bool {
		// Each event gets its own write deadline, whatever the server's.
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprint(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(": stream\nretry: 5000\n\n") {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.closed:
			return
		case <-tick.C:
			if !send(": keep-alive\n\n") {
				return
			}
		case m := <-ch:
			v := t.view(r, res, nil, pageOpts{})
			frag, err := t.fragment(v, m)
			if err != nil {
				t.cfg.Logger.Error("web_render_failed", "chat_id", res.id, "err", err)
				continue
			}
			var b strings.Builder
			b.WriteString("event: msg\n")
			for _, line := range strings.Split(frag, "\n") {
				b.WriteString("data: " + line + "\n")
			}
			b.WriteString("\n")
			if !send(b.String()) {
				return
			}
			id := m.ID
			_ = t.mutate(ctx, res.id, func(rec *record) bool {
				for i := range rec.Msgs {
					if rec.Msgs[i].ID == id && rec.Msgs[i].Unseen {
						rec.Msgs[i].Unseen = false
						return true
					}
				}
				return false
			})
		}
	}
}
