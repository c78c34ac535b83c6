package tenants

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
)

// recordVersion is the format of the record in notification_config.config.
const recordVersion = 1

// record is what notification_config.config holds: the sealed configuration, and beside it
// in clear only what is not secret.
type record struct {
	V int `json:"v"`
	// Sealed is the secretbox token of a sealedConfig.
	Sealed string `json:"sealed"`
	// DisabledReason is "manual" or "failing" while the destination is disabled.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// OverlapUntil is when a rotated-out webhook secret stops signing.
	OverlapUntil *time.Time `json:"secret_overlap_until,omitempty"`
}

// sealedConfig is what a record seals.
type sealedConfig struct {
	// Config is the tenant's configuration of the channel: the fields a tenant may set.
	Config json.RawMessage `json:"config"`
	// PreviousSecret is the webhook secret a rotation replaced; it signs beside the new one
	// until PreviousUntil.
	PreviousSecret string    `json:"previous_secret,omitempty"`
	PreviousUntil  time.Time `json:"previous_until,omitzero"`
}

// aad binds a sealed configuration to its row: a token copied to another tenant's or
// destination's row fails to open.
func aad(tenant, id string) []byte {
	return []byte("herald/notification_config/" + tenant + "/" + id + "/config")
}

// ErrNoKey is returned when no NOTIFICATIONS_SECRETS_KEY is configured: without a key,
// tenant destinations cannot be stored or used. It wraps control.ErrConflict in the service.
var ErrNoKey = errors.New("tenant destinations are off: set " + secretbox.EnvVar +
	" (a comma-separated list of base64 32-byte keys) to encrypt their secrets at rest")

func seal(kr *secretbox.Keyring, tenant, id string, sc sealedConfig) (string, error) {
	if kr == nil {
		return "", ErrNoKey
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", err
	}
	return kr.Seal(b, aad(tenant, id))
}

func unseal(kr *secretbox.Keyring, tenant, id, token string) (sealedConfig, error) {
	var sc sealedConfig
	if kr == nil {
		return sc, ErrNoKey
	}
	b, err := kr.Open(token, aad(tenant, id))
	if err != nil {
		return sc, fmt.Errorf("open config of destination %s/%s: %w", tenant, id, err)
	}
	if err := json.Unmarshal(b, &sc); err != nil {
		return sc, fmt.Errorf("config of destination %s/%s is not a sealed config", tenant, id)
	}
	return sc, nil
}

func decodeRecord(d store.TenantDestination) (record, error) {
	var r record
	if err := json.Unmarshal(d.Config, &r); err != nil || r.V != recordVersion || r.Sealed == "" {
		// Never quote the bytes: they may hold a secret written by something else.
		return r, fmt.Errorf("destination %s/%s: config is not a sealed record of version %d", d.Tenant, d.ID, recordVersion)
	}
	return r, nil
}

func (r record) encode() []byte {
	b, _ := json.Marshal(r) // strings and a time: cannot fail
	return b
}

// Entry is the value of key d.<tenant>.<id> in the destinations bucket: what the dispatcher
// routes by and, still sealed, what the workers send with. It never holds a secret in clear.
type Entry struct {
	Tenant     string   `json:"tenant"`
	ID         string   `json:"id"`
	Channel    string   `json:"channel"`
	EventTypes []string `json:"event_types"`
	Enabled    bool     `json:"enabled"`
	// DisabledReason is "manual" or "failing" for a disabled destination.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Sealed is the sealed configuration, as in the database.
	Sealed    string    `json:"sealed"`
	UpdatedAt time.Time `json:"updated_at"`
}

// entryOf builds the bucket entry of a stored destination.
func entryOf(d store.TenantDestination) (Entry, error) {
	r, err := decodeRecord(d)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Tenant: d.Tenant, ID: d.ID, Channel: d.Channel, EventTypes: d.EventTypes, Enabled: d.Enabled,
		DisabledReason: r.DisabledReason, Sealed: r.Sealed, UpdatedAt: d.UpdatedAt}, nil
}

// Keys of the destinations bucket. Tenants and ids are letters, digits, '-' and '_', so
// they are valid key tokens as they are.
const (
	destPrefix   = "d."
	healthPrefix = "h."
)

func destKey(tenant, id string) string   { return destPrefix + tenant + "." + id }
func healthKey(tenant, id string) string { return healthPrefix + tenant + "." + id }

// splitKey returns the prefix ("d." or "h."), tenant and id of a bucket key.
func splitKey(key string) (prefix, tenant, id string, ok bool) {
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0] + ".", parts[1], parts[2], true
}

// RefOf is the destination id a tenant destination carries in deliveries: <tenant>/<id>.
func RefOf(tenant, id string) string { return tenant + "/" + id }

// splitRef undoes RefOf.
func splitRef(ref string) (tenant, id string, ok bool) {
	return strings.Cut(ref, "/")
}
