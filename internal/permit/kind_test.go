package permit_test

import (
	"slices"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

func TestKinds(t *testing.T) {
	// The string values are stored and used in callback data: they must not
	// change.
	want := []permit.Kind{"cst", "csp", "csp4", "carte_resident", "rld_ue", "cra1", "cra10", "vlsts", "api", "recepisse", "aps", "passport", "domiciliation"}
	got := permit.Kinds()
	if !slices.Equal(got, want) {
		t.Fatalf("Kinds() = %q; want %q", got, want)
	}
	for _, k := range got {
		if !k.Valid() {
			t.Errorf("%q.Valid() = false; want true", k)
		}
	}
	for _, k := range []permit.Kind{"", "CST", "carte", "cra", " cst"} {
		if k.Valid() {
			t.Errorf("%q.Valid() = true; want false", k)
		}
	}
	got[0] = "changed"
	if permit.Kinds()[0] != permit.KindCST {
		t.Error("Kinds shares its slice between calls")
	}
}

func TestMentions(t *testing.T) {
	want := []permit.Mention{"etudiant", "salarie", "travailleur_temporaire", "vpf", "famille_francais", "protection", "visiteur", "talent", "saisonnier", "malade", "apatride", "other", "unknown"}
	got := permit.Mentions()
	if !slices.Equal(got, want) {
		t.Fatalf("Mentions() = %q; want %q", got, want)
	}
	for _, m := range got {
		if !m.Valid() {
			t.Errorf("%q.Valid() = false; want true", m)
		}
	}
	for _, m := range []permit.Mention{"", "Etudiant", "vie privée"} {
		if m.Valid() {
			t.Errorf("%q.Valid() = true; want false", m)
		}
	}
	got[0] = "changed"
	if permit.Mentions()[0] != permit.MentionEtudiant {
		t.Error("Mentions shares its slice between calls")
	}
}

func TestNextChannel(t *testing.T) {
	tests := []struct {
		source string
		k      permit.Kind
		m      permit.Mention
		want   permit.Channel
	}{
		// Temporary and multi-year cards: the mention decides (anef.md §2.1).
		{"étudiant on ANEF [S3][S58][S59][S4]", permit.KindCST, permit.MentionEtudiant, permit.ANEF},
		{"étudiant after a VLS-TS [S3][S4]", permit.KindVLSTS, permit.MentionEtudiant, permit.ANEF},
		{"talent [S5][S60]", permit.KindCSP, permit.MentionTalent, permit.ANEF},
		{"visiteur [S5][S60]", permit.KindCST, permit.MentionVisiteur, permit.ANEF},
		{"protection, 4-year CSP [S61][S5][S62]", permit.KindCSP4, permit.MentionProtection, permit.ANEF},
		{"saisonnier [S15][S17]", permit.KindCSP, permit.MentionSaisonnier, permit.ANEF},
		{"family of French nationals [S15][S17]", permit.KindCST, permit.MentionFamilleFrancais, permit.ANEF},
		{"vie privée et familiale [S15][S17][S18][S19]", permit.KindCST, permit.MentionVPF, permit.ANEF},
		{"étranger malade [S19][S20]", permit.KindCST, permit.MentionMalade, permit.ANEF},
		{"salarié not on ANEF as of July 2024, UNCONFIRMED since [S23]", permit.KindCST, permit.MentionSalarie, permit.Prefecture},
		{"travailleur temporaire [S23]", permit.KindCST, permit.MentionTravailleurTemporaire, permit.Prefecture},
		{"student becoming salarié files at the préfecture [S23]", permit.KindVLSTS, permit.MentionSalarie, permit.Prefecture},
		{"stateless at the préfecture [S62]", permit.KindCSP4, permit.MentionApatride, permit.Prefecture},
		{"other mention: earliest window", permit.KindCST, permit.MentionOther, permit.Unknown},
		{"I don't know: earliest window", permit.KindCSP, permit.MentionUnknown, permit.Unknown},
		{"empty mention = unknown", permit.KindCST, "", permit.Unknown},
		{"invalid mention = unknown", permit.KindCST, "bogus", permit.Unknown},

		// Long-term cards, by kind (arrêté of 1 July 2024).
		{"carte de résident renewal since 4 July 2024 [S21][S22]", permit.KindCarteResident, permit.MentionUnknown, permit.ANEF},
		{"carte de résident renewal whatever the mention [S21][S22]", permit.KindCarteResident, permit.MentionSalarie, permit.ANEF},
		{"RLD-UE renewal since 4 July 2024 [S21]", permit.KindRLDUE, "", permit.ANEF},
		{"10-year CRA renewal since 4 July 2024 [S21]", permit.KindCRA10, permit.MentionUnknown, permit.ANEF},

		// 1-year CRA: on ANEF only where an arrêté lists it (§2.3).
		{"CRA étudiant [S58][S59]", permit.KindCRA1, permit.MentionEtudiant, permit.ANEF},
		{"CRA family of French [S15][S17]", permit.KindCRA1, permit.MentionFamilleFrancais, permit.ANEF},
		{"CRA malade [S19]", permit.KindCRA1, permit.MentionMalade, permit.ANEF},
		{"CRA salarié [S23]", permit.KindCRA1, permit.MentionSalarie, permit.Prefecture},
		{"CRA visiteur not listed, unsure: earliest window [S58][S21]", permit.KindCRA1, permit.MentionVisiteur, permit.Unknown},
		{"CRA VPF not listed, unsure [S58][S21]", permit.KindCRA1, permit.MentionVPF, permit.Unknown},

		// Documents held while a request is examined.
		{"APS incl. Ukrainian TP: préfecture or Démarches simplifiées [S73][S74][S75]", permit.KindAPS, permit.MentionProtection, permit.Prefecture},
		{"récépissé: préfecture [S99]", permit.KindRecepisse, permit.MentionUnknown, permit.Prefecture},
		{"API: ANEF [S92]", permit.KindAPI, permit.MentionUnknown, permit.ANEF},

		// No filing of their own.
		{"passport", permit.KindPassport, permit.MentionEtudiant, permit.Unknown},
		{"domiciliation", permit.KindDomiciliation, permit.MentionEtudiant, permit.Unknown},
		{"invalid kind", "bogus", permit.MentionEtudiant, permit.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			if got := permit.NextChannel(tt.k, tt.m); got != tt.want {
				t.Errorf("NextChannel(%q, %q) = %v; want %v (%s)", tt.k, tt.m, got, tt.want, tt.source)
			}
		})
	}
}

