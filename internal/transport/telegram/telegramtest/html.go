package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// entity is a MessageEntity as Telegram returns it.
type entity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

// utf16Len counts s in UTF-16 code units, the unit Telegram uses for text
// limits and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// htmlTags maps the tags Telegram's HTML parse mode supports to entity types.
var htmlTags = map[string]string{
	"b":          "bold",
	"strong":     "bold",
	"i":          "italic",
	"em":         "italic",
	"u":          "underline",
	"ins":        "underline",
	"s":          "strikethrough",
	"strike":     "strikethrough",
	"del":        "strikethrough",
	"span":       "spoiler",
	"tg-spoiler": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

type openTag struct {
	name   string
	start  int // UTF-16 offset in the plain text
	ent    entity
	parent int // index in stack of a <pre> this <code> sits in, or -1
}

// parseHTML parses text in Telegram's HTML parse mode. It returns the plain
// text and its entities, or an error worded like Telegram's "can't parse
// entities" details. It is stricter than Telegram in one point: a bare "&"
// that does not start a supported entity is an error.
func parseHTML(s string) (string, []entity, error) {
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("text must be encoded in UTF-8")
	}
	var (
		out   strings.Builder
		pos   int // UTF-16 length of out
		stack []*openTag
		ents  []entity
	)
	emit := func(r rune) {
		out.WriteRune(r)
		if r >= 0x10000 {
			pos += 2
		} else {
			pos++
		}
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch c {
		case '&':
			r, n, err := decodeEntity(s, i)
			if err != nil {
				return "", nil, err
			}
			emit(r)
			i += n
		case '<':
			if i+1 < len(s) && s[i+1] == '/' {
				// End tag.
				j := i + 2
				for j < len(s) && isTagNameByte(s[j]) {
					j++
				}
				name := strings.ToLower(s[i+2 : j])
				for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
					j++
				}
				if j >= len(s) || s[j] != '>' {
					return "", nil, fmt.Errorf("Unclosed end tag at byte offset %d", i)
				}
				if len(stack) == 0 {
					return "", nil, fmt.Errorf("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				length := pos - top.start
				switch {
				case top.name == "code" && top.parent >= 0:
					// <pre><code class="language-x"> is one pre entity.
					if top.ent.Language != "" {
						stack[top.parent].ent.Language = top.ent.Language
					}
				case length > 0:
					e := top.ent
					e.Offset = top.start
					e.Length = length
					ents = append(ents, e)
				}
				i = j + 1
				continue
			}
			// Start tag.
			j := i + 1
			for j < len(s) && isTagNameByte(s[j]) {
				j++
			}
			name := strings.ToLower(s[i+1 : j])
			typ, ok := htmlTags[name]
			if !ok {
				return "", nil, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, i)
			}
			attrs, end, err := parseAttrs(s, j)
			if err != nil {
				return "", nil, fmt.Errorf("%s at byte offset %d", err.Error(), i)
			}
			t := &openTag{name: name, start: pos, ent: entity{Type: typ}, parent: -1}
			switch name {
			case "a":
				t.ent.URL = attrs["href"]
				if t.ent.URL == "" {
					// Telegram drops a link with no URL but keeps the text.
					t.ent.Type = ""
				}
			case "span":
				if attrs["class"] != "tg-spoiler" {
					return "", nil, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
				}
			case "tg-emoji":
				id := attrs["emoji-id"]
				if _, err := strconv.ParseInt(id, 10, 64); err != nil {
					return "", nil, fmt.Errorf("Custom emoji entity must contain a valid custom emoji identifier at byte offset %d", i)
				}
				t.ent.CustomEmojiID = id
			case "code":
				if cls := attrs["class"]; strings.HasPrefix(cls, "language-") {
					t.ent.Language = strings.TrimPrefix(cls, "language-")
				}
				if len(stack) > 0 && stack[len(stack)-1].name == "pre" {
					t.parent = len(stack) - 1
				}
			case "blockquote":
				if _, ok := attrs["expandable"]; ok {
					t.ent.Type = "expandable_blockquote"
				}
			}
			stack = append(stack, t)
			i = end
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			emit(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	// Links with an empty href and zero-length entities are dropped.
	kept := ents[:0]
	for _, e := range ents {
		if e.Type != "" && e.Length > 0 {
			kept = append(kept, e)
		}
	}
	sort.SliceStable(kept, func(a, b int) bool {
		if kept[a].Offset != kept[b].Offset {
			return kept[a].Offset < kept[b].Offset
		}
		return kept[a].Length > kept[b].Length
	})
	return out.String(), kept, nil
}

func isTagNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// parseAttrs parses the attributes of a start tag from s[i:] up to and
// including '>'. It returns the attributes (names lower-cased, values with
// entities decoded) and the index just after '>'.
func parseAttrs(s string, i int) (map[string]string, int, error) {
	attrs := map[string]string{}
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			return nil, 0, fmt.Errorf("Unclosed start tag")
		}
		if s[i] == '>' {
			return attrs, i + 1, nil
		}
		j := i
		for j < len(s) && (isTagNameByte(s[j]) || s[j] == '_') {
			j++
		}
		if j == i {
			return nil, 0, fmt.Errorf("Expected equal sign in declaration of an attribute of a start tag")
		}
		name := strings.ToLower(s[i:j])
		i = j
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return nil, 0, fmt.Errorf("Unclosed start tag")
		}
		if s[i] != '=' {
			attrs[name] = ""
			continue
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return nil, 0, fmt.Errorf("Unclosed start tag")
		}
		var raw string
		if q := s[i]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return nil, 0, fmt.Errorf("Unclosed start tag")
			}
			raw = s[i+1 : i+1+end]
			i = i + 1 + end + 1
		} else {
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '>' && s[j] != '\t' && s[j] != '\n' {
				j++
			}
			raw = s[i:j]
			i = j
		}
		val, err := decodeEntities(raw)
		if err != nil {
			return nil, 0, err
		}
		attrs[name] = val
	}
}

// decodeEntities decodes the HTML entities of an attribute value.
func decodeEntities(s string) (string, error) {
	if !strings.Contains(s, "&") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			r, n, err := decodeEntity(s, i)
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i += n
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), nil
}

// decodeEntity decodes the entity starting at s[i] == '&'. It returns the
// rune and the number of bytes consumed.
func decodeEntity(s string, i int) (rune, int, error) {
	semi := strings.IndexByte(s[i:], ';')
	bad := fmt.Errorf("Character \"&\" at byte offset %d does not start a supported HTML entity; escape it as &amp;", i)
	if semi < 2 || semi > 12 {
		return 0, 0, bad
	}
	name := s[i+1 : i+semi]
	switch name {
	case "lt":
		return '<', semi + 1, nil
	case "gt":
		return '>', semi + 1, nil
	case "amp":
		return '&', semi + 1, nil
	case "quot":
		return '"', semi + 1, nil
	}
	if name[0] != '#' || len(name) < 2 {
		return 0, 0, bad
	}
	var (
		v   uint64
		err error
	)
	if name[1] == 'x' || name[1] == 'X' {
		v, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		v, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
		return 0, 0, bad
	}
	return rune(v), semi + 1, nil
}
