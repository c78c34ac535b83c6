// Package store is the delivery ledger: every delivery and every attempt, as recorded from
// the RESULTS stream. Store is implemented by store/postgres (production) and store/sqlite
// (the embedded default); store/storetest holds the conformance suite both pass.
package store

import (
	"context"
	"errors"
	"time"
)

// Status is the state of a delivery in the ledger.
type Status string

// The statuses of a delivery. These strings are a public contract: operators query them.
const (
	StatusPending   Status = "pending"   // fanned out, not attempted yet
	StatusRetrying  Status = "retrying"  // attempted, failed, a retry is scheduled
	StatusDelivered Status = "delivered" // the provider accepted it
	StatusFailed    Status = "failed"    // permanent error (most 4xx); dead-lettered
	StatusDead      Status = "dead"      // attempts ran out; dead-lettered
)

// Terminal reports whether no further attempt will follow a result with this status.
func (s Status) Terminal() bool {
	return s == StatusDelivered || s == StatusFailed || s == StatusDead
}

// Result is one attempt's outcome, or, with Attempt 0, the record that a delivery was fanned
// out. Results are idempotent on (DeliveryID, Attempt): recording one twice changes nothing.
type Result struct {
	DeliveryID  string    `json:"delivery_id"`
	EventID     string    `json:"event_id"`
	TenantID    string    `json:"tenant_id"`
	EventType   string    `json:"event_type"`
	Channel     string    `json:"channel"`
	Destination string    `json:"destination"`
	Attempt     int       `json:"attempt"`
	Status      Status    `json:"status"`
	Error       string    `json:"error,omitempty"`
	HTTPStatus  int       `json:"http_status,omitempty"`
	DurationMS  int64     `json:"duration_ms,omitempty"`
	At          time.Time `json:"at"`
}

// Delivery is one row of notification_deliveries.
type Delivery struct {
	DeliveryID  string    `json:"delivery_id"`
	EventID     string    `json:"event_id"`
	TenantID    string    `json:"tenant_id"`
	EventType   string    `json:"event_type"`
	Channel     string    `json:"channel"`
	Destination string    `json:"destination"`
	Status      Status    `json:"status"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Attempt is one row of notification_attempts.
type Attempt struct {
	DeliveryID string    `json:"delivery_id"`
	Attempt    int       `json:"attempt"`
	Status     Status    `json:"status"`
	Error      string    `json:"error,omitempty"`
	HTTPStatus int       `json:"http_status,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	At         time.Time `json:"at"`
}

// Filter selects deliveries for history queries. Zero fields do not filter.
type Filter struct {
	TenantID  string
	EventType string
	Channel   string
	Status    Status
	EventID   string
	Since     time.Time
	// Limit caps the rows returned. Defaults to 100; at most 1000.
	Limit int
}

// Count is one group of the status summary: the original design's
// SELECT event_type, channel, status, COUNT(*) ... GROUP BY event_type, channel, status.
type Count struct {
	EventType string `json:"event_type"`
	Channel   string `json:"channel"`
	Status    Status `json:"status"`
	Count     int64  `json:"count"`
}

// ErrNotFound is returned when a delivery does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is the ledger. Implementations are safe for concurrent use.
type Store interface {
	// Migrate brings the schema up to date and records what ran. It is idempotent.
	Migrate(ctx context.Context) error
	// Record writes a batch of results in one transaction: one notification_attempts row per
	// result with Attempt > 0 (duplicates ignored), and an upsert of notification_deliveries
	// per delivery, where the result with the highest attempt wins and, on equal attempts, a
	// terminal status wins. Results may arrive in any order and more than once.
	Record(ctx context.Context, results []Result) error
	// Deliveries lists deliveries, newest first.
	Deliveries(ctx context.Context, f Filter) ([]Delivery, error)
	// Delivery returns one delivery with its attempts, oldest first.
	Delivery(ctx context.Context, deliveryID string) (Delivery, []Attempt, error)
	// Counts groups deliveries created since the given time by event type, channel and status.
	Counts(ctx context.Context, since time.Time) ([]Count, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
}
