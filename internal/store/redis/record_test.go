package redis

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/seal"
)

// The record tests need no Redis: they pin the encoding of record.go.

func datePtr(y int, m time.Month, d int) *permit.Date {
	return &permit.Date{Year: y, Month: m, Day: d}
}

// fullTestDocument sets every field, with values that have codes.
func fullTestDocument(userID int64, id string) bot.Document {
	return bot.Document{
		UserID: userID, ChatID: userID, ID: id,
		Kind: permit.KindCarteResident, Mention: permit.MentionTravailleurTemporaire,
		Holder: bot.HolderHelped, Label: "мой сын «Ünïcödé» | % <b>&",
		Expiry:    permit.Date{Year: 2036, Month: 9, Day: 1},
		Filed:     datePtr(2036, 5, 2),
		APIExpiry: datePtr(2036, 12, 31),
		Arrival:   datePtr(2025, 9, 1),
		Since:     permit.Date{Year: 2026, Month: 3, Day: 14}, FirstMultiYear: true, Stopped: true,
		Created: time.Date(2026, 3, 14, 10, 26, 53, 123456789, time.FixedZone("CET", 3600)),
	}
}

// wantSecond is t as a record gives it back: to the second, in UTC.
func wantSecond(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Second).UTC()
}

func TestProfileRecordRoundTrip(t *testing.T) {
	at := time.Date(2025, 12, 31, 23, 59, 59, 999999999, time.FixedZone("CET", 3600))
	tests := []bot.Profile{
		{UserID: 7700000011, ChatID: 7700000011},
		{UserID: 7700000012, ChatID: 7700000012, Lang: "zh-Hans", Created: at, LastSeen: at.Add(time.Hour), Blocked: true, Partner: "asso-lyon|1%", OpenCase: 1 << 40},
		{UserID: 7700000014, ChatID: 7700000014, OpenCase: -1, Partner: "cimade-69"},
		{UserID: 7700000013, ChatID: -1009900004321, Lang: "fa"},
		{UserID: 1<<63 - 1, ChatID: -1 << 63, Lang: "a|b%7C%c|"},
		{UserID: -5, ChatID: 0, Created: time.Unix(-1, 0), LastSeen: time.Unix(0, 0)},
		{UserID: 7, ChatID: 7, Created: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), LastSeen: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{Schema: 99, UserID: 8, ChatID: 8},
	}
	for _, p := range tests {
		v := encodeProfileText(p)
		got, err := decodeProfileText(p.UserID, v)
		if err != nil {
			t.Fatalf("decode(%q): %v", v, err)
		}
		want := p
		want.Schema = bot.SchemaVersion
		want.Created, want.LastSeen = wantSecond(p.Created), wantSecond(p.LastSeen)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %q reads back as\n %+v, want\n %+v", v, got, want)
		}
	}
	// The common profile is small, and shows its format.
	p := bot.Profile{UserID: 7700000012, ChatID: 7700000012, Lang: "fr", Created: at, LastSeen: at}
	if v := encodeProfileText(p); v != "1|1767221999|1767221999|fr" {
		t.Errorf("encodeProfile = %q", v)
	}
}

func TestDocumentRecordRoundTrip(t *testing.T) {
	const uid = 7700000301
	full := fullTestDocument(uid, "1")
	group := testDocument(uid, "g")
	group.ChatID = -1009900004321
	unknown := testDocument(uid, "u")
	unknown.Kind, unknown.Mention, unknown.Holder = "new|kind%", "", "someone~"
	edges := testDocument(uid, "e")
	edges.Expiry, edges.Since, edges.Created = permit.Date{Year: 9999, Month: 12, Day: 31}, permit.Date{Year: 1, Month: 1, Day: 1}, time.Time{}
	tests := []bot.Document{testDocument(uid, "1"), full, group, unknown, edges, testDocument(-3, "neg")}
	for _, d := range tests {
		v := encodeDocumentText(d)
		got, err := decodeDocumentText(d.UserID, d.ID, v, d.Label)
		if err != nil {
			t.Fatalf("decode(%q): %v", v, err)
		}
		want := d
		want.Schema = bot.SchemaVersion
		want.Created = wantSecond(d.Created)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %q reads back as\n %+v, want\n %+v", v, got, want)
		}
		if strings.Contains(v, d.Label) && d.Label != "" {
			t.Errorf("record %q holds the label, which has its own field", v)
		}
	}
	d := testDocument(uid, "1")
	d.Mention = ""
	if v := encodeDocumentText(d); v != "1|101|20270630|20260314|1772355600||20270302" {
		t.Errorf("encodeDocument = %q", v)
	}
}

