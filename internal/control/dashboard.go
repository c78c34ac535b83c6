package control

import (
	"context"
	"encoding/json"
	"time"
)

// ---- the dashboard's charts, previews and lists --------------------------------------------

// StatsQuery selects the deliveries of the dashboard's charts: those whose latest status
// change falls in [Since, Until), in steps of Step from Since, of one channel or all.
type StatsQuery struct {
	Since, Until time.Time
	Step         time.Duration
	// Channel keeps one channel; empty keeps every channel.
	Channel string
}

// Stats are the dashboard's charts: per channel, one point per step, oldest first, every
// step present (zeros included).
type Stats struct {
	StepSeconds int64          `json:"step_seconds"`
	Since       time.Time      `json:"since"`
	Until       time.Time      `json:"until"`
	Channels    []ChannelStats `json:"channels"`
}

// ChannelStats is one channel's points.
type ChannelStats struct {
	Channel string       `json:"channel"`
	Points  []StatsPoint `json:"points"`
}

// StatsPoint counts the deliveries whose status last changed in the step that starts at T,
// by that status.
type StatsPoint struct {
	T         time.Time `json:"t"`
	Delivered int64     `json:"delivered"`
	Failed    int64     `json:"failed"`
	Dead      int64     `json:"dead"`
	Retrying  int64     `json:"retrying"`
}

// StatsReader answers the dashboard's charts with one ledger query per call.
type StatsReader interface {
	Stats(ctx context.Context, q StatsQuery) (Stats, error)
}

// DeliveryPreview is what a delivery's channel sends for its event, rendered now with the
// current templates (so it may differ from what was sent if the templates changed since).
type DeliveryPreview struct {
	DeliveryID string `json:"delivery_id"`
	Channel    string `json:"channel"`
	// Event is the CloudEvent as it was published, read from the EVENTS stream.
	Event json.RawMessage `json:"event"`
	// Payload is what the channel sends: the event itself for a webhook,
	// {"subject","text","html"} for email, {"content_type","body"} for the others (body is
	// the request body, as JSON).
	Payload    json.RawMessage `json:"payload"`
	RenderedAt time.Time       `json:"rendered_at"`
	Note       string          `json:"note"`
}

// Previewer renders what a delivery's channel sends for its event. An unknown delivery, or
// one whose event is no longer in the EVENTS stream, is an error wrapping ErrNotFound whose
// message says which.
type Previewer interface {
	Preview(ctx context.Context, deliveryID string) (DeliveryPreview, error)
}

// OperatorDestination is one of the operator's destinations, from configuration, as the API
// shows it: secrets and token-bearing URLs in Config masked.
type OperatorDestination struct {
	ID      string         `json:"id"`
	Channel string         `json:"channel"`
	Config  map[string]any `json:"config"`
	// Tenant is empty: the operator's destinations belong to no tenant.
	Tenant string `json:"tenant"`
}

// OperatorDestinations lists the operator's destinations, ordered by channel then id.
type OperatorDestinations interface {
	OperatorDestinations(ctx context.Context) ([]OperatorDestination, error)
}

// TenantSummary is a tenant the operator manages: how many destinations it has and how many
// of its keys work.
type TenantSummary struct {
	Tenant       string `json:"tenant"`
	Destinations int    `json:"destinations"`
	Keys         int    `json:"keys"`
}
