package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// downStore is a bot.Store that can be switched off: while down, every
// call fails with an error marked bot.ErrUnavailable, as the Redis store's
// are when the server is unreachable. failSaves makes the next SaveState
// calls fail that way: the store went away between loading the state and
// saving it.
type downStore struct {
	bot.Store  // only the interface's methods: no StateLoader shortcut
	down       atomic.Bool
	failSaves  atomic.Int32
	downOnSave atomic.Bool // a failed save takes the whole store down
}

var errDown = fmt.Errorf("%w: dial tcp 127.0.0.1:6379: connect: connection refused", bot.ErrUnavailable)

func (s *downStore) check() error {
	if s.down.Load() {
		return errDown
	}
	return nil
}

func (s *downStore) Profile(ctx context.Context, userID int64) (bot.Profile, error) {
	if err := s.check(); err != nil {
		return bot.Profile{}, err
	}
	return s.Store.Profile(ctx, userID)
}

func (s *downStore) Session(ctx context.Context, k bot.SessionKey) (bot.Session, error) {
	if err := s.check(); err != nil {
		return bot.Session{}, err
	}
	return s.Store.Session(ctx, k)
}

func (s *downStore) ClaimUpdate(ctx context.Context, id int64, lease time.Duration) (bot.UpdateClaim, error) {
	if err := s.check(); err != nil {
		return bot.UpdateClaim{}, err
	}
	return s.Store.ClaimUpdate(ctx, id, lease)
}

func (s *downStore) ReleaseUpdate(ctx context.Context, id int64, token string) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.ReleaseUpdate(ctx, id, token)
}

func (s *downStore) SaveState(ctx context.Context, w bot.StateWrite) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if s.failSaves.Add(-1) >= 0 {
		if s.downOnSave.Load() {
			s.down.Store(true) // and it stays down
		}
		return 0, errDown
	}
	return s.Store.SaveState(ctx, w)
}

// outage is a bot on a downStore behind a Dispatcher on a fake clock.
type outage struct {
	f     *fixture
	store *downStore
	clk   *clock.Fake
	disp  *bot.Dispatcher
	next  int64
}

func newOutage(t *testing.T) *outage {
	t.Helper()
	f := newFixtureWith(t, sharedCatalog(t))
	o := &outage{f: f, store: &downStore{Store: f.store}, clk: f.clock}
	b, err := bot.New(bot.Config{Store: o.store, Catalog: f.cat, Sender: f.sent, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = b
	o.disp = bot.NewDispatcher(b, bot.DispatcherConfig{Workers: 2, Clock: o.clk})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		o.disp.Close(ctx)
	})
	return o
}

