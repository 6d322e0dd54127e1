package locales_test

import (
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/passerelle-bot/passerelle/locales"
)

type message map[string]string // description, one, other…

func read(t *testing.T, name string) map[string]message {
	t.Helper()
	b, err := fs.ReadFile(locales.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]message
	if _, err := toml.Decode(string(b), &out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

var maxRE = regexp.MustCompile(`max (\d+) characters`)

// TestDeclaredLengthLimits: every text whose description declares a
// maximum (buttons, topic names, Telegram descriptions) keeps it in every
// locale, counted in characters, so that it shows on a phone.
func TestDeclaredLengthLimits(t *testing.T) {
	en := read(t, "active.en.toml")
	files, _ := fs.Glob(locales.FS, "active.*.toml")
	cats := map[string]map[string]message{}
	for _, f := range files {
		cats[f] = read(t, f)
	}
	limits := 0
	for id, m := range en {
		sub := maxRE.FindStringSubmatch(m["description"])
		if sub == nil {
			continue
		}
		limits++
		max, _ := strconv.Atoi(sub[1])
		for _, f := range files {
			for form, text := range cats[f][id] {
				if form == "description" {
					continue
				}
				if n := len([]rune(text)); n > max {
					t.Errorf("%s %s (%s): %d characters, max %d: %q", f, id, form, n, max, text)
				}
			}
		}
	}
	if limits < 50 {
		t.Fatalf("only %d messages declare a maximum length; the test reads the wrong file?", limits)
	}
}

// TestStatusMatchesReviewed: locales/STATUS.md and locales.Reviewed say the
// same thing about native-speaker reviews, and every shipped locale is in
// STATUS.md.
func TestStatusMatchesReviewed(t *testing.T) {
	b, err := os.ReadFile("STATUS.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // tag → last column
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "active.") {
			continue
		}
		rows[strings.TrimSpace(cells[0])] = strings.TrimSpace(cells[len(cells)-1])
	}
	files, _ := fs.Glob(locales.FS, "active.*.toml")
	for _, f := range files {
		tag := strings.TrimSuffix(strings.TrimPrefix(f, "active."), ".toml")
		review, ok := rows[tag]
		if !ok {
			t.Errorf("STATUS.md has no row for %s", tag)
			continue
		}
		_, reviewed := locales.Reviewed[tag]
		if says := !strings.HasPrefix(review, "No"); says != reviewed {
			t.Errorf("%s: STATUS.md says %q but locales.Reviewed has it %v", tag, review, reviewed)
		}
	}
}
