package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
)

// runOut runs the program with env and returns its output and error.
func runOut(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
	return out.String(), err
}

func TestKeygen(t *testing.T) {
	a, err := runOut(t, nil, "keygen")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := runOut(t, nil, "keygen")
	if a == b {
		t.Error("keygen printed the same key twice")
	}
	if _, err := seal.ParseKey(a); err != nil {
		t.Errorf("keygen printed %q, which is not a key: %v", a, err)
	}
}

// TestCheckDataKey: check refuses a weak or unreadable master key, and a
// missing one when the environment is set up for run.
func TestCheckDataKey(t *testing.T) {
	t.Parallel()
	good := seal.NewKey()
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
		want string
	}{
		{"none, not for run", nil, true, "data key: not set"},
		{"none, for run", map[string]string{"TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdefghijklmnopqrstuvw", "PASSERELLE_OPERATOR_NAME": testOperatorName, "PASSERELLE_OPERATOR_CONTACT": testOperatorContact}, false, "PASSERELLE_DATA_KEY is not set"},
		{"a passphrase", map[string]string{"PASSERELLE_DATA_KEY": "motdepasse"}, false, "weak or malformed"},
		{"too short", map[string]string{"PASSERELLE_DATA_KEY": "c2hvcnQ="}, false, "weak or malformed"},
		{"a good key", map[string]string{"PASSERELLE_DATA_KEY": good, "TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdefghijklmnopqrstuvw", "PASSERELLE_OPERATOR_NAME": testOperatorName, "PASSERELLE_OPERATOR_CONTACT": testOperatorContact}, true, "data key: ok"},
		{"a key file", map[string]string{"PASSERELLE_DATA_KEY_FILE": file, "TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdefghijklmnopqrstuvw", "PASSERELLE_OPERATOR_NAME": testOperatorName, "PASSERELLE_OPERATOR_CONTACT": testOperatorContact}, true, "data key: ok"},
		{"a missing key file", map[string]string{"PASSERELLE_DATA_KEY_FILE": file + ".nope"}, false, "PASSERELLE_DATA_KEY_FILE"},
		{"both", map[string]string{"PASSERELLE_DATA_KEY": good, "PASSERELLE_DATA_KEY_FILE": file}, false, "both set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runOut(t, tc.env, "check")
			if (err == nil) != tc.ok {
				t.Errorf("check = %v; want ok %v\n%s", err, tc.ok, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("check output lacks %q:\n%s", tc.want, out)
			}
			if k := tc.env["PASSERELLE_DATA_KEY"]; k != "" && strings.Contains(out, k) {
				t.Errorf("check printed the key:\n%s", out)
			}
		})
	}
}

func TestRunNeedsDataKey(t *testing.T) {
	_, err := runOut(t, map[string]string{"TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdefghijklmnopqrstuvw", "PASSERELLE_OPERATOR_NAME": testOperatorName, "PASSERELLE_OPERATOR_CONTACT": testOperatorContact}, "run")
	if !errors.Is(err, errNoDataKey) {
		t.Errorf("run without a data key = %v; want errNoDataKey", err)
	}
}

// TestRotateKeyCommand: rotate-key moves a store from the current master
// key to the new one; the bot then needs the new one.
func TestRotateKeyCommand(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.db")
	oldText, newText := seal.NewKey(), seal.NewKey()
	old, _ := seal.ParseKey(oldText)
	next, _ := seal.ParseKey(newText)
	st, err := openStore(t.Context(), "bolt:"+path, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutProfile(t.Context(), bot.Profile{UserID: 5, ChatID: 5, Lang: "ps"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	env := map[string]string{"PASSERELLE_STORE": "bolt:" + path, "PASSERELLE_DATA_KEY": oldText}
	if _, err := runOut(t, env, "rotate-key"); err == nil || !strings.Contains(err.Error(), "PASSERELLE_NEW_DATA_KEY") {
		t.Errorf("rotate-key without a new key = %v", err)
	}
	env["PASSERELLE_NEW_DATA_KEY"] = newText
	out, err := runOut(t, env, "rotate-key")
	if err != nil || !strings.Contains(out, "re-wrapped 1 data keys") {
		t.Fatalf("rotate-key = %v\n%s", err, out)
	}
	if strings.Contains(out, oldText) || strings.Contains(out, newText) {
		t.Errorf("rotate-key printed a key:\n%s", out)
	}
	if _, err := openStore(t.Context(), "bolt:"+path, old); !errors.Is(err, bolt.ErrWrongKey) {
		t.Errorf("open with the old key after rotate-key: %v; want ErrWrongKey", err)
	}
	st, err = openStore(t.Context(), "bolt:"+path, next)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := st.Profile(t.Context(), 5); err != nil || p.Lang != "ps" {
		t.Errorf("after rotate-key the profile = %+v, %v", p, err)
	}
}
