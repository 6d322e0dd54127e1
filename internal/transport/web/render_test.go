package web

import (
	"regexp"
	"strings"
	"testing"
)

func TestToHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain &amp; simple", "plain &amp; simple"},
		{"<b>bold</b> and <i>it</i>", "<b>bold</b> and <i>it</i>"},
		{"<strong>x</strong><em>y</em>", "<b>x</b><i>y</i>"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{`<a href="https://example.org/a?b=1&amp;c=2">src</a>`, `<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">src</a>`},
		{`<a href="javascript:alert(1)">x</a>`, `<a>x</a>`},
		{`<a href="https://e.org" onclick="x">y</a>`, `&lt;a href=&#34;https://e.org&#34; onclick=&#34;x&#34;&gt;y`},
		{"<b>unclosed <i>nested", "<b>unclosed <i>nested</i></b>"},
		{"</b>stray close", "stray close"},
		{"<b><i>crossed</b></i>", "<b><i>crossed</i></b>"},
		{`<span class="tg-spoiler">s</span>`, "<span>s</span>"},
		{"a < b > c", "a &lt; b &gt; c"},
		{"<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"},
		{"⁨30/06/2027⁩", "⁨30/06/2027⁩"},
	}
	for _, tt := range tests {
		if got := string(toHTML(tt.in)); got != tt.want {
			t.Errorf("toHTML(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

var tagOut = regexp.MustCompile(`<(/?)([a-z]+)([^>]*)>`)

// FuzzToHTML: whatever the text, only the allowed tags come out, balanced,
// links only with an http(s) address and no other attribute.
func FuzzToHTML(f *testing.F) {
	for _, s := range []string{"<b>x</b>", `<a href="https://e.org">l</a>`, "<script>x</script>", "<b><i>x</b>", `<a href="javascript:x">`, "&lt;&gt;&amp;"} {
		f.Add(s)
	}
	allowed := map[string]bool{"b": true, "i": true, "u": true, "s": true, "code": true, "pre": true, "blockquote": true, "span": true, "a": true}
	f.Fuzz(func(t *testing.T, in string) {
		out := string(toHTML(in))
		var stack []string
		for _, m := range tagOut.FindAllStringSubmatch(out, -1) {
			name, attrs := m[2], m[3]
			if !allowed[name] {
				t.Fatalf("tag %q out of %q: %q", name, in, out)
			}
			if m[1] == "/" {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					t.Fatalf("unbalanced %q in %q", m[0], out)
				}
				stack = stack[:len(stack)-1]
				continue
			}
			if attrs != "" && !(name == "a" && regexp.MustCompile(`^ href="https?://[^"<>]*" rel="noopener noreferrer"$`).MatchString(attrs)) {
				t.Fatalf("attributes %q out of %q", attrs, in)
			}
			stack = append(stack, name)
		}
		if len(stack) != 0 {
			t.Fatalf("unclosed %v in %q", stack, out)
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("script in %q", out)
		}
	})
}
