package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/locales"
)

// errCheck is returned when check found problems; they were printed.
var errCheck = errors.New("check failed")

// runCheck validates the configuration and the catalogs, printing what it
// found. It exits non-zero on any problem.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlags("check", stderr)
	dir := fset.String("locales", "", "check the catalogs in this directory instead of the built-in ones")
	if err := fset.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	failed := false
	if _, err := loadConfig(getenv); err != nil {
		failed = true
		fmt.Fprintf(stdout, "configuration: problems\n%s\n", indent(err.Error()))
	} else {
		fmt.Fprintln(stdout, "configuration: ok")
	}

	var fsys fs.FS = locales.FS
	if *dir != "" {
		fi, err := os.Stat(*dir)
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("%w: --locales %s: not a directory", errCheck, *dir)
		}
		fsys = os.DirFS(*dir)
	}
	rep := catalog.Check(fsys)
	fmt.Fprint(stdout, rep.String())
	if !rep.OK() {
		failed = true
	} else if _, err := catalog.Load(fsys); err != nil {
		failed = true
		fmt.Fprintf(stdout, "catalogs: cannot load: %v\n", err)
	}
	if failed {
		return errCheck
	}
	return nil
}

func indent(s string) string {
	out := "  - "
	for _, r := range s {
		out += string(r)
		if r == '\n' {
			out += "  - "
		}
	}
	return out
}

// locationFrom reads PASSERELLE_TIMEZONE for commands that do not need the
// whole configuration.
func locationFrom(getenv func(string) string) *time.Location {
	if loc, err := time.LoadLocation(orDefault(getenv("PASSERELLE_TIMEZONE"), "Europe/Paris")); err == nil {
		return loc
	}
	return time.UTC
}
