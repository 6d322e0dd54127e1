// Package locales embeds Passerelle's message catalogs, one
// active.<lang>.toml per language; active.en.toml is the reference.
// See README.md in this folder for the translator workflow.
package locales

import "embed"

// FS holds every active.<lang>.toml at its root.
//
//go:embed active.*.toml
var FS embed.FS
