// Package ical writes iCalendar files (RFC 5545) of all-day events with a
// display alarm: the resident's deadlines, for their own calendar app. It
// writes only what it needs (VEVENT with DTSTART/DTEND as dates, SUMMARY,
// DESCRIPTION, VALARM) and does it exactly: CRLF line ends, TEXT escaping,
// lines folded at 75 octets without splitting a UTF-8 sequence.
package ical

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one all-day event.
type Event struct {
	UID         string // globally unique and stable, so a new import updates rather than duplicates
	Date        time.Time
	Summary     string
	Description string
	// Alarm is when, after the start of the day, the calendar app alerts
	// (e.g. 10 h: at 10:00 on the day). Negative or zero: at the start.
	Alarm time.Duration
}

// Calendar is a VCALENDAR of events.
type Calendar struct {
	ProdID string // e.g. "-//Passerelle//Passerelle//EN"
	Name   string // shown by some apps (X-WR-CALNAME); may be empty
	Stamp  time.Time
	Events []Event
}

// Bytes returns the calendar as an .ics file.
func (c Calendar) Bytes() []byte {
	var b bytes.Buffer
	_ = c.Write(&b) // a bytes.Buffer does not fail
	return b.Bytes()
}

// Write writes the calendar to w.
func (c Calendar) Write(w io.Writer) error {
	var b bytes.Buffer
	line := func(name, value string) { writeFolded(&b, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", Text(c.ProdID))
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	if c.Name != "" {
		line("X-WR-CALNAME", Text(c.Name))
	}
	stamp := c.Stamp.UTC().Format("20060102T150405Z")
	for _, e := range c.Events {
		line("BEGIN", "VEVENT")
		line("UID", Text(e.UID))
		line("DTSTAMP", stamp)
		line("DTSTART;VALUE=DATE", e.Date.Format("20060102"))
		line("DTEND;VALUE=DATE", e.Date.AddDate(0, 0, 1).Format("20060102"))
		line("SUMMARY", Text(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION", Text(e.Description))
		}
		line("TRANSP", "TRANSPARENT")
		line("BEGIN", "VALARM")
		line("ACTION", "DISPLAY")
		line("DESCRIPTION", Text(e.Summary))
		line("TRIGGER", Duration(e.Alarm))
		line("END", "VALARM")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	_, err := w.Write(b.Bytes())
	return err
}

// Text escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon and
// comma are escaped, new lines become \n, other control characters go.
func Text(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r < 0x20 && r != '\t' || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Duration writes d as a DURATION value (RFC 5545 3.3.6), e.g. PT10H.
func Duration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	out := "PT"
	if h > 0 {
		out += fmt.Sprintf("%dH", h)
	}
	if m > 0 {
		out += fmt.Sprintf("%dM", m)
	}
	if s > 0 || out == "PT" {
		out += fmt.Sprintf("%dS", s)
	}
	return out
}

// writeFolded writes one content line, folded so that no line exceeds 75
// octets (RFC 5545 3.1), never inside a UTF-8 sequence, ended by CRLF.
func writeFolded(b *bytes.Buffer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
