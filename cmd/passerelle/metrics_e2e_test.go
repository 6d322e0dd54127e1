package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// scrape reads /metrics into series → value (series as printed: name and
// labels). Histograms appear as their _bucket, _sum and _count series.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

var labelValueRE = regexp.MustCompile(`="([^"]*)"`)

// TestMetricsEndToEnd: /metrics of the real program, scraped while the
// test acts: updates received and handled, store round trips, sends and
// the reminder dispatcher's counters move; gauges read from the store are
// there; no label holds a user id (or any long number).
func TestMetricsEndToEnd(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	path := filepath.Join(t.TempDir(), "m.db")
	// A due schedule entry whose document is gone: claimed, notified
	// (nothing to say), acked.
	st, err := bolt.Open(path, bolt.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Schedule(context.Background(), "77770001:gone", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := baseEnv(t, srv, "bolt:"+path)
	env["PASSERELLE_QUIET_HOURS"] = "0-0" // reminders at any hour
	env["PASSERELLE_ADMINS"] = "77770009"
	in := startBot(t, env)
	srv.WaitPolling(t, wait)
	base := "http://" + env["PASSERELLE_LISTEN"]
	before := scrape(t, base)

	resident := telegramtest.User{ID: 77770002, FirstName: "Rania", LanguageCode: "fr"}
	admin := telegramtest.User{ID: 77770009, FirstName: "Op", LanguageCode: "fr"}
	srv.SendText(resident, "/start")
	srv.WaitMessages(t, resident.ID, 1, wait)
	srv.SendText(resident, "/status") // not an admin: "I did not understand"
	srv.WaitMessages(t, resident.ID, 2, wait)
	srv.SendText(admin, "/status")
	if m := lastMessage(t, srv, admin.ID, 1); !strings.Contains(m.Text, "Passerelle devel") || !strings.Contains(m.Text, "bolt") {
		t.Errorf("/status = %q", m.Text)
	}

	const (
		commandsOK = `passerelle_updates_handled_total{kind="command",outcome="ok"}`
		received   = `passerelle_updates_received_total{kind="command"}`
		sentOK     = `passerelle_messages_sent_total{lane="interactive",result="ok"}`
		acked      = `passerelle_reminders_acked_total{result="ok"}`
		claimed    = `passerelle_reminders_claimed_total`
		notified   = `passerelle_reminders_sent_total{result="ok"}`
	)
	var after map[string]float64
	deadline := time.Now().Add(wait)
	for {
		after = scrape(t, base)
		if after[commandsOK] >= before[commandsOK]+3 && after[acked] >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling an HTTP endpoint; no timed assertion
	}
	for _, s := range []string{commandsOK, received} {
		if got := after[s] - before[s]; got < 3 {
			t.Errorf("%s moved by %v; want at least 3 (three commands)", s, got)
		}
	}
	storeCalls := func(m map[string]float64) (n float64) {
		for s, v := range m {
			if strings.HasPrefix(s, "passerelle_store_duration_seconds_count{") {
				n += v
			}
		}
		return n
	}
	if storeCalls(after) <= storeCalls(before) {
		t.Errorf("store round trips did not move: %v → %v", storeCalls(before), storeCalls(after))
	}
	for _, s := range []string{sentOK} {
		if after[s] <= before[s] {
			t.Errorf("%s did not move: %v → %v", s, before[s], after[s])
		}
	}
	// The entry the test scheduled before the start: a new process counts
	// from zero, and the dispatcher may have claimed it before the first
	// scrape.
	for _, s := range []string{claimed, notified, acked} {
		if after[s] < 1 {
			t.Errorf("%s = %v; want the entry scheduled by the test counted", s, after[s])
		}
	}
	for _, s := range []string{
		`passerelle_send_queue_depth{lane="interactive"}`, `passerelle_send_queue_depth{lane="bulk"}`,
		`passerelle_reminders_due`, `passerelle_reminders_oldest_due_age_seconds`,
		`passerelle_update_duration_seconds_count{kind="command"}`,
	} {
		if _, ok := after[s]; !ok {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	build := false
	for series := range after {
		if strings.HasPrefix(series, "passerelle_build_info{") && strings.Contains(series, `version="devel`) {
			build = true
		}
		for _, v := range labelValueRE.FindAllStringSubmatch(series, -1) {
			if regexp.MustCompile(`\d{5,}`).MatchString(v[1]) {
				t.Errorf("label value %q of %s looks like an id", v[1], series)
			}
		}
		for _, id := range []string{"77770002", "77770009", "77770001"} {
			if strings.Contains(series, id) {
				t.Errorf("series %s holds a user id", series)
			}
		}
	}
	if !build {
		t.Error("/metrics lacks passerelle_build_info with the version")
	}
	if !strings.Contains(in.logs.String(), `"msg":"starting","version":"devel`) {
		t.Errorf("no start log with the version:\n%s", in.logs.String())
	}
}

// TestGrafanaDashboard: deploy/grafana/passerelle.json is valid JSON and
// every Passerelle metric its panels query is one the program exports.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readRoot(t, "deploy/grafana/passerelle.json")), &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	src := readRoot(t, "cmd/passerelle/metrics.go")
	nameRE := regexp.MustCompile(`passerelle_[a-z_]+`)
	n := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range nameRE.FindAllString(tg.Expr, -1) {
				n++
				base := name
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					base = strings.TrimSuffix(base, suffix)
				}
				if !strings.Contains(src, `"`+base+`"`) {
					t.Errorf("panel %q queries %s, which metrics.go does not export", p.Title, name)
				}
			}
		}
	}
	if len(dash.Panels) < 10 || n < 10 {
		t.Errorf("dashboard has %d panels and %d metric queries", len(dash.Panels), n)
	}
}
