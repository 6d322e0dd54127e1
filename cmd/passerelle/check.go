package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/locales"
)

// errCheck is returned when check found problems; they were printed.
var errCheck = errors.New("check failed")

// runCheck validates the configuration and the catalogs, printing what it
// found. It exits non-zero on any problem.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlags("check", stderr)
	dir := fset.String("locales", "", "check only the catalogs in this directory (for translators), not the configuration")
	connect := fset.Bool("connect", false, "also open the store and the listen address")
	if help, err := parseFlags(fset, args); help || err != nil {
		return err
	}
	failed := false
	report := func(section string, problems []error, ok string) {
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "%s: %s\n", section, ok)
			return
		}
		failed = true
		fmt.Fprintf(stdout, "%s: %d %s\n", section, len(problems), plural(len(problems), "problem", "problems"))
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s\n", indent(p.Error()))
		}
	}
	if *dir == "" {
		// What run reads; with --locales, only the catalogs (for translators).
		cfg, err := loadConfig(getenv)
		problems := splitErrors(err)
		// What run needs besides (token, operator) counts once the
		// environment is set up for run, that is with a token.
		if cfg.Token != "" {
			problems = append(problems, splitErrors(cfg.requireForRun())...)
		}
		report("configuration", problems, "ok")
		if cfg.Token == "" {
			fmt.Fprintln(stdout, "run: not set up (TELEGRAM_BOT_TOKEN is not set; run also needs PASSERELLE_OPERATOR_NAME, PASSERELLE_OPERATOR_CONTACT and the data key)")
		}
		if *connect && err == nil {
			report("store", checkStoreConnect(ctx, cfg.Store, cfg.DataKey), "ok (reachable)")
			report("listen", checkListenConnect(cfg.Listen), "ok (free)")
		}
		switch ps, err := loadPartners(cfg.Partners); {
		case err != nil:
			report("partners", splitErrors(err), "")
		case ps == nil:
			fmt.Fprintln(stdout, "partners: none (PASSERELLE_PARTNERS is not set: no hand-off to volunteers)")
		default:
			fallback := "no fallback"
			if fb, ok := ps.Fallback(); ok {
				fallback = "fallback " + fb.ID
			}
			fmt.Fprintf(stdout, "partners: ok (%d partners, %s)\n", len(ps.All()), fallback)
			for _, p := range ps.All() {
				if p.Active && p.ReferentsChatID == 0 {
					fmt.Fprintf(stdout, "  note: %s has no referents_chat_id, so it receives no sensitive case (OQTF, illness, violence, minors)\n", p.ID)
				}
			}
		}
		if !checkDataKey(stdout, getenv, cfg) {
			failed = true
		}
	}

	var fsys fs.FS = locales.FS
	if *dir != "" {
		fi, err := os.Stat(*dir)
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("%w: --locales %s: not a directory", errCheck, *dir)
		}
		fsys = os.DirFS(*dir)
	}
	check := shippedContent
	if *dir != "" {
		check = func() (string, bool) { return checkContent(fsys) }
	}
	text, ok := check()
	fmt.Fprint(stdout, text)
	if !ok {
		failed = true
	}
	if failed {
		return errCheck
	}
	return nil
}

// shippedContent is checkContent of the catalogs and guide built into the
// binary: they cannot change while it runs, so one process checks them once.
var shippedContent = sync.OnceValues(func() (string, bool) { return checkContent(locales.FS) })

// checkContent checks the catalogs of fsys and the guide against them, and
// returns the report's text and whether it found no problem.
func checkContent(fsys fs.FS) (string, bool) {
	var out strings.Builder
	ok := true
	rep := catalog.Check(fsys)
	out.WriteString(rep.String())
	if !rep.OK() {
		ok = false
	} else if _, err := catalog.Load(fsys); err != nil {
		ok = false
		fmt.Fprintf(&out, "catalogs: cannot load: %v\n", err)
	}
	if problems := checkGuide(fsys); len(problems) > 0 {
		ok = false
		fmt.Fprintf(&out, "guide: %d problems\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(&out, "  - %v\n", p)
		}
	} else {
		out.WriteString("guide: ok (tree valid, every message in the reference catalog)\n")
	}
	return out.String(), ok
}

