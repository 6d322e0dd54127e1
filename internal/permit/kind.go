package permit

import "slices"

// Kind is the kind of document the bot follows. The values are short, stable
// strings meant for callback data and storage: never change one once it is
// stored. The zero Kind ("") is not valid.
type Kind string

// The document kinds. Titres de séjour first, then the documents held while a
// request is examined, then the two documents a renewal needs.
const (
	// KindCST is a carte de séjour temporaire (one year at most).
	KindCST Kind = "cst"
	// KindCSP is a carte de séjour pluriannuelle of less than four years.
	KindCSP Kind = "csp"
	// KindCSP4 is the four-year carte de séjour pluriannuelle (for example
	// subsidiary protection), the one L.433-3 names [S103].
	KindCSP4 Kind = "csp4"
	// KindCarteResident is a ten-year carte de résident (including the
	// carte de résident permanent).
	KindCarteResident Kind = "carte_resident"
	// KindRLDUE is a carte de résident "résident de longue durée-UE".
	KindRLDUE Kind = "rld_ue"
	// KindCRA1 is a one-year Algerian certificat de résidence (1968
	// agreement).
	KindCRA1 Kind = "cra1"
	// KindCRA10 is a ten-year Algerian certificat de résidence.
	KindCRA10 Kind = "cra10"
	// KindVLSTS is a visa long séjour valant titre de séjour, to be
	// validated online within 3 months of arrival [S27][S29][S31].
	KindVLSTS Kind = "vlsts"
	// KindAPI is an attestation de prolongation de l'instruction, issued on
	// ANEF while a complete, timely request is examined; 3 months at most
	// [S92].
	KindAPI Kind = "api"
	// KindRecepisse is a récépissé, issued by the préfecture for a paper
	// (non-ANEF) request [S99][S100].
	KindRecepisse Kind = "recepisse"
	// KindAPS is an autorisation provisoire de séjour, including the
	// 6-month APS of Ukrainian temporary protection [S73][S74][S75].
	KindAPS Kind = "aps"
	// KindPassport is the passport, which a renewal file needs valid
	// (identity and nationality documents, R.431-10) [S108].
	KindPassport Kind = "passport"
	// KindDomiciliation is an attestation de domiciliation (postal address
	// for people without a home), the proof of address of a renewal file
	// [S108][S32].
	KindDomiciliation Kind = "domiciliation"
)

var kinds = []Kind{
	KindCST, KindCSP, KindCSP4, KindCarteResident, KindRLDUE, KindCRA1,
	KindCRA10, KindVLSTS, KindAPI, KindRecepisse, KindAPS, KindPassport,
	KindDomiciliation,
}

// Kinds returns every valid Kind, in the order of the constants. The slice is
// new on each call.
func Kinds() []Kind { return slices.Clone(kinds) }

// Valid reports whether k is one of the Kind constants.
func (k Kind) Valid() bool { return slices.Contains(kinds, k) }

// isTitre reports whether k is a titre de séjour whose renewal follows
// CESEDA R.431-5 (the VLS-TS included [S85]).
func (k Kind) isTitre() bool {
	switch k {
	case KindCST, KindCSP, KindCSP4, KindCarteResident, KindRLDUE, KindCRA1, KindCRA10, KindVLSTS:
		return true
	}
	return false
}

// Mention is the mention of the NEXT titre (the one being requested), which
// decides where it is filed (see [NextChannel]). The values are short, stable
// strings for callback data and storage. The zero Mention ("") means the same
// as MentionUnknown.
type Mention string

// The mentions. MentionOther is a mention the bot does not model;
// MentionUnknown is the answer "I don't know".
const (
	MentionEtudiant              Mention = "etudiant"
	MentionSalarie               Mention = "salarie"
	MentionTravailleurTemporaire Mention = "travailleur_temporaire"
	// MentionVPF is "vie privée et familiale".
	MentionVPF Mention = "vpf"
	// MentionFamilleFrancais is a family member of a French national
	// (spouse, parent of a French child…), usually a VPF card or a first
	// carte de résident.
	MentionFamilleFrancais Mention = "famille_francais"
	// MentionProtection is international protection (refugee, subsidiary
	// protection) and their families.
	MentionProtection Mention = "protection"
	MentionVisiteur   Mention = "visiteur"
	// MentionTalent is a "passeport talent" / "talent" card of any sub-type
	// and its family cards.
	MentionTalent     Mention = "talent"
	MentionSaisonnier Mention = "saisonnier"
	// MentionMalade is "étranger malade" (L.425-9) and the other
	// vulnerability grounds put on ANEF in October 2023.
	MentionMalade Mention = "malade"
	// MentionApatride is a stateless person.
	MentionApatride Mention = "apatride"
	MentionOther    Mention = "other"
	MentionUnknown  Mention = "unknown"
)

var mentions = []Mention{
	MentionEtudiant, MentionSalarie, MentionTravailleurTemporaire, MentionVPF,
	MentionFamilleFrancais, MentionProtection, MentionVisiteur, MentionTalent,
	MentionSaisonnier, MentionMalade, MentionApatride, MentionOther,
	MentionUnknown,
}

// Mentions returns every valid Mention, in the order of the constants. The
// slice is new on each call.
func Mentions() []Mention { return slices.Clone(mentions) }

// Valid reports whether m is one of the Mention constants ("" is not).
func (m Mention) Valid() bool { return slices.Contains(mentions, m) }

