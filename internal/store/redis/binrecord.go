package redis

// Binary records (format 2): what the resident hash holds since values are
// sealed (internal/seal). Sealing adds 29 bytes to a value, and a hash
// stays a compact listpack only while every value is at most 64 bytes, so
// the plaintext must stay under 36 bytes: a profile is about 19, a
// document without label about 15 (21 with every optional date). The
// text format 1 (record.go) is still read, for records written before.
//
//	profile   2 | created | lastSeen | lang | chat | flags | case | partner | warned
//	document  2 | kind | mention | holder | flags | expiry | since | created | chat
//	            | [filed] [apiExpiry] [arrival] | [kind text] [mention text] [holder text]
//
//   - created, lastSeen, warned (times): a signed varint of Unix seconds,
//     plus one when not negative; 0 for the zero time. They come back in
//     UTC, to the second.
//   - Dates: a signed varint of days since 2020-01-01 (two bytes until
//     2042).
//   - chat: a signed varint of chat id minus user id (0 in a private chat).
//   - Texts (lang, partner, and kind, mention or holder without a code): an
//     unsigned varint length, then the bytes.
//   - Profile flags: 1 = Blocked, 2 = News. case: a signed varint of OpenCase.
//   - kind, mention, holder: one byte, the position in the code tables of
//     record.go, or 0xFF with the text at the end.
//   - Document flags: 1 FirstMultiYear, 2 Stopped, 4 Filed, 8 APIExpiry,
//     16 Arrival (the dates present, in that order).
//   - The label is not in the record: it is sealed on its own, in the
//     field l:<id>, present only when set.
//
// A field added to bot.Profile or bot.Document must be added here
// (TestRecordCoversFields), at the end of the record: older records,
// shorter, read as zero.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// recordV2 is the first byte of a binary record.
const recordV2 = 2

// literal marks a kind, mention or holder without code.
const literal = 0xFF

// dayZero is the day dates count from.
var dayZero = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	s := t.Unix()
	if s >= 0 {
		s++
	}
	return binary.AppendVarint(b, s)
}

func appendDate(b []byte, d permit.Date) []byte {
	days := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix()/86400 - dayZero
	return binary.AppendVarint(b, days)
}

