package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	out, err := scanKey(s.write.QueryRowContext(ctx, `INSERT INTO notification_tenant_keys
		(key_id, tenant_id, key_hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT DO NOTHING
		RETURNING `+keyColumnList, k.ID, k.Tenant, k.Hash, k.Prefix, formatTime(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("tenant key %q: %w", k.ID, store.ErrExists)
	}
	if err != nil {
		return store.TenantKey{}, fmt.Errorf("create tenant key: %w", err)
	}
	return out, nil
}

// KeyByHash returns the working key with this hash; see store.KeyStore.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (store.TenantKey, error) {
	out, err := scanKey(s.read.QueryRowContext(ctx, `SELECT `+keyColumnList+
		` FROM notification_tenant_keys WHERE key_hash = ? AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		// Never the hash in the message: it identifies the key.
		err = fmt.Errorf("tenant key: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.TenantKey{}, fmt.Errorf("look up tenant key: %w", err)
	}
	return out, nil
}

// ListKeys lists the tenant's working keys by id; see store.KeyStore.
func (s *Store) ListKeys(ctx context.Context, tenant string) ([]store.TenantKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+keyColumnList+` FROM notification_tenant_keys
		WHERE tenant_id = ? AND revoked_at IS NULL ORDER BY key_id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list tenant keys: %w", err)
	}
	defer rows.Close()
	out := []store.TenantKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenant keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenant keys: %w", err)
	}
	return out, nil
}

// RevokeKey revokes one of the tenant's keys; see store.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, tenant, id string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE notification_tenant_keys SET revoked_at = ?3
		WHERE tenant_id = ?1 AND key_id = ?2 AND revoked_at IS NULL`, tenant, id, formatTime(time.Now()))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("tenant key %q of tenant %q: %w", id, tenant, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke tenant key: %w", err)
	}
	return nil
}

// scanKey reads one key row from a *sql.Row or *sql.Rows.
func scanKey(row interface{ Scan(...any) error }) (store.TenantKey, error) {
	var (
		k       store.TenantKey
		created string
		revoked sql.NullString
	)
	if err := row.Scan(&k.ID, &k.Tenant, &k.Hash, &k.Prefix, &created, &revoked); err != nil {
		return store.TenantKey{}, err
	}
	var err error
	if k.CreatedAt, err = parseTime(created); err != nil {
		return store.TenantKey{}, err
	}
	if revoked.Valid {
		r, err := parseTime(revoked.String)
		if err != nil {
			return store.TenantKey{}, err
		}
		k.RevokedAt = &r
	}
	return k, nil
}
