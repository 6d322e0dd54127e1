package telegramtest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in    string
		plain string
		ents  []entity
	}{
		{"plain", "plain", nil},
		{"<b>bold</b> and <i>it</i>", "bold and it", []entity{{Type: "bold", Offset: 0, Length: 4}, {Type: "italic", Offset: 9, Length: 2}}},
		{"<STRONG>x</STRONG>", "x", []entity{{Type: "bold", Length: 1}}},
		{"😀<u>a</u>", "😀a", []entity{{Type: "underline", Offset: 2, Length: 1}}},
		{"&lt;tag&gt; &amp; &quot;q&quot; &#1605; &#x1F600;", "<tag> & \"q\" م 😀", nil},
		{`<a href="https://t.me/x?a=1&amp;b=2">link</a>`, "link", []entity{{Type: "text_link", Length: 4, URL: "https://t.me/x?a=1&b=2"}}},
		{`<a href='u'>x</a><a href=v>y</a>`, "xy", []entity{{Type: "text_link", Length: 1, URL: "u"}, {Type: "text_link", Offset: 1, Length: 1, URL: "v"}}},
		{`<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, "st", []entity{{Type: "spoiler", Length: 1}, {Type: "spoiler", Offset: 1, Length: 1}}},
		{`<pre><code class="language-go">x := 1</code></pre>`, "x := 1", []entity{{Type: "pre", Length: 6, Language: "go"}}},
		{`<code>c</code>`, "c", []entity{{Type: "code", Length: 1}}},
		{`<blockquote expandable>q</blockquote>`, "q", []entity{{Type: "expandable_blockquote", Length: 1}}},
		{`<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, "👍", []entity{{Type: "custom_emoji", Length: 2, CustomEmojiID: "5368324170671202286"}}},
		{`<b>a <i>b</i></b>`, "a b", []entity{{Type: "bold", Length: 3}, {Type: "italic", Offset: 2, Length: 1}}},
		{`<b></b>x`, "x", nil},
		{"a > b", "a > b", nil},
		{"رضا\u200cجان", "رضا\u200cجان", nil},
	}
	for _, tt := range tests {
		plain, ents, err := parseHTML(tt.in)
		if err != nil {
			t.Errorf("parseHTML(%q): %v", tt.in, err)
			continue
		}
		if plain != tt.plain || !reflect.DeepEqual(ents, tt.ents) && !(len(ents) == 0 && len(tt.ents) == 0) {
			t.Errorf("parseHTML(%q) = %q %+v, want %q %+v", tt.in, plain, ents, tt.plain, tt.ents)
		}
	}
}

func TestParseHTMLErrors(t *testing.T) {
	tests := map[string]string{
		"<b>x":                   `Can't find end tag corresponding to start tag "b"`,
		"x</b>":                  "Unexpected end tag",
		"<b><i>x</b></i>":        "Unmatched end tag",
		"<br>":                   `Unsupported start tag "br"`,
		"<p>x</p>":               `Unsupported start tag "p"`,
		"1 < 2":                  `Unsupported start tag ""`,
		"<b":                     "Unclosed start tag",
		`<a href="x>y</a>`:       "Unclosed start tag",
		"Tom & Jerry":            `Character "&"`,
		"&nbsp;":                 `Character "&"`,
		"&#xD800;":               `Character "&"`,
		"&amp":                   `Character "&"`,
		`<span>x</span>`:         `must have class "tg-spoiler"`,
		`<tg-emoji>x</tg-emoji>`: "custom emoji identifier",
		"\xff":                   "UTF-8",
	}
	for in, want := range tests {
		_, _, err := parseHTML(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseHTML(%q) error = %v, want …%s…", in, err, want)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for in, want := range map[string]int{"": 0, "abc": 3, "سلام": 4, "😀": 2, "a😀b": 4, "\u200c": 1} {
		if got := utf16Len(in); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestCommandEntities(t *testing.T) {
	for in, want := range map[string]int{"/start": 6, "/start payload": 6, "/start@bot x": 10, "/": 0, "hi /start": 0, "/a-b": 2, "/x@": 2} {
		got := commandEntities(in)
		if want == 0 && got != nil || want != 0 && (len(got) != 1 || got[0].Length != want || got[0].Type != "bot_command") {
			t.Errorf("commandEntities(%q) = %+v, want length %d", in, got, want)
		}
	}
}

func TestValueMatches(t *testing.T) {
	tests := []struct {
		name  string
		types []string
		v     string
		ok    bool
	}{
		{"chat_id", []string{"Integer", "String"}, "-1001234", true},
		{"chat_id", []string{"Integer", "String"}, "@channel", true},
		{"chat_id", []string{"Integer", "String"}, "abc", false},
		{"limit", []string{"Integer"}, "1.5", false},
		{"latitude", []string{"Float"}, "48.85", true},
		{"flag", []string{"Boolean"}, "true", true},
		{"flag", []string{"Boolean"}, "True", true},
		{"flag", []string{"Boolean"}, "yes", false},
		{"allowed_updates", []string{"Array of String"}, `["message"]`, true},
		{"allowed_updates", []string{"Array of String"}, `[1]`, false},
		{"allowed_updates", []string{"Array of String"}, `"message"`, false},
		{"commands", []string{"Array of BotCommand"}, `[{"command":"a"}]`, true},
		{"commands", []string{"Array of BotCommand"}, `["a"]`, false},
		{"reply_markup", []string{"InlineKeyboardMarkup", "ForceReply"}, `{"force_reply":true}`, true},
		{"reply_markup", []string{"InlineKeyboardMarkup"}, `[]`, false},
		{"photo", []string{"InputFile", "String"}, "(file)", true},
		{"text", []string{"String"}, "anything", true},
	}
	for _, tt := range tests {
		if got := valueMatches(tt.name, tt.types, tt.v); got != tt.ok {
			t.Errorf("valueMatches(%s %v %q) = %v", tt.name, tt.types, tt.v, got)
		}
	}
}
