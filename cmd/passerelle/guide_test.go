package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
)

func runArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestGuideExport: `passerelle guide export` lists every outcome with its
// paths, its French texts, its sources and its review status with the
// fingerprint a reviewer records.
func TestGuideExport(t *testing.T) {
	t.Parallel()
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runArgs(t, "guide", "export", "--format", "csv")
	if err != nil {
		t.Fatalf("guide export: %v\n%s", err, stderr)
	}
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+len(g.Tree.Outcomes) {
		t.Fatalf("%d records for %d outcomes", len(records), len(g.Tree.Outcomes))
	}
	var row []string
	for _, r := range records {
		if r[0] == "o_duplicata_protected" {
			row = r
		}
	}
	joined := strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(strings.Join(row, "|"))
	for _, want := range []string{"protection/lost", "Vol : portez d'abord plainte", "CESEDA, art. R.431-20 à R.431-24 [law, verified, n.d.]", "to_verify"} {
		if !strings.Contains(joined, want) {
			t.Errorf("export row of o_duplicata_protected lacks %q:\n%s", want, joined)
		}
	}
	out, _, err = runArgs(t, "guide", "export", "--format", "md")
	if err != nil || !strings.Contains(out, "## o_renew_unknown: ") || !strings.Contains(out, "**fingerprint**: ") {
		t.Errorf("guide export --format md = %v:\n%.500s", err, out)
	}
	for _, args := range [][]string{{"guide"}, {"guide", "export", "--format", "pdf"}, {"guide", "export", "--lang", "xx"}, {"guide", "diff", "one"}, {"guide", "frobnicate"}} {
		if _, _, err := runArgs(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v; want a usage error", args, err)
		}
	}
}

// TestGuideDiff: `passerelle guide diff OLD NEW` shows what changed
// between two versions of the tree, and says when an outcome goes back to
// to_verify.
func TestGuideDiff(t *testing.T) {
	t.Parallel()
	tree, err := fs.ReadFile(guide.Data, "tree.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	oldPath := filepath.Join(dir, "old.yaml")
	if err := os.WriteFile(oldPath, tree, 0o644); err != nil {
		t.Fatal(err)
	}
	newDir := filepath.Join(dir, "new")
	if err := os.Mkdir(newDir, 0o755); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(tree), "    next_steps: guide.o.dcem.next\n", "    next_steps: guide.o.tve.next\n", 1)
	if changed == string(tree) {
		t.Fatal("the test's edit did not apply")
	}
	if err := os.WriteFile(filepath.Join(newDir, "tree.yaml"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runArgs(t, "guide", "diff", oldPath, newDir)
	if err != nil {
		t.Fatalf("guide diff: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "~ outcome o_dcem: next_steps guide.o.dcem.next «") || !strings.Contains(out, "→ guide.o.tve.next «") {
		t.Errorf("diff output:\n%s", out)
	}
	out, _, err = runArgs(t, "guide", "diff", oldPath, oldPath)
	if err != nil || strings.TrimSpace(out) != "no change" {
		t.Errorf("diff of a tree with itself = %q, %v", out, err)
	}
	if _, _, err := runArgs(t, "guide", "diff", oldPath, filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("diff with a missing file succeeded")
	}
}
