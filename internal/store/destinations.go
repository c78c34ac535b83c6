package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TenantDestination is one row of notification_config: a tenant's own destination and the
// event types it subscribes to.
type TenantDestination struct {
	// Tenant owns the destination; every lookup is scoped to it.
	Tenant string
	// ID names the destination within its tenant; two tenants may use the same ID.
	ID string
	// Channel is the name of the channel that delivers to it (webhook, slack, ...).
	Channel string
	// Config is the destination's settings as JSON sealed by the application. It carries
	// secrets, so the store keeps it as opaque bytes and never puts it in an error.
	Config []byte
	// EventTypes are the event types the destination subscribes to, in the caller's order.
	EventTypes []string
	// Enabled is false for a destination that must receive nothing. The zero value creates a
	// disabled destination.
	Enabled bool
	// CreatedAt and UpdatedAt are set by the store, in UTC with microsecond precision:
	// CreatedAt when the destination is created, UpdatedAt on every change.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks what the store needs to key and route a destination. It returns an error
// wrapping ErrInvalidDestination.
func (d TenantDestination) Validate() error {
	switch {
	case d.Tenant == "":
		// An empty tenant would be listed as "all tenants" by ListDestinations.
		return fmt.Errorf("destination %q: empty tenant: %w", d.ID, ErrInvalidDestination)
	case d.ID == "":
		return fmt.Errorf("destination of tenant %q: empty id: %w", d.Tenant, ErrInvalidDestination)
	case d.Channel == "":
		return fmt.Errorf("destination %q of tenant %q: empty channel: %w", d.ID, d.Tenant, ErrInvalidDestination)
	}
	return nil
}

// ErrExists is returned by CreateDestination when the tenant already has a destination with
// that ID.
var ErrExists = errors.New("store: already exists")

// ErrInvalidDestination is returned when a destination lacks its tenant, ID or channel.
var ErrInvalidDestination = errors.New("store: invalid destination")

// DestinationStore keeps tenants' destinations in notification_config. Every method is
// scoped to one tenant: a tenant can neither see nor change another's destination, even one
// with the same ID. A missing destination is an error wrapping ErrNotFound. Implementations
// are safe for concurrent use; lists are empty, not nil, slices, and so are Config and
// EventTypes when empty.
type DestinationStore interface {
	// CreateDestination stores a new destination and returns it as stored, with both times
	// set to now. It returns an error wrapping ErrExists if the tenant already has one with
	// that ID, and ErrInvalidDestination if d does not pass Validate.
	CreateDestination(ctx context.Context, d TenantDestination) (TenantDestination, error)
	// UpdateDestination replaces the channel, config, event types and enabled flag of the
	// tenant's destination d.ID, keeps its CreatedAt, sets its UpdatedAt to now and returns it
	// as stored. The times in d are ignored.
	UpdateDestination(ctx context.Context, d TenantDestination) (TenantDestination, error)
	// Destination returns one of the tenant's destinations.
	Destination(ctx context.Context, tenant, id string) (TenantDestination, error)
	// ListDestinations returns the tenant's destinations ordered by ID or, for tenant "",
	// every tenant's, ordered by tenant then ID. IDs compare byte by byte.
	ListDestinations(ctx context.Context, tenant string) ([]TenantDestination, error)
	// DeleteDestination removes one of the tenant's destinations.
	DeleteDestination(ctx context.Context, tenant, id string) error
	// SetEnabled enables or disables one of the tenant's destinations without touching its
	// config, sets its UpdatedAt to now and returns it as stored.
	SetEnabled(ctx context.Context, tenant, id string, enabled bool) (TenantDestination, error)
}
