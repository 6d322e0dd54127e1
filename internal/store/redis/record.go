package redis

// Records of format 1: the compact text encoding of bot.Profile and
// bot.Document that the resident hash (redis.go) held before values were
// sealed. Records are now written in format 2 (binrecord.go), sealed; a
// record of format 1 is still read, and written again in format 2 at the
// next write. Every byte counts, because Redis stores a hash whose fields
// and values all fit in hash-max-listpack-value (64 bytes by default) as
// one small listpack, and a single longer value turns the resident's whole
// hash into a hashtable several times bigger.
//
// A record is text: its format, "1", then fields separated by '|', with
// trailing empty fields left out:
//
//	profile   1|created|lastSeen|lang|chat|flags|case|partner
//	document  1|class|expiry|since|created|chat|filed|apiExpiry|arrival|kind|mention|holder
//
//   - Times are Unix seconds in decimal, empty for the zero time. They come
//     back in UTC without their fraction of a second (storetest allows it:
//     the bot shows these times as dates and compares LastSeen by the hour).
//   - Dates are YYYYMMDD; an absent optional date is empty.
//   - chat is empty when it equals the user id, which is in the key (the
//     document id is in the field name).
//   - flags (profile): "b" when Blocked, then "n" when News. case: OpenCase, empty for 0.
//   - class (document): one character each for the kind, the mention and
//     the holder (the code tables below), then "x" when FirstMultiYear and
//     "s" when Stopped. A value that has no code is written as '~' and its
//     text goes in the kind, mention or holder field at the end.
//   - lang, partner and those kind, mention and holder texts are escaped:
//     '%' as "%25" and '|' as "%7C", so any text round-trips.
//   - The label is not in the record: it is the field l:<id> of the
//     resident hash, verbatim, present only when set. A document without
//     label is at most 64 bytes (in a private chat), and a label of up to
//     64 bytes (30 characters of most scripts) keeps the hash a listpack.
//
// Format 1 holds schema 1 of bot.Profile and bot.Document (bot.SchemaVersion
// is not stored separately: a record's format implies it). A field added
// to bot.Profile or bot.Document must be added here too, or it is lost:
// TestRecordCoversFields fails until it is. New optional fields go at the
// end (text escaped with escapeField), where older records, which lack
// them, read as zero, so format 1 stays. Anything else needs a new format,
// which the decoder must keep reading next to the old ones; the
// conformance suite fails until then, because records read back with
// Schema 1.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// recordV1 is the format of the records this version writes.
const recordV1 = "1"

// recordSchema is the bot.SchemaVersion that format 1 holds.
const recordSchema = 1

// codeChars are the class codes, by position in a code table.
const codeChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// noCode stands in the class for a value without code.
const noCode = '~'

// The code tables of the class field. Append only: a stored code is a
// position in these lists. A value missing here is still stored (as text),
// but TestRecordCodesCoverPermit fails until it gets a code.
var (
	kindCodes = newCodes(permit.Kind(""),
		permit.KindCST, permit.KindCSP, permit.KindCSP4, permit.KindCarteResident,
		permit.KindRLDUE, permit.KindCRA1, permit.KindCRA10, permit.KindVLSTS,
		permit.KindAPI, permit.KindRecepisse, permit.KindAPS, permit.KindPassport,
		permit.KindDomiciliation)
	mentionCodes = newCodes(permit.Mention(""),
		permit.MentionEtudiant, permit.MentionSalarie, permit.MentionTravailleurTemporaire,
		permit.MentionVPF, permit.MentionFamilleFrancais, permit.MentionProtection,
		permit.MentionVisiteur, permit.MentionTalent, permit.MentionSaisonnier,
		permit.MentionMalade, permit.MentionApatride, permit.MentionOther,
		permit.MentionUnknown)
	holderCodes = newCodes(bot.Holder(""), bot.HolderMe, bot.HolderChild, bot.HolderHelped)
)

// codes maps the values of a string type to one-character codes.
type codes[T ~string] struct {
	values []T
	code   map[T]byte
}

