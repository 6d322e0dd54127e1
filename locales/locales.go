// Package locales embeds Passerelle's message catalogs, one
// active.<lang>.toml per language; active.en.toml is the reference.
// See README.md in this folder for the translator workflow.
package locales

import "embed"

// FS holds every active.<lang>.toml at its root, and GLOSSARY.md (the
// catalog checks read it).
//
//go:embed active.*.toml GLOSSARY.md
var FS embed.FS

// Glossary is GLOSSARY.md: the French terms translations keep in French.
// Its table is read by catalog.GlossaryTerms for the catalog checks.
//
//go:embed GLOSSARY.md
var Glossary []byte

// Reviewed lists the locales a native speaker has reviewed, with the date
// and, if they wished, who: the same as the last column of STATUS.md (a
// test keeps them in step). A locale not listed tells residents, when they
// choose it, that it was machine-assisted.
var Reviewed = map[string]string{}

// ReviewedSet returns the tags of Reviewed as a set.
func ReviewedSet() map[string]bool {
	out := make(map[string]bool, len(Reviewed))
	for tag := range Reviewed {
		out[tag] = true
	}
	return out
}
