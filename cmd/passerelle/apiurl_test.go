package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAPIURLRules: TELEGRAM_API_URL must be https, except to this machine
// (a local Bot API server); credentials in it are never echoed.
func TestAPIURLRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want string // "" accepted, else a part of the error
	}{
		{"https://api.telegram.org", ""},
		{"https://alice:Pa55-secret@bot-api.example.org:8443/", ""},
		{"http://127.0.0.1:8081", ""},
		{"http://127.8.9.10", ""},
		{"http://[::1]:8081/", ""},
		{"http://localhost:8081", ""},
		{"http://LOCALHOST", ""},
		{"http://bot-api.example.org", "plain http sends the bot token in clear: use https"},
		{"http://10.0.0.5:8081", "plain http"},
		{"http://[::2]:8081", "plain http"},
		{"http://localhost.evil.example", "plain http"},
		{"http://alice:Pa55-secret@bot-api.example.org", "got http://redacted@bot-api.example.org"},
		{"https://bot-api.example.org/?key=Query-secret", "no query or fragment"},
		{"ftp://bot-api.example.org", "want an https URL"},
		{"https://", "want an https URL"},
		{"http://alice:Pa55%zz-secret@h", "not a valid URL"},
	}
	for _, tt := range tests {
		err := checkAPIURL(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v; want accepted", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v; want an error with %q", tt.url, err, tt.want)
		}
		if err != nil {
			for _, secret := range []string{"alice", "secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s: the error shows %q: %v", tt.url, secret, err)
				}
			}
		}
	}
}

// TestCheckRefusesPlainHTTPAPIURL: `passerelle check` names the problem on
// one line, without the URL's password.
func TestCheckRefusesPlainHTTPAPIURL(t *testing.T) {
	t.Parallel()
	env := runEnv()
	env["TELEGRAM_API_URL"] = "http://alice:Pa55-secret@bot-api.example.org"
	var out bytes.Buffer
	err := run(context.Background(), []string{"check"}, envOf(env), strings.NewReader(""), &out, &out)
	if err == nil {
		t.Fatalf("check accepted plain http to another machine:\n%s", out.String())
	}
	n := 0
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "TELEGRAM_API_URL: plain http") && strings.Contains(line, "use https") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("check: the TELEGRAM_API_URL line %d times; want once:\n%s", n, out.String())
	}
	if strings.Contains(out.String(), "Pa55-secret") || strings.Contains(out.String(), "alice") {
		t.Errorf("check shows the URL's credentials:\n%s", out.String())
	}
	// run refuses it too, with the same line.
	out.Reset()
	err = run(context.Background(), []string{"run"}, envOf(env), strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_API_URL: plain http") || strings.Contains(err.Error(), "Pa55-secret") {
		t.Errorf("run = %v; want the TELEGRAM_API_URL refusal, without the password", err)
	}
}