// submit queues u and returns a channel closed when it is done (acked).
func (o *outage) submit(t *testing.T, u bot.Update) <-chan struct{} {
	t.Helper()
	o.next++
	u.ID = 9000 + o.next
	u.ChatID, u.ChatType = u.UserID, bot.ChatPrivate
	done := make(chan struct{})
	if err := o.disp.Submit(context.Background(), u, func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	return done
}

// wait advances the fake clock by step each time a retry waits on it,
// until done is closed or for (fake) at most limit.
func (o *outage) wait(t *testing.T, done <-chan struct{}, step, limit time.Duration) bool {
	t.Helper()
	for waited := time.Duration(0); ; waited += step {
		select {
		case <-done:
			return true
		default:
		}
		if waited >= limit {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		o.clk.BlockUntil(ctx, 1)
		cancel()
		o.clk.Advance(step)
	}
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestOutageUpdateKeptToldOnceAnsweredOnce: a resident writes while the
// store is down for 20 s (on main: the update was tried 5 times in 1.5 s,
// then dropped and acknowledged, never answered). Now it stays
// unacknowledged and is tried again every 2 s at most; the resident is told
// once, in their language, that the service is temporarily unavailable;
// a second message during the outage adds no second notice; once the store
// is back both are answered, in order, once each.
func TestOutageUpdateKeptToldOnceAnsweredOnce(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	const user = 4401
	o.store.down.Store(true)
	first := o.submit(t, command(user, "ar", "start"))
	if o.wait(t, first, 500*time.Millisecond, 20*time.Second) {
		t.Fatal("update acknowledged while the store was down: it would never be answered")
	}
	second := o.submit(t, command(user, "ar", "help"))
	if o.wait(t, second, 500*time.Millisecond, 5*time.Second) {
		t.Fatal("second update acknowledged during the outage")
	}
	p := o.f.cat.Printer("ar")
	notice := p.T("error.unavailable")
	sent := o.f.sent.to(user)
	if len(sent) != 1 || sent[0].Text != notice {
		t.Fatalf("during the outage the resident got %d messages %q; want exactly the Arabic notice %q", len(sent), texts(sent), notice)
	}

	o.store.down.Store(false)
	back := o.clk.Now()
	if !o.wait(t, second, 100*time.Millisecond, 5*time.Second) || !isDone(first) {
		t.Fatal("updates not handled after the store came back")
	}
	if took := o.clk.Now().Sub(back); took > 2*time.Second+100*time.Millisecond {
		t.Errorf("answered %s after the store came back; want within the 2 s retry cap", took)
	}
	sent = o.f.sent.to(user)[1:]
	welcome, help := -1, -1
	for i, s := range sent {
		for _, c := range []struct {
			key string
			at  *int
		}{{"welcome.title", &welcome}, {"help.body", &help}} {
			if strings.Contains(s.Text, p.T(c.key)) {
				if *c.at >= 0 {
					t.Errorf("%s sent twice", c.key)
				}
				*c.at = i
			}
		}
	}
	if welcome < 0 || help < welcome {
		t.Errorf("after the outage the resident got %q; want the welcome then help, once each", texts(sent))
	}
	for _, s := range o.f.sent.to(user) {
		if strings.Contains(s.Text, p.T("error.apology")) {
			t.Errorf("apology sent for an outage: %q", s.Text)
		}
	}
}

// TestSaveFailsAfterRepliesNoDuplicateWelcome: the store goes away after
// the state was loaded and before it was saved. On main the welcome went
// out, the save failed, the retry sent the welcome again. Now replies wait
// for the save: the resident gets the welcome once.
func TestSaveFailsAfterRepliesNoDuplicateWelcome(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	const user = 4402
	o.store.failSaves.Store(1)
	done := o.submit(t, command(user, "fr", "start"))
	if !o.wait(t, done, 100*time.Millisecond, 5*time.Second) {
		t.Fatal("update not handled after the failed save")
	}
	p := o.f.cat.Printer("fr")
	var welcomes int
	for _, s := range o.f.sent.to(user) {
		if strings.Contains(s.Text, p.T("welcome.title")) {
			welcomes++
		}
		if strings.Contains(s.Text, p.T("error.apology")) {
			t.Errorf("apology sent: %q", s.Text)
		}
	}
	if welcomes != 1 {
		t.Errorf("%d welcomes in %q; want exactly 1", welcomes, texts(o.f.sent.to(user)))
	}
}

// TestOutageBetweenClaimAndSave: the store goes down after the update was
// claimed and before its state was saved, so the claim cannot be released
// either. Once the store is back, this process ends its own claim and
// handles the update at once, not after the claim's 45 s lease; the
// resident gets the notice once and the welcome once.
func TestOutageBetweenClaimAndSave(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	const user = 4404
	o.store.downOnSave.Store(true)
	o.store.failSaves.Store(1)
	done := o.submit(t, command(user, "fr", "start"))
	if o.wait(t, done, 500*time.Millisecond, 5*time.Second) {
		t.Fatal("acknowledged while the store was down")
	}
	o.store.down.Store(false)
	back := o.clk.Now()
	if !o.wait(t, done, 100*time.Millisecond, 10*time.Second) {
		t.Fatal("not handled within 10 s of the store's return: the process's own claim held it")
	}
	if took := o.clk.Now().Sub(back); took > 2*time.Second+100*time.Millisecond {
		t.Errorf("handled %s after the store's return; want within the 2 s retry cap", took)
	}
	p := o.f.cat.Printer("fr")
	var welcomes, notices int
	for _, s := range o.f.sent.to(user) {
		if strings.Contains(s.Text, p.T("welcome.title")) {
			welcomes++
		}
		if s.Text == p.T("error.unavailable") {
			notices++
		}
	}
	if welcomes != 1 || notices != 1 {
		t.Errorf("%d welcomes, %d notices in %q; want one of each", welcomes, notices, texts(o.f.sent.to(user)))
	}
}

// TestStoreUnavailableMidFlowRetriedNotApologised: a flow whose store call
// fails with bot.ErrUnavailable is handled again once the store is back,
// without the apology meant for bugs.
func TestStoreUnavailableMidFlowRetriedNotApologised(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	const user = 4403
	var calls atomic.Int32
	o.f.bot.Mux().Command("lookup", bot.HandlerFunc(func(ctx context.Context, r *bot.Request) error {
		if calls.Add(1) == 1 {
			return fmt.Errorf("load documents: %w", errDown)
		}
		return r.Reply(ctx, "found")
	}))
	done := o.submit(t, command(user, "fr", "lookup"))
	if !o.wait(t, done, 100*time.Millisecond, 5*time.Second) {
		t.Fatal("not handled")
	}
	if got := texts(o.f.sent.to(user)); len(got) != 1 || got[0] != "found" {
		t.Errorf("sent %q; want only the answer of the second attempt", got)
	}
}

func texts(reps []bot.Reply) []string {
	out := make([]string, len(reps))
	for i, r := range reps {
		out[i] = r.Text
	}
	return out
}
