package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// OutboxHarness tells the outbox suite how to drive one backend's
// bot.Outbox.
type OutboxHarness struct {
	// Open returns a fresh, empty outbox, isolated from every other one
	// Open returns. The outbox judges leases and memories by its own clock:
	// clk.Now (an embedded store) or the backend's (Redis). Called from
	// parallel subtests; it fails t on error and registers the release with
	// t.Cleanup.
	Open func(t *testing.T, clk *clock.Fake) bot.Outbox
	// Reopen closes old and opens the same data again (nil: skip the
	// persistence subtest).
	Reopen func(t *testing.T, old bot.Outbox, clk *clock.Fake) bot.Outbox
}

// RunOutbox runs the bot.Outbox suite as subtests of t.
func RunOutbox(t *testing.T, h OutboxHarness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: OutboxHarness.Open is required")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, h OutboxHarness, clk *clock.Fake, o bot.Outbox)
	}{
		{"InOrderPerChat", testOutboxOrder},
		{"EnqueueOnce", testOutboxOnce},
		{"MemoryExpires", testOutboxMemoryExpires},
		{"LeaseHoldsThenExpires", testOutboxLease},
		{"Retry", testOutboxRetry},
		{"DoneOfAnotherItem", testOutboxDoneOther},
		{"ConcurrentWorkers", testOutboxConcurrent},
		{"Persistence", testOutboxPersistence},
		{"Listing", testOutboxListing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(Start)
			tc.fn(t, h, clk, h.Open(t, clk))
		})
	}
}

const (
	groupA = int64(-1001000000001)
	groupB = int64(-1001000000002)
)

func item(chat int64, thread int, caseID int64, msg int) bot.OutboxItem {
	return bot.OutboxItem{Chat: chat, Thread: thread, Case: caseID, Message: msg}
}

func mustEnqueue(t *testing.T, o bot.Outbox, it bot.OutboxItem, want bool) {
	t.Helper()
	added, err := o.OutboxEnqueue(t.Context(), it, time.Hour)
	if err != nil {
		t.Fatalf("OutboxEnqueue(%+v): %v", it, err)
	}
	if added != want {
		t.Fatalf("OutboxEnqueue(%+v) = %v; want %v", it, added, want)
	}
}

// claim claims chat's first item with a long lease and fails unless it is
// msg (0: the queue must be empty).
func claim(t *testing.T, o bot.Outbox, chat int64, msg int) bot.OutboxItem {
	t.Helper()
	it, ok, wait, err := o.OutboxClaim(t.Context(), chat, time.Hour)
	if err != nil {
		t.Fatalf("OutboxClaim(%d): %v", chat, err)
	}
	switch {
	case msg == 0 && (ok || wait != 0):
		t.Fatalf("OutboxClaim(%d) = %+v (claimed %v, wait %v); want an empty queue", chat, it, ok, wait)
	case msg != 0 && (!ok || it.Message != msg):
		t.Fatalf("OutboxClaim(%d) = %+v (claimed %v, wait %v); want message %d", chat, it, ok, wait, msg)
	}
	return it
}

func done(t *testing.T, o bot.Outbox, it bot.OutboxItem) {
	t.Helper()
	if err := o.OutboxDone(t.Context(), it.Chat, it.Seq); err != nil {
		t.Fatalf("OutboxDone: %v", err)
	}
}

