package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

// TestChatHandoffTranscript: `passerelle chat --partners
// partners.example.yaml` plays the partner group in the same terminal: a
// scripted resident goes through the intake and consents, the volunteer
// takes the case (a topic opens), the resident writes, the volunteer
// replies with /r, sends it from the preview and closes. Golden transcript in
// testdata/chat_handoff_fr.txt (refresh with -update).
func TestChatHandoffTranscript(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	old := chatClock
	t.Cleanup(func() { chatClock = old })
	// A Tuesday morning: the example partners' volunteers are there.
	chatClock = clock.NewFake(time.Date(2026, time.December, 8, 10, 30, 0, 0, paris))

	script := strings.Join([]string{
		"/volunteer",
		"8",                                    // no API
		"69",                                   // département
		"1",                                    // no date
		"1",                                    // risk: work
		"4",                                    // done
		"Mon API a expiré le mois dernier.",    // short message
		"1",                                    // consent: the card goes to the group
		"@vol 1",                               // the volunteer takes it: a topic opens
		"Bonjour, vous avez reçu ma demande ?", // copied into the topic
		"@vol On regarde ensemble ce qui manque, entre nous.",             // internal: stays in the topic
		"@vol /r Bonjour, je suis Léa. Avez-vous le récépissé de dépôt ?", // a preview
		"@vol 1", // Send: it reaches the resident
		"Oui, je l'ai.",
		"@vol /close",
		"@vol 1", // reason: solved
		"@vol 1", // confirm
		"1",      // useful
		"/quit",
	}, "\n") + "\n"
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"chat", "--lang", "fr", "--partners", "../../partners.example.yaml"}, noEnv, strings.NewReader(script), &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if strings.Contains(errOut.String(), "catalog_missing") || strings.Contains(errOut.String(), "error") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	got := out.String()
	plainSpaces := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(got) // French typography
	for _, want := range []string{
		"bot → Entraide Rhône (fictional)> Dossier #1", // the card in the group
		"[new topic #1:", // Take opened a topic
		"bot → Entraide Rhône (fictional) #1> 💬 Dossier #1 · message de la personne :\n                                     Bonjour, vous avez reçu ma demande ?", // the relay copy, framed
		"bot> 💬 Léa (Entraide Rhône (fictional)) :\n     Bonjour, je suis Léa.",
		"Dossier clos.",
	} {
		if !strings.Contains(plainSpaces, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(plainSpaces, "bot> 💬 Léa (Entraide Rhône (fictional)) :\n     On regarde") {
		t.Error("a message without /r reached the resident")
	}
	golden(t, "chat_handoff_fr", dateRE.ReplaceAllString(got, "DD/MM/YYYY"))
}

// golden compares got with testdata/NAME.txt (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestChatReusedStore: two chat runs, one after the other, on the same
// store (PASSERELLE_STORE, then --store): the second is answered, and
// remembers the first (the language chosen there).
func TestChatReusedStore(t *testing.T) {
	store := "bolt:" + filepath.Join(t.TempDir(), "chat.db")
	env := map[string]string{"PASSERELLE_STORE": store, "PASSERELLE_DATA_KEY": testDataKey}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"chat"}, envOf(env), strings.NewReader("/start\n6\n/quit\n"), &out, &out); err != nil {
		t.Fatalf("first run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Bienvenue") {
		t.Fatalf("first run did not choose French:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"chat", "--store", store}, envOf(map[string]string{"PASSERELLE_DATA_KEY": testDataKey}), strings.NewReader("/menu\n/mydata\n/quit\n"), &out, &out); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	second := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(out.String())
	for _, want := range []string{"bot> Menu principal", "Langue : Français"} {
		if !strings.Contains(second, want) {
			t.Errorf("second run on the same store lacks %q (its updates were dropped as duplicates?):\n%s", want, out.String())
		}
	}
	// --temporary ignores PASSERELLE_STORE: a fresh resident again.
	out.Reset()
	if err := run(context.Background(), []string{"chat", "--temporary", "--lang", "xx"}, envOf(env), strings.NewReader("/menu\n/quit\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Menu principal") {
		t.Errorf("--temporary used PASSERELLE_STORE:\n%s", out.String())
	}
}

// TestVolunteerWithoutPartners: without a partners file, /volunteer shows
// the public help, not "I did not understand".
func TestVolunteerWithoutPartners(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"chat", "--lang", "en"}, noEnv, strings.NewReader("/volunteer\n/quit\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Défenseur des droits") || strings.Contains(out.String(), "did not understand") {
		t.Errorf("/volunteer without partners:\n%s", out.String())
	}
}
