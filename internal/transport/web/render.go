package web

import (
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strings"
)

// The core writes Telegram HTML: text with &lt; &gt; &amp; &quot; escapes
// and a few tags (b, strong, i, em, u, ins, s, strike, del, code, pre,
// blockquote, tg-spoiler, span class="tg-spoiler", a href). toHTML keeps
// exactly those tags, balanced, and escapes everything else, so that
// nothing a value carried can become markup on the page. Links keep only
// http and https addresses.

var (
	simpleTag = regexp.MustCompile(`^<(/?)(b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote|tg-spoiler)>`)
	spanTag   = regexp.MustCompile(`^<span class="tg-spoiler">`)
	spanClose = regexp.MustCompile(`^</span>`)
	linkOpen  = regexp.MustCompile(`^<a href="([^"<>]*)">`)
	linkClose = regexp.MustCompile(`^</a>`)
)

// pageTag maps a Telegram tag to the tag written on the page.
var pageTag = map[string]string{
	"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u",
	"s": "s", "strike": "s", "del": "s", "code": "code", "pre": "pre",
	"blockquote": "blockquote", "tg-spoiler": "span", "span": "span",
}

// toHTML converts Telegram HTML into safe HTML for the page.
func toHTML(s string) template.HTML {
	var b strings.Builder
	var open []string // tags written and not yet closed
	closeTo := func(tag string) bool {
		for i := len(open) - 1; i >= 0; i-- {
			if open[i] == tag {
				for j := len(open) - 1; j >= i; j-- {
					b.WriteString("</" + open[j] + ">")
				}
				open = open[:i]
				return true
			}
		}
		return false
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(text(s))
			break
		}
		b.WriteString(text(s[:i]))
		s = s[i:]
		switch {
		case simpleTag.MatchString(s):
			m := simpleTag.FindStringSubmatch(s)
			tag := pageTag[m[2]]
			if m[1] == "" {
				b.WriteString("<" + tag + ">")
				open = append(open, tag)
			} else {
				closeTo(tag)
			}
			s = s[len(m[0]):]
		case spanTag.MatchString(s):
			m := spanTag.FindString(s)
			b.WriteString("<span>")
			open = append(open, "span")
			s = s[len(m):]
		case spanClose.MatchString(s):
			closeTo("span")
			s = s[len("</span>"):]
		case linkOpen.MatchString(s):
			m := linkOpen.FindStringSubmatch(s)
			href := html.UnescapeString(m[1])
			if u, err := url.Parse(href); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				b.WriteString(`<a href="` + html.EscapeString(u.String()) + `" rel="noopener noreferrer">`)
			} else {
				b.WriteString("<a>")
			}
			open = append(open, "a")
			s = s[len(m[0]):]
		case linkClose.MatchString(s):
			closeTo("a")
			s = s[len("</a>"):]
		default:
			b.WriteString("&lt;")
			s = s[1:]
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return template.HTML(b.String())
}

// text re-escapes a run of Telegram HTML text: entities are decoded, then
// everything is escaped again, so that a stray "&" or ">" stays text.
func text(s string) string {
	return html.EscapeString(html.UnescapeString(s))
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// plain turns Telegram HTML into plain text, for labels and attributes.
func plain(s string) string {
	return html.UnescapeString(tagRE.ReplaceAllString(s, ""))
}

// safeURL returns u if it is an absolute http(s) URL, else "".
func safeURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return p.String()
}
