package api

import "net/http"

// route is one operation of the API: its method and ServeMux pattern, the credential it
// needs, its handler and what the OpenAPI document says of it.
type route struct {
	Method  string
	Pattern string
	Access  access
	serve   func(a *API, w http.ResponseWriter, r *http.Request) error
	Doc     opDoc
}

// opDoc is what the OpenAPI document says of a route beyond its method, path and
// credential.
type opDoc struct {
	ID      string
	Summary string
	Tag     string
	// Query names the query parameters, from queryParams.
	Query []string
	// Body names the request body's schema in components; BodyOptional allows none.
	Body         string
	BodyOptional bool
	// Form offers Body as an HTML form (application/x-www-form-urlencoded) too.
	Form bool
	// Status is the status of success, and Result the schema of its body ("" for none).
	Status int
	Result string
	// Redirect describes a 303 answer, which sends a browser to its Location.
	Redirect string
	// Errors are the error statuses this operation may answer beyond those of its
	// credential (401, 403, 404 for another tenant, 429) and 500.
	Errors []int
}

// The tags of the OpenAPI document.
const (
	tagDestinations = "Tenant destinations"
	tagHistory      = "Delivery history"
	tagDead         = "Dead letters"
	tagReplays      = "Replays"
	tagStatus       = "Status and tests"
	tagKeys         = "Tenant keys"
	tagMeta         = "Catalog"
	tagSession      = "Browser sessions"
	tagDashboard    = "Dashboard"
)

// historyQuery are the filters of history, tenant deliveries and dead letters.
var historyQuery = []string{"limit", "cursor", "tenant", "event_type", "channel", "destination", "status", "event_id", "since", "until"}

// tenantHistoryQuery are the filters of a tenant's deliveries: the history's but tenant,
// which is the path's.
var tenantHistoryQuery = []string{"limit", "cursor", "event_type", "channel", "destination", "status", "event_id", "since", "until"}

