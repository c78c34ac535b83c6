package tenants

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestReconcileHealsTheBucketFromTheDatabase: a destination missing from the bucket or
// different there (a service that crashed between its two writes) is put back, and an entry
// the database no longer has is deleted.
func TestReconcileHealsTheBucketFromTheDatabase(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		in := webhookInput("https://example.com/" + id)
		in.ID = id
		if _, err := b.svc.Create(ctx, "acme", in); err != nil {
			t.Fatal(err)
		}
	}
	want, err := b.bucket.Get(ctx, destKey("acme", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.bucket.Delete(ctx, destKey("acme", "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.bucket.Put(ctx, destKey("acme", "b"), []byte(`{"stale":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.bucket.Put(ctx, destKey("acme", "ghost"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	n, err := Reconcile(ctx, b.store, b.bucket)
	if err != nil || n != 3 {
		t.Fatalf("reconcile changed %d keys, %v; want 3", n, err)
	}
	if _, err := b.bucket.Get(ctx, destKey("acme", "a")); err != nil {
		t.Errorf("a missing destination was not put back: %v", err)
	}
	if got, err := b.bucket.Get(ctx, destKey("acme", "b")); err != nil || !bytes.Equal(got.Value(), want.Value()) {
		t.Errorf("a stale entry was not replaced: %v", err)
	}
	if _, err := b.bucket.Get(ctx, destKey("acme", "ghost")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("an entry the database does not have was kept: %v", err)
	}
	if n, err := Reconcile(ctx, b.store, b.bucket); err != nil || n != 0 {
		t.Errorf("a second reconcile changed %d keys, %v; want none", n, err)
	}
}
