package guide

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passerelle-bot/passerelle/internal/digits"
)

// Bounds on free text, which is untrusted and may be long.
const (
	maxSuggestBytes  = 1024
	maxSuggestTokens = 64
)

// phrase is one key of a phrases table, tokenised once at load.
type phrase struct {
	toks [][]rune
	ids  []string
}

// buildIndex tokenises the phrases and counts, per language, how many
// phrases hold each token: common words ("carte", "card") weigh less than
// rare ones ("oqtf").
func (g *Guide) buildIndex() {
	g.index = make(map[string][]phrase, len(g.phrases))
	g.df = make(map[string]map[string]int, len(g.phrases))
	for _, lang := range sortedKeys(g.phrases) {
		table := g.phrases[lang]
		df := make(map[string]int)
		var list []phrase
		for _, text := range sortedKeys(table) {
			toks := tokens(text)
			if len(toks) == 0 {
				continue
			}
			p := phrase{ids: table[text]}
			for _, t := range toks {
				p.toks = append(p.toks, []rune(t))
				df[t]++
			}
			list = append(list, p)
		}
		g.index[lang] = list
		g.df[lang] = df
	}
}

// Suggest matches free text against the phrases residents type and
// returns up to max distinct entry ids (questions or outcomes, never
// switched-off ones), best first. Phrases of lang come first; phrases of
// every other language fill the remaining places, so a resident writing
// in another language than the interface's still gets an answer. When
// nothing matches it returns the start question and the help outcome:
// never a dead end. A max below 1 counts as 1.
//
// Matching normalises both sides (lower case; Latin accents stripped;
// Eastern Arabic and Persian digits to ASCII; punctuation removed; Arabic
// diacritics removed and letter variants unified), drops filler words,
// and scores each phrase by weighted token overlap (Dice), rarer tokens
// weighing more and near spellings counting for less than exact ones.
func (g *Guide) Suggest(lang, text string, max int) []string {
	if max < 1 {
		max = 1
	}
	if len(text) > maxSuggestBytes {
		cut := maxSuggestBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	toks := tokens(text)
	if len(toks) > maxSuggestTokens {
		toks = toks[:maxSuggestTokens]
	}
	lang = baseLang(lang)
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if len(out) == max {
				return
			}
			if !slices.Contains(out, id) && g.live(id) {
				out = append(out, id)
			}
		}
	}
	if len(toks) > 0 {
		add(g.rank(toks, []string{lang}))
		var others []string
		for _, l := range sortedKeys(g.phrases) {
			if l != lang {
				others = append(others, l)
			}
		}
		add(g.rank(toks, others))
	}
	if len(out) == 0 {
		add([]string{g.Tree.Start, g.Tree.Help})
	}
	return out
}

// live reports whether id is a question or an outcome that is not
// switched off.
func (g *Guide) live(id string) bool {
	_, ok := g.Question(id)
	return ok || g.IsOutcome(id)
}

// rank scores the phrases of langs against the text tokens and returns
// their entry ids, best first. An id's score is its best phrase's score,
// lowered a little for each place it stands behind in that phrase's list.
func (g *Guide) rank(toks []string, langs []string) []string {
	text := make([][]rune, len(toks))
	for i, t := range toks {
		text[i] = []rune(t)
	}
	score := make(map[string]float64)
	var order []string
	for _, lang := range langs {
		df := g.df[lang]
		n := float64(len(g.index[lang]))
		weight := func(t string) float64 { return 1 + math.Log((n+1)/float64(df[t]+1)) }
		var textW float64
		for _, t := range toks {
			textW += weight(t)
		}
		for _, p := range g.index[lang] {
			var matched, phraseW float64
			for _, pt := range p.toks {
				w := weight(string(pt))
				phraseW += w
				var best float64
				for _, tt := range text {
					best = max(best, similarity(pt, tt))
				}
				matched += w * best
			}
			if matched == 0 {
				continue
			}
			s := 2 * matched / (phraseW + textW)
			for i, id := range p.ids {
				si := s * math.Pow(0.9, float64(i))
				if old, ok := score[id]; !ok {
					order = append(order, id)
					score[id] = si
				} else if si > old {
					score[id] = si
				}
			}
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(score[b], score[a]) })
	return order
}

// similarity is 1 for the same token, 0.8 for a near spelling (a shared
// stem, or one or two typos in a long word), 0 otherwise.
func similarity(a, b []rune) float64 {
	if slices.Equal(a, b) {
		return 1
	}
	short := min(len(a), len(b))
	if short < 4 {
		return 0
	}
	prefix := 0
	for prefix < short && a[prefix] == b[prefix] {
		prefix++
	}
	if prefix >= 4 && prefix >= short-2 {
		return 0.8
	}
	maxEdits := 1
	if short >= 9 {
		maxEdits = 2
	}
	if short >= 5 && editDistance(a, b, maxEdits) <= maxEdits {
		return 0.8
	}
	return 0
}