func newCodes[T ~string](values ...T) codes[T] {
	if len(values) > len(codeChars) {
		panic("redis store: too many codes")
	}
	c := codes[T]{values: values, code: make(map[T]byte, len(values))}
	for i, v := range values {
		c.code[v] = codeChars[i]
	}
	return c
}

// encode returns v's code, or noCode and v's escaped text.
func (c codes[T]) encode(v T) (byte, string) {
	if b, ok := c.code[v]; ok {
		return b, ""
	}
	return noCode, escapeField(string(v))
}

// decode reads code b, or with noCode the escaped text lit.
func (c codes[T]) decode(b byte, lit string) (T, error) {
	if b == noCode {
		s, err := unescapeField(lit)
		return T(s), err
	}
	if i := strings.IndexByte(codeChars, b); i >= 0 && i < len(c.values) {
		return c.values[i], nil
	}
	return "", fmt.Errorf("unknown code %q", b)
}

// ---- fields ----

var fieldEscaper = strings.NewReplacer("%", "%25", "|", "%7C")

func escapeField(s string) string {
	if !strings.ContainsAny(s, "%|") {
		return s
	}
	return fieldEscaper.Replace(s)
}

var errEscape = errors.New("bad escape")

func unescapeField(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch {
		case strings.HasPrefix(s[i:], "%25"):
			b.WriteByte('%')
		case strings.HasPrefix(s[i:], "%7C"):
			b.WriteByte('|')
		default:
			return "", errEscape
		}
		s = s[i+3:]
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.Unix(), 10)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(n, 0).UTC(), nil
}

// formatDate writes d as YYYYMMDD; d must be valid (checkDocument).
func formatDate(d permit.Date) string {
	var b [8]byte
	n := d.Year*10000 + int(d.Month)*100 + d.Day
	for i := 7; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

func formatOptDate(d *permit.Date) string {
	if d == nil {
		return ""
	}
	return formatDate(*d)
}

func parseDate(s string) (permit.Date, error) {
	if len(s) != 8 {
		return permit.Date{}, fmt.Errorf("date %q: want YYYYMMDD", s)
	}
	n := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return permit.Date{}, fmt.Errorf("date %q: want YYYYMMDD", s)
		}
		n = n*10 + int(s[i]-'0')
	}
	return permit.NewDate(n/10000, time.Month(n/100%100), n%100)
}

