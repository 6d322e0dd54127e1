package telegramtest_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// specTypes are the object types of shared/telegram/botapi-spec.json, to
// check that what the fake generates (updates, results) is what Telegram
// would send: every required field, no field the Bot API does not have,
// every value of its type.
type specType struct {
	Fields []struct {
		Name     string   `json:"name"`
		Types    []string `json:"types"`
		Required bool     `json:"required"`
	} `json:"fields"`
	Subtypes []string `json:"subtypes"`
}

var specTypes = sync.OnceValues(func() (map[string]*specType, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		p := filepath.Join(dir, "shared", "telegram", "botapi-spec.json")
		if b, err := os.ReadFile(p); err == nil {
			var spec struct {
				Types map[string]*specType `json:"types"`
			}
			if err := json.Unmarshal(b, &spec); err != nil {
				return nil, err
			}
			return spec.Types, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, os.ErrNotExist
		}
		dir = parent
	}
})

// checkObject fails the test if raw is not a valid object of the Bot API
// type typeName (e.g. "Update", "Message", "ChatMember").
func checkObject(t testing.TB, typeName string, raw []byte) {
	t.Helper()
	types, err := specTypes()
	if err != nil {
		t.Skipf("botapi-spec.json not found: %v", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: not JSON: %v", typeName, err)
	}
	for _, p := range objectProblems(types, typeName, v, typeName) {
		t.Errorf("%s", p)
	}
}

// memberSubtypes picks the ChatMember subtype from the status.
var memberSubtypes = map[string]string{
	"creator": "ChatMemberOwner", "administrator": "ChatMemberAdministrator", "member": "ChatMemberMember",
	"restricted": "ChatMemberRestricted", "left": "ChatMemberLeft", "kicked": "ChatMemberBanned",
}

func objectProblems(types map[string]*specType, typeName string, v any, path string) []string {
	st := types[typeName]
	if st == nil {
		return []string{fmt.Sprintf("%s: unknown type %s", path, typeName)}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %s is not an object", path, typeName)}
	}
	if len(st.Subtypes) > 0 {
		if typeName == "ChatMember" {
			status, _ := obj["status"].(string)
			sub := memberSubtypes[status]
			if sub == "" {
				return []string{fmt.Sprintf("%s: unknown ChatMember status %q", path, status)}
			}
			return objectProblems(types, sub, v, path)
		}
		var first []string
		for _, sub := range st.Subtypes {
			p := objectProblems(types, sub, v, path)
			if len(p) == 0 {
				return nil
			}
			if first == nil {
				first = p
			}
		}
		return first
	}
	var out []string
	known := map[string]bool{}
	for _, f := range st.Fields {
		known[f.Name] = true
		fv, present := obj[f.Name]
		if !present {
			if f.Required {
				out = append(out, fmt.Sprintf("%s.%s: required field missing", path, f.Name))
			}
			continue
		}
		out = append(out, valueProblems(types, f.Types, fv, path+"."+f.Name)...)
	}
	var extra []string
	for k := range obj {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, fmt.Sprintf("%s.%s: not a field of %s", path, k, typeName))
	}
	return out
}

func valueProblems(types map[string]*specType, alts []string, v any, path string) []string {
	var first []string
	for _, alt := range alts {
		p := oneValueProblems(types, alt, v, path)
		if len(p) == 0 {
			return nil
		}
		if first == nil {
			first = p
		}
	}
	return first
}

func oneValueProblems(types map[string]*specType, typ string, v any, path string) []string {
	bad := []string{fmt.Sprintf("%s: %v is not %s", path, v, typ)}
	if elem, ok := strings.CutPrefix(typ, "Array of "); ok {
		arr, ok := v.([]any)
		if !ok {
			return bad
		}
		var out []string
		for i, e := range arr {
			out = append(out, oneValueProblems(types, elem, e, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	switch typ {
	case "Integer":
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			return nil
		}
		return bad
	case "Float":
		if _, ok := v.(float64); ok {
			return nil
		}
		return bad
	case "String":
		if _, ok := v.(string); ok {
			return nil
		}
		return bad
	case "Boolean":
		if _, ok := v.(bool); ok {
			return nil
		}
		return bad
	case "True":
		if b, ok := v.(bool); ok && b {
			return nil
		}
		return bad
	}
	return objectProblems(types, typ, v, path)
}

func TestCheckObjectCatchesProblems(t *testing.T) {
	types, err := specTypes()
	if err != nil {
		t.Skipf("botapi-spec.json not found: %v", err)
	}
	cases := map[string]string{
		`{"status":"left"}`: "user: required field missing",
		`{"status":"left","user":{"id":1,"is_bot":false,"first_name":"A"},"until_date":0}`:         "until_date: not a field",
		`{"status":"kicked","user":{"id":1,"is_bot":false,"first_name":"A"}}`:                      "until_date: required field missing",
		`{"status":"member","user":{"id":"1","is_bot":false,"first_name":"A"}}`:                    "is not Integer",
		`{"status":"restricted","user":{"id":1,"is_bot":false,"first_name":"A"},"is_member":true}`: "can_send_messages: required",
	}
	for raw, want := range cases {
		var v any
		_ = json.Unmarshal([]byte(raw), &v)
		got := strings.Join(objectProblems(types, "ChatMember", v, "ChatMember"), "; ")
		if !strings.Contains(got, want) {
			t.Errorf("%s: problems %q; want one with %q", raw, got, want)
		}
	}
	var ok any
	_ = json.Unmarshal([]byte(`{"status":"left","user":{"id":1,"is_bot":false,"first_name":"A"}}`), &ok)
	if p := objectProblems(types, "ChatMember", ok, "ChatMember"); len(p) != 0 {
		t.Errorf("valid ChatMemberLeft: %q", p)
	}
}

// Every update the fake generates is one Telegram could send.
func TestGeneratedUpdatesMatchSpec(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	rawUpdates(t, s, url.Values{"allowed_updates": {`["message","callback_query","my_chat_member","chat_member"]`}})
	s.SendText(alice, "/start")
	s.SendPhoto(alice, "scan")
	s.SendDocument(alice, "pdf")
	s.SendVoice(reza)
	s.SendGroupText(partnerGroup, 0, vol, "hello")
	s.SendGroupText(partnerGroup, 100, vol, "in a topic")
	s.SendGroupReply(partnerGroup, 100, coord, 1, "reply")
	s.Block(reza)
	s.Unblock(reza)
	s.LeaveGroup(partnerGroup, vol)
	for _, kind := range []string{"video", "video_note", "audio", "animation", "sticker", "location", "contact"} {
		s.SendMedia(alice, kind, "caption")
	}
	s.SetMember(partnerGroup, coord, "restricted")
	s.LeaveGroup(partnerGroup, coord) // restricted, is_member false
	s.BanFromGroup(partnerGroup, reza)
	s.SendGroupText(partnerGroup, 100, telegramtest.User{ID: 999001, FirstName: "OtherBot", IsBot: true}, "automatic")
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(alice.ID)}, "text": {"Choose"}, "reply_markup": {keyboard([]map[string]string{{"text": "A", "callback_data": "a"}})}}), nil)
	if _, err := s.PressButton(alice, alice.ID, "A"); err != nil {
		t.Fatal(err)
	}
	ups := rawUpdates(t, s, nil)
	if len(ups) != 21 {
		t.Fatalf("%d updates; want 21", len(ups))
	}
	for _, u := range ups {
		checkObject(t, "Update", u)
	}
}
