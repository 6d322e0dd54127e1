package translate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/translate"
)

func TestLibreTranslate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if r.URL.Path != "/translate" || r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		if in["api_key"] != "k" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"Invalid API key"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"translatedText": in["source"] + ">" + in["target"] + ":" + in["q"]})
	}))
	defer srv.Close()
	tests := []struct {
		name, key, from, to, want string
		wantErr                   bool
	}{
		{"Dari to French", "k", "fa", "fr", "fa>fr:x", false},
		{"French to Chinese", "k", "fr", "zh-Hans", "fr>zh:x", false},
		{"refused key", "bad", "fa", "fr", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := translate.New(srv.URL+"/", tt.key, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Translate(context.Background(), "x", tt.from, tt.to)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Translate = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := translate.New("ftp://x", "", nil); err == nil {
		t.Error("an ftp URL was accepted")
	}
}
