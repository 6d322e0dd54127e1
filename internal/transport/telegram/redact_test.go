package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
