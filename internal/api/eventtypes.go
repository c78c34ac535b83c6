package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/heraldhq/herald/sdk"
)

// EventType is one entry of GET /v1/event-types. Schema, a JSON Schema (draft 2020-12) of
// the event's data, is set for the seed types, which have a payload struct in the SDK.
type EventType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// TestEventType is the type of the events the test endpoints send.
const TestEventType = "herald.test"

// seedTypes are the SDK's payloads with what each event means.
var seedTypes = []struct {
	payload     sdk.Payload
	description string
}{
	{sdk.TenantCreated{}, "A tenant signed up."},
	{sdk.PaymentSucceeded{}, "A tenant's payment went through."},
	{sdk.PaymentFailed{}, "A tenant's payment failed."},
	{sdk.NodeLaunched{}, "A GPU node was launched."},
	{sdk.NodeTerminated{}, "A spot node is about to be reclaimed: its workloads must move before time_remaining (seconds) runs out."},
	{sdk.NodeHealthDegraded{}, "A node's health went down."},
	{sdk.CostAnomalyDetected{}, "Spending is well above its usual level."},
	{sdk.RateLimitThresholdReached{}, "A tenant has used a given share of a rate limit."},
}

// catalog builds the event type list once: the seed types with their schemas, the test
// type, and every other exact type the operator's templates or routes name.
func catalog(named []string) []EventType {
	r := &jsonschema.Reflector{
		// Producers may send fields Herald does not know; they are kept and rendered.
		AllowAdditionalProperties: true,
		// The SDK does not mark fields required in its tags: Validate checks the few that
		// are, and the schemas describe shapes, not those rules.
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             true,
		Anonymous:                  true,
	}
	out := make([]EventType, 0, len(seedTypes)+1+len(named))
	for _, s := range seedTypes {
		schema := r.Reflect(s.payload)
		schema.Description = s.description
		b, err := json.Marshal(schema)
		if err != nil {
			panic("api: event type schema of " + s.payload.EventType() + ": " + err.Error()) // static types; caught by the tests
		}
		out = append(out, EventType{Type: s.payload.EventType(), Description: s.description, Schema: b})
	}
	out = append(out, EventType{Type: TestEventType, Description: "A test event, sent by the test endpoints to check a destination."})
	seen := map[string]bool{}
	for _, e := range out {
		seen[e.Type] = true
	}
	var extra []string
	for _, t := range named {
		if seen[t] || strings.ContainsAny(t, `*?[\\`) || !sdk.ValidType(t) {
			continue
		}
		seen[t] = true
		extra = append(extra, t)
	}
	slices.Sort(extra)
	for _, t := range extra {
		out = append(out, EventType{Type: t, Description: "A custom event type the operator's templates or routes name; its data is free-form."})
	}
	return out
}

func (a *API) eventTypes(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string][]EventType{"data": a.catalog})
	return nil
}
