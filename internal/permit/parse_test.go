package permit_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // YYYY-MM-DD; empty means an error wrapping ErrBadDate
	}{
		// Accepted forms.
		{"DD/MM/YYYY", "30/06/2027", "2027-06-30"},
		{"D/M/YY", "5/3/27", "2027-03-05"},
		{"D/M/YYYY", "5/3/2027", "2027-03-05"},
		{"DD/MM/YY", "05/03/27", "2027-03-05"},
		{"DD.MM.YYYY", "30.06.2027", "2027-06-30"},
		{"D.M.YY", "1.2.28", "2028-02-01"},
		{"DD-MM-YYYY", "30-06-2027", "2027-06-30"},
		{"YYYY-MM-DD", "2027-06-30", "2027-06-30"},
		{"YYYY-M-D", "2027-6-3", "2027-06-03"},
		{"leap day", "29/02/2028", "2028-02-29"},
		{"century leap day", "29/02/2000", "2000-02-29"},
		{"YY is 20YY", "31/12/99", "2099-12-31"},
		{"YY 00", "1/1/00", "2000-01-01"},
		{"surrounding spaces", "  30/06/2027\t\n", "2027-06-30"},
		{"no-break space", "\u00a030/06/2027\u00a0", "2027-06-30"},
		{"RTL marks around", "\u200f30/06/2027\u200e", "2027-06-30"},
		{"Eastern Arabic digits", "٣٠/٠٦/٢٠٢٧", "2027-06-30"},
		{"Persian digits", "۳۰/۰۶/۲۰۲۷", "2027-06-30"},
		{"Persian digits ISO", "۲۰۲۸-۰۲-۲۹", "2028-02-29"},
		{"Arabic date separator", "٣٠؍٠٦؍٢٠٢٧", "2027-06-30"},
		{"Arabic decimal separator as dot", "٣٠٫٠٦٫٢٠٢٧", "2027-06-30"},
		{"mixed digit alphabets", "٣٠/06/2027", "2027-06-30"},
		{"past date", "01/01/2020", "2020-01-01"},
		{"year boundary", "31/12/2027", "2027-12-31"},

		// Impossible dates.
		{"29 February in non-leap year", "29/02/2027", ""},
		{"29 February 2100", "29/02/2100", ""},
		{"30 February", "30/02/2028", ""},
		{"31 April", "31/04/2027", ""},
		{"ISO 31 April", "2027-04-31", ""},
		{"day 0", "00/06/2027", ""},
		{"month 0", "30/00/2027", ""},
		{"month 13", "01/13/2027", ""},
		{"year 0000", "01/01/0000", ""},

		// Ambiguous or unsupported forms.
		{"US order is not swapped", "12/31/2027", ""},
		{"two-digit year with dashes", "12-03-27", ""},
		{"year-first with slashes", "2027/06/30", ""},
		{"year-first with dots", "2027.06.30", ""},
		{"mixed separators", "30/06-2027", ""},
		{"mixed separators ISO", "2027-06/30", ""},
		{"three-digit year", "30/06/027", ""},
		{"one-digit year", "30/06/7", ""},
		{"five-digit year", "30/06/20270", ""},
		{"three-digit day", "030/06/2027", ""},
		{"three-digit month", "30/006/2027", ""},
		{"ISO three-digit day", "2027-06-030", ""},
		{"two parts", "30/06", ""},
		{"four parts", "30/06/2027/1", ""},
		{"empty part", "30//2027", ""},
		{"trailing separator", "30/06/2027/", ""},
		{"leading separator", "/30/06/2027", ""},
		{"inner spaces", "30 / 06 / 2027", ""},
		{"space separator", "30 06 2027", ""},
		{"month name", "30 juin 2027", ""},
		{"letters", "tomorrow", ""},
		{"digits only", "30062027", ""},
		{"negative", "-30/06/2027", ""},
		{"plus sign", "+30/06/2027", ""},
		{"empty", "", ""},
		{"spaces only", "   ", ""},
		{"fullwidth digits are not mapped", "３０/０６/２０２７", ""},
		{"Devanagari digits are not mapped", "३०/०६/२०२७", ""},
		{"invalid UTF-8", "30/06/2027\xff", ""},
		{"very long", strings.Repeat("1", 300) + "/06/2027", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permit.ParseDate(tt.in)
			if tt.want == "" {
				if !errors.Is(err, permit.ErrBadDate) {
					t.Fatalf("ParseDate(%q) = %v, %v; want error wrapping ErrBadDate", tt.in, got, err)
				}
				return
			}
			if err != nil || got != mustDate(t, tt.want) {
				t.Fatalf("ParseDate(%q) = %v, %v; want %s, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDateErrorOmitsInput(t *testing.T) {
	const in = "31/04/1987" // could be a birth date: personal data
	_, err := permit.ParseDate(in)
	if err == nil {
		t.Fatalf("ParseDate(%q) = nil error; want one", in)
	}
	if strings.Contains(err.Error(), "1987") {
		t.Errorf("ParseDate(%q) error %q repeats the input", in, err)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"30/06/2027", "5/3/27", "30.06.2027", "30-06-2027", "2027-06-30",
		"29/02/2028", "29/02/2027", "12-03-27", "٣٠/٠٦/٢٠٢٧", "۲۰۲۸-۰۲-۲۹",
		" \u200f1/1/00 ", "0001-01-01", "9999-12-31", "", "//", "1/1/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := permit.ParseDate(s)
		if err != nil {
			if !errors.Is(err, permit.ErrBadDate) {
				t.Fatalf("ParseDate(%q) error %v does not wrap ErrBadDate", s, err)
			}
			return
		}
		if _, err := permit.NewDate(d.Year, d.Month, d.Day); err != nil {
			t.Fatalf("ParseDate(%q) = %v, which NewDate rejects: %v", s, d, err)
		}
		back, err := permit.ParseDate(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDate(%q) = %v; ParseDate(%q) = %v, %v; want %v", s, d, d.String(), back, err, d)
		}
	})
}
