package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHelpEveryCommand: `passerelle --help`, `passerelle help COMMAND` and
// `passerelle COMMAND --help` exit 0 with the command's usage and flags.
func TestHelpEveryCommand(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out.Reset()
		if err := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("passerelle %s: %v", args[0], err)
		}
		for _, c := range commandHelp {
			if !strings.Contains(out.String(), "  "+c.name+" ") {
				t.Errorf("passerelle %s does not list %s:\n%s", args[0], c.name, out.String())
			}
		}
	}
	wantFlags := map[string][]string{
		"chat":    {"-lang", "-store", "-partners", "-volunteer-id", "-temporary", "-as-volunteer", "-socket"},
		"check":   {"-locales", "-connect"},
		"migrate": {"-from", "-to", "-force"},
		"seed":    {"-n", "-store", "-due-now", "-cases"},
	}
	for _, c := range commandHelp {
		for _, args := range [][]string{{"help", c.name}, {c.name, "--help"}} {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, noEnv, strings.NewReader(""), &stdout, &stderr); err != nil {
				t.Errorf("passerelle %s: %v", strings.Join(args, " "), err)
				continue
			}
			got := stdout.String() + stderr.String()
			if !strings.Contains(got, "usage: passerelle "+c.name) && c.name != "help" {
				t.Errorf("passerelle %s: no usage line:\n%s", strings.Join(args, " "), got)
			}
			if args[0] == "help" && stdout.Len() == 0 {
				t.Errorf("passerelle help %s printed nothing on stdout", c.name)
			}
			for _, f := range wantFlags[c.name] {
				if !strings.Contains(got, f+" ") && !strings.Contains(got, f+"\n") {
					t.Errorf("passerelle %s: flag %s not shown:\n%s", strings.Join(args, " "), f, got)
				}
			}
		}
	}
	if err := run(context.Background(), []string{"help", "nope"}, noEnv, strings.NewReader(""), &out, &out); err == nil {
		t.Error("help of an unknown command succeeded")
	}
}

func TestVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, noEnv, strings.NewReader(""), &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "passerelle v1.2.3\n") || !strings.Contains(out.String(), "built with go") {
		t.Errorf("version output:\n%s", out.String())
	}
	version = ""
	if v := buildVersion(); v == "" || !strings.HasPrefix(v, "devel") && !strings.HasPrefix(v, "v") {
		t.Errorf("buildVersion without ldflags = %q; want devel or the module version", v)
	}
}

func TestHealthzJSON(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v9.8.7"
	rec := httptest.NewRecorder()
	healthHandler(time.Now().Add(-90*time.Second)).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	var h struct {
		Status  string `json:"status"`
		Version string `json:"version"`
		Uptime  int64  `json:"uptime_seconds"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatalf("/healthz is not JSON: %v: %s", err, rec.Body.String())
	}
	if h.Status != "ok" || h.Version != "v9.8.7" || h.Uptime < 90 {
		t.Errorf("/healthz = %+v", h)
	}
}

// TestCheckEveryProblemOneLine: check names each problem of what run
// reads on its own line, and fails.
func TestCheckEveryProblemOneLine(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":       "not-a-token",
		"PASSERELLE_STORE":         "postgres://x",
		"PASSERELLE_LISTEN":        "8080",
		"PASSERELLE_REMINDER_HOUR": "25",
		"PASSERELLE_SEND_RATE":     "0",
		"PASSERELLE_QUIET_HOURS":   "21-30",
		"PASSERELLE_TIMEZONE":      "Mars/Olympus",
		"PASSERELLE_ADMINS":        "12,abc",
		"PASSERELLE_PARTNERS":      "/nonexistent/partners.yaml",
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"check"}, envOf(env), strings.NewReader(""), &out, &out)
	if err == nil {
		t.Fatalf("check passed:\n%s", out.String())
	}
	for _, want := range []string{
		"TELEGRAM_BOT_TOKEN: not shaped", "PASSERELLE_STORE: unknown kind", "PASSERELLE_LISTEN: want [host]:port",
		"PASSERELLE_REMINDER_HOUR", "PASSERELLE_SEND_RATE", "PASSERELLE_QUIET_HOURS", "PASSERELLE_TIMEZONE",
		`PASSERELLE_ADMINS: "abc"`, "PASSERELLE_OPERATOR_NAME is not set", "PASSERELLE_OPERATOR_CONTACT is not set",
		"PASSERELLE_PARTNERS",
	} {
		n := 0
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, want) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("check: %q on %d lines; want one:\n%s", want, n, out.String())
		}
	}
	if strings.Contains(out.String(), "not-a-token") {
		t.Error("check printed the token")
	}
}

func TestCheckConnect(t *testing.T) {
	t.Parallel()
	env := runEnv()
	env["PASSERELLE_STORE"] = "bolt:" + t.TempDir() + "/p.db"
	env["PASSERELLE_LISTEN"] = freeAddr(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check", "--connect"}, envOf(env), strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("check --connect: %v\n%s", err, out.String())
	}
	for _, want := range []string{"store: ok", "listen: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check --connect lacks %q:\n%s", want, out.String())
		}
	}
	// A Redis where nothing listens, and a taken port.
	env["PASSERELLE_STORE"] = "redis://" + freeAddr(t) + "/0"
	ln := httptest.NewServer(nil)
	defer ln.Close()
	env["PASSERELLE_LISTEN"] = strings.TrimPrefix(ln.URL, "http://")
	out.Reset()
	if err := run(context.Background(), []string{"check", "--connect"}, envOf(env), strings.NewReader(""), &out, &out); err == nil {
		t.Fatalf("check --connect passed:\n%s", out.String())
	}
	for _, want := range []string{"store: 1 problem", "listen: 1 problem"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check --connect lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunNeedsOperator(t *testing.T) {
	t.Parallel()
	env := runEnv()
	delete(env, "PASSERELLE_OPERATOR_NAME")
	var out bytes.Buffer
	err := run(context.Background(), []string{"run"}, envOf(env), strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "PASSERELLE_OPERATOR_NAME") {
		t.Errorf("run without the operator's name = %v; want an error naming PASSERELLE_OPERATOR_NAME", err)
	}
}
