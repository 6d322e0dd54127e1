package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

var (
	alice = telegramtest.User{ID: 1111, FirstName: "Alice", LanguageCode: "en", Username: "alice"}
	reza  = telegramtest.User{ID: 2222, FirstName: "رضا", LanguageCode: "fa"}
)

type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

var client = &http.Client{Timeout: 10 * time.Second}

// result is the answer to one call.
type result struct {
	status int
	env    envelope
}

func do(t testing.TB, req *http.Request) result {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: response is not JSON: %q", req.URL.Path, b)
	}
	if env.OK != (resp.StatusCode == 200) {
		t.Fatalf("%s: ok=%v but HTTP %d", req.URL.Path, env.OK, resp.StatusCode)
	}
	if !env.OK && env.ErrorCode != resp.StatusCode {
		t.Fatalf("%s: error_code %d but HTTP %d", req.URL.Path, env.ErrorCode, resp.StatusCode)
	}
	return result{resp.StatusCode, env}
}

func methodURL(s *telegramtest.Server, method string) string {
	return s.APIURL() + "/bot" + s.Token() + "/" + method
}

// postForm calls method with an urlencoded body, as go-telegram-bot-api does.
func postForm(t testing.TB, s *telegramtest.Server, method string, form url.Values) result {
	t.Helper()
	return postFormCtx(t, context.Background(), s, method, form)
}

func postFormCtx(t testing.TB, ctx context.Context, s *telegramtest.Server, method string, form url.Values) result {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, methodURL(s, method), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func postJSON(t testing.TB, s *telegramtest.Server, method string, body any) result {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, methodURL(s, method), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func postMultipart(t testing.TB, s *telegramtest.Server, method string, fields map[string]string) result {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, methodURL(s, method), &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, req)
}

func get(t testing.TB, s *telegramtest.Server, method string, q url.Values) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, methodURL(s, method)+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// mustOK fails unless the call succeeded, and decodes its result into dst.
func mustOK(t testing.TB, r result, dst any) {
	t.Helper()
	status, env := r.status, r.env
	if status != 200 || !env.OK {
		t.Fatalf("call failed: %d %s", env.ErrorCode, env.Description)
	}
	if dst != nil {
		if err := json.Unmarshal(env.Result, dst); err != nil {
			t.Fatalf("decode result %s: %v", env.Result, err)
		}
	}
}

func mustFail(t testing.TB, r result, code int, descPrefix string) envelope {
	t.Helper()
	status, env := r.status, r.env
	if status != code || env.OK || env.ErrorCode != code || !strings.HasPrefix(env.Description, descPrefix) {
		t.Fatalf("got %d %q, want %d %q…", env.ErrorCode, env.Description, code, descPrefix)
	}
	return env
}

// update is the part of an Update the tests look at.
type update struct {
	UpdateID int64 `json:"update_id"`
	Message  *struct {
		MessageID       int    `json:"message_id"`
		MessageThreadID int    `json:"message_thread_id"`
		IsTopicMessage  bool   `json:"is_topic_message"`
		Text            string `json:"text"`
		Caption         string `json:"caption"`
		Date            int64  `json:"date"`
		From            struct {
			ID           int64  `json:"id"`
			LanguageCode string `json:"language_code"`
		} `json:"from"`
		Chat struct {
			ID      int64  `json:"id"`
			Type    string `json:"type"`
			IsForum bool   `json:"is_forum"`
		} `json:"chat"`
		Entities []struct {
			Type   string `json:"type"`
			Offset int    `json:"offset"`
			Length int    `json:"length"`
		} `json:"entities"`
		Photo []struct {
			FileID       string `json:"file_id"`
			FileUniqueID string `json:"file_unique_id"`
		} `json:"photo"`
	} `json:"message"`
	CallbackQuery *struct {
		ID      string             `json:"id"`
		Data    string             `json:"data"`
		From    struct{ ID int64 } `json:"from"`
		Message struct {
			MessageID   int                `json:"message_id"`
			Chat        struct{ ID int64 } `json:"chat"`
			From        struct{ ID int64 } `json:"from"`
			Text        string             `json:"text"`
			ReplyMarkup json.RawMessage    `json:"reply_markup"`
		} `json:"message"`
	} `json:"callback_query"`
	MyChatMember *struct {
		NewChatMember struct{ Status string } `json:"new_chat_member"`
		OldChatMember struct{ Status string } `json:"old_chat_member"`
	} `json:"my_chat_member"`
}

func getUpdates(t testing.TB, s *telegramtest.Server, form url.Values) []update {
	t.Helper()
	var ups []update
	mustOK(t, postForm(t, s, "getUpdates", form), &ups)
	return ups
}

func ids(ups []update) []int64 {
	out := make([]int64, 0, len(ups))
	for _, u := range ups {
		out = append(out, u.UpdateID)
	}
	return out
}

func keyboard(rows ...[]map[string]string) string {
	b, _ := json.Marshal(map[string]any{"inline_keyboard": rows})
	return string(b)
}

// fakeTB records failures instead of stopping the test, and runs its
// cleanups on demand.
type fakeTB struct {
	testing.TB
	errors   []string
	fatals   []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}
func (f *fakeTB) FailNow()          { f.fatals = append(f.fatals, "FailNow") }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func getURL(t testing.TB, rawURL string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// pollCtx runs getUpdates with a context; it returns the transport error.
func pollCtx(ctx context.Context, s *telegramtest.Server, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, methodURL(s, "getUpdates"), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// postAsync is postForm for use in a goroutine: it reports problems in the
// result (status 0) instead of failing the test.
func postAsync(s *telegramtest.Server, method string, form url.Values) result {
	req, err := http.NewRequest(http.MethodPost, methodURL(s, method), strings.NewReader(form.Encode()))
	if err != nil {
		return result{}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return result{env: envelope{Description: err.Error()}}
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return result{env: envelope{Description: err.Error()}}
	}
	return result{resp.StatusCode, env}
}
