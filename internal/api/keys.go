package api

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// KeyPrefix starts every tenant key, so that a key is recognisable in a config file or a
// secret scanner, and so that the API tells a tenant key from the admin token without a
// database lookup.
const KeyPrefix = "hk_"

// keyPrefixLen is how much of a key the store keeps in clear to tell keys apart: "hk_" and
// 8 characters, 48 of the key's 256 bits, leaving far too many to guess.
const keyPrefixLen = len(KeyPrefix) + 8

// TenantKey is a tenant key as the API shows it. Key is set only in the answer to its
// creation.
type TenantKey struct {
	ID        string    `json:"id"`
	Key       string    `json:"key,omitempty"`
	Tenant    string    `json:"tenant"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
}

// newKey returns a fresh tenant key: hk_ and 32 random bytes in unpadded base64url.
func newKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate tenant key: %w", err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (a *API) keyStore(r *http.Request) (string, error) {
	tenant := r.PathValue("tenant")
	if !sdk.ValidTenant(tenant) {
		return "", invalid("tenant", fmt.Sprintf("%q is not a tenant id (1 to 64 letters, digits, '-' and '_')", tenant))
	}
	if a.keys == nil {
		return "", unavailable("tenant keys")
	}
	return tenant, nil
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request) error {
	tenant, err := a.keyStore(r)
	if err != nil {
		return err
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	id, err := sdk.NewID()
	if err != nil {
		return err
	}
	k, err := a.keys.CreateKey(r.Context(), store.TenantKey{ID: id, Tenant: tenant, Hash: hashKey(key), Prefix: key[:keyPrefixLen]})
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "tenant key created", "tenant", tenant, "key_id", k.ID)
	out := keyView(k)
	out.Key = key
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	tenant, err := a.keyStore(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	all, err := a.keys.ListKeys(r.Context(), tenant)
	if err != nil {
		return err
	}
	items, next, err := pageSlice(all, func(k store.TenantKey) string { return k.ID }, p)
	if err != nil {
		return err
	}
	views := make([]TenantKey, 0, len(items))
	for _, k := range items {
		views = append(views, keyView(k))
	}
	writeJSON(w, http.StatusOK, newPage(views, next))
	return nil
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) error {
	tenant, err := a.keyStore(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := a.keys.RevokeKey(r.Context(), tenant, id); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "tenant key revoked", "tenant", tenant, "key_id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func keyView(k store.TenantKey) TenantKey {
	return TenantKey{ID: k.ID, Tenant: k.Tenant, Prefix: k.Prefix, CreatedAt: k.CreatedAt}
}
