package guide

import (
	"slices"
	"testing"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"French accents", "Renouvellement carte ÉTUDIANT", "renouvellement carte etudiant"},
		{"more French", "Récépissé, à côté, naïf, cœur, Noël", "recepisse a cote naif coeur noel"},
		{"cedilla and ligature", "Reçu ÆSOP", "recu aesop"},
		{"decomposed accents", "e\u0301tudiant", "etudiant"},
		{"German, Turkish, Romanian", "Straße İstanbul ağ șir", "strasse istanbul ag sir"},
		{"apostrophes", "l'ANEF, l’agent, lʼOFII", "l anef l agent l ofii"},
		{"punctuation and spaces", "  OQTF ?!  (urgent)…  ", "oqtf urgent"},
		{"hyphens stay", "VLS-TS", "vls-ts"},
		{"Eastern Arabic digits", "٠١٢٣٤٥٦٧٨٩", "0123456789"},
		{"Persian digits", "۰۱۲۳۴۵۶۷۸۹", "0123456789"},
		{"Arabic tashkeel", "تَجْدِيدُ", "تجديد"},
		{"Arabic tatweel", "بطـــاقة", "بطاقه"},
		{"alef forms", "أإآٱ", "اااا"},
		{"teh marbuta", "بطاقة", "بطاقه"},
		{"alef maksura", "إلى", "الي"},
		{"Persian yeh and keheh", "کارت ملی", "كارت ملي"},
		{"Arabic punctuation", "ما هذا؟ نعم، لا؛", "ما هذا نعم لا"},
		{"zero-width non-joiner", "می\u200cخواهم", "ميخواهم"},
		{"Cyrillic lower case", "ВНЖ", "внж"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fold(tt.in); got != tt.want {
				t.Errorf("fold(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Bonjour, j'ai perdu ma carte de séjour", []string{"perdu", "carte", "sejour"}},
		{"I lost my card", []string{"lost", "card"}},
		{"VLS-TS", []string{"vls", "ts", "vlsts"}},
		{"titre 10 ans", []string{"titre", "10", "ans"}},
		{"البطاقة", []string{"بطاقه"}},
		{"بالبطاقة للطفل", []string{"بطاقه", "طفل"}},
		{"وثيقة", []string{"وثيقه"}}, // a word that starts with و keeps it
		{"وصل الإيداع", []string{"وصل", "ايداع"}},
		{"أريد تجديد بطاقتي من فضلك", []string{"تجديد", "بطاقتي"}},
		{"?!", nil},
	}
	for _, tt := range tests {
		if got := tokens(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("tokens(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"carte", "carte", 1},
		{"carte", "cartes", 0.8},
		{"perdu", "perdue", 0.8},
		{"renouveler", "renouvellement", 0.8},
		{"renouvelement", "renouvellement", 0.8},
		{"naturalisation", "naturalization", 0.8},
		{"card", "care", 0},
		{"api", "apis", 0},
		{"titre", "timbre", 0},
		{"2024", "2025", 0},
	}
	for _, tt := range tests {
		if got := similarity([]rune(tt.a), []rune(tt.b)); got != tt.want {
			t.Errorf("similarity(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
