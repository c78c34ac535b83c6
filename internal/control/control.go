// Package control is the contract between Herald's HTTP API (package api) and the services
// behind it: tenant destinations, delivery history, dead letters, replays, status and test
// sends. The JSON shapes of these types are what the API answers, so their field names are a
// public contract (see docs/api.md and the OpenAPI document); add fields, never rename them.
//
// Services return errors that wrap ErrNotFound, ErrExists or ErrConflict, or a *FieldError
// for a request the caller must correct; the API maps them to 404, 409, 409 and 400. Any
// other error is a 500 whose message is not shown to the caller.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/store"
)

// Errors the API maps to statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("conflict")
)

// FieldError is a request the caller must correct, naming the field at fault with a JSON
// path such as "config.url" or "event_types[1]". Its message never quotes a secret.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Page is one page of a list: Limit items at most, after Cursor (empty for the first page).
type Page struct {
	// Limit is the most items to return: the API passes 1 to 500 (default 50).
	Limit int
	// Cursor is the opaque next_cursor of the previous page, or empty.
	Cursor string
}

// ---- tenant destinations ------------------------------------------------------------------

// Destination is a tenant's destination as the API shows it: secrets and token-bearing URLs
// in Config are masked, except Secret, the webhook secret in full, which is set only in the
// answer to a create that generated it or to a rotation.
type Destination struct {
	Tenant     string          `json:"tenant"`
	ID         string          `json:"id"`
	Channel    string          `json:"channel"`
	Config     json.RawMessage `json:"config"`
	EventTypes []string        `json:"event_types"`
	Enabled    bool            `json:"enabled"`
	// DisabledReason says why a disabled destination is off: "manual", or "failing" for an
	// automatic disable after it failed for NOTIFICATIONS_DESTINATION_DISABLE_AFTER.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Secret is the webhook secret in full, once (create without a secret, rotate-secret).
	Secret string `json:"secret,omitempty"`
	// SecretOverlapUntil is when a rotated-out secret stops signing, while it still does.
	SecretOverlapUntil *time.Time `json:"secret_overlap_until,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// DestinationInput creates a destination. An empty ID gets a generated one; a nil Enabled
// means true.
type DestinationInput struct {
	ID         string          `json:"id,omitempty"`
	Channel    string          `json:"channel"`
	Config     json.RawMessage `json:"config"`
	EventTypes []string        `json:"event_types"`
	Enabled    *bool           `json:"enabled,omitempty"`
}

// DestinationPatch changes the fields it sets. Config is merged into the stored config one
// top-level key at a time (a key set to null is removed), so that a masked secret need not
// be sent back; a key whose value is the masked form the API showed keeps the stored value.
type DestinationPatch struct {
	Channel    *string         `json:"channel,omitempty"`
	Config     json.RawMessage `json:"config,omitempty"`
	EventTypes *[]string       `json:"event_types,omitempty"`
	Enabled    *bool           `json:"enabled,omitempty"`
}

// Destinations manages tenants' destinations. Every method is scoped to one tenant.
type Destinations interface {
	Create(ctx context.Context, tenant string, in DestinationInput) (Destination, error)
	Get(ctx context.Context, tenant, id string) (Destination, error)
	// List returns the tenant's destinations ordered by id, a page at a time.
	List(ctx context.Context, tenant string, page Page) (items []Destination, next string, err error)
	Update(ctx context.Context, tenant, id string, patch DestinationPatch) (Destination, error)
	Delete(ctx context.Context, tenant, id string) error
	// SetEnabled enables (clearing an automatic disable) or disables a destination.
	SetEnabled(ctx context.Context, tenant, id string, enabled bool) (Destination, error)
	// RotateSecret gives a webhook destination a new secret, returned in full once; the old
	// one keeps signing beside it for overlap. A destination without a secret is a
	// *FieldError on "channel".
	RotateSecret(ctx context.Context, tenant, id string, overlap time.Duration) (Destination, error)
	// Test sends a herald.test event to the destination now and reports the outcome.
	Test(ctx context.Context, tenant, id string) (TestOutcome, error)
}

// TestOutcome is the result of a test send.
type TestOutcome struct {
	DeliveryID  string `json:"delivery_id"`
	EventID     string `json:"event_id"`
	Channel     string `json:"channel"`
	Destination string `json:"destination"`
	// Status is delivered, or failed (permanent) or retrying (transient) for an error.
	Status     store.Status `json:"status"`
	HTTPStatus int          `json:"http_status,omitempty"`
	Error      string       `json:"error,omitempty"`
	DurationMS int64        `json:"duration_ms"`
}

// ---- history ------------------------------------------------------------------------------

// DeliveryQuery selects deliveries. Zero fields do not filter. EventType is a pattern in the
// syntax of NOTIFICATIONS_ROUTES ("payment.*"); Statuses selects any of several.
type DeliveryQuery struct {
	Tenant      string
	EventType   string
	Channel     string
	Destination string
	Statuses    []store.Status
	EventID     string
	Since       time.Time
	Until       time.Time
	Page        Page
}

// DeliveryDetail is one delivery with every attempt, oldest first.
type DeliveryDetail struct {
	store.Delivery
	AttemptsDetail []AttemptView `json:"attempts_detail"`
}

// AttemptView is one attempt as the API shows it.
type AttemptView struct {
	Attempt     int          `json:"attempt"`
	Status      store.Status `json:"status"`
	HTTPStatus  int          `json:"http_status,omitempty"`
	Error       string       `json:"error,omitempty"`
	DurationMS  int64        `json:"duration_ms"`
	AttemptedAt time.Time    `json:"attempted_at"`
}

// History reads the ledger. Deliveries are newest first by created_at, and a cursor neither
// skips nor repeats a row while new deliveries arrive.
type History interface {
	Deliveries(ctx context.Context, q DeliveryQuery) (items []store.Delivery, next string, err error)
	Delivery(ctx context.Context, deliveryID string) (DeliveryDetail, error)
}

// ---- dead letters -------------------------------------------------------------------------

// DeadSelection picks dead letters by ids, or by a filter when IDs is empty. An empty
// selection is a *FieldError: redriving everything takes an explicit filter.
type DeadSelection struct {
	IDs       []string  `json:"ids,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Tenant    string    `json:"tenant,omitempty"`
	EventType string    `json:"event_type,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	Until     time.Time `json:"until,omitzero"`
}

// DeadLetters lists, redrives and discards dead letters. List takes the history filters and
// answers deliveries with status dead or failed that are still dead-lettered. Redrive sends
// each again under the same delivery id with a fresh attempt budget; both Redrive and
// Discard take the letters off the dead list, and neither may block live traffic however
// many letters they move.
type DeadLetters interface {
	List(ctx context.Context, q DeliveryQuery) (items []store.Delivery, next string, err error)
	Redrive(ctx context.Context, sel DeadSelection) (int, error)
	Discard(ctx context.Context, sel DeadSelection) (int, error)
}

// ---- replays ------------------------------------------------------------------------------

// ReplayRequest re-dispatches the events published in [Since, Until).
type ReplayRequest struct {
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
	Tenant     string    `json:"tenant,omitempty"`
	EventTypes []string  `json:"event_types,omitempty"`
	Channels   []string  `json:"channels,omitempty"`
	// Destinations is "current" (the destinations that match now, the default) or
	// "original" (those the event went to when first dispatched).
	Destinations string `json:"destinations,omitempty"`
	DryRun       bool   `json:"dry_run,omitempty"`
}

// Replay states.
const (
	ReplayRunning   = "running"
	ReplayDone      = "done"
	ReplayFailed    = "failed"
	ReplayCancelled = "cancelled"
)

// Replay is a replay job and its progress.
type Replay struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Matched counts the events in the window that pass the filters; Dispatched the
	// deliveries published so far.
	Matched    int64         `json:"matched"`
	Dispatched int64         `json:"dispatched"`
	Error      string        `json:"error,omitempty"`
	Request    ReplayRequest `json:"request"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// Replays runs replay jobs. Any dispatcher replica answers Get and Cancel for a job another
// started.
type Replays interface {
	Start(ctx context.Context, req ReplayRequest) (Replay, error)
	Get(ctx context.Context, id string) (Replay, error)
	Cancel(ctx context.Context, id string) (Replay, error)
}

// ---- status and tests ---------------------------------------------------------------------

// Status is the fleet's state at a glance, cheap enough to poll every few seconds.
type Status struct {
	Channels []ChannelStatus `json:"channels"`
	// Disabled lists tenant destinations that are disabled.
	Disabled    []Destination `json:"disabled_destinations"`
	GeneratedAt time.Time     `json:"generated_at"`
}

// ChannelStatus is one channel's consumer and ledger figures.
type ChannelStatus struct {
	Channel string `json:"channel"`
	// Backlog is what waits to be handed to a worker; InFlight is handed out and not yet
	// acknowledged; Redeliveries counts handed-out messages delivered more than once.
	Backlog      uint64 `json:"backlog"`
	InFlight     int    `json:"in_flight"`
	Redeliveries int    `json:"redeliveries"`
	DeadLetters  int64  `json:"dead_letters"`
	// SuccessRate5m and SuccessRate60m are delivered / finished deliveries over the window;
	// nil when nothing finished in it.
	SuccessRate5m  *float64            `json:"success_rate_5m"`
	SuccessRate60m *float64            `json:"success_rate_60m"`
	Destinations   []DestinationStatus `json:"destinations"`
}

// DestinationStatus is the state of one destination that is not simply healthy, or that
// delivered recently.
type DestinationStatus struct {
	Destination string `json:"destination"`
	// Circuit is closed, open or half_open; Paused is set while a provider's rate limit
	// holds the destination, until the time given.
	Circuit     string     `json:"circuit"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	DeadLetters int64      `json:"dead_letters"`
}

// StatusReader answers the admin status.
type StatusReader interface {
	Status(ctx context.Context) (Status, error)
}

// ChannelTester sends a herald.test event to a channel's operator destinations now.
type ChannelTester interface {
	TestChannel(ctx context.Context, channel string) ([]TestOutcome, error)
}

// Settle sets the status, HTTP status and error of a test send from the channel's outcome:
// delivered, retrying for a transient failure, failed for a permanent one.
func (t *TestOutcome) Settle(o channel.Outcome) {
	t.HTTPStatus = o.StatusCode
	switch o.Kind {
	case channel.Delivered:
		t.Status = store.StatusDelivered
	case channel.Retry:
		t.Status, t.Error = store.StatusRetrying, o.Reason
	default:
		t.Status, t.Error = store.StatusFailed, o.Reason
	}
}
