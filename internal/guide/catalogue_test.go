package guide_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
)

type catalogueRow struct{ section, row, outcome, path string }

// readCatalogue reads the tables of CATALOGUE.md: rows of four columns
// (section | row | outcome | path) and the personas (persona | outcome | path).
func readCatalogue(t *testing.T) (rows []catalogueRow) {
	t.Helper()
	f, err := os.Open("CATALOGUE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[len(cells)-1] == "path" {
			continue // a header
		}
		switch {
		case len(cells) == 4:
			rows = append(rows, catalogueRow{cells[0], cells[1], cells[2], cells[3]})
		case len(cells) == 3:
			rows = append(rows, catalogueRow{"entry", cells[0], cells[1], cells[2]})
		}
	}
	if len(rows) == 0 {
		t.Fatal("CATALOGUE.md has no rows")
	}
	return rows
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
