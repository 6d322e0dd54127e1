package bolt

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"
)

// Group commit. A bbolt commit costs two fdatasyncs (the pages, then the
// meta page), about a millisecond each on an ordinary disk, whatever it
// writes. The writes of the hot path (SaveState, MarkUpdate, PutProfile,
// SaveSession) go through one writer goroutine that commits, in one
// read-write transaction, every write queued while the previous commit
// ran: concurrent updates share the fsyncs. Each caller returns only
// after the transaction holding its write is committed (on disk), with
// its own error.
//
// Each write is a function of the transaction, run once per attempt: if
// one of a group fails, the group is rolled back and each of its writes
// is run again alone, so that one failing write (a version conflict, an
// ended context) fails alone. Write functions must therefore keep no
// state across attempts (SaveState resets what it reports).
//
// Unlike bbolt's DB.Batch, the writer adds no delay: it commits as soon
// as it is free. After taking the first queued write it yields once, so
// that writers just woken by the previous commit (on the same processor)
// can queue theirs first.

// maxGroup bounds the writes of one transaction.
const maxGroup = 256

type groupWrite struct {
	ctx  context.Context
	fn   func(*bbolt.Tx) error
	done chan error
}

type groupWriter struct {
	db      *bbolt.DB
	commits func() // counts a committed transaction

	mu     sync.RWMutex // held for reading while queueing, for writing by close
	closed bool
	queue  chan *groupWrite
	queued atomic.Int64 // writes handed to the writer so far (tests)
	stop   chan struct{}
	exited chan struct{}
}

func newGroupWriter(db *bbolt.DB, commits func()) *groupWriter {
	w := &groupWriter{db: db, commits: commits, queue: make(chan *groupWrite, maxGroup), stop: make(chan struct{}), exited: make(chan struct{})}
	go w.run()
	return w
}

var donePool = sync.Pool{New: func() any { return make(chan error, 1) }}

// write runs fn in a read-write transaction shared with other writes and
// returns once it is committed. After close, fn runs in a transaction of
// its own (which fails: the database is closed).
func (w *groupWriter) write(ctx context.Context, fn func(*bbolt.Tx) error) error {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return w.solo(&groupWrite{ctx: ctx, fn: fn})
	}
	gw := &groupWrite{ctx: ctx, fn: fn, done: donePool.Get().(chan error)}
	w.queue <- gw
	w.queued.Add(1)
	w.mu.RUnlock()
	err := <-gw.done
	donePool.Put(gw.done)
	return err
}

// close stops the writer once every queued write is committed.
func (w *groupWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.exited
}

func (w *groupWriter) run() {
	defer close(w.exited)
	group := make([]*groupWrite, 0, maxGroup)
	for {
		var first *groupWrite
		select {
		case first = <-w.queue:
		case <-w.stop:
			// Nobody queues any more (closed is set): commit what is left.
			for {
				select {
				case gw := <-w.queue:
					gw.done <- w.solo(gw)
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
		runtime.Gosched()
	fill:
		for len(group) < maxGroup {
			select {
			case gw := <-w.queue:
				group = append(group, gw)
			default:
				break fill
			}
		}
		w.commit(group)
		clear(group)
	}
}

// commit runs a group in one transaction, or each write alone when the
// group fails.
func (w *groupWriter) commit(group []*groupWrite) {
	live := group[:0] // filtered in place
	for _, gw := range group {
		if err := gw.ctx.Err(); err != nil {
			gw.done <- err
			continue
		}
		live = append(live, gw)
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 {
		live[0].done <- w.solo(live[0])
		return
	}
	err := w.db.Update(func(tx *bbolt.Tx) error {
		for _, gw := range live {
			if err := gw.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		w.commits()
		for _, gw := range live {
			gw.done <- nil
		}
		return
	}
	for _, gw := range live {
		gw.done <- w.solo(gw)
	}
}

// solo runs one write in a transaction of its own.
func (w *groupWriter) solo(gw *groupWrite) error {
	err := w.db.Update(func(tx *bbolt.Tx) error {
		if err := gw.ctx.Err(); err != nil {
			return err
		}
		return gw.fn(tx)
	})
	if err == nil {
		w.commits()
	}
	return err
}
