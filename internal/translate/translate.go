// Package translate is the client of a self-hosted LibreTranslate server
// (https://libretranslate.com, AGPL), the only machine translation
// Passerelle uses, and only when the operator configures one
// (PASSERELLE_TRANSLATE_URL). Texts never go to a third-party cloud
// service through it.
package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LibreTranslate translates through a LibreTranslate server's
// POST /translate. Safe for concurrent use.
type LibreTranslate struct {
	endpoint string
	key      string
	client   *http.Client
}

// Timeout bounds one translation when the client given has none.
const Timeout = 10 * time.Second

// New returns a client of the server at base (e.g.
// "http://libretranslate:5000"), with its API key ("" for none). A nil
// client uses one with Timeout.
func New(base, apiKey string, client *http.Client) (*LibreTranslate, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("translate: %q is not an http(s) URL", base)
	}
	if client == nil {
		client = &http.Client{Timeout: Timeout}
	}
	return &LibreTranslate{endpoint: strings.TrimSuffix(u.String(), "/") + "/translate", key: apiKey, client: client}, nil
}

// code maps a Passerelle locale tag to LibreTranslate's language code.
func code(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(base)
}

// Translate translates text from language from to language to (locale
// tags such as "fa", "zh-Hans"). The result is plain text.
func (t *LibreTranslate) Translate(ctx context.Context, text, from, to string) (string, error) {
	body, err := json.Marshal(map[string]string{"q": text, "source": code(from), "target": code(to), "format": "text", "api_key": t.key})
	if err != nil {
		return "", fmt.Errorf("translate: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("translate: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("translate: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("translate: read answer: %w", err)
	}
	var out struct {
		TranslatedText string `json:"translatedText"`
		Error          string `json:"error"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return "", fmt.Errorf("translate: HTTP %d, unreadable answer: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("translate: HTTP %d: %s", resp.StatusCode, out.Error)
	}
	if strings.TrimSpace(out.TranslatedText) == "" {
		return "", errors.New("translate: empty translation")
	}
	return out.TranslatedText, nil
}
