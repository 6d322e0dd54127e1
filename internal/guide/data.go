package guide

import "embed"

// Data holds the shipped tree, its sources and the phrases residents
// type, as edited by content volunteers.
//
//go:embed tree.yaml sources.yaml phrases.yaml catalogue.yaml
var Data embed.FS

// Load reads the tree, sources and phrases embedded in [Data]. It does not
// validate: call [Guide.Validate] with the catalog's lookup at start-up.
func Load() (*Guide, error) {
	return LoadFS(Data, "tree.yaml", "sources.yaml", "phrases.yaml")
}

// LoadShippedCatalogue reads the catalogue.yaml embedded in [Data], the data
// of CATALOGUE.md.
func LoadShippedCatalogue() (*Catalogue, error) {
	return LoadCatalogue(Data, "catalogue.yaml")
}
