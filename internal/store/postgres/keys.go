package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
)

var _ store.KeyStore = (*Store)(nil)

const keyColumnList = `key_id, tenant_id, key_hash, prefix, created_at, revoked_at`

// CreateKey stores a new tenant key; see store.KeyStore. ON CONFLICT DO NOTHING with no
// target covers both the id and the hash.
func (s *Store) CreateKey(ctx context.Context, k store.TenantKey) (store.TenantKey, error) {
	if err := k.Validate(); err != nil {
		return store.TenantKey{}, fmt.Errorf("create tenant key: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `INSERT INTO notification_tenant_keys
		(key_id, tenant_id, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING
		RETURNING `+keyColumnList, k.ID, k.Tenant, k.Hash, k.Prefix, destinationNow())
	out, err := pgx.CollectExactlyOneRow(rows, scanKey)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("tenant key %q: %w", k.ID, store.ErrExists)
	}
	if err != nil {
		return store.TenantKey{}, s.wrap("create tenant key", err)
	}
	return out, nil
}

// KeyByHash returns the working key with this hash; see store.KeyStore.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (store.TenantKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+keyColumnList+` FROM notification_tenant_keys
		WHERE key_hash = $1 AND revoked_at IS NULL`, hash)
	out, err := pgx.CollectExactlyOneRow(rows, scanKey)
	if errors.Is(err, pgx.ErrNoRows) {
		// Never the hash in the message: it identifies the key.
		err = fmt.Errorf("tenant key: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.TenantKey{}, s.wrap("look up tenant key", err)
	}
	return out, nil
}

// ListKeys lists the tenant's working keys by id; see store.KeyStore.
func (s *Store) ListKeys(ctx context.Context, tenant string) ([]store.TenantKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+keyColumnList+` FROM notification_tenant_keys
		WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY key_id`, tenant)
	out, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return nil, s.wrap("list tenant keys", err)
	}
	return nonNil(out), nil
}

// RevokeKey revokes one of the tenant's keys; see store.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, tenant, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE notification_tenant_keys SET revoked_at = $3
		WHERE tenant_id = $1 AND key_id = $2 AND revoked_at IS NULL`, tenant, id, destinationNow())
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("tenant key %q of tenant %q: %w", id, tenant, store.ErrNotFound)
	}
	if err != nil {
		return s.wrap("revoke tenant key", err)
	}
	return nil
}

func scanKey(row pgx.CollectableRow) (store.TenantKey, error) {
	var k store.TenantKey
	err := row.Scan(&k.ID, &k.Tenant, &k.Hash, &k.Prefix, &k.CreatedAt, &k.RevokedAt)
	k.CreatedAt = k.CreatedAt.UTC()
	if k.RevokedAt != nil {
		r := k.RevokedAt.UTC()
		k.RevokedAt = &r
	}
	return k, err
}
