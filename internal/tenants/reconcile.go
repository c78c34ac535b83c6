package tenants

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
)

// Reconcile makes the destinations bucket hold exactly what the database holds: it puts
// every destination whose entry is missing or differs and deletes entries of destinations
// the database no longer has. Dispatchers run it at start and then now and again, which
// heals a service that crashed, or lost NATS, between its database and bucket writes. It
// returns how many keys it changed.
func Reconcile(ctx context.Context, st store.DestinationStore, b Bucket) (int, error) {
	all, err := st.ListDestinations(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("reconcile tenant destinations: %w", err)
	}
	have, err := snapshot(ctx, b)
	if err != nil {
		return 0, fmt.Errorf("reconcile tenant destinations: %w", err)
	}
	changed := 0
	for _, d := range all {
		key := destKey(d.Tenant, d.ID)
		en, err := entryOf(d)
		if err != nil {
			return changed, err
		}
		want := mustJSON(en)
		old, ok := have[key]
		delete(have, key)
		if ok && bytes.Equal(old, want) {
			continue
		}
		if _, err := b.Put(ctx, key, want); err != nil {
			return changed, fmt.Errorf("reconcile %s/%s: %w", d.Tenant, d.ID, err)
		}
		changed++
	}
	for key := range have {
		if err := b.Delete(ctx, key); err != nil {
			return changed, fmt.Errorf("reconcile: delete %s: %w", key, err)
		}
		changed++
	}
	return changed, nil
}

// snapshot reads every destination entry of the bucket.
func snapshot(ctx context.Context, b Bucket) (map[string][]byte, error) {
	w, err := b.Watch(ctx, destPrefix+">", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Stop() }()
	out := map[string][]byte{}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("destinations bucket watch ended")
			}
			if e == nil {
				return out, nil
			}
			out[e.Key()] = bytes.Clone(e.Value())
		}
	}
}

// Rewrap seals every destination's configuration that is not sealed under the keyring's
// first key again under it, and returns how many it rewrote. After it, the older keys can be
// removed from NOTIFICATIONS_SECRETS_KEY (once the bucket is reconciled too, which every
// dispatcher does at start). A configuration sealed under a key the keyring lacks stops it
// with secretbox.ErrUnknownKey, naming the destination; nothing is half-written, each row is
// rewritten on its own.
func Rewrap(ctx context.Context, st store.DestinationStore, kr *secretbox.Keyring) (int, error) {
	if kr == nil {
		return 0, ErrNoKey
	}
	all, err := st.ListDestinations(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("rewrap: %w", err)
	}
	n := 0
	for _, d := range all {
		rec, err := decodeRecord(d)
		if err != nil {
			return n, fmt.Errorf("rewrap: %w", err)
		}
		if !kr.NeedsRewrap(rec.Sealed) {
			continue
		}
		token, err := kr.Rewrap(rec.Sealed, aad(d.Tenant, d.ID))
		if err != nil {
			return n, fmt.Errorf("rewrap destination %s/%s: %w", d.Tenant, d.ID, err)
		}
		rec.Sealed = token
		d.Config = rec.encode()
		if _, err := st.UpdateDestination(ctx, d); err != nil {
			return n, fmt.Errorf("rewrap destination %s/%s: %w", d.Tenant, d.ID, err)
		}
		n++
	}
	return n, nil
}
