package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// TenantKey is one row of notification_tenant_keys: an API key that lets its tenant manage
// its own destinations and read its own history. The key itself is never stored, only its
// SHA-256 hash, so a copy of the database cannot be used to call the API.
type TenantKey struct {
	// ID names the key in the API (DELETE /admin/tenants/{tenant}/keys/{id}); unique across
	// tenants.
	ID string
	// Tenant is the tenant the key acts for.
	Tenant string
	// Hash is the SHA-256 of the key; unique across keys.
	Hash []byte
	// Prefix is the start of the key ("hk_" and a few characters), kept so that an operator
	// can tell keys apart in a list without the store holding anything that authenticates.
	Prefix string
	// CreatedAt is set by the store, in UTC with microsecond precision.
	CreatedAt time.Time
	// RevokedAt is when the key was revoked; nil while it works.
	RevokedAt *time.Time
}

// Validate checks what the store needs to key and look up a tenant key. It returns an error
// wrapping ErrInvalidKey.
func (k TenantKey) Validate() error {
	switch {
	case k.ID == "":
		return fmt.Errorf("key of tenant %q: empty id: %w", k.Tenant, ErrInvalidKey)
	case k.Tenant == "":
		return fmt.Errorf("key %q: empty tenant: %w", k.ID, ErrInvalidKey)
	case len(k.Hash) != sha256.Size:
		return fmt.Errorf("key %q: hash of %d bytes, want %d: %w", k.ID, len(k.Hash), sha256.Size, ErrInvalidKey)
	}
	return nil
}

// ErrInvalidKey is returned when a tenant key lacks its id, tenant or a SHA-256 hash.
var ErrInvalidKey = errors.New("store: invalid tenant key")

// KeyStore keeps tenant API keys in notification_tenant_keys. Implementations are safe for
// concurrent use; lists are empty, not nil, slices. Lookups read the database every time,
// with no cache, so that a revocation takes effect on every replica at once.
type KeyStore interface {
	// CreateKey stores a new key and returns it as stored, CreatedAt set to now. It returns
	// an error wrapping ErrExists if the ID or the hash is taken, and ErrInvalidKey if k does
	// not pass Validate. RevokedAt in k is ignored.
	CreateKey(ctx context.Context, k TenantKey) (TenantKey, error)
	// KeyByHash returns the key with this hash that is not revoked, or an error wrapping
	// ErrNotFound.
	KeyByHash(ctx context.Context, hash []byte) (TenantKey, error)
	// ListKeys returns the tenant's keys that are not revoked, ordered by ID (byte order).
	ListKeys(ctx context.Context, tenant string) ([]TenantKey, error)
	// RevokeKey revokes one of the tenant's keys. A key that does not exist, is another
	// tenant's, or is already revoked is an error wrapping ErrNotFound.
	RevokeKey(ctx context.Context, tenant, id string) error
}
