package handoff_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

func TestDepartements(t *testing.T) {
	deps := handoff.Departements()
	if len(deps) != 101 {
		t.Fatalf("Departements() has %d entries; want 101", len(deps))
	}
	var want []string
	for i := 1; i <= 95; i++ {
		switch {
		case i == 20:
			want = append(want, "2A", "2B")
		default:
			want = append(want, fmt.Sprintf("%02d", i))
		}
	}
	want = append(want, "971", "972", "973", "974", "976")
	var got []string
	names := map[string]bool{}
	for _, d := range deps {
		got = append(got, d.Code)
		if d.Name == "" || names[d.Name] {
			t.Errorf("département %s: empty or repeated name %q", d.Code, d.Name)
		}
		names[d.Name] = true
	}
	if !slices.Equal(got, want) {
		t.Errorf("codes = %v\nwant    %v", got, want)
	}
	spot := map[string]string{
		"01": "Ain", "2A": "Corse-du-Sud", "2B": "Haute-Corse", "13": "Bouches-du-Rhône",
		"21": "Côte-d'Or", "22": "Côtes-d'Armor", "69": "Rhône", "75": "Paris",
		"90": "Territoire de Belfort", "93": "Seine-Saint-Denis", "95": "Val-d'Oise",
		"971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte",
	}
	for _, d := range deps {
		if name, ok := spot[d.Code]; ok && d.Name != name {
			t.Errorf("département %s is %q; want %q", d.Code, d.Name, name)
		}
	}
	deps[0].Name = "changed"
	if handoff.Departements()[0].Name != "Ain" {
		t.Error("Departements returns the package's own slice")
	}
}

func TestLookupDepartement(t *testing.T) {
	tests := []struct {
		in   string
		want string // code; "" for not found
	}{
		// Codes.
		{"69", "69"}, {"06", "06"}, {"6", "06"}, {"1", "01"}, {"9", "09"}, {"01", "01"},
		{"2A", "2A"}, {"2a", "2A"}, {"2b", "2B"}, {" 2B ", "2B"}, {"95", "95"},
		{"974", "974"}, {"971", "971"}, {"976", "976"}, {"69.", "69"},
		{"0", ""}, {"00", ""}, {"20", ""}, {"96", ""}, {"99", ""}, {"975", ""}, {"977", ""},
		{"970", ""}, {"2c", ""}, {"069", ""}, {"6 9", ""},
		// Other digits.
		{"٦٩", "69"}, {"۶۹", "69"}, {"۹۷۴", "974"}, {"٧٥٠٠١", "75"}, {"６９", "69"}, {"৬৯", "69"},
		// Names.
		{"Rhône", "69"}, {"rhone", "69"}, {"RHÔNE", "69"}, {"Rhone", "69"},
		{"bouches du rhone", "13"}, {"Bouches-du-Rhône", "13"},
		{"Côtes-d'Armor", "22"}, {"cotes d armor", "22"}, {"Côtes d’Armor", "22"}, {"cotes-darmor", "22"},
		{"Côte-d'Or", "21"}, {"cote dor", "21"}, {"val doise", "95"},
		{"la reunion", "974"}, {"Réunion", "974"}, {"La Réunion", "974"}, {"île de la Réunion", "974"},
		{"Corse-du-Sud", "2A"}, {"haute corse", "2B"}, {"Corse", ""},
		{"Seine-Saint-Denis", "93"}, {"seine st denis", "93"}, {"Seine St-Denis", "93"},
		{"Territoire de Belfort", "90"}, {"Belfort", "90"},
		{"Val-d'Oise", "95"}, {"val d oise", "95"}, {"Puy-de-Dôme", "63"},
		{"Pyrénées-Orientales", "66"}, {"Deux-Sèvres", "79"}, {"Saône-et-Loire", "71"},
		{"Guyane", "973"}, {"Guyane française", "973"}, {"mayotte", "976"},
		{"Paris", "75"}, {"Loire", "42"}, {"Haute-Loire", "43"}, {"Loiret", "45"},
		{"E\u0301ssonne", "91"}, {"Isère", "38"}, {"Ise\u0300re", "38"},
		{"département du Rhône", "69"}, {"dép. 69", "69"}, {"l'Ain", "01"},
		{"Lyon", ""}, {"Marseille", ""}, {"rhône-alpes", ""},
		// Code and name together.
		{"69 Rhône", "69"}, {"Rhône (69)", "69"}, {"69 - Rhône", "69"}, {"974 La Réunion", "974"},
		{"2A Corse-du-Sud", "2A"}, {"69 Ain", ""}, {"Rhône 75", ""},
		// Postcodes.
		{"75001", "75"}, {"69003", "69"}, {"01000", "01"}, {"13001", "13"}, {"97400", "974"},
		{"97300", "973"}, {"97600", "976"}, {"97133", "971"}, {"97500", ""}, {"98000", ""},
		{"00100", ""}, {"96000", ""}, {"20000", "2A"}, {"20167", "2A"}, {"20200", "2B"},
		{"20600", "2B"}, {"20300", ""}, {"6900", ""}, {"690011", ""},
		// Nonsense.
		{"", ""}, {"   ", ""}, {"-", ""}, {"all", ""}, {"la", ""}, {strings.Repeat("9", 200), ""},
	}
	for _, tt := range tests {
		d, ok := handoff.LookupDepartement(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("LookupDepartement(%q) = %v; want not found", tt.in, d)
			}
			continue
		}
		if !ok || d.Code != tt.want {
			t.Errorf("LookupDepartement(%q) = %v, %v; want %s", tt.in, d, ok, tt.want)
		}
	}
}

func TestLookupEveryDepartement(t *testing.T) {
	for _, d := range handoff.Departements() {
		for _, in := range []string{d.Code, d.Name, strings.ToUpper(d.Name), strings.ToLower(d.Code), d.Code + " " + d.Name} {
			if got, ok := handoff.LookupDepartement(in); !ok || got != d {
				t.Errorf("LookupDepartement(%q) = %v, %v; want %v", in, got, ok, d)
			}
		}
	}
}

func FuzzLookupDepartement(f *testing.F) {
	for _, s := range []string{"69", "2A", "974", "75001", "20200", "Rhône", "la réunion", "Côtes-d'Armor",
		"٦٩", "69 Rhône", "Rhône (69)", "", "dép", "\xff", "st ste la le"} {
		f.Add(s)
	}
	codes := map[string]handoff.Departement{}
	for _, d := range handoff.Departements() {
		codes[d.Code] = d
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, ok := handoff.LookupDepartement(in)
		if !ok {
			if d != (handoff.Departement{}) {
				t.Fatalf("LookupDepartement(%q) = %v, false; want the zero Departement", in, d)
			}
			return
		}
		if codes[d.Code] != d {
			t.Fatalf("LookupDepartement(%q) = %v, not in Departements()", in, d)
		}
		if again, ok := handoff.LookupDepartement(d.Code); !ok || again != d {
			t.Fatalf("LookupDepartement(%q) = %v, %v; want %v", d.Code, again, ok, d)
		}
	})
}
