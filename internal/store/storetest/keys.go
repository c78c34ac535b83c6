package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// KeyLedger is what RunKeys tests: a store of tenant keys that migrates its own schema.
type KeyLedger interface {
	Migrate(ctx context.Context) error
	store.KeyStore
}

// RunKeys runs the conformance suite of store.KeyStore. Each subtest gets its own store from
// newStore, on a fresh, empty database not migrated yet, and runs in parallel with the
// others.
//
// Beyond the interface's documented contract the suite fixes that hashes and prefixes come
// back exactly as written and times in UTC with microsecond precision.
func RunKeys(t *testing.T, newStore func(t *testing.T) KeyLedger) {
	t.Helper()
	runSuite(t, newStore, []suiteCase[KeyLedger]{
		{"Lifecycle", testKeyLifecycle},
		{"Exists", testKeyExists},
		{"CreateConcurrent", testKeyCreateConcurrent},
		{"Invalid", testKeyInvalid},
		{"TenantsIsolated", testKeyTenantsIsolated},
		{"List", testKeyList},
	})
}

// tenantKey builds a key of tenant with the suite's defaults: its hash is that of a key
// derived from the id, so that ids and hashes are unique together.
func tenantKey(tenant, id string) store.TenantKey {
	h := sha256.Sum256([]byte("hk_secret-" + id))
	return store.TenantKey{ID: id, Tenant: tenant, Hash: h[:], Prefix: "hk_" + id[:min(len(id), 6)]}
}

func createKey(t *testing.T, s store.KeyStore, k store.TenantKey) store.TenantKey {
	t.Helper()
	got, err := s.CreateKey(ctx(t), k)
	if err != nil {
		t.Fatalf("CreateKey(%s/%s): %v", k.Tenant, k.ID, err)
	}
	return got
}

func listKeys(t *testing.T, s store.KeyStore, tenant string) []store.TenantKey {
	t.Helper()
	list, err := s.ListKeys(ctx(t), tenant)
	if err != nil {
		t.Fatalf("ListKeys(%q): %v", tenant, err)
	}
	if list == nil {
		t.Errorf("ListKeys(%q) = nil, want an empty slice", tenant)
	}
	return list
}

func formatKey(k store.TenantKey) string {
	revoked := "nil"
	if k.RevokedAt != nil {
		revoked = formatTime(*k.RevokedAt)
	}
	return fmt.Sprintf("{%s/%s hash=%x prefix=%q created=%s revoked=%s}", k.Tenant, k.ID, k.Hash, k.Prefix,
		formatTime(k.CreatedAt), revoked)
}

func keyIDs(keys []store.TenantKey) []string {
	ids := []string{}
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

// testKeyLifecycle creates a key, finds it by hash, lists it, revokes it, and checks that a
// revoked key is found no more.
func testKeyLifecycle(t *testing.T, s KeyLedger) {
	k := tenantKey("acme", "01JKEY1")
	k.RevokedAt = &t0 // ignored by CreateKey
	before := time.Now()
	created := createKey(t, s, k)
	want := k
	want.CreatedAt, want.RevokedAt = created.CreatedAt, nil
	if formatKey(created) != formatKey(want) {
		t.Errorf("CreateKey returned %s,\nwant %s", formatKey(created), formatKey(want))
	}
	if c := created.CreatedAt; c.Location() != time.UTC || c.Truncate(time.Microsecond) != c {
		t.Errorf("CreatedAt = %v, want UTC with microsecond precision", c)
	}
	if created.CreatedAt.Before(before.Truncate(time.Microsecond)) {
		t.Errorf("CreatedAt = %s, before the call at %s", formatTime(created.CreatedAt), formatTime(before))
	}

	got, err := s.KeyByHash(ctx(t), k.Hash)
	if err != nil {
		t.Fatalf("KeyByHash: %v", err)
	}
	if formatKey(got) != formatKey(created) {
		t.Errorf("KeyByHash = %s,\nwant %s", formatKey(got), formatKey(created))
	}
	if list := listKeys(t, s, "acme"); len(list) != 1 || formatKey(list[0]) != formatKey(created) {
		t.Errorf("ListKeys = %v, want [%s]", list, formatKey(created))
	}

	if err := s.RevokeKey(ctx(t), "acme", k.ID); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if _, err := s.KeyByHash(ctx(t), k.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyByHash after revoke: error = %v, want store.ErrNotFound", err)
	}
	if list := listKeys(t, s, "acme"); len(list) != 0 {
		t.Errorf("ListKeys after revoke = %v, want none", keyIDs(list))
	}
	if err := s.RevokeKey(ctx(t), "acme", k.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeKey twice: error = %v, want store.ErrNotFound", err)
	}
	// A revoked key's id and hash stay taken: its row is the record of who had access.
	if _, err := s.CreateKey(ctx(t), k); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateKey with a revoked key's id: error = %v, want store.ErrExists", err)
	}
	// Unknown hashes are not found.
	other := sha256.Sum256([]byte("unknown"))
	if _, err := s.KeyByHash(ctx(t), other[:]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyByHash(unknown): error = %v, want store.ErrNotFound", err)
	}
}

