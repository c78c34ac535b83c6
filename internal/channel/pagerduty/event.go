package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Limits of an event, in characters counted as chars counts them.
const (
	// MaxSummaryChars bounds payload.summary, the alert's and the incident's title.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	MaxSummaryChars = 1024
	// MaxEventBytes bounds the whole event.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	MaxEventBytes = 512 * 1000
	// maxSourceChars bounds payload.source, component, group and class, which PagerDuty
	// shows on one line.
	maxSourceChars = 255
	// maxDetails, maxDetailName, maxDetailValue and maxDetailSummary bound custom_details,
	// so that even with every character escaped as \uXXXX (six bytes) the event stays well
	// under MaxEventBytes: 50 × (100 + 1000) × 6 + 4000 × 6 bytes.
	maxDetails       = 50
	maxDetailName    = 100
	maxDetailValue   = 1000
	maxDetailSummary = 4000
	maxDetailMeta    = 200
)

// ellipsis ends a cut text.
const ellipsis = "…"

// client names Herald as the monitoring client in every trigger.
const client = "Herald"

// event is an Events API v2 event as Herald posts it.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
}

// payload is a trigger's payload.
type payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// severityOf maps an event's severity onto PagerDuty's: info, warning and critical are the
// same words; PagerDuty's error is never used; anything else is info.
func severityOf(s sdk.Severity) string {
	switch s {
	case sdk.SeverityCritical:
		return "critical"
	case sdk.SeverityWarning:
		return "warning"
	}
	return "info"
}

// trigger builds the trigger event of a rendered notification:
//
//	summary         the rendered title on one line (the incident's title), at most 1,024
//	source          the event's source ("billing"), or "herald" if it has none
//	severity        the event's (see severityOf)
//	timestamp       the event's time, RFC 3339
//	component       the node_id of a node event
//	group           the tenant, for an event that has one
//	class           the event type
//	custom_details  the rendered fields by name, the rendered summary as "summary", and the
//	                event's identity under "herald" (event_id, event_type, tenant, source,
//	                delivery_id)
func trigger(n channel.Notification, m *render.Message, a Alert, routingKey string) *event {
	e := n.Event
	p := &payload{
		Summary:  cut(oneLine(clean(m.Title)), MaxSummaryChars),
		Source:   cut(oneLine(clean(e.Source)), maxSourceChars),
		Severity: severityOf(m.Severity),
		Class:    cut(oneLine(clean(e.Type)), maxSourceChars),
	}
	if p.Summary == "" {
		p.Summary = cut(oneLine(clean(e.Type)), MaxSummaryChars)
		if p.Summary == "" {
			p.Summary = "Herald notification"
		}
	}
	if p.Source == "" {
		p.Source = "herald"
	}
	if !e.Time.IsZero() {
		p.Timestamp = e.Time.UTC().Format(time.RFC3339Nano)
	}
	if strings.HasPrefix(e.Type, "node.") {
		p.Component = cut(oneLine(clean(nodeID(e.Data))), maxSourceChars)
	}
	if t := e.Tenant(); t != "_" {
		p.Group = cut(oneLine(clean(t)), maxSourceChars)
	}
	p.CustomDetails = details(n, m)
	return &event{RoutingKey: routingKey, EventAction: actionTrigger, DedupKey: a.DedupKey, Payload: p, Client: client}
}

// details builds custom_details. The reserved keys go in first, so that a field that shares
// a name with one ("summary") is the one renamed.
func details(n channel.Notification, m *render.Message) map[string]any {
	e := n.Event
	meta := func(s string) string { return cut(oneLine(clean(s)), maxDetailMeta) }
	out := map[string]any{
		"herald": map[string]string{
			"event_id": meta(e.ID), "event_type": meta(e.Type), "tenant": meta(e.Tenant()),
			"source": meta(e.Source), "delivery_id": meta(n.DeliveryID),
		},
	}
	if s := strings.TrimSpace(clean(m.Summary)); s != "" {
		out["summary"] = cut(s, maxDetailSummary)
	}
	added := 0
	for i, f := range m.Fields {
		value := strings.TrimSpace(clean(f.Value))
		if value == "" || added == maxDetails {
			continue
		}
		name := cut(oneLine(clean(f.Name)), maxDetailName)
		if name == "" {
			name = fmt.Sprintf("field %d", i+1)
		}
		base := name
		for k := 2; out[name] != nil; k++ {
			name = fmt.Sprintf("%s (%d)", base, k)
		}
		out[name] = cut(value, maxDetailValue)
		added++
	}
	return out
}

// resolve builds the resolve event of an alert: PagerDuty needs no payload to resolve.
// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/
func resolve(a Alert, routingKey string) *event {
	return &event{RoutingKey: routingKey, EventAction: actionResolve, DedupKey: a.DedupKey}
}

// encode marshals ev as compact JSON, without escaping &, < and > (PagerDuty shows text as
// it is). An event over MaxEventBytes, which the bounds above rule out, would lose its
// fields rather than be refused.
func encode(ev *event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("pagerduty: encode event: %w", err)
	}
	if buf.Len() > MaxEventBytes && ev.Payload != nil {
		slim := *ev.Payload
		slim.CustomDetails = map[string]any{"herald": ev.Payload.CustomDetails["herald"]}
		cp := *ev
		cp.Payload = &slim
		return encode(&cp)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// chars measures s as PagerDuty's limits are measured, in UTF-16 code units: PagerDuty
// counts "characters" without saying how, and counting an emoji as two keeps every text
// within the limit under any reading.
func chars(s string) int { return channel.UTF16Len(s) }

// cut keeps s within max characters, cutting on a rune boundary and ending the cut text with
// an ellipsis, without white space or a dangling zero-width joiner before it.
func cut(s string, max int) string { return channel.CutUTF16(s, max, ellipsis) }

// clean makes s valid UTF-8 without control characters other than newline and tab.
func clean(s string) string { return channel.Clean(s) }

// oneLine collapses line breaks and runs of white space into single spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