// NextChannel says where the next titre is filed when the holder of a
// document of kind k asks for a titre with mention m (anef.md §2.1, §2.3).
// The answer picks the renewal window ([RenewalWindow]). Unknown means "do
// not know": callers then use the ANEF window, the earliest one, which never
// makes someone late under either rule.
//
// By kind, whatever the mention:
//
//   - carte de résident renewal (most grounds, and the carte de résident
//     permanent): ANEF since 4 July 2024 [S21][S22]. For the few grounds
//     left out, the ANEF window is still the cautious one.
//   - résident de longue durée-UE renewal: ANEF since 4 July 2024 [S21]
//     (R.431-5's 120–60-day window does not apply to it [S85]; see
//     [Schedule]).
//   - 10-year CRA renewal (arts 7 bis / 7 ter): ANEF since 4 July 2024 [S21].
//   - APS, including Ukrainian temporary protection: Prefecture (préfecture
//     or Démarches simplifiées, not ANEF) [S73][S74][S75].
//   - récépissé: Prefecture, the office that issued it [S99].
//   - API: ANEF, the service that issued it [S92].
//   - passport, domiciliation attestation and invalid kinds: Unknown (no
//     filing of their own under R.431-5).
//
// For a CST, a CSP (any length), a VLS-TS or a 1-year CRA, by mention:
//
//   - étudiant: ANEF since Nov 2020 / arrêté of 27 Apr 2021, including the
//     CRA "étudiant" [S3][S58][S59][S4].
//   - talent: ANEF since May 2021 [S5][S60].
//   - visiteur: ANEF since 2021 [S5][S60].
//   - protection: ANEF (from May 2021 or May 2022, date UNCONFIRMED)
//     [S61][S5][S62].
//   - saisonnier: ANEF since 5 Apr 2023 [S15][S17].
//   - famille_francais: ANEF since 5 Apr 2023, CRA included [S15][S17].
//   - vpf: ANEF. The VPF grounds listed on ANEF are family of French
//     nationals (Apr 2023) [S15][S17], regroupement familial (mid-2023) [S18]
//     and the vulnerability grounds (Oct 2023) [S19]. A VPF ground not on
//     the list would be filed at the préfecture; the ANEF window, being the
//     earlier one, keeps such a person on time anyway.
//   - malade: ANEF since 2 Oct 2023, CRA included [S19][S20].
//   - salarié, travailleur temporaire: Prefecture. Not on ANEF as of July
//     2024 [S23]; whether they moved to ANEF in 2025–2026 is UNCONFIRMED
//     (anef.md §7). If they did, a préfecture answer makes the person late
//     after D-60: re-check before launch.
//   - apatride: Prefecture [S62].
//   - other, unknown, "" and invalid mentions: Unknown.
//
// For a 1-year CRA, only the étudiant, famille_francais and malade rows (and
// salarié, at the préfecture like any salarié card) apply: CRA requests are
// on ANEF only where an arrêté lists them [S58][S15][S19][S21]. Other CRA
// mentions give Unknown, so that the earliest window is used, because the
// list comes from secondary sources.
func NextChannel(k Kind, m Mention) Channel {
	switch k {
	case KindCarteResident, KindRLDUE, KindCRA10, KindAPI:
		return ANEF
	case KindAPS, KindRecepisse:
		return Prefecture
	case KindCRA1:
		switch m {
		case MentionEtudiant, MentionFamilleFrancais, MentionMalade:
			return ANEF
		case MentionSalarie, MentionTravailleurTemporaire:
			return Prefecture
		}
		return Unknown
	case KindCST, KindCSP, KindCSP4, KindVLSTS:
		switch m {
		case MentionEtudiant, MentionTalent, MentionVisiteur, MentionProtection,
			MentionSaisonnier, MentionFamilleFrancais, MentionVPF, MentionMalade:
			return ANEF
		case MentionSalarie, MentionTravailleurTemporaire, MentionApatride:
			return Prefecture
		}
		return Unknown
	}
	return Unknown
}

// GraceApplies says whether CESEDA L.433-3 covers the holder of a document
// of kind k who has asked for its renewal: the expired card then proves
// regular stay, with the right to work and social rights, for up to 3 months
// after expiry while the request is examined [S103][S87]. sure is false when
// the package cannot tell; the answer is then false, because the grace is
// never assumed.
//
//   - 4-year CSP, carte de résident, 10-year CRA (a titre of more than one
//     year under an international agreement): true, sure [S103][S87].
//   - CST, CSP under 4 years, 1-year CRA, VLS-TS, APS: false, sure [S87]
//     ("does not cover ordinary 1-year cards or multi-year cards under 4
//     years"). Not modelled: in départements listed by arrêté, a CST or CSP
//     holder who filed before expiry is covered too [S103][S104]; the list
//     of départements is not in the brief, so the bot must not tell such a
//     person that no cover exists anywhere.
//   - résident de longue durée-UE: false, not sure. It is a carte de
//     résident in the CESEDA, but the brief's sources do not say that
//     L.433-3 covers it, so the grace is not assumed.
//   - API, récépissé, passport, domiciliation, invalid kinds: false, not
//     sure (the question does not apply; an API or récépissé is itself the
//     proof of regular stay).
func GraceApplies(k Kind) (applies bool, sure bool) {
	switch k {
	case KindCSP4, KindCarteResident, KindCRA10:
		return true, true
	case KindCST, KindCSP, KindCRA1, KindVLSTS, KindAPS:
		return false, true
	}
	return false, false
}
