package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
)

// TestOnlineBackup: SIGUSR1 makes a running bolt store write PATH.bak
// while it stays open; the copy opens and holds the data, and a write
// after the snapshot is not in it.
func TestOnlineBackup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "live.db")
	st, err := bolt.Open(path, bolt.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := bot.Profile{Schema: bot.SchemaVersion, UserID: 4401, ChatID: 4401, Lang: "fr", Created: time.Now(), LastSeen: time.Now()}
	if err := st.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	watchBackups(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	var copyStore *bolt.Store
	deadline := time.Now().Add(wait)
	for {
		if copyStore, err = bolt.Open(path+".bak", bolt.WithKeys(testKeys)); err == nil {
			if _, err = copyStore.Profile(ctx, 4401); err == nil {
				break
			}
			copyStore.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usable backup at %s.bak: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond) // waiting for a file another goroutine writes
	}
	defer copyStore.Close()
	// The live store is still open and writable.
	if err := st.PutProfile(ctx, bot.Profile{Schema: bot.SchemaVersion, UserID: 4402, ChatID: 4402, Created: time.Now(), LastSeen: time.Now()}); err != nil {
		t.Fatalf("store after the backup: %v", err)
	}
	if _, err := copyStore.Profile(ctx, 4402); err == nil {
		t.Error("the backup has a profile written after it")
	}
}