func TestGraceApplies(t *testing.T) {
	tests := []struct {
		source        string
		k             permit.Kind
		applies, sure bool
	}{
		{"L.433-3: 4-year CSP [S103][S87]", permit.KindCSP4, true, true},
		{"L.433-3: carte de résident [S103][S87]", permit.KindCarteResident, true, true},
		{"L.433-3: 10-year CRA, international agreement [S103][S87]", permit.KindCRA10, true, true},
		{"not ordinary 1-year cards [S87]", permit.KindCST, false, true},
		{"not multi-year cards under 4 years [S87]", permit.KindCSP, false, true},
		{"not the 1-year CRA [S103][S87]", permit.KindCRA1, false, true},
		{"not the VLS-TS [S87]", permit.KindVLSTS, false, true},
		{"not an APS [S87]", permit.KindAPS, false, true},
		{"RLD-UE: not in the sources, never assumed [S103]", permit.KindRLDUE, false, false},
		{"API: does not apply", permit.KindAPI, false, false},
		{"récépissé: does not apply", permit.KindRecepisse, false, false},
		{"passport: does not apply", permit.KindPassport, false, false},
		{"domiciliation: does not apply", permit.KindDomiciliation, false, false},
		{"invalid kind: unsure", "bogus", false, false},
		{"empty kind: unsure", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			applies, sure := permit.GraceApplies(tt.k)
			if applies != tt.applies || sure != tt.sure {
				t.Errorf("GraceApplies(%q) = %v, %v; want %v, %v (%s)", tt.k, applies, sure, tt.applies, tt.sure, tt.source)
			}
		})
	}
}