// testKeyExists checks that a taken id or hash is refused and leaves the first key as it was.
func testKeyExists(t *testing.T, s KeyLedger) {
	first := createKey(t, s, tenantKey("acme", "01JKEY1"))
	sameID := tenantKey("globex", "01JKEY1")
	sameID.Hash = bytes.Repeat([]byte{7}, sha256.Size)
	if _, err := s.CreateKey(ctx(t), sameID); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateKey with a taken id: error = %v, want store.ErrExists", err)
	}
	sameHash := tenantKey("globex", "01JKEY2")
	sameHash.Hash = first.Hash
	if _, err := s.CreateKey(ctx(t), sameHash); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateKey with a taken hash: error = %v, want store.ErrExists", err)
	}
	got, err := s.KeyByHash(ctx(t), first.Hash)
	if err != nil || formatKey(got) != formatKey(first) {
		t.Errorf("KeyByHash after refused creates = %s, %v; want %s", formatKey(got), err, formatKey(first))
	}
	if list := listKeys(t, s, "globex"); len(list) != 0 {
		t.Errorf("ListKeys(globex) = %v, want none", keyIDs(list))
	}
}

// testKeyCreateConcurrent creates one key from several goroutines: exactly one wins.
func testKeyCreateConcurrent(t *testing.T, s KeyLedger) {
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		won    int
		others []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.CreateKey(ctx(t), tenantKey("acme", "01JKEY1"))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if !errors.Is(err, store.ErrExists) {
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || len(others) > 0 {
		t.Errorf("concurrent CreateKey: %d succeeded, unexpected errors %v; want 1 and none", won, others)
	}
}

// testKeyInvalid checks that keys without an id, a tenant or a SHA-256 hash are refused.
func testKeyInvalid(t *testing.T, s KeyLedger) {
	for name, k := range map[string]store.TenantKey{
		"no id":      {Tenant: "acme", Hash: make([]byte, sha256.Size)},
		"no tenant":  {ID: "01JKEY1", Hash: make([]byte, sha256.Size)},
		"no hash":    {ID: "01JKEY1", Tenant: "acme"},
		"short hash": {ID: "01JKEY1", Tenant: "acme", Hash: []byte("hk_not-a-hash")},
	} {
		if _, err := s.CreateKey(ctx(t), k); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("CreateKey(%s): error = %v, want store.ErrInvalidKey", name, err)
		}
	}
	if list := listKeys(t, s, "acme"); len(list) != 0 {
		t.Errorf("ListKeys after refused creates = %v, want none", keyIDs(list))
	}
}

// testKeyTenantsIsolated checks that a tenant can neither list nor revoke another's key.
func testKeyTenantsIsolated(t *testing.T, s KeyLedger) {
	acme := createKey(t, s, tenantKey("acme", "01JKEY1"))
	createKey(t, s, tenantKey("globex", "01JKEY2"))
	if err := s.RevokeKey(ctx(t), "globex", acme.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeKey of another tenant's key: error = %v, want store.ErrNotFound", err)
	}
	if _, err := s.KeyByHash(ctx(t), acme.Hash); err != nil {
		t.Errorf("KeyByHash after another tenant's revoke: %v", err)
	}
	if got := keyIDs(listKeys(t, s, "globex")); len(got) != 1 || got[0] != "01JKEY2" {
		t.Errorf("ListKeys(globex) = %v, want [01JKEY2]", got)
	}
	if got := keyIDs(listKeys(t, s, "nobody")); len(got) != 0 {
		t.Errorf("ListKeys(nobody) = %v, want none", got)
	}
}

// testKeyList checks that lists are ordered by id, byte by byte, and leave revoked keys out.
func testKeyList(t *testing.T, s KeyLedger) {
	for _, id := range []string{"01JB", "01Ja", "01JA", "01JC"} {
		createKey(t, s, tenantKey("acme", id))
	}
	if err := s.RevokeKey(ctx(t), "acme", "01JC"); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	got := keyIDs(listKeys(t, s, "acme"))
	want := []string{"01JA", "01JB", "01Ja"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListKeys = %v, want %v", got, want)
	}
}
