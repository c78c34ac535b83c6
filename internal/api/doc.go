// Package api is Herald's HTTP API: the tenant endpoints under /v1 and the admin endpoints
// under /admin, with their credentials, error shape, pagination and OpenAPI document. The
// paths, names and shapes are a public contract, described for people in docs/api.md and for
// programs in openapi.json (served at GET /openapi.json).
//
// A handler decodes the request, calls one method of a service of package control, and
// encodes the answer; the services know nothing of HTTP. New takes the services in Deps and
// returns one http.Handler that a process mounts on its HTTP server at the paths in Paths.
//
// A browser (the dashboard under /ui/) logs in once with POST /ui/login and then sends the
// sealed session cookie instead of a credential header; unsafe requests authenticated that way
// must carry X-Herald-CSRF (see session.go).
//
// Every route is listed once, in routes (routes.go): the mux, the credential each needs and
// the OpenAPI document's operations all come from that list, and a test checks that the
// document and the list agree.
package api