// editDistance is the Levenshtein distance of a and b, or limit+1 as soon
// as it is known to exceed limit.
func editDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// baseLang turns "fr-FR" or "pt_BR" into "fr" or "pt".
func baseLang(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}

// tokens normalises s and splits it into the words that matter: filler
// words and single letters are dropped, a hyphenated word gives its parts
// and the parts joined ("vls-ts" → vls, ts, vlsts), and Arabic words lose
// the article ("البطاقة" → "بطاقه").
func tokens(s string) []string {
	var out []string
	for _, field := range strings.Fields(fold(s)) {
		parts := strings.FieldsFunc(field, func(r rune) bool { return r == '-' })
		if len(parts) > 1 {
			parts = append(parts, strings.Join(parts, ""))
		}
		for _, t := range parts {
			if stopwords[t] || utf8.RuneCountInString(t) == 1 && !unicode.IsDigit([]rune(t)[0]) {
				continue
			}
			out = append(out, stripArticle(t))
		}
	}
	return out
}

// fold lower-cases s and removes what residents type inconsistently:
// Latin accents, Arabic diacritics and letter variants, non-ASCII digits,
// invisible format characters and punctuation (which becomes a space).
// Hyphens stay, for tokens to split.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		r = unicode.ToLower(r)
		if rep, ok := latin[r]; ok {
			b.WriteString(rep)
			space = false
			continue
		}
		if d, ok := digits.ASCII(r); ok {
			r = d
		}
		switch {
		case r >= '\u064B' && r <= '\u065F', r == '\u0670', r == '\u0640': // tashkeel, superscript alef, tatweel
			continue
		case r >= '\u0300' && r <= '\u036F': // combining accents of decomposed Latin
			continue
		case unicode.Is(unicode.Cf, r): // zero-width (non-)joiners, direction marks
			continue
		}
		if rep, ok := arabic[r]; ok {
			r = rep
		}
		switch {
		case r == '-' || r == '\u2010' || r == '\u2011':
			b.WriteByte('-')
			space = false
		case r != '\u02BC' && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
			b.WriteRune(r)
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// stripArticle removes the Arabic definite article, alone or after a
// one-letter preposition or conjunction, from words long enough to keep
// a stem of three letters.
func stripArticle(t string) string {
	rs := []rune(t)
	if len(rs) < 5 || rs[0] < '\u0600' || rs[0] > '\u06FF' {
		return t
	}
	for _, p := range []string{"بال", "وال", "فال", "كال"} {
		if len(rs) >= 6 && strings.HasPrefix(t, p) {
			return string(rs[3:])
		}
	}
	if strings.HasPrefix(t, "ال") || strings.HasPrefix(t, "لل") {
		return string(rs[2:])
	}
	return t
}

// latin maps lower-case Latin letters with diacritics to plain ASCII.
var latin = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'ç': "c", 'ć': "c", 'ĉ': "c", 'č': "c",
	'ď': "d", 'đ': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ĕ': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ĝ': "g", 'ğ': "g",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ĩ': "i", 'ī': "i", 'į': "i", 'ı': "i",
	'ł': "l",
	'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o",
	'ŕ': "r", 'ř': "r",
	'ś': "s", 'ş': "s", 'ș': "s", 'š': "s",
	'ţ': "t", 'ț': "t", 'ť': "t",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ũ': "u", 'ū': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'ý': "y", 'ÿ': "y",
	'ź': "z", 'ż': "z", 'ž': "z",
	'œ': "oe", 'æ': "ae", 'ß': "ss",
}

// arabic unifies Arabic letter variants: alef forms, teh marbuta, alef
// maksura, hamza carriers, and the Persian yeh and keheh.
var arabic = map[rune]rune{
	'أ': 'ا', 'إ': 'ا', 'آ': 'ا', 'ٱ': 'ا',
	'ة': 'ه',
	'ى': 'ي', 'ی': 'ي', 'ئ': 'ي',
	'ؤ': 'و',
	'ک': 'ك',
}

// stopwords are filler words of the shipped languages, after fold. Words
// that carry meaning here ("pas", "sans", "no", "لا") stay.
var stopwords = func() map[string]bool {
	m := make(map[string]bool)
	for _, list := range []string{
		// French
		"le la les de du des un une et ou au aux en pour par sur dans avec mon ma mes ton ta tes son sa ses " +
			"je me moi il elle on nous vous ils elles ce cet cette qui que qu quoi est ai as suis sont ne se " +
			"bonjour salut svp stp merci madame monsieur comment faire veux voudrais peux dois besoin",
		// English
		"the an of to for my is in on at and or with from it its this that do does how can what please " +
			"hello hi thanks thank want need have has get got am are be was im",
		// Arabic (folded)
		"من في على الى عن او ان هل هذا هذه ذلك التي الذي مع كيف اريد انا لي عندي مرحبا السلام عليكم شكرا فضلك",
	} {
		for _, w := range strings.Fields(list) {
			m[w] = true
		}
	}
	return m
}()

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
