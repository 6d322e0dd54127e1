package fault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
)

// testKeys is the master key of the stores the tests open in-process.
var testKeys = seal.Ephemeral()

// testPrefix returns a key prefix no other test uses, for a shared server.
func testPrefix() string { return fmt.Sprintf("fault%d", time.Now().UnixNano()) }

// openRedis opens a store on url under prefix; it is closed at the end of
// the test (closing it earlier is harmless).
func openRedis(t *testing.T, url, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.Open(t.Context(), url, redis.WithPrefix(prefix), redis.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dropPrefix deletes the keys under s's prefix, for a server other tests
// share (the cluster).
func dropPrefix(t *testing.T, s *redis.Store) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if err := s.Scan(ctx, func(k, _ string) error { keys = append(keys, k); return nil }); err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, k := range keys {
		s.Client().Del(ctx, k)
	}
}

// sends counts the notifications of each entry.
type sends struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *sends) add(id string) {
	s.mu.Lock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[id]++
	s.mu.Unlock()
}

func (s *sends) total() (distinct, all int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.n {
		distinct++
		all += n
	}
	return distinct, all
}

func (s *sends) get(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[id]
}

type notifyFunc func(ctx context.Context, c reminder.Claim) (time.Time, error)

func (f notifyFunc) Notify(ctx context.Context, c reminder.Claim) (time.Time, error) {
	return f(ctx, c)
}

// lister is a reminder store that can list its entries (both stores).
type lister interface {
	reminder.Store
	reminder.Lister
}

func entryCount(t *testing.T, s reminder.Lister) int {
	t.Helper()
	n := 0
	if err := s.Entries(context.Background(), func(reminder.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond every 10 ms for at most limit (a watchdog: the tests
// wait for events, never for a set time).
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// killDispatcherMidBatch runs two dispatchers on one schedule, as two
// instances do, each on its own connection (first, second). The first one
// sends slowly, so its batch outlasts its lease: its renewals keep it from
// the second one. Then it is "killed": its connection is closed and its
// notifications in flight never return (it neither acks nor renews any
// more, as a process that got SIGKILL). The second one sends the rest once
// the first one's short leases have run out. Every reminder is sent, and
// the only ones sent twice are those the first dispatcher had in flight.
func killDispatcherMidBatch(t *testing.T, first, second lister, closeFirst func()) {
	const (
		n       = 60
		workers = 4
		lease   = 600 * time.Millisecond
		slow    = 150 * time.Millisecond // per send of the first dispatcher
		before  = 20                     // sent by the first dispatcher before it dies
	)
	ctx := t.Context()
	due := time.Now().Add(-time.Minute)
	for i := range n {
		if err := first.Schedule(ctx, fmt.Sprintf("77%08d:doc1", i), due.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	var got sends
	var sent, inFlight atomic.Int32
	dead := make(chan struct{})
	ctx1, kill := context.WithCancel(ctx)
	d1 := reminder.NewDispatcher(first, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		if sent.Add(1) > before {
			// Sent to Telegram, then the process dies before the ack.
			got.add(c.ID)
			inFlight.Add(1)
			<-dead
			return time.Time{}, errors.New("killed")
		}
		time.Sleep(slow)
		got.add(c.ID)
		return time.Time{}, nil
	}), reminder.Config{Workers: workers, Batch: 25, Lease: lease})
	done1 := make(chan struct{})
	go func() { d1.Run(ctx1); close(done1) }()
	waitFor(t, "the first dispatcher's first claims", 5*time.Second, func() bool { return sent.Load() > 0 })

	d2 := reminder.NewDispatcher(second, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		got.add(c.ID)
		return time.Time{}, nil
	}), reminder.Config{Workers: workers, Batch: 25, Lease: lease, Poll: 100 * time.Millisecond})
	ctx2, stop2 := context.WithCancel(ctx)
	done2 := make(chan struct{})
	go func() { d2.Run(ctx2); close(done2) }()
	defer func() { stop2(); <-done2 }()

	waitFor(t, "the first dispatcher's workers all in flight", 10*time.Second, func() bool { return inFlight.Load() == workers })
	// SIGKILL, as seen from the store: no more acks, no more renewals.
	closeFirst()
	killed := time.Now()
	kill()
	defer func() { close(dead); <-done1 }()
	inflight := int(inFlight.Load())

	waitFor(t, "every reminder sent and acked", 10*time.Second, func() bool {
		d, _ := got.total()
		return d == n && entryCount(t, second) == 0
	})
	back := time.Since(killed)
	distinct, all := got.total()
	t.Logf("first dispatcher killed after %d sends (%s each, batch longer than its %s lease) with %d in flight; all %d reminders sent %s after the kill, %d duplicates",
		before, slow, lease, inflight, distinct, back.Round(10*time.Millisecond), all-distinct)
	if distinct != n {
		t.Errorf("%d of %d reminders sent: some were lost", distinct, n)
	}
	if dup := all - distinct; dup > inflight {
		t.Errorf("%d duplicates; want at most the %d in flight when the dispatcher died (a lease not renewed during a long batch lets the other instance send it too)", dup, inflight)
	}
	if back > lease+reminder.RetryMax+time.Second {
		t.Errorf("the killed dispatcher's claims came back after %s; want within its lease (%s) and a poll", back, lease)
	}
}

// TestDispatcherKilledMidBatchRedis runs killDispatcherMidBatch on a
// redis-server of the test's own.
func TestDispatcherKilledMidBatchRedis(t *testing.T) {
	t.Parallel()
	srv := StartRedis(t)
	prefix := testPrefix()
	first, second := openRedis(t, srv.URL(), prefix), openRedis(t, srv.URL(), prefix)
	killDispatcherMidBatch(t, first, second, func() { first.Close() })
}

// TestDispatcherKilledMidBatchCluster does the same on the 3-node cluster
// of PASSERELLE_TEST_REDIS_CLUSTER (the schedule's shards spread over its
// nodes).
func TestDispatcherKilledMidBatchCluster(t *testing.T) {
	t.Parallel()
	url := os.Getenv(envCluster)
	if url == "" {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s is not set, and %s=1 requires the Redis fault tests", envCluster, envRequire)
		}
		t.Skipf("cluster fault test skipped: set %s (e.g. redis-cluster://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002)", envCluster)
	}
	prefix := testPrefix()
	first, second := openRedis(t, url, prefix), openRedis(t, url, prefix)
	defer dropPrefix(t, second)
	killDispatcherMidBatch(t, first, second, func() { first.Close() })
}