func appendText(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// codeOf returns v's code byte, or literal.
func codeOf[T ~string](c codes[T], v T) byte {
	if ch, ok := c.code[v]; ok {
		for i := range len(codeChars) {
			if codeChars[i] == ch {
				return byte(i)
			}
		}
	}
	return literal
}

// encodeProfileBin returns p's binary record. p.UserID and p.Schema are
// not in it.
func encodeProfileBin(p bot.Profile) []byte {
	b := make([]byte, 0, 24+len(p.Lang)+len(p.Partner))
	b = append(b, recordV2)
	b = appendTime(b, p.Created)
	b = appendTime(b, p.LastSeen)
	b = appendText(b, p.Lang)
	b = binary.AppendVarint(b, p.ChatID-p.UserID)
	var flags byte
	if p.Blocked {
		flags |= 1
	}
	if p.News {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, p.OpenCase)
	b = appendText(b, p.Partner)
	return appendTime(b, p.Warned)
}

// binReader reads a binary record, remembering the first error.
type binReader struct {
	b   []byte
	err error
}

var errShort = errors.New("record too short")

func (r *binReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// more reports whether bytes are left (an older, shorter record ends).
func (r *binReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *binReader) byte() byte {
	if len(r.b) == 0 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *binReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) text() string {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.fail(errShort)
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

func (r *binReader) time() time.Time {
	s := r.varint()
	switch {
	case s == 0:
		return time.Time{}
	case s > 0:
		s--
	}
	return time.Unix(s, 0).UTC()
}

func (r *binReader) date() permit.Date {
	days := r.varint()
	if r.err != nil {
		return permit.Date{}
	}
	t := time.Unix((days+dayZero)*86400, 0).UTC()
	d, err := permit.NewDate(t.Year(), t.Month(), t.Day())
	if err != nil {
		r.fail(err)
	}
	return d
}

// decodeProfileBin reads the binary record v of resident userID.
func decodeProfileBin(userID int64, v []byte) (bot.Profile, error) {
	if len(v) == 0 || v[0] != recordV2 {
		return bot.Profile{}, errors.New("unknown record format")
	}
	r := &binReader{b: v[1:]}
	p := bot.Profile{Schema: recordSchema, UserID: userID}
	p.Created = r.time()
	p.LastSeen = r.time()
	p.Lang = r.text()
	p.ChatID = userID + r.varint()
	flags := r.byte()
	if flags&^3 != 0 {
		r.fail(fmt.Errorf("unknown profile flags %#x", flags))
	}
	p.Blocked, p.News = flags&1 != 0, flags&2 != 0
	p.OpenCase = r.varint()
	p.Partner = r.text()
	if r.more() {
		p.Warned = r.time()
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail(fmt.Errorf("%d bytes after the record", len(r.b)))
	}
	if r.err != nil {
		return bot.Profile{}, r.err
	}
	return p, nil
}

// Document flags.
const (
	docMulti   = 1
	docStopped = 2
	docFiled   = 4
	docAPI     = 8
	docArrival = 16
)

// encodeDocumentBin returns d's binary record; d must pass checkDocument.
// d.UserID, d.ID, d.Schema and d.Label are not in it.
func encodeDocumentBin(d bot.Document) []byte {
	b := make([]byte, 0, 32)
	b = append(b, recordV2, codeOf(kindCodes, d.Kind), codeOf(mentionCodes, d.Mention), codeOf(holderCodes, d.Holder))
	var flags byte
	if d.FirstMultiYear {
		flags |= docMulti
	}
	if d.Stopped {
		flags |= docStopped
	}
	if d.Filed != nil {
		flags |= docFiled
	}
	if d.APIExpiry != nil {
		flags |= docAPI
	}
	if d.Arrival != nil {
		flags |= docArrival
	}
	b = append(b, flags)
	b = appendDate(b, d.Expiry)
	b = appendDate(b, d.Since)
	b = appendTime(b, d.Created)
	b = binary.AppendVarint(b, d.ChatID-d.UserID)
	for _, opt := range []*permit.Date{d.Filed, d.APIExpiry, d.Arrival} {
		if opt != nil {
			b = appendDate(b, *opt)
		}
	}
	if b[1] == literal {
		b = appendText(b, string(d.Kind))
	}
	if b[2] == literal {
		b = appendText(b, string(d.Mention))
	}
	if b[3] == literal {
		b = appendText(b, string(d.Holder))
	}
	return b
}

// decodeCode reads a code byte, or with literal the text at the end.
func decodeCode[T ~string](r *binReader, c codes[T], code byte) T {
	if code == literal {
		return T(r.text())
	}
	if int(code) < len(c.values) {
		return c.values[code]
	}
	r.fail(fmt.Errorf("unknown code %d", code))
	return ""
}

// decodeDocumentBin reads the binary record v of document id of resident
// userID, with its label.
func decodeDocumentBin(userID int64, id string, v []byte, label string) (bot.Document, error) {
	if len(v) == 0 || v[0] != recordV2 {
		return bot.Document{}, errors.New("unknown record format")
	}
	r := &binReader{b: v[1:]}
	kind, mention, holder, flags := r.byte(), r.byte(), r.byte(), r.byte()
	if flags&^(docMulti|docStopped|docFiled|docAPI|docArrival) != 0 {
		r.fail(fmt.Errorf("unknown document flags %#x", flags))
	}
	d := bot.Document{Schema: recordSchema, UserID: userID, ID: id, Label: label,
		FirstMultiYear: flags&docMulti != 0, Stopped: flags&docStopped != 0}
	d.Expiry = r.date()
	d.Since = r.date()
	d.Created = r.time()
	d.ChatID = userID + r.varint()
	opt := func(bit byte) *permit.Date {
		if flags&bit == 0 {
			return nil
		}
		x := r.date()
		return &x
	}
	d.Filed, d.APIExpiry, d.Arrival = opt(docFiled), opt(docAPI), opt(docArrival)
	d.Kind = decodeCode(r, kindCodes, kind)
	d.Mention = decodeCode(r, mentionCodes, mention)
	d.Holder = decodeCode(r, holderCodes, holder)
	if r.err == nil && len(r.b) > 0 {
		r.fail(fmt.Errorf("%d bytes after the record", len(r.b)))
	}
	if r.err != nil {
		return bot.Document{}, r.err
	}
	return d, nil
}
