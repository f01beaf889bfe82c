package httpapi

import (
	_ "embed"
	"encoding/json"
)

// openAPIJSON is the OpenAPI 3.1 document of the routes, written by hand
// (a test checks that it lists exactly the routes served).
//
//go:embed openapi.json
var openAPIJSON []byte

// OpenAPI returns the OpenAPI 3.1 document that /api/v1/openapi.json
// serves, with its server URL Prefix.
func OpenAPI() []byte { return openAPIDocument(Prefix) }

// openAPIDocument is the document with its server URL set to base.
func openAPIDocument(base string) []byte {
	var doc map[string]any
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		panic("httpapi: openapi.json: " + err.Error()) // a test reads it
	}
	doc["servers"] = []map[string]string{{"url": base}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("httpapi: openapi.json: " + err.Error())
	}
	return b
}
