package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
)

const guideUsage = `usage: passerelle guide export [--format csv|md] [--lang fr]
       passerelle guide diff OLD NEW

export  every outcome of the built-in guide with its paths, texts, sources
        (legal basis first) and review status, for a lawyer or an association
        to annotate; texts in French unless --lang says otherwise
diff    what changed between two versions of the tree: OLD and NEW are
        tree.yaml files, or directories holding tree.yaml (and sources.yaml);
        a tree file without sources.yaml beside it uses the built-in sources.
        Texts are those of the built-in French catalog.
`

// runGuide runs `passerelle guide export` and `passerelle guide diff`.
func runGuide(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, guideUsage)
		return fmt.Errorf("%w: guide needs export or diff", errUsage)
	}
	if a := args[0]; a == "-h" || a == "-help" || a == "--help" {
		fmt.Fprint(stderr, guideUsage)
		return nil
	}
	cat, err := builtinCatalog()
	if err != nil {
		return fmt.Errorf("catalogs: %w", err)
	}
	switch args[0] {
	case "export":
		fs := newFlags("guide", stderr)
		format := fs.String("format", "csv", "csv or md")
		lang := fs.String("lang", "fr", "language of the texts")
		if help, err := parseFlags(fs, args[1:]); help || err != nil {
			return err
		}
		if (*format != "csv" && *format != "md") || !cat.Has(*lang) {
			fmt.Fprint(stderr, guideUsage)
			return fmt.Errorf("%w: guide export --format csv|md [--lang fr]", errUsage)
		}
		g, err := guide.Load()
		if err != nil {
			return err
		}
		return g.Export(stdout, *format, texts(cat, *lang))
	case "diff":
		if len(args) != 3 {
			fmt.Fprint(stderr, guideUsage)
			return fmt.Errorf("%w: guide diff OLD NEW", errUsage)
		}
		old, err := loadTreeAt(args[1])
		if err != nil {
			return err
		}
		new, err := loadTreeAt(args[2])
		if err != nil {
			return err
		}
		lines := guide.Diff(old, new, texts(cat, "fr"))
		if len(lines) == 0 {
			fmt.Fprintln(stdout, "no change")
			return nil
		}
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		return nil
	}
	fmt.Fprint(stderr, guideUsage)
	return fmt.Errorf("%w: unknown guide command %q", errUsage, args[0])
}

// texts returns the catalog texts of lang, for exports and fingerprints.
func texts(cat *catalog.Catalog, lang string) func(string) string {
	p := cat.Printer(lang)
	return func(id string) string { return p.T(id) }
}

// loadTreeAt loads a tree for guide diff: a tree.yaml file, or a directory
// holding tree.yaml. sources.yaml and phrases.yaml are read from the same
// directory when they are there; otherwise the built-in ones are used.
func loadTreeAt(path string) (*guide.Guide, error) {
	dir, treeFile := path, "tree.yaml"
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("guide diff: %w", err)
	} else if !st.IsDir() {
		dir, treeFile = filepath.Dir(path), filepath.Base(path)
	}
	fsys := overlay{os.DirFS(dir), guide.Data}
	return guide.LoadFS(fsys, treeFile, "sources.yaml", "phrases.yaml")
}

// overlay reads a file from the first file system that has it.
type overlay struct{ first, second fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.first.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return o.second.Open(name)
	}
	return f, err
}
