package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/locales"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

var dateRE = regexp.MustCompile(`\d{2}/\d{2}/\d{4}`)

func noEnv(string) string { return "" }

// The operator identity tests run with.
const (
	testOperatorName    = "Association Test"
	testOperatorContact = "contact@asso.example"
)

// runEnv is the smallest environment `run` and `check` accept.
func runEnv() map[string]string {
	return map[string]string{
		"TELEGRAM_BOT_TOKEN":          "123456:TEST-token_abcdefghijklmnopqrstuvw",
		"PASSERELLE_OPERATOR_NAME":    testOperatorName,
		"PASSERELLE_OPERATOR_CONTACT": testOperatorContact,
		"PASSERELLE_DATA_KEY":         testDataKey,
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestChatTranscripts runs `passerelle chat` with piped scripts and
// compares the output with golden transcripts (dates masked). Refresh with
// go test ./cmd/passerelle -run TestChatTranscripts -update.
func TestChatTranscripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		script string
	}{
		// welcome, menu, my data, language switch (to English), my data in English
		{"chat_fr", []string{"chat", "--lang", "fr"}, "/start\n/menu\n5\n/menu\n1\n1\n/mydata\n/quit\n"},
		// welcome, menu, my data, language switch (to French), my data in French
		{"chat_ar", []string{"chat", "--lang", "ar"}, "/start\n/menu\n5\n/language\n3\n/mydata\n/quit\n"},
		// unknown language: the picker comes first, then the welcome in the chosen language
		{"chat_xx", []string{"chat", "--lang", "xx"}, "/start\n2\n/privacy\n/forget\n1\nhello\n/quit\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, noEnv, strings.NewReader(tt.script), &out, &errOut)
			if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
			}
			if strings.Contains(errOut.String(), "catalog_missing") {
				t.Errorf("catalog fallback happened:\n%s", errOut.String())
			}
			got := dateRE.ReplaceAllString(out.String(), "DD/MM/YYYY")
			golden := filepath.Join("testdata", tt.name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestCheckLocalesDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"active.en.toml", "active.fr.toml", "active.ar.toml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "locales", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "active.fr.toml" {
			// Drop one message from the French catalog.
			re := regexp.MustCompile(`(?s)\["menu\.help"\].*?\n\n`)
			if !re.Match(data) {
				t.Fatal("test setup: menu.help not found in active.fr.toml")
			}
			data = re.ReplaceAll(data, nil)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--locales", dir}, noEnv, strings.NewReader(""), &out, &out)
	if err == nil {
		t.Fatalf("check passed with a message missing:\n%s", out.String())
	}
	for _, want := range []string{"fr", "INCOMPLETE", "menu.help: missing"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := run(context.Background(), []string{"check"}, envOf(runEnv()), strings.NewReader(""), &out, &out); err != nil {
		t.Errorf("check of the shipped catalogs failed: %v\n%s", err, out.String())
	}
	files, _ := fs.Glob(locales.FS, "active.*.toml")
	if want := fmt.Sprintf("%d/%d locales complete", len(files), len(files)); len(files) < 3 || !strings.Contains(out.String(), want) {
		t.Errorf("check output:\n%s", out.String())
	}
}

func TestCheckReportsBadConfiguration(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PASSERELLE_SEND_RATE": "fast", "PASSERELLE_WEBHOOK_URL": "http://insecure.example", "PASSERELLE_QUIET_HOURS": "late"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"check"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
	if err == nil {
		t.Fatal("check passed with a bad configuration")
	}
	for _, want := range []string{"PASSERELLE_SEND_RATE", "PASSERELLE_WEBHOOK_URL", "PASSERELLE_QUIET_HOURS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %s:\n%s", want, out.String())
		}
	}
}

func TestRunNeedsToken(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"run"}, noEnv, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN") {
		t.Errorf("run without token = %v; want an error naming TELEGRAM_BOT_TOKEN", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, noEnv, strings.NewReader(""), &out, &out); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestCheckPartnersFile(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := runEnv()
	env["PASSERELLE_PARTNERS"] = "../../partners.example.yaml"
	if err := run(context.Background(), []string{"check"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("check of partners.example.yaml failed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "partners: ok (4 partners, fallback permanence-nationale)") {
		t.Errorf("check output:\n%s", out.String())
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("partners:\n  - id: a\n    name: A\n    departments: [69]\n    chat_id: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	env["PASSERELLE_PARTNERS"] = bad
	if err := run(context.Background(), []string{"check"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out); err == nil {
		t.Fatalf("check passed a broken partners file:\n%s", out.String())
	}
	for _, want := range []string{"partners: 1 problem", "departments", "chat_id"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}
