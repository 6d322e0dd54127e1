package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestProjectFiles: the licence is the AGPL v3 text, unchanged since it
// was checked word for word against the SPDX list's copy; SECURITY.md
// names no invented address and points to the repository go.mod names;
// CHANGELOG.md keeps Keep a Changelog's form; and what CONTRIBUTING.md,
// SECURITY.md and CHANGELOG.md name exists: every file path, every
// `passerelle COMMAND` and each of its --flags.
func TestProjectFiles(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	license := read("LICENSE")
	if sum := sha256.Sum256([]byte(license)); hex.EncodeToString(sum[:]) != "8486a10c4393cee1c25392769ddd3b2d6c242d6ec7928e1414efff7dfb2f07ef" ||
		!strings.HasPrefix(strings.TrimSpace(license), "GNU AFFERO GENERAL PUBLIC LICENSE\n                       Version 3, 19 November 2007") {
		t.Error("LICENSE is not the AGPL v3 text it was checked to be")
	}
	if !strings.Contains(read("README.md"), "AGPL-3.0-or-later") {
		t.Error("README does not say AGPL-3.0-or-later")
	}

	security := read("SECURITY.md")
	module := strings.Fields(strings.SplitN(read("go.mod"), "\n", 2)[0])[1]
	for _, want := range []string{"Report a vulnerability", "`" + module + "`", "/privacy", "What to include", "What happens next"} {
		if !strings.Contains(security, want) {
			t.Errorf("SECURITY.md lacks %q", want)
		}
	}
	email := regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.]+`)
	for _, name := range []string{"SECURITY.md", "CONTRIBUTING.md", "CHANGELOG.md"} {
		text := read(name)
		if m := email.FindString(text); m != "" {
			t.Errorf("%s gives an address, %q: no one has set one up", name, m)
		}
		if strings.Contains(strings.ToLower(text), "to be filled") {
			t.Errorf("%s has a placeholder left", name)
		}
	}

	changelog := read("CHANGELOG.md")
	if !strings.Contains(changelog, "https://keepachangelog.com/") || !strings.Contains(changelog, "\n## [Unreleased]\n") {
		t.Error("CHANGELOG.md does not follow Keep a Changelog (link, [Unreleased] section)")
	}
	for _, h := range regexp.MustCompile(`(?m)^### (.+)$`).FindAllStringSubmatch(changelog, -1) {
		switch h[1] {
		case "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security", "Schema": // Schema: the project's own, for operators
		default:
			t.Errorf("CHANGELOG.md: section %q is not one of Keep a Changelog's", h[1])
		}
	}

	// What the three files name must exist.
	path := regexp.MustCompile("`((?:[\\w.-]+/)+[\\w.-]+\\.(?:go|md|yaml|toml|json)|LICENSE|[A-Z]+\\.md)`")
	command := regexp.MustCompile("passerelle ([a-z-]+)((?: [^`\n#]*)?)")
	for _, name := range []string{"SECURITY.md", "CONTRIBUTING.md", "CHANGELOG.md"} {
		text := read(name)
		for _, m := range path.FindAllStringSubmatch(text, -1) {
			if strings.ContainsAny(m[1], "<>*") {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", "..", m[1])); err != nil {
				t.Errorf("%s names %s, which does not exist", name, m[1])
			}
		}
		for _, m := range command.FindAllStringSubmatch(text, -1) {
			cmd := m[1]
			known := false
			for _, c := range commandHelp {
				known = known || c.name == cmd
			}
			if !known {
				continue // prose such as "passerelle in your terminal"
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"help", cmd}, noEnv, strings.NewReader(""), &out, &out); err != nil {
				t.Errorf("%s: passerelle help %s: %v", name, cmd, err)
			}
			for _, f := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(m[2], -1) {
				// In the flags, or in the usage line (a subcommand's flags).
				if f[1] != "help" && !strings.Contains(out.String(), "-"+f[1]+" ") && !strings.Contains(out.String(), "-"+f[1]+"\n") {
					t.Errorf("%s: passerelle %s has no flag --%s", name, cmd, f[1])
				}
			}
		}
	}
}
