package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const maxBody = 64 << 20

// request is one parsed Bot API call.
type request struct {
	method string            // canonical name
	raw    map[string]string // as received ("null" included)
	p      map[string]string // effective: "null" values removed
	files  map[string]bool   // multipart file parts
	// uploads holds the multipart file parts' names and contents.
	uploads map[string]upload
}

// upload is one multipart file part.
type upload struct {
	name string
	data []byte
}

// parseParams reads the query string and the body of r into a flat
// map[string]string. JSON bodies are flattened: strings stay as they are,
// every other value is re-encoded as compact JSON.
func parseParams(r *http.Request) (map[string]string, map[string]bool, map[string]upload, error) {
	raw := map[string]string{}
	files := map[string]bool{}
	uploads := map[string]upload{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			raw[k] = v[0]
		}
	}
	if r.Method == http.MethodGet || r.Body == nil {
		return raw, files, uploads, nil
	}
	body := http.MaxBytesReader(nil, r.Body, maxBody)
	ct := r.Header.Get("Content-Type")
	mt, mparams, _ := mime.ParseMediaType(ct)
	switch mt {
	case "application/json":
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return raw, files, uploads, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, nil, nil, fmt.Errorf("can't parse JSON object")
		}
		for k, v := range obj {
			var s string
			if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
				raw[k] = s
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return nil, nil, nil, err
			}
			raw[k] = buf.String()
		}
	case "multipart/form-data":
		if mparams["boundary"] == "" {
			return nil, nil, nil, fmt.Errorf("multipart body without boundary")
		}
		r.Body = body
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, nil, nil, fmt.Errorf("can't parse multipart body")
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				raw[k] = v[0]
			}
		}
		for k, fhs := range r.MultipartForm.File {
			if len(fhs) == 0 {
				continue
			}
			files[k] = true
			if f, err := fhs[0].Open(); err == nil {
				data, _ := io.ReadAll(f)
				f.Close()
				uploads[k] = upload{name: fhs[0].Filename, data: data}
			}
			if _, ok := raw[k]; !ok {
				raw[k] = fmt.Sprintf("(file %q, %d bytes)", fhs[0].Filename, fhs[0].Size)
			}
		}
	default:
		// application/x-www-form-urlencoded, or no content type at all.
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, nil, nil, err
		}
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("can't parse form body")
		}
		for k, v := range vals {
			if len(v) > 0 {
				raw[k] = v[0]
			}
		}
	}
	return raw, files, uploads, nil
}

// effective drops parameters whose value is the JSON literal null, which
// Telegram treats as absent (go-telegram-bot-api sends entities=null).
func effective(raw map[string]string) map[string]string {
	p := make(map[string]string, len(raw))
	for k, v := range raw {
		if strings.TrimSpace(v) == "null" {
			continue
		}
		p[k] = v
	}
	return p
}

// has reports whether name is present and non-empty.
func (rq *request) has(name string) bool {
	return rq.p[name] != "" || rq.files[name]
}

// str returns a parameter, "" when absent.
func (rq *request) str(name string) string { return rq.p[name] }

// optInt parses an optional integer parameter.
func (rq *request) optInt(name string) (int64, bool, *apiError) {
	v, ok := rq.p[name]
	if !ok || v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false, badRequest("field \"%s\" must be of type Integer", name)
	}
	return n, true, nil
}

// optBool parses an optional boolean parameter.
func (rq *request) optBool(name string) (bool, *apiError) {
	v, ok := rq.p[name]
	if !ok || v == "" {
		return false, nil
	}
	b, ok := parseBool(strings.TrimSpace(v))
	if !ok {
		return false, badRequest("field \"%s\" must be of type Boolean", name)
	}
	return b, nil
}

// optJSON decodes an optional JSON parameter into dst. It reports whether
// the parameter was present.
func (rq *request) optJSON(name string, dst any) (bool, *apiError) {
	v, ok := rq.p[name]
	if !ok || v == "" {
		return false, nil
	}
	if err := json.Unmarshal([]byte(v), dst); err != nil {
		return false, badRequest("can't parse %s JSON object", name)
	}
	return true, nil
}
