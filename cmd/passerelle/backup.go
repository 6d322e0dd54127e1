package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// backuper is a store that can write an online snapshot of itself (bolt).
type backuper interface {
	Backup(w io.Writer) (int64, error)
	BackupKeys(w io.Writer) (int64, error)
	Path() string
}

// watchBackups writes a snapshot of an embedded store next to it
// (PATH.bak) each time the process gets SIGUSR1 (`docker compose kill -s
// USR1 bot`, or `kill -USR1 PID`), while the bot goes on, and the
// residents' data keys as PATH.bak.keys (the copy opens with both). The file is
// written under a temporary name and renamed, so PATH.bak is always whole.
func watchBackups(ctx context.Context, st any, logger *slog.Logger) {
	b, ok := st.(backuper)
	if !ok {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				path, n, err := writeBackup(b.Path()+".bak", b.Backup)
				if err == nil {
					// The residents' data keys: the copy is readable only with them.
					_, _, err = writeBackup(b.Path()+".bak.keys", b.BackupKeys)
				}
				if err != nil {
					logger.Error("backup_failed", "err", err)
					continue
				}
				logger.Info("backup_written", "path", path, "bytes", n)
			}
		}
	}()
}

// writeBackup writes what write gives to dst, under a temporary name
// then renamed.
func writeBackup(dst string, write func(io.Writer) (int64, error)) (string, int64, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return "", 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	n, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		return "", 0, fmt.Errorf("backup: %w", err)
	}
	return dst, n, nil
}
