package telegramtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// specField is one parameter of a method in botapi-spec.json.
type specField struct {
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	Required bool     `json:"required"`
}

// specMethod is one method of botapi-spec.json.
type specMethod struct {
	Name   string      `json:"name"`
	Fields []specField `json:"fields"`
}

// apiSpec is the part of botapi-spec.json the fake server uses.
type apiSpec struct {
	Version string                 `json:"version"`
	Methods map[string]*specMethod `json:"methods"`

	byLower map[string]*specMethod
}

// legacyFields are parameters go-telegram-bot-api v5.5.1 still sends that the
// current spec no longer lists. Telegram accepts them, so they are allowed as
// extras on every method.
var legacyFields = map[string]bool{
	"reply_to_message_id":         true,
	"allow_sending_without_reply": true,
	"disable_web_page_preview":    true,
}

// legacyMethods maps old method names (lower case) to their current names.
var legacyMethods = map[string]string{
	"getchatmemberscount": "getChatMemberCount",
	"setstickersetthumb":  "setStickerSetThumbnail",
	"kickchatmember":      "banChatMember",
}

var specCache struct {
	sync.Mutex
	m map[string]*apiSpec
}

// loadSpec reads and indexes a spec file, caching it per absolute path for
// the life of the test binary (the file is about 1 MB).
func loadSpec(path string) (*apiSpec, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	specCache.Lock()
	defer specCache.Unlock()
	if sp, ok := specCache.m[abs]; ok {
		return sp, nil
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	var sp apiSpec
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("parse %s: %w", abs, err)
	}
	if len(sp.Methods) == 0 {
		return nil, fmt.Errorf("%s: no methods", abs)
	}
	sp.byLower = make(map[string]*specMethod, len(sp.Methods))
	for name, m := range sp.Methods {
		if m.Name == "" {
			m.Name = name
		}
		sp.byLower[strings.ToLower(name)] = m
	}
	if specCache.m == nil {
		specCache.m = map[string]*apiSpec{}
	}
	specCache.m[abs] = &sp
	return &sp, nil
}

// findShared looks for shared/telegram/<rel> in the working directory and
// each of its parents, i.e. for "../shared/telegram/<rel>" seen from any
// ancestor directory. It returns the first path that exists.
func findShared(rel string) (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "shared", "telegram", rel)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Samples returns the Update samples of shared/telegram/updates/*.json, found
// by the same upward search as the spec, keyed by file name (for example
// "01_private_text_en.json"). If the directory cannot be found the test is
// skipped.
func Samples(tb testing.TB) map[string][]byte {
	tb.Helper()
	dir, ok := findShared("updates")
	if !ok {
		tb.Skip("telegramtest: shared/telegram/updates not found in any parent of the working directory; update samples unavailable")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatalf("telegramtest: list samples: %v", err)
	}
	if len(paths) == 0 {
		tb.Skip("telegramtest: " + dir + " holds no *.json samples")
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatalf("telegramtest: read sample: %v", err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// fieldProblem describes one validation problem of a request.
type fieldProblem struct {
	msg  string // for SpecErrors, without the method prefix
	desc string // the 400 description; empty = record only, do not reject
}

// validate checks params against the spec entry of method. files names the
// multipart file parts.
func (sp *apiSpec) validate(method string, params map[string]string, files map[string]bool) []fieldProblem {
	m := sp.byLower[strings.ToLower(method)]
	if m == nil {
		return nil
	}
	var out []fieldProblem
	known := make(map[string]bool, len(m.Fields))
	for _, f := range m.Fields {
		known[f.Name] = true
		v, ok := params[f.Name]
		empty := v == "" && !files[f.Name]
		pureString := len(f.Types) == 1 && f.Types[0] == "String"
		if ok && empty && pureString {
			// Present but empty: legal for strings (setWebhook url="").
			continue
		}
		if !ok || empty {
			if f.Required && !files[f.Name] {
				out = append(out, fieldProblem{
					msg:  f.Name + " is required",
					desc: "Bad Request: " + f.Name + " is required",
				})
			}
			continue
		}
		if files[f.Name] {
			continue
		}
		if !valueMatches(f.Name, f.Types, v) {
			out = append(out, fieldProblem{
				msg:  fmt.Sprintf("%s must be %s, got %s", f.Name, strings.Join(f.Types, " or "), quoteShort(v)),
				desc: fmt.Sprintf("Bad Request: field \"%s\" must be of type %s", f.Name, strings.Join(f.Types, " or ")),
			})
		}
	}
	var extras []string
	for name := range params {
		if !known[name] && !legacyFields[name] {
			extras = append(extras, name)
		}
	}
	for name := range files {
		if _, ok := params[name]; !ok && !known[name] {
			// Files referenced as attach://name are legitimate extras.
			if !referencedAttach(params, name) {
				extras = append(extras, name)
			}
		}
	}
	sort.Strings(extras)
	for _, name := range extras {
		out = append(out, fieldProblem{msg: "unknown parameter " + name + " (not in the spec nor a known legacy name)"})
	}
	return out
}

func referencedAttach(params map[string]string, name string) bool {
	needle := "attach://" + name
	for _, v := range params {
		if strings.Contains(v, needle) {
			return true
		}
	}
	return false
}

// valueMatches reports whether v parses as one of the spec types.
func valueMatches(name string, types []string, v string) bool {
	chatLike := len(types) == 2 && containsStr(types, "Integer") && containsStr(types, "String")
	for _, t := range types {
		switch {
		case t == "String":
			if chatLike && strings.HasSuffix(name, "chat_id") {
				// Integer or String means "id or @username" for chat ids.
				if strings.HasPrefix(v, "@") && len(v) > 1 {
					return true
				}
				continue
			}
			return true
		case t == "Integer":
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				return true
			}
		case t == "Float":
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				return true
			}
		case t == "Boolean":
			if _, ok := parseBool(v); ok {
				return true
			}
		case t == "InputFile":
			return true
		case strings.HasPrefix(t, "Array of "):
			if jsonArrayOf(strings.TrimPrefix(t, "Array of "), v) {
				return true
			}
		default:
			if jsonIsObject(v) {
				return true
			}
		}
	}
	return false
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseBool accepts the boolean spellings Telegram accepts.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func jsonIsObject(v string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(v), &m) == nil && m != nil
}

func jsonArrayOf(elem, v string) bool {
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(v), &arr); err != nil || arr == nil {
		return false
	}
	for _, e := range arr {
		s := string(e)
		switch elem {
		case "String":
			var x string
			if json.Unmarshal(e, &x) != nil {
				return false
			}
		case "Integer":
			var x int64
			if json.Unmarshal(e, &x) != nil {
				return false
			}
		default:
			if !jsonIsObject(s) {
				return false
			}
		}
	}
	return true
}

func quoteShort(v string) string {
	r := []rune(v)
	if len(r) > 40 {
		v = string(r[:40]) + "…"
	}
	return strconv.Quote(v)
}