// TestDocumentRecordSize: every document without label, in a private
// chat, with any kind, mention and holder that has a code, every optional
// date and both flags, is at most 64 bytes: the resident hash stays a
// listpack under Redis's default hash-max-listpack-value.
func TestDocumentRecordSize(t *testing.T) {
	d := fullTestDocument(7700000301, "1")
	d.Label = ""
	d.Created = time.Date(2286, 11, 20, 0, 0, 0, 0, time.UTC) // the last 10-digit second
	longest := 0
	for _, k := range kindCodes.values {
		for _, m := range mentionCodes.values {
			for _, h := range holderCodes.values {
				d.Kind, d.Mention, d.Holder = k, m, h
				v := encodeDocumentText(d)
				longest = max(longest, len(v))
				if len(v) > 64 {
					t.Fatalf("record %q is %d bytes, want at most 64", v, len(v))
				}
			}
		}
	}
	t.Logf("longest record without label: %d bytes", longest)
}

// TestRecordCoversFields fails when bot.Profile or bot.Document gets a
// field: add it to the records (binrecord.go), or it is lost on Redis.
func TestRecordCoversFields(t *testing.T) {
	fields := func(v any) []string {
		var names []string
		for f := range reflect.TypeOf(v).Fields() {
			names = append(names, f.Name)
		}
		return names
	}
	profile := []string{"Schema", "UserID", "ChatID", "Lang", "Created", "LastSeen", "Blocked", "Partner", "OpenCase", "Warned", "News"}
	document := []string{"Schema", "UserID", "ChatID", "ID", "Kind", "Mention", "Holder", "Label",
		"Expiry", "Filed", "APIExpiry", "Arrival", "FirstMultiYear", "Since", "Stopped", "Created"}
	if got := fields(bot.Profile{}); !slices.Equal(got, profile) {
		t.Errorf("bot.Profile has fields %q; the Redis record knows %q: encode the new ones in record.go (and add them to this list)", got, profile)
	}
	if got := fields(bot.Document{}); !slices.Equal(got, document) {
		t.Errorf("bot.Document has fields %q; the Redis record knows %q: encode the new ones in record.go (and add them to this list)", got, document)
	}
}

// TestRecordCodesCoverPermit: every kind, mention and holder has a code,
// so that documents stay short; a value without one is stored as text.
func TestRecordCodesCoverPermit(t *testing.T) {
	for _, k := range permit.Kinds() {
		if _, text := kindCodes.encode(k); text != "" {
			t.Errorf("kind %q has no code: append it to kindCodes", k)
		}
	}
	for _, m := range permit.Mentions() {
		if _, text := mentionCodes.encode(m); text != "" {
			t.Errorf("mention %q has no code: append it to mentionCodes", m)
		}
	}
	for _, h := range []bot.Holder{bot.HolderMe, bot.HolderChild, bot.HolderHelped} {
		if _, text := holderCodes.encode(h); text != "" {
			t.Errorf("holder %q has no code: append it to holderCodes", h)
		}
	}
}

func TestRecordErrors(t *testing.T) {
	profiles := []string{
		"", "2|1|2", "1|x", "1|1|2|fr|c", "1|1|2|fr||z", "1|1|2|fr||||||", "1|1|2|a%zz", `{"v":1}`,
		"1|1|2|fr|||x", "1|1|2|fr||||a%7",
	}
	for _, v := range profiles {
		if p, err := decodeProfileText(1, v); err == nil {
			t.Errorf("decodeProfileText(%q) = %+v, want an error", v, p)
		}
	}
	documents := []string{
		"", "1", "1|10", "2|101|20270630|20260314", "1|101|20270230|20260314", "1|101|2027063|20260314",
		"1|1z1|20270630|20260314", "1|101q|20270630|20260314", "1|~01|20270630|20260314||||||%", "1|101|20270630|20260314|x",
		"1|101|20270630|20260314||||||||||", "1|101|20270630|20260314|||-1",
	}
	for _, v := range documents {
		if d, err := decodeDocumentText(1, "a", v, ""); err == nil {
			t.Errorf("decodeDocumentText(%q) = %+v, want an error", v, d)
		}
	}
}

