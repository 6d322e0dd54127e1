package handoff

import (
	"slices"
	"strings"
	"unicode"

	"github.com/passerelle-bot/passerelle/internal/digits"
)

// Departement is one of the 101 French départements: its official code
// ("01", "2A", "69", "974") and its official name ("Rhône", "La Réunion").
// Codes are what cases, counts and the partners file store.
type Departement struct {
	Code string
	Name string
}

// departements is the official list (INSEE codes and names), in code
// order: 01–19, 2A, 2B, 21–95, then the five overseas départements.
var departements = []Departement{
	{"01", "Ain"}, {"02", "Aisne"}, {"03", "Allier"},
	{"04", "Alpes-de-Haute-Provence"}, {"05", "Hautes-Alpes"}, {"06", "Alpes-Maritimes"},
	{"07", "Ardèche"}, {"08", "Ardennes"}, {"09", "Ariège"},
	{"10", "Aube"}, {"11", "Aude"}, {"12", "Aveyron"},
	{"13", "Bouches-du-Rhône"}, {"14", "Calvados"}, {"15", "Cantal"},
	{"16", "Charente"}, {"17", "Charente-Maritime"}, {"18", "Cher"},
	{"19", "Corrèze"}, {"2A", "Corse-du-Sud"}, {"2B", "Haute-Corse"},
	{"21", "Côte-d'Or"}, {"22", "Côtes-d'Armor"}, {"23", "Creuse"},
	{"24", "Dordogne"}, {"25", "Doubs"}, {"26", "Drôme"},
	{"27", "Eure"}, {"28", "Eure-et-Loir"}, {"29", "Finistère"},
	{"30", "Gard"}, {"31", "Haute-Garonne"}, {"32", "Gers"},
	{"33", "Gironde"}, {"34", "Hérault"}, {"35", "Ille-et-Vilaine"},
	{"36", "Indre"}, {"37", "Indre-et-Loire"}, {"38", "Isère"},
	{"39", "Jura"}, {"40", "Landes"}, {"41", "Loir-et-Cher"},
	{"42", "Loire"}, {"43", "Haute-Loire"}, {"44", "Loire-Atlantique"},
	{"45", "Loiret"}, {"46", "Lot"}, {"47", "Lot-et-Garonne"},
	{"48", "Lozère"}, {"49", "Maine-et-Loire"}, {"50", "Manche"},
	{"51", "Marne"}, {"52", "Haute-Marne"}, {"53", "Mayenne"},
	{"54", "Meurthe-et-Moselle"}, {"55", "Meuse"}, {"56", "Morbihan"},
	{"57", "Moselle"}, {"58", "Nièvre"}, {"59", "Nord"},
	{"60", "Oise"}, {"61", "Orne"}, {"62", "Pas-de-Calais"},
	{"63", "Puy-de-Dôme"}, {"64", "Pyrénées-Atlantiques"}, {"65", "Hautes-Pyrénées"},
	{"66", "Pyrénées-Orientales"}, {"67", "Bas-Rhin"}, {"68", "Haut-Rhin"},
	{"69", "Rhône"}, {"70", "Haute-Saône"}, {"71", "Saône-et-Loire"},
	{"72", "Sarthe"}, {"73", "Savoie"}, {"74", "Haute-Savoie"},
	{"75", "Paris"}, {"76", "Seine-Maritime"}, {"77", "Seine-et-Marne"},
	{"78", "Yvelines"}, {"79", "Deux-Sèvres"}, {"80", "Somme"},
	{"81", "Tarn"}, {"82", "Tarn-et-Garonne"}, {"83", "Var"},
	{"84", "Vaucluse"}, {"85", "Vendée"}, {"86", "Vienne"},
	{"87", "Haute-Vienne"}, {"88", "Vosges"}, {"89", "Yonne"},
	{"90", "Territoire de Belfort"}, {"91", "Essonne"}, {"92", "Hauts-de-Seine"},
	{"93", "Seine-Saint-Denis"}, {"94", "Val-de-Marne"}, {"95", "Val-d'Oise"},
	{"971", "Guadeloupe"}, {"972", "Martinique"}, {"973", "Guyane"},
	{"974", "La Réunion"}, {"976", "Mayotte"},
}

// depAliases are other names people commonly use, already folded.
var depAliases = map[string]string{
	"belfort":           "90",
	"guyane francaise":  "973",
	"ile de la reunion": "974",
}

var (
	depByCode = map[string]int{}    // code → index in departements
	depByName = map[string]string{} // folded name → code
)

func init() {
	for i, d := range departements {
		depByCode[d.Code] = i
		key := foldName(d.Name)
		depByName[key] = d.Code
		// "Côte-d'Or" is often typed "cote dor".
		depByName[strings.ReplaceAll(key, " d ", " d")] = d.Code
	}
	for k, code := range depAliases {
		depByName[k] = code
	}
}

// Departements returns the 101 départements in code order (01…19, 2A, 2B,
// 21…95, 971…974, 976) as a new slice.
func Departements() []Departement { return slices.Clone(departements) }

