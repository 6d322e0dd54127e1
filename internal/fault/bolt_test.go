package fault

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
)

// The child process of TestBoltKilledMidWork: the test binary run again
// with these variables set (see TestMain).
const (
	envChild    = "PASSERELLE_FAULT_CHILD" // "bolt"
	envChildDir = "PASSERELLE_FAULT_DIR"
	envChildKey = "PASSERELLE_FAULT_KEY"
)

// The child's reminder lease: what the parent waits, at most, for the
// claims of the killed child to come back.
const childLease = 500 * time.Millisecond

const childWorkers = 4

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "bolt" {
		if err := boltChild(os.Getenv(envChildDir), os.Getenv(envChildKey)); err != nil {
			fmt.Fprintln(os.Stderr, "fault child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// nopSender accepts every reply.
type nopSender struct{}

func (nopSender) Send(context.Context, bot.Reply) (int, error) { return 1, nil }

// boltChild works on the store in dir until it is killed: it handles
// updates of 20 residents through the core and sends the scheduled
// reminders. It writes to dir/log, synchronously, "done ID" once update ID
// is done (where the transport acknowledges it to Telegram), and "sent ID"
// once reminder ID was sent (before its ack).
func boltChild(dir, key string) error {
	keys, err := seal.ParseKey(key)
	if err != nil {
		return err
	}
	st, err := bolt.Open(filepath.Join(dir, "passerelle.db"), bolt.WithKeys(keys))
	if err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_SYNC, 0o600)
	if err != nil {
		return err
	}
	write := func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) }
	cat, err := loadCatalogErr("fr")
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: nopSender{}, Documents: st, Reminders: st})
	if err != nil {
		return err
	}
	ctx := context.Background()
	rd := reminder.NewDispatcher(st, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		time.Sleep(5 * time.Millisecond) // a send to Telegram
		write("sent %s", c.ID)
		return time.Time{}, nil
	}), reminder.Config{Workers: childWorkers, Batch: 10, Lease: childLease, Poll: 50 * time.Millisecond})
	go rd.Run(ctx)
	disp := bot.NewDispatcher(b, bot.DispatcherConfig{Workers: 4})
	cmds := []string{"start", "help", "menu", "privacy"}
	// At most 10 updates in flight, as residents write (a chat whose queue
	// is full would have its updates shed, which the test does not count).
	slots := make(chan struct{}, 10)
	for id := int64(1); ; id++ {
		user := 990000 + id%20
		cmd := cmds[id%int64(len(cmds))]
		u := bot.Update{ID: id, Kind: bot.KindCommand, ChatID: user, ChatType: bot.ChatPrivate, UserID: user, LanguageCode: "fr", Command: cmd, Text: "/" + cmd}
		slots <- struct{}{}
		if err := disp.Submit(ctx, u, func() { write("done %d", u.ID); <-slots }); err != nil {
			return err
		}
	}
}

// childLog reads the complete lines of the child's log: the ids of the
// updates done and the reminders sent.
func childLog(t *testing.T, dir string) (done []int64, sent map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1] // a line cut by the kill is not counted
	} else {
		b = nil
	}
	sent = map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		kind, arg, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "done":
			id, err := strconv.ParseInt(arg, 10, 64)
			if err != nil {
				t.Fatalf("bad log line %q", sc.Text())
			}
			done = append(done, id)
		case "sent":
			sent[arg] = true
		}
	}
	return done, sent
}

// TestBoltKilledMidWork runs a process that handles updates and sends
// reminders on a bbolt file, kills it with SIGKILL in the middle of its
// work, and reopens the file: every update the process acknowledged is
// marked handled, every reminder is either sent or still scheduled, and
// once the killed process's leases end a new dispatcher sends the rest,
// sending again only what was in flight.
func TestBoltKilledMidWork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := seal.NewKey()
	keys, err := seal.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "passerelle.db")
	st, err := bolt.Open(path, bolt.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	due := time.Now().Add(-time.Hour)
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("99%07d:doc1", i)
		if err := st.Schedule(t.Context(), ids[i], due.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestBoltKilledMidWork$")
	cmd.Env = append(os.Environ(), envChild+"=bolt", envChildDir+"="+dir, envChildKey+"="+key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitFor(t, "the child's first updates and reminders", 30*time.Second, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("child exited: %v\n%s", err, stderr.String())
		default:
		}
		done, sent := childLog(t, dir)
		return len(done) >= 50 && len(sent) >= 40
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	killed := time.Now()
	done, sentBefore := childLog(t, dir)

	st, err = bolt.Open(path, bolt.WithKeys(keys))
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer st.Close()
	ctx := t.Context()
	for _, id := range done {
		seen, err := st.SeenUpdate(ctx, id)
		if err != nil || !seen {
			t.Errorf("update %d was acknowledged but is not marked handled after the kill (%v)", id, err)
		}
	}
	left := map[string]bool{}
	for _, id := range ids {
		_, ok, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			left[id] = true
		} else if !sentBefore[id] {
			t.Errorf("reminder %s is gone but was never sent", id)
		}
	}

	var again sends
	d := reminder.NewDispatcher(st, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		again.add(c.ID)
		return time.Time{}, nil
	}), reminder.Config{Workers: 4, Poll: 50 * time.Millisecond})
	rctx, stop := context.WithCancel(ctx)
	rdone := make(chan struct{})
	go func() { d.Run(rctx); close(rdone) }()
	defer func() { stop(); <-rdone }()
	waitFor(t, "the rest of the reminders sent", 20*time.Second, func() bool { return entryCount(t, st) == 0 })
	back := time.Since(killed)
	dup := 0
	for _, id := range ids {
		if !sentBefore[id] && again.get(id) == 0 {
			t.Errorf("reminder %s never sent", id)
		}
		if sentBefore[id] && again.get(id) > 0 {
			dup++
		}
	}
	t.Logf("child killed after %d updates acknowledged and %d reminders sent; %d reminders left, all sent %s after the kill (its lease: %s), %d twice",
		len(done), len(sentBefore), len(left), back.Round(10*time.Millisecond), childLease, dup)
	if dup > childWorkers {
		t.Errorf("%d reminders sent twice; want at most the %d the child had in flight", dup, childWorkers)
	}
}
