package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the API's OpenAPI 3.1 description, generated from routes and the
// schemas in openapi_gen_test.go (go test ./internal/api -run TestOpenAPIDocument -update)
// and checked in so that reviewers see every change of the contract.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPIDocument }

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*") // a public description, for API tools
	_, _ = w.Write(openAPIDocument)
	return nil
}
