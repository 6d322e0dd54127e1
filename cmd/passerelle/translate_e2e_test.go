package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// fakeLibreTranslate is a LibreTranslate server's POST /translate: it
// answers from a table, and records what it was asked.
func fakeLibreTranslate(t *testing.T, table map[string]string) (*httptest.Server, func() []map[string]string) {
	var mu sync.Mutex
	var asked []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if r.Method != http.MethodPost || r.URL.Path != "/translate" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		asked = append(asked, in)
		mu.Unlock()
		out, ok := table[in["source"]+">"+in["target"]+":"+in["q"]]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "unknown text"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"translatedText": out})
	}))
	t.Cleanup(srv.Close)
	return srv, func() []map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return append([]map[string]string(nil), asked...)
	}
}

// TestMachineTranslationDari: with PASSERELLE_TRANSLATE_URL set to a
// (fake) LibreTranslate server, a Dari speaker's message arrives in the
// topic with its marked French translation, and a volunteer's French /r
// goes out in Dari with the line saying it was machine-translated.
func TestMachineTranslationDari(t *testing.T) {
	t.Parallel()
	const (
		dariText  = "سلام، کارت من تمام شده و API ندارم"
		frenchIn  = "Bonjour, ma carte a expiré et je n'ai pas d'API"
		frenchOut = "Bonjour, nous regardons votre dossier aujourd'hui."
		dariOut   = "سلام، امروز پروندهٔ شما را بررسی می‌کنیم."
	)
	lt, asked := fakeLibreTranslate(t, map[string]string{
		"fa>fr:" + dariText:  frenchIn,
		"fr>fa:" + frenchOut: dariOut,
	})
	w := newHandoffWorldWith(t, wednesday10, worldOptions{env: map[string]string{"PASSERELLE_TRANSLATE_URL": lt.URL}})
	farid := telegramtest.User{ID: 7400009, FirstName: "Farid", LanguageCode: "fa"}
	w.do(t, w.srv.SendText(farid, "/volunteer"))
	w.press(t, farid, farid.ID, w.t("fa", "help.problem.no_api"))
	w.do(t, w.srv.SendText(farid, "69"))
	w.press(t, farid, farid.ID, w.t("fa", "language.native"))
	w.do(t, w.srv.SendText(farid, "30/06/2027"))
	w.press(t, farid, farid.ID, w.t("fa", "help.risk.done"))
	w.press(t, farid, farid.ID, w.t("fa", "help.skip"))
	w.press(t, farid, farid.ID, w.t("fa", "help.consent.yes"))
	c := w.caseOf(t, farid)
	if c.PartnerID != "lyon" {
		t.Fatalf("routed to %s", c.PartnerID)
	}
	w.press(t, lina, e2eLyon, w.t("fr", "case.take"))
	_, thread := w.topicOf(t, c.ID)

	w.do(t, w.srv.SendText(farid, dariText))
	copies := w.waitCopies(t, e2eLyon, thread, c.ID, 1)
	plain := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(copies[0].PlainText)
	if !strings.Contains(plain, dariText) || !strings.Contains(plain, "Traduction automatique (persan (dari ou farsi) → français), à vérifier") || !strings.Contains(plain, frenchIn) {
		t.Errorf("copy = %q; want the Dari text, then its marked French translation", plain)
	}

	before := len(w.srv.Messages(farid.ID))
	w.do(t, w.srv.SendGroupText(e2eLyon, thread, lina, "/r "+frenchOut))
	preview := w.last(t, e2eLyon).PlainText
	if !strings.Contains(preview, dariOut) || !strings.Contains(preview, frenchOut) {
		t.Errorf("preview = %q; want the Dari translation and the French original", preview)
	}
	w.press(t, lina, e2eLyon, w.t("fr", "case.send_button"))
	sent := w.srv.Messages(farid.ID)[before:]
	machine := w.t("fa", "relay.machine_translated")
	if len(sent) != 1 || !strings.Contains(sent[0].PlainText, dariOut) || !strings.Contains(sent[0].Text, machine) || strings.Contains(sent[0].PlainText, frenchOut) {
		t.Fatalf("to the resident: %+v; want the Dari translation and the machine-translation line", sent)
	}
	if n := len(asked()); n != 2 {
		t.Errorf("the translation server was asked %d times; want 2", n)
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestGroupCommandMenu: at start, every partner group's "/" menu (scope
// chat) lists the volunteers' commands in French, and none of the
// residents'.
func TestGroupCommandMenu(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	for _, chat := range []int64{e2eLyon, e2eLyonRefs, e2eParis, e2eNat, e2eNatRefs} {
		menu := map[string]string{}
		for _, c := range w.srv.Commands(telegramtest.CommandScope{Type: "chat", ChatID: chat}, "") {
			menu[c.Command] = c.Description
		}
		for _, want := range []string{"r", "modele", "etapes", "fermer", "liberer", "transferer", "attribuer", "file", "mes", "dossier", "stats"} {
			if menu[want] == "" {
				t.Errorf("chat %d: the menu lacks /%s: %v", chat, want, menu)
			}
		}
		for _, resident := range []string{"start", "forget", "volunteer", "mydata", "summary", "close"} {
			if _, ok := menu[resident]; ok {
				t.Errorf("chat %d: the menu offers /%s", chat, resident)
			}
		}
		if d := menu["r"]; d != w.t("fr", "menu.group.r") {
			t.Errorf("chat %d: /r is described %q", chat, d)
		}
	}
	w.srv.RequireNoSpecErrors(t)
}
