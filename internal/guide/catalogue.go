package guide

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Catalogue is the data of CATALOGUE.md (catalogue.yaml): the démarches of
// the domain brief mapped to outcomes and paths, the other entry points,
// the personas, and the log of changes where a newer official text won over
// the brief.
type Catalogue struct {
	Rows     []CatalogueRow `yaml:"catalogue"`
	Entries  []CatalogueRow `yaml:"entries"`
	Personas []CatalogueRow `yaml:"personas"`
	Changes  []Change       `yaml:"changes"`
}

// CatalogueRow maps a row of the brief (or an entry point, or a persona) to
// the outcome reached by a path of answer ids from the start.
type CatalogueRow struct {
	Section string `yaml:"section,omitempty"`
	Row     string `yaml:"row,omitempty"`
	Topic   string `yaml:"topic,omitempty"`
	Persona string `yaml:"persona,omitempty"`
	Outcome string `yaml:"outcome"`
	Path    string `yaml:"path"` // answer ids separated by "/"
}

// Change records where the guide departs from the domain brief because a
// newer official text, or the December 2026 review, says otherwise.
type Change struct {
	What   string `yaml:"what"`
	Before string `yaml:"before"`
	Now    string `yaml:"now"`
	Source string `yaml:"source"` // a tag of sources.yaml
	Item   string `yaml:"item"`   // the review item or official-sources.md row
}

// LoadCatalogue reads catalogue.yaml from fsys.
func LoadCatalogue(fsys fs.FS, name string) (*Catalogue, error) {
	var c Catalogue
	if err := decodeFile(fsys, name, &c, false); err != nil {
		return nil, err
	}
	return &c, nil
}

// WriteCatalogue writes CATALOGUE.md: the tables of c, then the review
// status of every outcome (with its legal basis and fingerprint) and the
// log of changes. text gives the French texts (titles, fingerprints). The
// file is generated: edit catalogue.yaml and the tree, not the Markdown.
func (g *Guide) WriteCatalogue(w io.Writer, c *Catalogue, text func(id string) string) error {
	var b strings.Builder
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }
	b.WriteString(`# Catalogue: every démarche of anef.md §2 → its outcome in tree.yaml

Generated from ` + "`catalogue.yaml`" + ` and the tree: do not edit by hand. Regenerate with
` + "`go test ./internal/guide -run TestCatalogueUpToDate -update`" + `.

Each path below was walked through ` + "`tree.yaml`" + ` from the start question and ends at the
outcome named. The rows come from ` + "`/work/shared/domain/anef.md`" + ` §2.1 (titres on the
ANEF and not on the ANEF), §2.2 (other démarches) and §2.3 (special regimes). When several
outcomes cover a row, the row has one line per outcome. Where ` + "`official-sources.md`" + ` or the
December 2026 review disagree with anef.md, the newer official text won: see
[Changes from the domain brief](#changes-from-the-domain-brief).

- ` + "`section`" + `: the anef.md section (2.1, 2.2, 2.3).
- ` + "`row`" + `: the row's category name as written in anef.md, prefixed by its section.
- ` + "`outcome`" + `: the outcome id in ` + "`tree.yaml`" + `.
- ` + "`path`" + `: answer ids from the start question ` + "`q_regime`" + `, separated by ` + "`/`" + `.
- ` + "`review`" + `: ` + "`to_verify`" + ` until a lawyer or an association checks the outcome; an outcome
  changed after its review shows ` + "`" + ReviewChanged + "`" + ` and counts as to_verify.

`)
	review := func(id string) string {
		o, ok := g.Outcome(id)
		if !ok {
			return "?"
		}
		return g.ReviewState(o, text)
	}
	b.WriteString("## §2 catalogue\n\n| section | row | outcome | path | review |\n|---|---|---|---|---|\n")
	for _, r := range c.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(r.Section), cell(r.Row), r.Outcome, r.Path, review(r.Outcome))
	}
	b.WriteString("\n## Other entry points (outside §2)\n\nDocuments and deadlines (§3), blockages B1–B11 (§4.5), letters (§5.1), minors, the cautious fallbacks and the help outcome. Paths follow the same convention.\n\n| topic | outcome | path |\n|---|---|---|\n")
	for _, r := range c.Entries {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(r.Topic), r.Outcome, r.Path)
	}
	b.WriteString("\n## Personas\n\nThe personas of `/work/shared/domain/scenarios.md`, with the taps a resident would make. A persona with two démarches (for example the employer's work authorisation and the resident's own card) has two lines.\n\n| persona | outcome | path |\n|---|---|---|\n")
	for _, r := range c.Personas {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(r.Persona), r.Outcome, r.Path)
	}
	b.WriteString("\n## Review status of every outcome\n\nThe legal basis is the first source of the outcome (`sources.yaml`); the fingerprint is what a reviewer records with `reviewed_by` and the date (see `passerelle guide export`).\n\n| outcome | title (fr) | legal basis | review | reviewed by | on | fingerprint |\n|---|---|---|---|---|---|---|\n")
	for _, o := range g.Tree.Outcomes {
		basis := ""
		if len(o.Sources) > 0 {
			if s, ok := g.Source(o.Sources[0]); ok {
				basis = s.Title
			}
		}
		if o.NoOfficialSource != "" {
			basis = "none: " + o.NoOfficialSource
		}
		state := g.ReviewState(o, text)
		if o.Off {
			state += " (off)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | `%s` |\n", o.ID, cell(text(o.Title)), cell(basis), state, cell(o.Review.By), o.Review.On, g.Fingerprint(o, text))
	}
	b.WriteString("\n## Changes from the domain brief\n\nWhere the December 2026 guide review or `official-sources.md` disagreed with `anef.md`, the newer official text won.\n\n| what | anef.md said | the guide now | source | item |\n|---|---|---|---|---|\n")
	for _, ch := range c.Changes {
		src := ch.Source
		if s, ok := g.Source(ch.Source); ok {
			src = s.Title
			if s.URL != "" {
				src += " (" + s.URL + ")"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(ch.What), cell(ch.Before), cell(ch.Now), cell(src), cell(ch.Item))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
