package guide_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/locales"
)

type catalogueRow struct{ section, row, outcome, path string }

// readCatalogue reads catalogue.yaml: the rows of the brief, the other entry
// points (section "entry") and the personas (section "persona").
func readCatalogue(t *testing.T) (rows []catalogueRow) {
	t.Helper()
	c, err := guide.LoadShippedCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Rows {
		rows = append(rows, catalogueRow{r.Section, r.Row, r.Outcome, r.Path})
	}
	for _, r := range c.Entries {
		rows = append(rows, catalogueRow{"entry", r.Topic, r.Outcome, r.Path})
	}
	for _, r := range c.Personas {
		rows = append(rows, catalogueRow{"persona", r.Persona, r.Outcome, r.Path})
	}
	if len(rows) == 0 {
		t.Fatal("catalogue.yaml has no rows")
	}
	return rows
}

var update = flag.Bool("update", false, "rewrite CATALOGUE.md from catalogue.yaml and the tree")

// frenchText is the French catalog, the language of reviewers.
func frenchText(t testing.TB) func(string) string {
	t.Helper()
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	p := cat.Printer("fr")
	return func(id string) string { return p.T(id) }
}

// TestCatalogueUpToDate: CATALOGUE.md is generated from catalogue.yaml and
// the tree (review status, legal basis, fingerprints, the changes from the
// brief). Regenerate with -update.
func TestCatalogueUpToDate(t *testing.T) {
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := guide.LoadShippedCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := g.WriteCatalogue(&b, c, frenchText(t)); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("CATALOGUE.md", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("CATALOGUE.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("CATALOGUE.md is not what catalogue.yaml and the tree give; run go test ./internal/guide -run TestCatalogueUpToDate -update and read the diff")
	}
	for _, ch := range c.Changes {
		if _, ok := g.Source(ch.Source); !ok {
			t.Errorf("change %q cites source %q, not in sources.yaml", ch.What, ch.Source)
		}
	}
}

// TestCatalogueMapping walks every path of CATALOGUE.md: each démarche of
// the domain brief's catalogue, and each persona, reaches its outcome.
func TestCatalogueMapping(t *testing.T) {
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readCatalogue(t) {
		state, cur := "", g.Start()
		var err error
		for _, a := range strings.Split(r.path, "/") {
			state, cur, err = g.Answer(state, a)
			if err != nil {
				t.Errorf("%s %q: path %s fails at %q: %v", r.section, r.row, r.path, a, err)
				break
			}
		}
		if err == nil && cur != r.outcome {
			t.Errorf("%s %q: path %s reaches %s; want %s", r.section, r.row, r.path, cur, r.outcome)
		}
		if len(strings.Split(r.path, "/")) > guide.MaxDepth {
			t.Errorf("%s %q: %d questions", r.section, r.row, len(strings.Split(r.path, "/")))
		}
	}
}

// TestCatalogueCoversTheBrief checks that every row of anef.md §2.1 and
// §2.2 and every regime of §2.3 has a line in CATALOGUE.md. The brief lives
// in ../shared beside the project; without it the test skips.
func TestCatalogueCoversTheBrief(t *testing.T) {
	path := findBrief()
	if path == "" {
		t.Skip("../shared/domain/anef.md not found beside the project")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, r := range readCatalogue(t) {
		covered[r.row] = true
	}
	section := ""
	rowRE := regexp.MustCompile(`^\| \*\*([^*]+)\*\*`)
	bulletRE := regexp.MustCompile(`^- \*\*([^*(:]+)`)
	var want []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "### ") {
			section = strings.Fields(line)[1]
			continue
		}
		switch section {
		case "2.1", "2.2":
			if m := rowRE.FindStringSubmatch(line); m != nil {
				want = append(want, section+" "+strings.TrimSpace(m[1]))
			}
		case "2.3":
			if m := bulletRE.FindStringSubmatch(line); m != nil {
				want = append(want, section+" "+strings.TrimSpace(m[1]))
			}
		}
	}
	if len(want) < 20 {
		t.Fatalf("read only %d rows from %s; has the brief changed shape?", len(want), path)
	}
	for _, w := range want {
		found := false
		for row := range covered {
			if strings.HasPrefix(row, w) || strings.HasPrefix(w, row) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("anef.md row %q has no line in CATALOGUE.md", w)
		}
	}
}

func findBrief() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "domain", "anef.md")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