func chats(t *testing.T, o bot.Outbox) []int64 {
	t.Helper()
	cs, err := o.OutboxChats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// testOutboxOrder: each chat's queue is first in, first out, with ids
// only; chats are independent; a drained chat leaves the list.
func testOutboxOrder(t *testing.T, _ OutboxHarness, _ *clock.Fake, o bot.Outbox) {
	for i := 1; i <= 5; i++ {
		mustEnqueue(t, o, item(groupA, 120, 7, 100+i), true)
	}
	mustEnqueue(t, o, item(groupB, 300, 8, 900), true)
	if got := chats(t, o); !slices.Equal(got, []int64{groupB, groupA}) {
		t.Errorf("OutboxChats = %v; want both groups, sorted", got)
	}
	var last int64
	for i := 1; i <= 5; i++ {
		it := claim(t, o, groupA, 100+i)
		if it.Chat != groupA || it.Thread != 120 || it.Case != 7 || it.Seq <= last {
			t.Fatalf("item %d = %+v (previous seq %d)", i, it, last)
		}
		last = it.Seq
		done(t, o, it)
		if i == 2 {
			done(t, o, claim(t, o, groupB, 900))
		}
	}
	claim(t, o, groupA, 0)
	claim(t, o, groupB, 0)
	if got := chats(t, o); len(got) != 0 {
		t.Errorf("OutboxChats after both queues were drained = %v", got)
	}
}

// testOutboxOnce: the same message (chat, thread, case, message) is
// enqueued once, whether it is still queued or already sent; another
// thread or chat is another message.
func testOutboxOnce(t *testing.T, _ OutboxHarness, _ *clock.Fake, o bot.Outbox) {
	mustEnqueue(t, o, item(groupA, 120, 7, 101), true)
	mustEnqueue(t, o, item(groupA, 120, 7, 101), false)
	done(t, o, claim(t, o, groupA, 101))
	mustEnqueue(t, o, item(groupA, 120, 7, 101), false) // sent already: a retried update
	mustEnqueue(t, o, item(groupA, 121, 7, 101), true)  // the case's next topic
	mustEnqueue(t, o, item(groupB, 120, 7, 101), true)  // another group
	done(t, o, claim(t, o, groupA, 101))
	claim(t, o, groupA, 0)
}

// testOutboxMemoryExpires: once its ttl has passed, a message may be
// enqueued again.
func testOutboxMemoryExpires(t *testing.T, _ OutboxHarness, clk *clock.Fake, o bot.Outbox) {
	const ttl = shortLease
	if added, err := o.OutboxEnqueue(t.Context(), item(groupA, 1, 1, 1), ttl); err != nil || !added {
		t.Fatalf("OutboxEnqueue = %v, %v", added, err)
	}
	done(t, o, claim(t, o, groupA, 1))
	deadline := time.Now().Add(pollFor)
	for {
		added, err := o.OutboxEnqueue(t.Context(), item(groupA, 1, 1, 1), ttl)
		if err != nil {
			t.Fatal(err)
		}
		if added {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message was still remembered %v after its %v ttl", pollFor, ttl)
		}
		time.Sleep(pollEvery)
		clk.Advance(pollEvery)
	}
}

// testOutboxLease: a claimed item is not given to another worker while
// its lease holds (the claim says how long it has left), and comes back
// once it expired.
func testOutboxLease(t *testing.T, _ OutboxHarness, clk *clock.Fake, o bot.Outbox) {
	mustEnqueue(t, o, item(groupA, 1, 1, 1), true)
	mustEnqueue(t, o, item(groupA, 1, 1, 2), true)
	it, ok, _, err := o.OutboxClaim(t.Context(), groupA, shortLease)
	if err != nil || !ok || it.Message != 1 {
		t.Fatalf("first claim = %+v, %v, %v", it, ok, err)
	}
	_, ok, wait, err := o.OutboxClaim(t.Context(), groupA, time.Hour)
	if err != nil || ok || wait <= 0 || wait > shortLease {
		t.Fatalf("claim during the lease: claimed %v, wait %v, %v; want refused with 0 < wait <= %v", ok, wait, err, shortLease)
	}
	deadline := time.Now().Add(pollFor)
	for {
		again, ok, _, err := o.OutboxClaim(t.Context(), groupA, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if again.Message != 1 || again.Seq != it.Seq {
				t.Fatalf("after the lease: %+v; want the same first item", again)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the item was not given back %v after its %v lease", pollFor, shortLease)
		}
		time.Sleep(pollEvery)
		clk.Advance(pollEvery)
	}
	done(t, o, it)
	claim(t, o, groupA, 2)
}

// testOutboxRetry: Retry keeps the item first and holds it for the given
// time; 0 makes it claimable at once.
func testOutboxRetry(t *testing.T, _ OutboxHarness, _ *clock.Fake, o bot.Outbox) {
	mustEnqueue(t, o, item(groupA, 1, 1, 1), true)
	mustEnqueue(t, o, item(groupA, 1, 1, 2), true)
	it := claim(t, o, groupA, 1)
	if err := o.OutboxRetry(t.Context(), groupA, it.Seq, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, wait, err := o.OutboxClaim(t.Context(), groupA, time.Hour); err != nil || ok || wait <= 30*time.Minute {
		t.Fatalf("claim after Retry(1h): claimed %v, wait %v, %v", ok, wait, err)
	}
	if err := o.OutboxRetry(t.Context(), groupA, it.Seq, 0); err != nil {
		t.Fatal(err)
	}
	claim(t, o, groupA, 1)
}

// testOutboxDoneOther: Done and Retry of an item that is not first change
// nothing.
func testOutboxDoneOther(t *testing.T, _ OutboxHarness, _ *clock.Fake, o bot.Outbox) {
	mustEnqueue(t, o, item(groupA, 1, 1, 1), true)
	mustEnqueue(t, o, item(groupA, 1, 1, 2), true)
	first := claim(t, o, groupA, 1)
	if err := o.OutboxDone(t.Context(), groupA, first.Seq+1); err != nil {
		t.Fatal(err)
	}
	if err := o.OutboxRetry(t.Context(), groupA, first.Seq+1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := o.OutboxDone(t.Context(), groupB, first.Seq); err != nil {
		t.Fatal(err)
	}
	done(t, o, first)
	claim(t, o, groupA, 2)
}

// testOutboxConcurrent: workers claiming one chat at once: each item goes
// to exactly one of them, in order.
func testOutboxConcurrent(t *testing.T, _ OutboxHarness, _ *clock.Fake, o bot.Outbox) {
	const n = 30
	for i := 1; i <= n; i++ {
		mustEnqueue(t, o, item(groupA, 1, 1, i), true)
	}
	var (
		mu   sync.Mutex
		sent []int
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				it, ok, wait, err := o.OutboxClaim(t.Context(), groupA, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok && wait == 0 {
					return
				}
				if !ok {
					time.Sleep(time.Millisecond)
					continue
				}
				mu.Lock()
				sent = append(sent, it.Message)
				mu.Unlock()
				if err := o.OutboxDone(t.Context(), groupA, it.Seq); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(sent, want) {
		t.Errorf("sent %v; want each of 1..%d once, in order", sent, n)
	}
}

// testOutboxPersistence: queued items, their order and the memory of
// enqueued messages survive a restart.
func testOutboxPersistence(t *testing.T, h OutboxHarness, clk *clock.Fake, o bot.Outbox) {
	if h.Reopen == nil {
		t.Skip("backend cannot reopen")
	}
	mustEnqueue(t, o, item(groupA, 1, 1, 1), true)
	mustEnqueue(t, o, item(groupA, 1, 1, 2), true)
	mustEnqueue(t, o, item(groupB, 1, 2, 3), true)
	done(t, o, claim(t, o, groupA, 1))
	o2 := h.Reopen(t, o, clk)
	if got := chats(t, o2); !slices.Equal(got, []int64{groupB, groupA}) {
		t.Errorf("OutboxChats after reopen = %v", got)
	}
	mustEnqueue(t, o2, item(groupA, 1, 1, 1), false)
	mustEnqueue(t, o2, item(groupA, 1, 1, 2), false)
	mustEnqueue(t, o2, item(groupA, 1, 1, 4), true)
	done(t, o2, claim(t, o2, groupA, 2))
	done(t, o2, claim(t, o2, groupA, 4))
	claim(t, o2, groupB, 3)
}

// testOutboxListing: OutboxItems lists a chat's queue in order, the
// leased first item included, without leasing or removing anything.
func testOutboxListing(t *testing.T, _ OutboxHarness, _ *clock.Fake, o bot.Outbox) {
	l, ok := o.(bot.OutboxLister)
	if !ok {
		t.Fatalf("%T does not implement bot.OutboxLister (migrate needs it)", o)
	}
	list := func(chat int64) []bot.OutboxItem {
		t.Helper()
		its, err := l.OutboxItems(t.Context(), chat)
		if err != nil {
			t.Fatalf("OutboxItems: %v", err)
		}
		return its
	}
	if got := list(groupA); len(got) != 0 {
		t.Errorf("OutboxItems of an empty queue = %+v", got)
	}
	want := []bot.OutboxItem{item(groupA, 120, 7, 11), item(groupA, 120, 7, 12), item(groupA, 0, 9, 13)}
	for _, it := range want {
		mustEnqueue(t, o, it, true)
	}
	mustEnqueue(t, o, item(groupB, 300, 8, 900), true)
	first := claim(t, o, groupA, 11)  // leased: still listed
	for pass := 0; pass < 2; pass++ { // listing changes nothing
		got := list(groupA)
		if len(got) != len(want) {
			t.Fatalf("OutboxItems = %+v; want %d items", got, len(want))
		}
		var last int64
		for i, it := range got {
			if it.Seq <= last {
				t.Errorf("item %d: seq %d after %d", i, it.Seq, last)
			}
			last = it.Seq
			it.Seq = 0
			if it != want[i] {
				t.Errorf("item %d = %+v; want %+v", i, it, want[i])
			}
		}
		if got[0].Seq != first.Seq {
			t.Errorf("first listed seq %d; claimed %d", got[0].Seq, first.Seq)
		}
	}
	if got := list(groupB); len(got) != 1 || got[0].Message != 900 {
		t.Errorf("OutboxItems(groupB) = %+v", got)
	}
	done(t, o, first)
	if got := list(groupA); len(got) != 2 || got[0].Message != 12 {
		t.Errorf("OutboxItems after Done = %+v", got)
	}
	claim(t, o, groupB, 900) // the listing did not lease it
}
