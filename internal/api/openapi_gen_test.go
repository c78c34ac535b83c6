package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite openapi.json from routes and the schemas below")

// TestOpenAPIDocument checks that the checked-in openapi.json is what routes and the schemas
// below generate, so that the document can neither drift from the mux nor be edited by hand
// out of step with it. Run with -update after changing either.
func TestOpenAPIDocument(t *testing.T) {
	got, err := json.MarshalIndent(generateOpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, openAPIDocument) {
		t.Fatal("openapi.json is out of date: run go test ./internal/api -run TestOpenAPIDocument -update")
	}
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func dateTime(desc string) obj {
	return obj{"type": "string", "format": "date-time", "description": desc}
}

func integer(desc string) obj { return obj{"type": "integer", "description": desc} }

func array(items obj) obj { return obj{"type": "array", "items": items} }

func object(desc string, required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if desc != "" {
		o["description"] = desc
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// closed is an object of a request body: unknown fields are refused.
func closed(desc string, required []string, props obj) obj {
	o := object(desc, required, props)
	o["additionalProperties"] = false
	return o
}

func pageOf(item string) obj {
	return object("One page of a list; next_cursor is empty on the last page.", []string{"data", "next_cursor"}, obj{
		"data":        array(ref(item)),
		"next_cursor": str("Pass as cursor to get the next page; empty on the last page."),
	})
}

var statusEnum = []string{"pending", "retrying", "delivered", "failed", "dead"}

func schemas() obj {
	delivery := obj{
		"delivery_id": str("<event id>:<destination id> for the operator's destinations, <event id>:<tenant>/<destination id> for a tenant's."),
		"event_id":    str("The event's id."),
		"tenant_id":   str("The event's tenant; empty for events of no tenant."),
		"event_type":  str("The event's type."),
		"channel":     str("The channel that delivers it."),
		"destination": str("The destination's id."),
		"status":      obj{"type": "string", "enum": statusEnum, "description": "failed is a permanent error, dead means the attempts ran out."},
		"attempts":    integer("Attempts made so far."),
		"last_error":  str("The last attempt's error, if it failed."),
		"created_at":  dateTime("When the delivery was fanned out."),
		"updated_at":  dateTime("When its state last changed."),
	}
	deliveryRequired := []string{"delivery_id", "event_id", "tenant_id", "event_type", "channel", "destination", "status", "attempts", "created_at", "updated_at"}
	detail := obj{}
	for k, v := range delivery {
		detail[k] = v
	}
	detail["attempts_detail"] = array(ref("Attempt"))
	replayRequest := obj{
		"since":        dateTime("Start of the window, inclusive."),
		"until":        dateTime("End of the window, exclusive."),
		"tenant":       str("Only this tenant's events."),
		"event_types":  array(str("An event type pattern, such as payment.*.")),
		"channels":     array(str("A channel.")),
		"destinations": obj{"type": "string", "enum": []string{"current", "original"}, "description": "current: the destinations that match now (default); original: those the event first went to."},
		"dry_run":      obj{"type": "boolean", "description": "Only count."},
	}
	timeOrDuration := func(what string) obj {
		return str(what + ": an RFC 3339 time, or a duration such as 2h meaning that long before now.")
	}
	return obj{
		"Error": object("Every error answer.", []string{"error"}, obj{
			"error": object("", []string{"code", "message"}, obj{
				"code": obj{"type": "string", "description": "Stable, for scripts.", "enum": []string{CodeInvalidRequest, CodeUnauthorized, CodeForbidden,
					CodeNotFound, CodeMethodNotAllowed, CodeConflict, CodeTooLarge, CodeRateLimited, CodeInternal, CodeUnavailable}},
				"message": str("For people; an invalid_request names the field at fault first."),
			}),
		}),
		"OpenAPIDocument": object("This document.", []string{"openapi", "paths"}, obj{}),
		"EventType": object("A known event type.", []string{"type", "description"}, obj{
			"type":        str("The event type."),
			"description": str("What the event means."),
			"schema":      obj{"type": "object", "description": "A JSON Schema (draft 2020-12) of the event's data; seed types only."},
		}),
		"EventTypeList": object("", []string{"data"}, obj{"data": array(ref("EventType"))}),
		"Destination": object("A tenant's destination. Secrets and token-bearing URLs in config are masked, except secret.", []string{
			"tenant", "id", "channel", "config", "event_types", "enabled", "created_at", "updated_at"}, obj{
			"tenant":               str("The tenant."),
			"id":                   str("Unique within the tenant."),
			"channel":              str("webhook, discord, slack, email, sms, pagerduty, teams or telegram."),
			"config":               obj{"type": "object", "description": "The channel's settings: webhook {url, secret, method, headers}; discord, slack, teams {webhook_url}; email, sms {to}; pagerduty {routing_key}; telegram {bot_token, chat_id}."},
			"event_types":          array(str("An event type pattern in the syntax of NOTIFICATIONS_ROUTES.")),
			"enabled":              obj{"type": "boolean"},
			"disabled_reason":      obj{"type": "string", "enum": []string{"manual", "failing"}, "description": "Why a disabled destination is off."},
			"secret":               str("The webhook secret in full: only in the answer to a create that generated it, or to rotate-secret."),
			"secret_overlap_until": dateTime("When a rotated-out secret stops signing, while it still does."),
			"created_at":           dateTime(""),
			"updated_at":           dateTime(""),
		}),
		"DestinationInput": closed("A new destination.", []string{"channel"}, obj{
			"id":          str("Unique within the tenant; generated when empty."),
			"channel":     str("The channel."),
			"config":      obj{"type": "object", "description": "The channel's settings; see Destination."},
			"event_types": array(str("An event type pattern.")),
			"enabled":     obj{"type": "boolean", "description": "Defaults to true."},
		}),
		"DestinationPatch": closed("The fields to change.", nil, obj{
			"channel":     str("The channel."),
			"config":      obj{"type": "object", "description": "Merged one top-level key at a time; null removes a key; a masked value keeps the stored one."},
			"event_types": array(str("An event type pattern.")),
			"enabled":     obj{"type": "boolean"},
		}),
		"RotateSecretInput": closed("", nil, obj{"overlap": str("How long the old secret keeps signing, such as 24h (the default) or 0s.")}),
		"DestinationPage":   pageOf("Destination"),
		"TestOutcome": object("The outcome of a test send.", []string{"delivery_id", "event_id", "channel", "destination", "status", "duration_ms"}, obj{
			"delivery_id": str(""),
			"event_id":    str(""),
			"channel":     str(""),
			"destination": str(""),
			"status":      obj{"type": "string", "enum": statusEnum, "description": "delivered, or failed (permanent) or retrying (transient) for an error."},
			"http_status": integer("The provider's HTTP status, if any."),
			"error":       str("The error, if it failed."),
			"duration_ms": integer(""),
		}),
		"TestOutcomes": object("", []string{"outcomes"}, obj{"outcomes": array(ref("TestOutcome"))}),
		"TestInput": closed("{\"channel\"}, or {\"tenant\",\"destination\"}.", nil, obj{
			"channel":     str("Test the channel's operator destinations."),
			"tenant":      str("With destination: test one tenant destination."),
			"destination": str("The tenant destination's id."),
		}),
		"Delivery":       object("One row of notification_deliveries.", deliveryRequired, delivery),
		"DeliveryDetail": object("A delivery with every attempt, oldest first.", append(deliveryRequired, "attempts_detail"), detail),
		"Attempt": object("One attempt.", []string{"attempt", "status", "duration_ms", "attempted_at"}, obj{
			"attempt":      integer("1 for the first."),
			"status":       obj{"type": "string", "enum": statusEnum},
			"http_status":  integer("The provider's HTTP status, if any."),
			"error":        str("The error, if it failed."),
			"duration_ms":  integer(""),
			"attempted_at": dateTime(""),
		}),
		"DeliveryPage": pageOf("Delivery"),
		"DeadSelection": closed("Dead letters by ids, or by a filter; an empty selection is refused.", nil, obj{
			"ids":        array(str("A delivery id.")),
			"channel":    str(""),
			"tenant":     str(""),
			"event_type": str("An event type pattern."),
			"since":      timeOrDuration("Dead-lettered deliveries created since"),
			"until":      timeOrDuration("and before"),
		}),
		"Redriven":  object("", []string{"redriven"}, obj{"redriven": integer("How many were sent again.")}),
		"Discarded": object("", []string{"discarded"}, obj{"discarded": integer("How many were removed.")}),
		"ReplayInput": closed("The events to replay.", []string{"since"}, obj{
			"since":        timeOrDuration("Start of the window, inclusive"),
			"until":        timeOrDuration("End of the window, exclusive; defaults to now"),
			"tenant":       replayRequest["tenant"],
			"event_types":  replayRequest["event_types"],
			"channels":     replayRequest["channels"],
			"destinations": replayRequest["destinations"],
			"dry_run":      replayRequest["dry_run"],
		}),
		"ReplayRequest": object("A replay's request, times resolved.", []string{"since", "until"}, replayRequest),
		"Replay": object("A replay job.", []string{"id", "state", "matched", "dispatched", "request", "created_at", "updated_at"}, obj{
			"id":         str("The job's id; replayed deliveries' webhook-id is <event id>:<destination id>:<replay id>."),
			"state":      obj{"type": "string", "enum": []string{"running", "done", "failed", "cancelled"}},
			"matched":    integer("Events in the window that pass the filters."),
			"dispatched": integer("Deliveries published so far."),
			"error":      str("Why it failed."),
			"request":    ref("ReplayRequest"),
			"created_at": dateTime(""),
			"updated_at": dateTime(""),
		}),
		"Status": object("The fleet at a glance.", []string{"channels", "disabled_destinations", "generated_at"}, obj{
			"channels":              array(ref("ChannelStatus")),
			"disabled_destinations": array(ref("Destination")),
			"generated_at":          dateTime(""),
		}),
		"ChannelStatus": object("", []string{"channel", "backlog", "in_flight", "redeliveries", "dead_letters", "success_rate_5m", "success_rate_60m", "destinations"}, obj{
			"channel":          str(""),
			"backlog":          integer("Waiting to be handed to a worker."),
			"in_flight":        integer("Handed out, not yet acknowledged."),
			"redeliveries":     integer("Handed-out messages delivered more than once."),
			"dead_letters":     integer(""),
			"success_rate_5m":  obj{"type": []string{"number", "null"}, "description": "delivered / finished over 5 minutes; null when nothing finished."},
			"success_rate_60m": obj{"type": []string{"number", "null"}, "description": "delivered / finished over 60 minutes; null when nothing finished."},
			"destinations":     array(ref("DestinationStatus")),
		}),
		"DestinationStatus": object("A destination that is not simply healthy, or that delivered recently.", []string{"destination", "circuit", "dead_letters"}, obj{
			"destination":  str(""),
			"circuit":      obj{"type": "string", "enum": []string{"closed", "open", "half_open"}},
			"paused_until": dateTime("Set while a provider's rate limit holds the destination."),
			"dead_letters": integer(""),
		}),
		"TenantKey": object("A tenant key, without key material.", []string{"id", "tenant", "prefix", "created_at"}, obj{
			"id":         str(""),
			"tenant":     str(""),
			"prefix":     str("The key's first characters, to tell keys apart."),
			"created_at": dateTime(""),
		}),
		"TenantKeyCreated": object("A new tenant key, in full this once.", []string{"id", "key", "tenant", "prefix", "created_at"}, obj{
			"id":         str(""),
			"key":        str("hk_...: send as Authorization: Bearer <key>. Shown only here."),
			"tenant":     str(""),
			"prefix":     str(""),
			"created_at": dateTime(""),
		}),
		"TenantKeyPage": pageOf("TenantKey"),
		"Whoami": object("Who a credential or a session is.", []string{"admin", "tenant"}, obj{
			"admin":  obj{"type": "boolean", "description": "The admin token."},
			"tenant": str("The tenant of a tenant key; empty for the admin."),
		}),
		"LoginInput": closed("The credential of a browser session, as JSON or as a form field.", []string{"token"}, obj{
			"token": str("The admin token or a tenant key (hk_...)."),
		}),
		"Stats": object("The dashboard's charts.", []string{"step_seconds", "since", "until", "channels"}, obj{
			"step_seconds": integer("The width of each step."),
			"since":        dateTime("The start of the first step: since rounded down to a multiple of the step."),
			"until":        dateTime("Now: the end of the last step, which is still filling."),
			"channels":     array(ref("ChannelStats")),
		}),
		"ChannelStats": object("One channel's points, oldest first, one per step.", []string{"channel", "points"}, obj{
			"channel": str(""),
			"points":  array(ref("StatsPoint")),
		}),
		"StatsPoint": object("Deliveries whose latest status changed in the step that starts at t, by that status.",
			[]string{"t", "delivered", "failed", "dead", "retrying"}, obj{
				"t":         dateTime("The step's start."),
				"delivered": integer(""),
				"failed":    integer(""),
				"dead":      integer(""),
				"retrying":  integer(""),
			}),
		"DeliveryPreview": object("What a delivery's channel sends for its event.", []string{"delivery_id", "channel", "event", "payload", "rendered_at", "note"}, obj{
			"delivery_id": str(""),
			"channel":     str(""),
			"event":       obj{"type": "object", "description": "The CloudEvent as it was published, from the EVENTS stream."},
			"payload": obj{"type": "object", "description": "What the channel sends: the event itself for a webhook; {subject, text, html} for email; " +
				"{content_type, body} for the others, body being the request body as JSON (a form's fields for SMS)."},
			"rendered_at": dateTime("When it was rendered."),
			"note":        str("rendered now with the current templates: it may differ from what was sent if the templates changed since."),
		}),
		"OperatorDestination": object("One of the operator's destinations, from configuration.", []string{"id", "channel", "config", "tenant"}, obj{
			"id":      str(""),
			"channel": str(""),
			"config":  obj{"type": "object", "description": "The channel's settings, secrets and token-bearing URLs masked."},
			"tenant":  str("Empty: the operator's destinations belong to no tenant."),
		}),
		"OperatorDestinationPage": pageOf("OperatorDestination"),
		"TenantSummary": object("A tenant with destinations or keys.", []string{"tenant", "destinations", "keys"}, obj{
			"tenant":       str(""),
			"destinations": integer("Its destinations."),
			"keys":         integer("Its keys that work."),
		}),
		"TenantSummaryPage": pageOf("TenantSummary"),
	}
}

var queryParams = obj{
	"limit":       obj{"schema": obj{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": DefaultLimit}, "description": "Items per page."},
	"cursor":      obj{"schema": obj{"type": "string"}, "description": "The next_cursor of the previous page."},
	"tenant":      obj{"schema": obj{"type": "string"}, "description": "Only this tenant's deliveries."},
	"event_type":  obj{"schema": obj{"type": "string"}, "description": "An event type or pattern, such as payment.*."},
	"channel":     obj{"schema": obj{"type": "string"}, "description": "Only this channel."},
	"destination": obj{"schema": obj{"type": "string"}, "description": "Only this destination id."},
	"status":      obj{"schema": obj{"type": "array", "items": obj{"type": "string"}}, "style": "form", "explode": true, "description": "Any of these statuses; repeat it or give a comma-separated list."},
	"event_id":    obj{"schema": obj{"type": "string"}, "description": "Only this event's deliveries."},
	"since":       obj{"schema": obj{"type": "string"}, "description": "Created at or after: an RFC 3339 time, or a duration such as 2h meaning that long before now."},
	"until":       obj{"schema": obj{"type": "string"}, "description": "Created before: an RFC 3339 time, or a duration such as 30m meaning that long before now."},
	"stats_since": obj{"name": "since", "schema": obj{"type": "string", "default": "1h"}, "description": "The window's start, at most 24h ago: an RFC 3339 time, or a duration such as 1h meaning that long before now."},
	"step":        obj{"schema": obj{"type": "string", "default": "1m"}, "description": "The width of a step, from 10s to 1h in whole seconds, such as 1m."},
}

var errorDescriptions = map[int]string{
	400: "The request is invalid; the message names the field.",
	401: "No credential, or an unknown or revoked one; or the admin API is off.",
	403: "A tenant key on an admin path; or a request authenticated by the session cookie that is unsafe (POST, PATCH, DELETE) without X-Herald-CSRF: 1, or from another Origin.",
	404: "Not found; also another tenant's path for a tenant key.",
	409: "Conflict: it exists already, or its state forbids this.",
	413: "The body is larger than 1 MiB.",
	429: "Too many failed authentications from this address.",
	500: "Internal error; the server's log has the cause.",
	503: "This server does not run the service behind the path.",
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path: {id...} is {id}.
func openAPIPath(pattern string) string { return strings.ReplaceAll(pattern, "...}", "}") }

func generateOpenAPI() obj {
	paths := obj{}
	params := obj{}
	for name, p := range queryParams {
		q := obj{"name": name, "in": "query", "required": false}
		for k, v := range p.(obj) {
			q[k] = v
		}
		params[name] = q
	}
	responses := obj{}
	for status, desc := range errorDescriptions {
		r := obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
		if status == 429 {
			r["headers"] = obj{"Retry-After": obj{"description": "Seconds to wait.", "schema": obj{"type": "integer"}}}
		}
		responses["Error"+strconv.Itoa(status)] = r
	}
	for _, rt := range routes {
		path := openAPIPath(rt.Pattern)
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		op := obj{"operationId": rt.Doc.ID, "summary": rt.Doc.Summary, "tags": []string{rt.Doc.Tag}}
		var parameters []any
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				desc := map[string]string{"tenant": "The tenant's id.", "id": "The resource's id."}[name]
				if name == "id" && strings.Contains(path, "/deliveries/") {
					desc = "The delivery id, path-escaped."
				}
				parameters = append(parameters, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}, "description": desc})
			}
		}
		for _, q := range rt.Doc.Query {
			parameters = append(parameters, obj{"$ref": "#/components/parameters/" + q})
		}
		if len(parameters) > 0 {
			op["parameters"] = parameters
		}
		if rt.Doc.Body != "" {
			content := obj{"application/json": obj{"schema": ref(rt.Doc.Body)}}
			if rt.Doc.Form {
				content["application/x-www-form-urlencoded"] = obj{"schema": ref(rt.Doc.Body)}
			}
			op["requestBody"] = obj{"required": !rt.Doc.BodyOptional, "content": content}
		}
		resp := obj{}
		ok := obj{"description": http.StatusText(rt.Doc.Status)}
		if rt.Doc.Result != "" {
			ok["content"] = obj{"application/json": obj{"schema": ref(rt.Doc.Result)}}
		}
		resp[strconv.Itoa(rt.Doc.Status)] = ok
		if rt.Doc.Redirect != "" {
			resp["303"] = obj{"description": rt.Doc.Redirect,
				"headers": obj{"Location": obj{"description": "Where the browser goes next.", "schema": obj{"type": "string"}}}}
		}
		errs := append([]int{500}, rt.Doc.Errors...)
		switch rt.Access {
		case public:
			op["security"] = []any{}
		case anyCredential:
			errs = append(errs, 401, 403, 429)
		case tenantScoped:
			errs = append(errs, 401, 403, 404, 429)
		case adminOnly:
			errs = append(errs, 401, 403, 429)
		}
		for _, s := range errs {
			resp[strconv.Itoa(s)] = obj{"$ref": "#/components/responses/Error" + strconv.Itoa(s)}
		}
		op["responses"] = resp
		item[strings.ToLower(rt.Method)] = op
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Herald API",
			"version": "1",
			"description": "Tenant destinations, delivery history, dead letters, replays and status of Herald. " +
				"Credentials: the admin token (NOTIFICATIONS_ADMIN_TOKEN) may do everything; a tenant key (hk_...) " +
				"may use /v1/tenants/{its tenant}/, /v1/event-types and /v1/whoami; a browser session (POST /ui/login) stands for either. Errors are {\"error\":{\"code\",\"message\"}}; " +
				"lists take limit (1 to 500, default 50) and cursor and answer {\"data\",\"next_cursor\"}. Times are RFC 3339.",
		},
		"security": []any{obj{"bearer": []string{}}, obj{"adminTokenHeader": []string{}}, obj{"session": []string{}}},
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{
				"bearer":           obj{"type": "http", "scheme": "bearer", "description": "The admin token, or a tenant key (hk_...)."},
				"adminTokenHeader": obj{"type": "apiKey", "in": "header", "name": "X-Admin-Token", "description": "The same credential in a header of its own."},
				"session": obj{"type": "apiKey", "in": "cookie", "name": "herald_session", "description": "A browser session (POST /ui/login), used when no " +
					"credential header is sent. Unsafe methods (POST, PATCH, DELETE) must also send X-Herald-CSRF: 1 and, if any, this server's Origin."},
			},
			"parameters": params,
			"responses":  responses,
			"schemas":    schemas(),
		},
	}
}
