package digits_test

import (
	"testing"

	"github.com/passerelle-bot/passerelle/internal/digits"
)

func TestASCII(t *testing.T) {
	tests := []struct {
		in   rune
		want rune
		ok   bool
	}{
		{'٠', '0', true}, {'٩', '9', true}, // Eastern Arabic
		{'۰', '0', true}, {'۹', '9', true}, // Persian
		{'5', '5', false}, {'a', 'a', false}, {'\u066B', '\u066B', false},
	}
	for _, tt := range tests {
		if got, ok := digits.ASCII(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ASCII(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