func FuzzProfileRecord(f *testing.F) {
	f.Add(int64(7700000012), int64(7700000012), "fr", int64(1767221999), int64(0), true, "", int64(0))
	f.Add(int64(-1), int64(5), "a|%7C|", int64(-62135596800), int64(253402300799), false, "p|%", int64(-9))
	f.Fuzz(func(t *testing.T, user, chat int64, lang string, created, lastSeen int64, blocked bool, partner string, openCase int64) {
		p := bot.Profile{UserID: user, ChatID: chat, Lang: lang, Created: time.Unix(created, 0), LastSeen: time.Unix(lastSeen, 0), Blocked: blocked, Partner: partner, OpenCase: openCase}
		v := encodeProfileText(p)
		got, err := decodeProfileText(user, v)
		if err != nil {
			t.Fatalf("decode(%q): %v", v, err)
		}
		if got.Lang != lang || got.ChatID != chat || got.Blocked != blocked || got.Partner != partner || got.OpenCase != openCase ||
			!got.Created.Equal(wantSecond(p.Created)) || !got.LastSeen.Equal(wantSecond(p.LastSeen)) {
			t.Fatalf("%+v → %q → %+v", p, v, got)
		}
	})
}

func FuzzDocumentRecord(f *testing.F) {
	f.Add("cst", "salarie", "me", int64(7700000301), int64(7700000301), 20270630, 0, true)
	f.Add("new|~(kind)", "%", "", int64(-3), int64(9), 99991231, 10101, false)
	f.Fuzz(func(t *testing.T, kind, mention, holder string, user, chat int64, expiry, filed int, flags bool) {
		date := func(n int) (permit.Date, bool) {
			d, err := permit.NewDate(n/10000, time.Month(n/100%100), n%100)
			return d, err == nil
		}
		e, ok := date(expiry)
		if !ok {
			return
		}
		d := bot.Document{
			UserID: user, ChatID: chat, ID: "1", Kind: permit.Kind(kind), Mention: permit.Mention(mention),
			Holder: bot.Holder(holder), Expiry: e, Since: e, FirstMultiYear: flags, Stopped: !flags,
		}
		if fd, ok := date(filed); ok {
			d.Filed = &fd
		}
		v := encodeDocumentText(d)
		got, err := decodeDocumentText(user, "1", v, "")
		if err != nil {
			t.Fatalf("decode(%q): %v", v, err)
		}
		d.Schema = bot.SchemaVersion
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("%+v → %q → %+v", d, v, got)
		}
	})
}

// The binary records (binrecord.go), which the resident hash holds sealed.

func TestBinaryRecordRoundTrip(t *testing.T) {
	at := time.Date(2025, 12, 31, 23, 59, 59, 999999999, time.FixedZone("CET", 3600))
	profiles := []bot.Profile{
		{UserID: 7700000011, ChatID: 7700000011},
		{UserID: 7700000012, ChatID: 7700000012, Lang: "zh-Hans", Created: at, LastSeen: at.Add(time.Hour), Blocked: true, Partner: "asso-lyon|1%", OpenCase: 1 << 40, Warned: at.Add(2 * time.Hour)},
		{UserID: 7700000013, ChatID: -1009900004321, Lang: "fa"},
		{UserID: 1<<63 - 1, ChatID: -1 << 63, Lang: "a|b%7C%c|"},
		{UserID: -5, ChatID: 0, Created: time.Unix(-1, 0), LastSeen: time.Unix(0, 0)},
		{UserID: 7, ChatID: 7, Created: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), LastSeen: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, p := range profiles {
		v := encodeProfileBin(p)
		got, err := decodeProfileBin(p.UserID, v)
		if err != nil {
			t.Fatalf("decode(%x): %v", v, err)
		}
		want := p
		want.Schema = bot.SchemaVersion
		want.Created, want.LastSeen, want.Warned = wantSecond(p.Created), wantSecond(p.LastSeen), wantSecond(p.Warned)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %x reads back as\n %+v, want\n %+v", v, got, want)
		}
	}
	// The common profile is small: sealed, far below 64 bytes.
	p := bot.Profile{UserID: 7700000012, ChatID: 7700000012, Lang: "fr", Created: at, LastSeen: at}
	if v := encodeProfileBin(p); len(v) > 20 {
		t.Errorf("encodeProfileBin = %d bytes, want at most 20", len(v))
	}

	const uid = 7700000301
	full := fullTestDocument(uid, "1")
	group := testDocument(uid, "g")
	group.ChatID = -1009900004321
	unknown := testDocument(uid, "u")
	unknown.Kind, unknown.Mention, unknown.Holder = "new|kind%", "", "someone~"
	edges := testDocument(uid, "e")
	edges.Expiry, edges.Since, edges.Created = permit.Date{Year: 9999, Month: 12, Day: 31}, permit.Date{Year: 1, Month: 1, Day: 1}, time.Time{}
	for _, d := range []bot.Document{testDocument(uid, "1"), full, group, unknown, edges, testDocument(-3, "neg")} {
		v := encodeDocumentBin(d)
		got, err := decodeDocumentBin(d.UserID, d.ID, v, d.Label)
		if err != nil {
			t.Fatalf("decode(%x): %v", v, err)
		}
		want := d
		want.Schema = bot.SchemaVersion
		want.Created = wantSecond(d.Created)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %x reads back as\n %+v, want\n %+v", v, got, want)
		}
		if d.Label != "" && strings.Contains(string(v), d.Label) {
			t.Errorf("record %x holds the label, which has its own field", v)
		}
	}
}