// routes is every operation the API serves, in the order the OpenAPI document lists them.
// It is the one list of them: the mux, the credentials and the document all come from it.
var routes = []route{
	{"GET", "/openapi.json", public, (*API).openAPI, opDoc{ID: "getOpenAPI", Tag: tagMeta,
		Summary: "This document.", Status: 200, Result: "OpenAPIDocument"}},
	{"GET", "/v1/event-types", anyCredential, (*API).eventTypes, opDoc{ID: "listEventTypes", Tag: tagMeta,
		Summary: "The known event types, with a JSON Schema of the data of each seed type.", Status: 200, Result: "EventTypeList"}},
	{"GET", "/v1/whoami", anyCredential, (*API).whoami, opDoc{ID: "whoami", Tag: tagSession,
		Summary: "Who the credential (or the session cookie) is: the admin, or a tenant.", Status: 200, Result: "Whoami"}},

	// Browser sessions of the dashboard.
	{"POST", "/ui/login", public, (*API).login, opDoc{ID: "login", Tag: tagSession,
		Summary: "Start a browser session with an admin token or a tenant key: sets the herald_session cookie (HttpOnly, SameSite=Strict, 12h). " +
			"A form is answered 303 to /ui/ (or back to /ui/login?error=1 when the token is wrong), JSON with who the session is. " +
			"A wrong token counts as a failed authentication.",
		Body: "LoginInput", Form: true, Status: 200, Result: "Whoami",
		Redirect: "A form login: to /ui/ with the cookie set, or to /ui/login?error=1 (error=rate_limited when slowed down).",
		Errors:   []int{400, 401, 403, 413, 429, 503}}},
	{"POST", "/ui/logout", public, (*API).logout, opDoc{ID: "logout", Tag: tagSession,
		Summary: "End the browser session: clears the cookie.", Status: 303, Redirect: "To /ui/login, the cookie cleared.", Errors: []int{403}}},

	// Tenant destinations.
	{"POST", "/v1/tenants/{tenant}/destinations", tenantScoped, (*API).createDestination, opDoc{ID: "createDestination", Tag: tagDestinations,
		Summary: "Create a destination. A webhook without a secret gets a new whsec_ one, returned in full in this answer only.",
		Body:    "DestinationInput", Status: 201, Result: "Destination", Errors: []int{400, 409, 413, 503}}},
	{"GET", "/v1/tenants/{tenant}/destinations", tenantScoped, (*API).listDestinations, opDoc{ID: "listDestinations", Tag: tagDestinations,
		Summary: "List the tenant's destinations by id; secrets and token-bearing URLs masked.",
		Query:   []string{"limit", "cursor"}, Status: 200, Result: "DestinationPage", Errors: []int{400, 503}}},
	{"GET", "/v1/tenants/{tenant}/destinations/{id}", tenantScoped, (*API).getDestination, opDoc{ID: "getDestination", Tag: tagDestinations,
		Summary: "Get a destination; secrets and token-bearing URLs masked.", Status: 200, Result: "Destination", Errors: []int{503}}},
	{"PATCH", "/v1/tenants/{tenant}/destinations/{id}", tenantScoped, (*API).updateDestination, opDoc{ID: "updateDestination", Tag: tagDestinations,
		Summary: "Change the fields the body sets; config is merged one top-level key at a time (null removes a key, a masked value keeps the stored one).",
		Body:    "DestinationPatch", Status: 200, Result: "Destination", Errors: []int{400, 409, 413, 503}}},
	{"DELETE", "/v1/tenants/{tenant}/destinations/{id}", tenantScoped, (*API).deleteDestination, opDoc{ID: "deleteDestination", Tag: tagDestinations,
		Summary: "Delete a destination.", Status: 204, Errors: []int{503}}},
	{"POST", "/v1/tenants/{tenant}/destinations/{id}/enable", tenantScoped, (*API).enableDestination, opDoc{ID: "enableDestination", Tag: tagDestinations,
		Summary: "Enable a destination, clearing an automatic disable.", Status: 200, Result: "Destination", Errors: []int{503}}},
	{"POST", "/v1/tenants/{tenant}/destinations/{id}/disable", tenantScoped, (*API).disableDestination, opDoc{ID: "disableDestination", Tag: tagDestinations,
		Summary: "Pause a destination.", Status: 200, Result: "Destination", Errors: []int{503}}},
	{"POST", "/v1/tenants/{tenant}/destinations/{id}/rotate-secret", tenantScoped, (*API).rotateSecret, opDoc{ID: "rotateDestinationSecret", Tag: tagDestinations,
		Summary: "Give a webhook destination a new secret, in full in this answer only; the old one keeps signing beside it for overlap (default 24h).",
		Body:    "RotateSecretInput", BodyOptional: true, Status: 200, Result: "Destination", Errors: []int{400, 413, 503}}},
	{"POST", "/v1/tenants/{tenant}/destinations/{id}/test", tenantScoped, (*API).testDestination, opDoc{ID: "testDestination", Tag: tagDestinations,
		Summary: "Send a herald.test event to the destination now and answer the outcome.", Status: 200, Result: "TestOutcome", Errors: []int{503}}},
	{"GET", "/v1/tenants/{tenant}/deliveries", tenantScoped, (*API).tenantDeliveries, opDoc{ID: "listTenantDeliveries", Tag: tagHistory,
		Summary: "The tenant's own deliveries, newest first; the tenant filter is the path's.",
		Query:   tenantHistoryQuery, Status: 200, Result: "DeliveryPage", Errors: []int{400, 503}}},
	{"GET", "/v1/tenants/{tenant}/deliveries/{id...}", tenantScoped, (*API).tenantDelivery, opDoc{ID: "getTenantDelivery", Tag: tagHistory,
		Summary: "One of the tenant's deliveries with every attempt. The delivery id is path-escaped (':' may stay, '/' is %2F).",
		Status:  200, Result: "DeliveryDetail", Errors: []int{400, 503}}},
	{"GET", "/v1/tenants/{tenant}/deliveries/{id}/preview", tenantScoped, (*API).tenantDeliveryPreview, opDoc{ID: "previewTenantDelivery", Tag: tagHistory,
		Summary: "What the channel sends for one of the tenant's deliveries, rendered now with the current templates, and the event as published.",
		Status:  200, Result: "DeliveryPreview", Errors: []int{400, 503}}},

	// Admin: history, dead letters, replays, status, tests.
	{"GET", "/admin/notifications/status", adminOnly, (*API).status, opDoc{ID: "getStatus", Tag: tagStatus,
		Summary: "Per channel and destination: backlog, in flight, redeliveries, dead letters, success rates, breaker or pause state; disabled destinations.",
		Status:  200, Result: "Status", Errors: []int{503}}},
	{"GET", "/admin/notifications/history", adminOnly, (*API).history, opDoc{ID: "listDeliveries", Tag: tagHistory,
		Summary: "Deliveries, newest first.", Query: historyQuery, Status: 200, Result: "DeliveryPage", Errors: []int{400, 503}}},
	{"GET", "/admin/notifications/deliveries/{id...}", adminOnly, (*API).delivery, opDoc{ID: "getDelivery", Tag: tagHistory,
		Summary: "One delivery with every attempt. The delivery id is path-escaped (':' may stay, '/' is %2F).",
		Status:  200, Result: "DeliveryDetail", Errors: []int{404, 503}}},
	{"GET", "/admin/notifications/deliveries/{id}/preview", adminOnly, (*API).deliveryPreview, opDoc{ID: "previewDelivery", Tag: tagHistory,
		Summary: "What the delivery's channel sends for its event, rendered now with the current templates (as publisher-sdk preview does), and the event as published; 404 when the event is no longer in the EVENTS stream.",
		Status:  200, Result: "DeliveryPreview", Errors: []int{400, 404, 503}}},
	{"GET", "/admin/notifications/stats", adminOnly, (*API).stats, opDoc{ID: "getStats", Tag: tagDashboard,
		Summary: "Deliveries whose latest status changed in each step, per channel, every step present, oldest first: since at most 24h (default 1h), step from 10s to 1h (default 1m), at most 1000 points per channel.",
		Query:   []string{"stats_since", "step", "channel"}, Status: 200, Result: "Stats", Errors: []int{400, 503}}},
	{"GET", "/admin/destinations", adminOnly, (*API).operatorDestinations, opDoc{ID: "listOperatorDestinations", Tag: tagDashboard,
		Summary: "The operator's own destinations, from configuration (read-only), secrets and token-bearing URLs masked.",
		Query:   []string{"limit", "cursor"}, Status: 200, Result: "OperatorDestinationPage", Errors: []int{400, 503}}},
	{"GET", "/admin/tenants", adminOnly, (*API).tenants, opDoc{ID: "listTenants", Tag: tagDashboard,
		Summary: "The tenants that have destinations or working keys, with how many of each.",
		Query:   []string{"limit", "cursor"}, Status: 200, Result: "TenantSummaryPage", Errors: []int{400, 503}}},
	{"POST", "/admin/notifications/test", adminOnly, (*API).testSend, opDoc{ID: "testSend", Tag: tagStatus,
		Summary: "Send a herald.test event now to a channel's operator destinations ({\"channel\"}) or to a tenant's destination ({\"tenant\",\"destination\"}); answer the outcomes.",
		Body:    "TestInput", Status: 200, Result: "TestOutcomes", Errors: []int{400, 404, 413, 503}}},
	{"GET", "/admin/notifications/dead", adminOnly, (*API).deadLetters, opDoc{ID: "listDeadLetters", Tag: tagDead,
		Summary: "Dead letters, newest first, with the history's filters.", Query: historyQuery, Status: 200, Result: "DeliveryPage", Errors: []int{400, 503}}},
	{"POST", "/admin/notifications/dead/redrive", adminOnly, (*API).redrive, opDoc{ID: "redriveDeadLetters", Tag: tagDead,
		Summary: "Send dead letters again, by ids or by a filter, with a fresh attempt budget under the same delivery id.",
		Body:    "DeadSelection", Status: 200, Result: "Redriven", Errors: []int{400, 413, 503}}},
	{"POST", "/admin/notifications/dead/discard", adminOnly, (*API).discard, opDoc{ID: "discardDeadLetters", Tag: tagDead,
		Summary: "Remove dead letters, by ids or by a filter.", Body: "DeadSelection", Status: 200, Result: "Discarded", Errors: []int{400, 413, 503}}},
	{"POST", "/admin/notifications/replays", adminOnly, (*API).startReplay, opDoc{ID: "startReplay", Tag: tagReplays,
		Summary: "Re-dispatch the events published in [since, until); a dry run only counts.",
		Body:    "ReplayInput", Status: 202, Result: "Replay", Errors: []int{400, 409, 413, 503}}},
	{"GET", "/admin/notifications/replays/{id}", adminOnly, (*API).getReplay, opDoc{ID: "getReplay", Tag: tagReplays,
		Summary: "A replay's progress.", Status: 200, Result: "Replay", Errors: []int{404, 503}}},
	{"DELETE", "/admin/notifications/replays/{id}", adminOnly, (*API).cancelReplay, opDoc{ID: "cancelReplay", Tag: tagReplays,
		Summary: "Cancel a replay; answers it as it stands.", Status: 200, Result: "Replay", Errors: []int{404, 409, 503}}},

	// Admin: tenant keys.
	{"POST", "/admin/tenants/{tenant}/keys", adminOnly, (*API).createKey, opDoc{ID: "createTenantKey", Tag: tagKeys,
		Summary: "Issue a tenant key; the key is in this answer only.", Status: 201, Result: "TenantKeyCreated", Errors: []int{400, 503}}},
	{"GET", "/admin/tenants/{tenant}/keys", adminOnly, (*API).listKeys, opDoc{ID: "listTenantKeys", Tag: tagKeys,
		Summary: "The tenant's keys that work, by id, without key material.", Query: []string{"limit", "cursor"},
		Status: 200, Result: "TenantKeyPage", Errors: []int{400, 503}}},
	{"DELETE", "/admin/tenants/{tenant}/keys/{id}", adminOnly, (*API).revokeKey, opDoc{ID: "revokeTenantKey", Tag: tagKeys,
		Summary: "Revoke a tenant key; it stops working at once on every replica.", Status: 204, Errors: []int{404, 503}}},
}
