package ical_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"github.com/passerelle-bot/passerelle/internal/ical"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a, b; c\\d", `a\, b\; c\\d`},
		{"line one\nline two\r\nthree", `line one\nline two\nthree`},
		{"bell\a and nul\x00", "bell and nul"},
		{"⁨30/06/2027⁩ عربي", "⁨30/06/2027⁩ عربي"},
	}
	for _, tt := range tests {
		if got := ical.Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "PT0S", 10 * time.Hour: "PT10H", 90 * time.Minute: "PT1H30M", 45 * time.Second: "PT45S"} {
		if got := ical.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q; want %q", d, got, want)
		}
	}
}

// TestRoundTrip writes a calendar with long, escaped, multi-byte texts
// and parses it back with golang-ical.
func TestRoundTrip(t *testing.T) {
	long := strings.Repeat("Une date à vérifier, avec ; des virgules, et de l'arabe: تاريخ ", 5)
	cal := ical.Calendar{ProdID: "-//Passerelle//Test//FR", Name: "Passerelle", Stamp: time.Date(2026, 12, 12, 15, 0, 0, 0, time.UTC),
		Events: []ical.Event{{UID: "a@passerelle", Date: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), Summary: "Passerelle", Description: long + "\nfin", Alarm: 10 * time.Hour}}}
	data := cal.Bytes()
	checkLines(t, data)
	parsed, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	events := parsed.Events()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	e := events[0]
	if d, err := e.GetAllDayStartAt(); err != nil || d.Format("2006-01-02") != "2027-06-30" {
		t.Errorf("start %v, %v", d, err)
	}
	if got := e.GetProperty(ics.ComponentPropertyDescription).Value; got != long+"\nfin" {
		t.Errorf("description after unfolding and unescaping:\n%q\nwant\n%q", got, long+"\nfin")
	}
}

func checkLines(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Fatal("no final CRLF")
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("folding split a character: %q", line)
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("bare line break in %q", line)
		}
	}
}

// FuzzCalendar: whatever the texts, every line is at most 75 octets,
// valid UTF-8, and the file parses.
func FuzzCalendar(f *testing.F) {
	f.Add("Passerelle: a date to check", "Carte – my son\n\nFile now, get help.")
	f.Add("عربي ⁨30/06/2027⁩", strings.Repeat("é", 100))
	f.Fuzz(func(t *testing.T, summary, desc string) {
		if !utf8.ValidString(summary) || !utf8.ValidString(desc) {
			return
		}
		cal := ical.Calendar{ProdID: "-//P//T//EN", Stamp: time.Unix(0, 0), Events: []ical.Event{{UID: "u@p", Date: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Summary: summary, Description: desc, Alarm: time.Hour}}}
		data := cal.Bytes()
		checkLines(t, data)
		if _, err := ics.ParseCalendar(bytes.NewReader(data)); err != nil {
			t.Fatalf("parse: %v", err)
		}
	})
}