// checkDataKey reports on the master key: a weak or unreadable one is a
// configuration problem (loadConfig); a missing one is one when the
// environment is set up for run (TELEGRAM_BOT_TOKEN is set), which refuses
// to start without it.
func checkDataKey(stdout io.Writer, getenv func(string) string, cfg config) bool {
	_, keyErr := loadKey(getenv, "PASSERELLE_DATA_KEY")
	switch {
	case keyErr != nil:
		fmt.Fprintf(stdout, "data key: problems\n%s\n", indent(keyErr.Error()))
		return false
	case cfg.DataKey != nil:
		fmt.Fprintf(stdout, "data key: ok (check %s)\n", cfg.DataKey.Check())
	case strings.TrimSpace(getenv("TELEGRAM_BOT_TOKEN")) != "":
		fmt.Fprintf(stdout, "data key: problems\n%s\n", indent(errNoDataKey.Error()))
		return false
	default:
		fmt.Fprintln(stdout, "data key: not set (run needs PASSERELLE_DATA_KEY; chat uses a temporary one)")
	}
	return true
}

// checkGuide validates the embedded guide tree against the catalogs: every
// node reachable, no cycle, at most six questions, sources, message ids.
func checkGuide(fsys fs.FS) []error {
	cat, err := catalog.Load(fsys)
	if err != nil {
		return []error{fmt.Errorf("catalogs: %w", err)}
	}
	_, problems := loadGuide(cat)
	return problems
}

// loadGuide loads the embedded guide tree and validates it against the
// catalog, so that a broken tree stops the bot at start, not a resident
// in the middle of a path.
func loadGuide(cat *catalog.Catalog) (*guide.Guide, []error) {
	g, err := guide.Load()
	if err != nil {
		return nil, []error{err}
	}
	ids := map[string]bool{}
	for _, id := range cat.IDs() {
		ids[id] = true
	}
	if problems := g.Validate(func(id string) bool { return ids[id] }); len(problems) > 0 {
		return nil, problems
	}
	return g, nil
}

// mustGuide is loadGuide for run and chat: problems become one error.
func mustGuide(cat *catalog.Catalog) (*guide.Guide, error) {
	g, problems := loadGuide(cat)
	if len(problems) > 0 {
		return nil, fmt.Errorf("guide tree: %w (run passerelle check)", errors.Join(problems...))
	}
	return g, nil
}

// splitErrors returns the problems inside a joined error, one per line.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkStoreConnect opens the store as run would, then closes it.
func checkStoreConnect(ctx context.Context, u string, keys *seal.Keyring) []error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if path, ok := strings.CutPrefix(u, "bolt:"); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			// Do not create the store: check that it could be.
			f, err := os.CreateTemp(filepath.Dir(path), ".passerelle-check-*")
			if err != nil {
				return []error{fmt.Errorf("PASSERELLE_STORE: %s does not exist and cannot be created: %w", path, err)}
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		}
	}
	if keys == nil {
		return []error{fmt.Errorf("PASSERELLE_STORE: cannot open it without the master key: %w", errNoDataKey)}
	}
	st, err := openStore(ctx, u, keys)
	if err != nil {
		return []error{fmt.Errorf("PASSERELLE_STORE: cannot open: %w", err)}
	}
	defer st.Close()
	if _, err := st.SeenUpdate(ctx, 0); err != nil {
		return []error{fmt.Errorf("PASSERELLE_STORE: opened but cannot read: %w", err)}
	}
	return nil
}

// checkListenConnect binds the listen address and releases it.
func checkListenConnect(addr string) []error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return []error{fmt.Errorf("PASSERELLE_LISTEN %s: cannot listen (is the bot already running, or the port taken?): %w", addr, err)}
	}
	ln.Close()
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