// TestBinaryDocumentSize: every document without label, in a private
// chat, with any kind, mention and holder that has a code, every optional
// date and both flags, is at most 64 bytes once sealed: the resident hash
// stays a listpack under Redis's default hash-max-listpack-value.
func TestBinaryDocumentSize(t *testing.T) {
	d := fullTestDocument(7700000301, "1")
	d.Label = ""
	d.Created = time.Date(2286, 11, 20, 0, 0, 0, 0, time.UTC)
	d.Expiry = permit.Date{Year: 2099, Month: 12, Day: 31}
	longest := 0
	for _, k := range kindCodes.values {
		for _, m := range mentionCodes.values {
			for _, h := range holderCodes.values {
				d.Kind, d.Mention, d.Holder = k, m, h
				n := len(encodeDocumentBin(d)) + seal.Overhead
				longest = max(longest, n)
				if n > maxValue {
					t.Fatalf("%s/%s/%s: sealed record of %d bytes, want at most %d", k, m, h, n, maxValue)
				}
			}
		}
	}
	t.Logf("longest sealed record without label: %d bytes", longest)
}

func TestBinaryRecordErrors(t *testing.T) {
	good := encodeDocumentBin(testDocument(1, "a"))
	for _, v := range [][]byte{nil, {}, {1}, {recordV2}, good[:len(good)-1], append(append([]byte{}, good...), 0), {recordV2, 200, 0, 0, 0, 0, 0, 0, 0}} {
		if d, err := decodeDocumentBin(1, "a", v, ""); err == nil {
			t.Errorf("decodeDocumentBin(%x) = %+v, want an error", v, d)
		}
	}
	goodP := encodeProfileBin(bot.Profile{UserID: 1, ChatID: 1, Lang: "fr"})
	for _, v := range [][]byte{nil, {recordV2}, goodP[:3], append(append([]byte{}, goodP...), 0, 0), {recordV2, 0, 0, 0, 0, 9, 0, 0}} {
		if p, err := decodeProfileBin(1, v); err == nil {
			t.Errorf("decodeProfileBin(%x) = %+v, want an error", v, p)
		}
	}
}

func FuzzBinaryRecords(f *testing.F) {
	f.Add(encodeProfileBin(bot.Profile{UserID: 1, ChatID: 1, Lang: "fr"}))
	f.Add(encodeDocumentBin(fullTestDocument(1, "1")))
	f.Fuzz(func(t *testing.T, v []byte) {
		// Never a panic; what decodes re-encodes to what decodes the same.
		if p, err := decodeProfileBin(1, v); err == nil {
			again, err := decodeProfileBin(1, encodeProfileBin(p))
			if err != nil || !reflect.DeepEqual(again, p) {
				t.Fatalf("profile %+v does not round-trip: %+v, %v", p, again, err)
			}
		}
		if d, err := decodeDocumentBin(1, "1", v, ""); err == nil {
			again, err := decodeDocumentBin(1, "1", encodeDocumentBin(d), "")
			if err != nil || !reflect.DeepEqual(again, d) {
				t.Fatalf("document %+v does not round-trip: %+v, %v", d, again, err)
			}
		}
	})
}
