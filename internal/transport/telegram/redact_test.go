package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestRedact(t *testing.T) {
	const tok = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"
	tests := []struct{ in, want string }{
		{"Post \"http://h/bot" + tok + "/getMe\": EOF", "Post \"http://h/bot<token>/getMe\": EOF"},
		{"secret half ABCdefGHIjklMNOpqrSTUvwxYZ012345 alone", "secret half <token> alone"},
		{"another 987654321:ZZZZZZZZZZZZZZZZZZZZZZZZZZ token", "another <token> token"},
		{"nothing here: 12:34", "nothing here: 12:34"},
	}
	for _, tt := range tests {
		if got := redact(tt.in, tok); got != tt.want {
			t.Errorf("redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactError(t *testing.T) {
	const tok = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"
	ue := &url.Error{Op: "Post", URL: "http://h/bot" + tok + "/getMe", Err: context.Canceled}
	err := redactError(ue, tok)
	if strings.Contains(err.Error(), tok) {
		t.Fatalf("redactError = %q", err)
	}
	var got *url.Error
	if !errors.As(err, &got) || !errors.Is(err, context.Canceled) {
		t.Errorf("redactError(url.Error) = %#v; want a *url.Error wrapping context.Canceled", err)
	}
	wrapped := fmt.Errorf("call: %w", ue)
	err = redactError(wrapped, tok)
	if strings.Contains(err.Error(), tok) || !errors.Is(err, context.Canceled) {
		t.Errorf("redactError(wrapped) = %q; want redacted, still context.Canceled", err)
	}
	if errors.As(err, &got) {
		t.Error("the unredacted *url.Error is reachable through errors.As")
	}
	plain := errors.New("x")
	if redactError(plain, tok) != plain {
		t.Error("redactError changed an error without the token")
	}
}

func TestScrubURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.telegram.org/bot1/getMe", "https://api.telegram.org/bot1/getMe"},
		{"https://alice:pw@h:8081/bot1/getMe", "https://redacted@h:8081/bot1/getMe"},
		{"https://h/?key=SECRET/bot1/getMe", "https://h/?redacted"},
		{`Post "http://u:p@h/x?k=v": EOF`, `Post "http://redacted@h/x?redacted": EOF`},
	}
	for _, tt := range tests {
		if got := redact(tt.in, ""); got != tt.want {
			t.Errorf("redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestAPIURLCredentialsNeverShown: a Bot API URL with credentials (user and
// password, or a key in the query) never appears in New's error or in the
// logs, even when the request fails with an error quoting the URL.
func TestAPIURLCredentialsNeverShown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	const tok = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"
	for _, tt := range []struct {
		url     string
		secrets []string
	}{
		{"http://alice-user:Pa55word-secret@" + closed, []string{"alice-user", "Pa55word-secret"}},
		{"http://" + closed + "/?key=QueryKey-secret", []string{"QueryKey-secret"}},
		{"http://bob:" + url.QueryEscape("p@ss w0rd/!") + "@" + closed + "/x?token=Zz9-secret#frag", []string{"bob", "p@ss w0rd/!", url.QueryEscape("p@ss w0rd/!"), "Zz9-secret", "frag"}},
	} {
		var logs strings.Builder
		var mu sync.Mutex
		logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logs.Write(p)
		}), &slog.HandlerOptions{Level: slog.LevelDebug}))
		_, err := New(context.Background(), Config{Token: tok, APIURL: tt.url, Logger: logger})
		if err == nil {
			t.Fatalf("New(%s) succeeded with nothing listening", tt.url)
		}
		mu.Lock()
		shown := err.Error() + "\n" + logs.String()
		mu.Unlock()
		for _, s := range append(tt.secrets, tok) {
			if strings.Contains(shown, s) {
				t.Errorf("%q shown:\n%s", s, shown)
			}
		}
		if !strings.Contains(shown, closed) {
			t.Errorf("the error no longer says where it failed:\n%s", shown)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestScrubUnparseableURL(t *testing.T) {
	in := `parse "http://bob:p@ss w0rd@h:1/x?k=secret-v": net/url: invalid userinfo`
	got := redact(in, "")
	for _, s := range []string{"bob", "p@ss", "w0rd", "secret-v"} {
		if strings.Contains(got, s) {
			t.Errorf("redact(%q) = %q: %q shown", in, got, s)
		}
	}
}