// LookupDepartement finds the département a resident means. It accepts,
// ignoring surrounding spaces and punctuation:
//
//   - a code: "69", "06", "2A" or "2a", "974"; a single digit "1"…"9" means
//     "01"…"09". "20" (the old code of Corsica, now split) is ambiguous and
//     is not accepted; neither is "975" or any other non-département code;
//   - a name, ignoring case, accents, hyphens, apostrophes and a leading
//     article or "département": "Rhône", "rhone", "bouches du rhone",
//     "Côtes-d'Armor", "cotes darmor", "la reunion", "Réunion",
//     "Seine-St-Denis", "Belfort";
//   - a code and the same département's name together: "69 Rhône",
//     "Rhône (69)";
//   - a five-digit postcode, whose first two digits are the département
//     (75001 → 75, 01000 → 01). Exceptions: 97xxx gives the
//     three-digit code (97400 → 974; 975xx, Saint-Pierre-et-Miquelon, is not
//     a département); in Corsica 200xx and 201xx give 2A and 202xx and 206xx
//     give 2B, other 20xxx are refused; 00xxx, 96xxx, 98xxx (Monaco, the
//     Pacific) are refused. A handful of communes near a border have a
//     postcode of the neighbouring département; a postcode is a convenience,
//     not an address check. Saint-Barthélemy (97133) and Saint-Martin (97150)
//     share Guadeloupe's prefix and give 971.
//
// Digits may be ASCII, Eastern Arabic, Persian, Bengali or full-width.
// Anything else (a city name, a four-digit number, "Corse") returns false.
func LookupDepartement(input string) (Departement, bool) {
	return lookupDepartement(input, true)
}

// lookupDepartement is LookupDepartement, with postcodes only when
// postcodes is true (the partners file takes codes and names only).
func lookupDepartement(input string, postcodes bool) (Departement, bool) {
	key := foldName(input)
	if key == "" || len(key) > 100 {
		return Departement{}, false
	}
	if d, ok := depFromCode(key); ok {
		return d, true
	}
	if postcodes {
		if d, ok := depFromPostcode(key); ok {
			return d, true
		}
	}
	if code, ok := depByName[key]; ok {
		return departements[depByCode[code]], true
	}
	// "69 rhone" or "rhone 69": a code and the name of the same département.
	words := strings.Fields(key)
	if len(words) < 2 {
		return Departement{}, false
	}
	for _, split := range []struct{ code, name string }{
		{words[0], strings.Join(words[1:], " ")},
		{words[len(words)-1], strings.Join(words[:len(words)-1], " ")},
	} {
		d, ok := depFromCode(split.code)
		if ok && depByName[foldName(split.name)] == d.Code {
			return d, true
		}
	}
	return Departement{}, false
}

// depFromCode reads a folded code: 1–3 characters.
func depFromCode(s string) (Departement, bool) {
	switch {
	case len(s) == 1 && s[0] >= '1' && s[0] <= '9':
		s = "0" + s
	case s == "2a" || s == "2b":
		s = strings.ToUpper(s)
	case len(s) == 2 || len(s) == 3:
		if !allDigits(s) {
			return Departement{}, false
		}
	default:
		return Departement{}, false
	}
	i, ok := depByCode[s]
	if !ok {
		return Departement{}, false
	}
	return departements[i], true
}

// depFromPostcode reads a five-digit postcode (see LookupDepartement).
func depFromPostcode(s string) (Departement, bool) {
	if len(s) != 5 || !allDigits(s) {
		return Departement{}, false
	}
	var code string
	switch s[:2] {
	case "00", "96", "98", "99":
		return Departement{}, false
	case "20":
		switch s[2] {
		case '0', '1':
			code = "2A"
		case '2', '6':
			code = "2B"
		default:
			return Departement{}, false
		}
	case "97":
		code = s[:3]
	default:
		code = s[:2]
	}
	i, ok := depByCode[code]
	if !ok {
		return Departement{}, false
	}
	return departements[i], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// foldName lower-cases s, removes French accents, turns every non-ASCII
// digit into ASCII, turns punctuation (hyphens, apostrophes, parentheses…)
// into single spaces, drops leading articles and "département", and
// expands "st"/"ste" to "saint"/"sainte". "La Côte-d'Or" → "cote d or".
func foldName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if d, ok := digits.ASCII(r); ok {
			r = d
		} else if r >= '０' && r <= '９' { // full-width, typed with CJK keyboards
			r = '0' + (r - '０')
		} else if r >= '০' && r <= '৯' { // Bengali
			r = '0' + (r - '০')
		}
		r = unicode.ToLower(r)
		if rep, ok := frenchLetters[r]; ok {
			b.WriteString(rep)
			continue
		}
		switch {
		case r >= '\u0300' && r <= '\u036F': // combining accents of decomposed letters
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	for len(words) > 1 && leadingWords[words[0]] {
		words = words[1:]
	}
	for i, w := range words {
		switch w {
		case "st":
			words[i] = "saint"
		case "ste":
			words[i] = "sainte"
		}
	}
	return strings.Join(words, " ")
}

// leadingWords are dropped at the start of a name: "la Réunion",
// "département du Rhône", "dép. 69".
var leadingWords = map[string]bool{
	"la": true, "le": true, "les": true, "l": true,
	"du": true, "de": true, "des": true, "d": true,
	"departement": true, "dept": true, "dep": true, "dpt": true,
}

// frenchLetters maps lower-case letters with diacritics found in French
// place names (and a few more) to ASCII.
var frenchLetters = map[rune]string{
	'à': "a", 'â': "a", 'ä': "a", 'á': "a",
	'ç': "c",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'î': "i", 'ï': "i", 'í': "i",
	'ô': "o", 'ö': "o", 'ó': "o",
	'ù': "u", 'û': "u", 'ü': "u", 'ú': "u",
	'ÿ': "y", 'ñ': "n",
	'œ': "oe", 'æ': "ae",
}