func parseOptDate(s string) (*permit.Date, error) {
	if s == "" {
		return nil, nil
	}
	d, err := parseDate(s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// formatChat writes a chat id, empty when it is the user's private chat.
func formatChat(chatID, userID int64) string {
	if chatID == userID {
		return ""
	}
	return strconv.FormatInt(chatID, 10)
}

func parseChat(s string, userID int64) (int64, error) {
	if s == "" {
		return userID, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// joinRecord writes format recordV1 and fields, leaving out trailing empty
// fields.
func joinRecord(fields []string) string {
	n := len(fields)
	for n > 0 && fields[n-1] == "" {
		n--
	}
	var b strings.Builder
	size := len(recordV1) + n
	for _, f := range fields[:n] {
		size += len(f)
	}
	b.Grow(size)
	b.WriteString(recordV1)
	for _, f := range fields[:n] {
		b.WriteByte('|')
		b.WriteString(f)
	}
	return b.String()
}

// splitRecord checks v's format and returns its fields, padded with empty
// ones to n.
func splitRecord(v string, n int) ([]string, error) {
	format, rest, _ := strings.Cut(v, "|")
	if format != recordV1 {
		return nil, fmt.Errorf("unknown record format %q", format)
	}
	fields := make([]string, n)
	if rest == "" {
		return fields, nil
	}
	parts := strings.Split(rest, "|")
	if len(parts) > n {
		return nil, fmt.Errorf("%d fields, want at most %d", len(parts), n)
	}
	copy(fields, parts)
	return fields, nil
}

// ---- profile ----

// encodeProfile returns p's record. p.UserID and p.Schema are not in it.
func encodeProfileText(p bot.Profile) string {
	flags := ""
	if p.Blocked {
		flags = "b"
	}
	if p.News {
		flags += "n"
	}
	openCase := ""
	if p.OpenCase != 0 {
		openCase = strconv.FormatInt(p.OpenCase, 10)
	}
	return joinRecord([]string{
		formatTime(p.Created), formatTime(p.LastSeen), escapeField(p.Lang),
		formatChat(p.ChatID, p.UserID), flags, openCase, escapeField(p.Partner),
	})
}

// decodeProfileRecord reads the record v of resident userID.
func decodeProfileText(userID int64, v string) (bot.Profile, error) {
	f, err := splitRecord(v, 7)
	if err != nil {
		return bot.Profile{}, err
	}
	p := bot.Profile{Schema: recordSchema, UserID: userID}
	var errs [7]error
	p.Created, errs[0] = parseTime(f[0])
	p.LastSeen, errs[1] = parseTime(f[1])
	p.Lang, errs[2] = unescapeField(f[2])
	p.ChatID, errs[3] = parseChat(f[3], userID)
	for _, c := range f[4] {
		switch c {
		case 'b':
			p.Blocked = true
		case 'n':
			p.News = true
		default:
			errs[4] = fmt.Errorf("unknown flags %q", f[4])
		}
	}
	if f[5] != "" {
		p.OpenCase, errs[5] = strconv.ParseInt(f[5], 10, 64)
	}
	p.Partner, errs[6] = unescapeField(f[6])
	if err := errors.Join(errs[:]...); err != nil {
		return bot.Profile{}, err
	}
	return p, nil
}

// ---- document ----

// encodeDocument returns d's record; d must pass checkDocument. d.UserID,
// d.ID, d.Schema and d.Label are not in it.
func encodeDocumentText(d bot.Document) string {
	k, kindText := kindCodes.encode(d.Kind)
	m, mentionText := mentionCodes.encode(d.Mention)
	h, holderText := holderCodes.encode(d.Holder)
	class := []byte{k, m, h}
	if d.FirstMultiYear {
		class = append(class, 'x')
	}
	if d.Stopped {
		class = append(class, 's')
	}
	return joinRecord([]string{
		string(class), formatDate(d.Expiry), formatDate(d.Since), formatTime(d.Created),
		formatChat(d.ChatID, d.UserID),
		formatOptDate(d.Filed), formatOptDate(d.APIExpiry), formatOptDate(d.Arrival),
		kindText, mentionText, holderText,
	})
}

// decodeDocumentRecord reads the record v of document id of resident
// userID, with its label.
func decodeDocumentText(userID int64, id, v, label string) (bot.Document, error) {
	f, err := splitRecord(v, 11)
	if err != nil {
		return bot.Document{}, err
	}
	class := f[0]
	if len(class) < 3 {
		return bot.Document{}, fmt.Errorf("class %q: want at least 3 codes", class)
	}
	d := bot.Document{Schema: recordSchema, UserID: userID, ID: id, Label: label}
	var errs [11]error
	d.Kind, errs[0] = kindCodes.decode(class[0], f[8])
	d.Mention, errs[1] = mentionCodes.decode(class[1], f[9])
	d.Holder, errs[2] = holderCodes.decode(class[2], f[10])
	for _, c := range []byte(class[3:]) {
		switch c {
		case 'x':
			d.FirstMultiYear = true
		case 's':
			d.Stopped = true
		default:
			errs[3] = fmt.Errorf("class %q: unknown flag %q", class, c)
		}
	}
	d.Expiry, errs[4] = parseDate(f[1])
	d.Since, errs[5] = parseDate(f[2])
	d.Created, errs[6] = parseTime(f[3])
	d.ChatID, errs[7] = parseChat(f[4], userID)
	d.Filed, errs[8] = parseOptDate(f[5])
	d.APIExpiry, errs[9] = parseOptDate(f[6])
	d.Arrival, errs[10] = parseOptDate(f[7])
	if err := errors.Join(errs[:]...); err != nil {
		return bot.Document{}, err
	}
	return d, nil
}
