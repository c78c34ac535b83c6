package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/secretbox"
)

// Bucket is the part of jetstream.KeyValue this package uses: the destinations bucket.
type Bucket interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
	Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
	Watch(ctx context.Context, keys string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error)
}

// BucketConfig is the destinations bucket: one key per destination and one per failing
// destination, the latest value of each. Its name carries the subject prefix, as the other
// buckets' do.
func BucketConfig(prefix string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      prefix + "_destinations",
		Description: "Herald tenant destinations (configuration sealed) and their failure state, watched by dispatchers and workers.",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// Table is a process's view of every tenant destination, kept from the destinations bucket
// by a watcher: the dispatcher routes with it (Route), the workers resolve destinations with
// it (Destination), and both read the failure state from it. Reads are lock-free.
type Table struct {
	bucket   Bucket
	keyring  *secretbox.Keyring
	channels *Channels
	log      *slog.Logger

	mu      sync.Mutex                    // serialises the watcher's writes
	state   map[string]map[string]*tEntry // tenant -> id -> entry, the watcher's own
	tenants sync.Map                      // tenant -> *tenantRoutes, for Route
	dests   sync.Map                      // ref -> *tEntry, for Destination
	deleted sync.Map                      // ref -> struct{}: a delete marker seen
	health  sync.Map                      // ref -> Failing

	synced   chan struct{}
	stop     context.CancelFunc
	done     chan struct{}
	updates  atomic.Int64
	revision atomic.Uint64 // the last bucket revision applied
	// applied is closed and replaced after each change, waking WaitRevision.
	appliedMu sync.Mutex
	applied   chan struct{}
}

// tEntry is one destination of the table. Its sealed configuration is opened the first time
// a worker needs it: a dispatcher, which only routes, never opens one.
type tEntry struct {
	Entry
	route channel.Destination // ID <tenant>/<id>, the channel, the tenant: what fan-out needs

	once     sync.Once
	resolved resolved
	err      error
}

// resolved is a destination ready to send to: its configuration merged with the operator's,
// signed with the current secret and, until prevUntil, the previous one too.
type resolved struct {
	dest      channel.Destination
	both      channel.Destination // with the previous secret as well
	prevUntil time.Time
}

// tenantRoutes is one tenant's enabled destinations, with the route of each event type
// cached: replaced whole on every change of the tenant's destinations.
type tenantRoutes struct {
	entries []*tEntry
	cache   sync.Map // event type -> []channel.Destination
	cached  atomic.Int64
}

// NewTable builds a table over the bucket. channels and keyring are needed by workers
// (Destination) only; a dispatcher may pass nil for both.
func NewTable(bucket Bucket, keyring *secretbox.Keyring, channels *Channels, log *slog.Logger) *Table {
	return &Table{bucket: bucket, keyring: keyring, channels: channels, log: log.With("component", "tenant_destinations"),
		state: map[string]map[string]*tEntry{}, synced: make(chan struct{}), done: make(chan struct{}), applied: make(chan struct{})}
}

// Start watches the bucket until Stop. It returns once the watch is set up; Synced is closed
// when the table holds everything the bucket held at start.
func (t *Table) Start(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := t.bucket.Watch(wctx, ">")
	if err != nil {
		cancel()
		return fmt.Errorf("watch tenant destinations: %w", err)
	}
	t.stop = cancel
	go func() {
		defer close(t.done)
		defer func() { _ = w.Stop() }()
		initial := true
		for {
			select {
			case <-wctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					if initial {
						initial = false
						close(t.synced)
					}
					continue
				}
				t.apply(e)
			}
		}
	}()
	return nil
}

// Synced is closed once the table holds the bucket's contents as of Start.
func (t *Table) Synced() <-chan struct{} { return t.synced }

// WaitSynced waits until Synced or ctx ends.
func (t *Table) WaitSynced(ctx context.Context) error {
	select {
	case <-t.synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tenant destinations: waiting for the destinations bucket: %w", ctx.Err())
	}
}

// Stop ends the watch.
func (t *Table) Stop() {
	if t.stop != nil {
		t.stop()
		<-t.done
	}
}

// Updates counts the changes the table has applied, for tests that wait on one.
func (t *Table) Updates() int64 { return t.updates.Load() }

// Revision is the bucket revision of the last change the table applied: a change written at
// revision r is routed by this process once Revision() >= r.
func (t *Table) Revision() uint64 { return t.revision.Load() }

// WaitRevision waits until the table has applied revision rev of the bucket, or ctx ends.
func (t *Table) WaitRevision(ctx context.Context, rev uint64) error {
	for {
		t.appliedMu.Lock()
		ch := t.applied
		t.appliedMu.Unlock()
		if t.revision.Load() >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (t *Table) apply(e jetstream.KeyValueEntry) {
	defer func() {
		t.updates.Add(1)
		t.revision.Store(e.Revision())
		t.appliedMu.Lock()
		close(t.applied)
		t.applied = make(chan struct{})
		t.appliedMu.Unlock()
	}()
	prefix, tenant, id, ok := splitKey(e.Key())
	if !ok {
		return
	}
	ref := RefOf(tenant, id)
	removed := e.Operation() != jetstream.KeyValuePut
	switch prefix {
	case healthPrefix:
		if removed {
			t.health.Delete(ref)
			return
		}
		var f Failing
		if err := json.Unmarshal(e.Value(), &f); err != nil {
			t.log.Warn("unreadable failure state in the destinations bucket", "key", e.Key())
			return
		}
		f.Tenant, f.ID, f.revision = tenant, id, e.Revision()
		t.health.Store(ref, f)
		return
	case destPrefix:
	default:
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	byID := t.state[tenant]
	if removed {
		delete(byID, id)
		t.dests.Delete(ref)
		t.deleted.Store(ref, struct{}{})
	} else {
		var en Entry
		if err := json.Unmarshal(e.Value(), &en); err != nil || en.Tenant != tenant || en.ID != id {
			t.log.Warn("unreadable destination in the destinations bucket", "key", e.Key())
			return
		}
		te := &tEntry{Entry: en, route: channel.Destination{ID: ref, Channel: en.Channel, Tenant: tenant}}
		if byID == nil {
			byID = map[string]*tEntry{}
			t.state[tenant] = byID
		}
		byID[id] = te
		t.dests.Store(ref, te)
		t.deleted.Delete(ref)
	}
	routes := &tenantRoutes{}
	for _, te := range byID {
		if te.Enabled {
			routes.entries = append(routes.entries, te)
		}
	}
	if len(routes.entries) == 0 {
		t.tenants.Delete(tenant)
	} else {
		t.tenants.Store(tenant, routes)
	}
	if len(byID) == 0 {
		delete(t.state, tenant)
	}
}

// Route returns the enabled destinations of tenant that subscribe to eventType, each as
// <tenant>/<id> of its channel; nil for an event without a tenant. It is the dispatcher's
// hot path: one map lookup for a tenant with no destination, and a cached answer per event
// type for one with some.
func (t *Table) Route(tenant, eventType string) []channel.Destination {
	if tenant == "" {
		return nil
	}
	v, ok := t.tenants.Load(tenant)
	if !ok {
		return nil
	}
	r := v.(*tenantRoutes)
	if c, ok := r.cache.Load(eventType); ok {
		return c.([]channel.Destination)
	}
	var out []channel.Destination
	for _, te := range r.entries {
		for _, p := range te.EventTypes {
			if (config.Route{Pattern: p}).Matches(eventType) {
				out = append(out, te.route)
				break
			}
		}
	}
	if r.cached.Add(1) > maxCachedTypes {
		r.cache.Clear()
		r.cached.Store(1)
	}
	r.cache.Store(eventType, out)
	return out
}

// maxCachedTypes bounds each tenant's route cache, as the operator router bounds its own.
const maxCachedTypes = 256

// Why a tenant destination receives nothing any more.
const (
	ReasonDeleted  = "destination deleted"
	ReasonDisabled = "destination disabled"
)

// gone is the configuration of a destination that must receive nothing more: Sender ends
// its deliveries with the reason, or, when retry is set (a configuration this process cannot
// open, which a fix of its keys would cure), fails them as transient.
type gone struct {
	reason string
	retry  bool
}

func (gone) Validate() error   { return nil }
func (gone) Secrets() []string { return nil }
func (g gone) String() string  { return g.reason }
func goneReason(c channel.Config) (string, bool) {
	g, ok := c.(gone)
	return g.reason, ok
}

// Destination resolves ref, <tenant>/<id>, for a worker: the destination ready to send, with
// its configuration opened and merged with the operator's. A destination that was deleted
// or is disabled resolves to one whose configuration tells Sender to end its deliveries. One
// the table has not heard of (not yet propagated, or the table not yet synced) is not
// found, and the worker holds its deliveries until it is.
func (t *Table) Destination(ref string) (channel.Destination, bool) {
	v, ok := t.dests.Load(ref)
	if !ok {
		if _, del := t.deleted.Load(ref); del {
			return t.goneDest(ref, ReasonDeleted), true
		}
		return channel.Destination{}, false
	}
	te := v.(*tEntry)
	if !te.Enabled {
		return t.goneDest(ref, ReasonDisabled), true
	}
	te.once.Do(func() { te.resolved, te.err = t.resolve(te.Entry) })
	if te.err != nil {
		return channel.Destination{ID: ref, Channel: te.Channel, Tenant: te.Tenant, Config: gone{reason: te.err.Error(), retry: true}}, true
	}
	if !te.resolved.prevUntil.IsZero() && time.Now().Before(te.resolved.prevUntil) {
		return te.resolved.both, true
	}
	return te.resolved.dest, true
}

func (t *Table) goneDest(ref, reason string) channel.Destination {
	tenant, _, _ := splitRef(ref)
	return channel.Destination{ID: ref, Tenant: tenant, Config: gone{reason: reason}}
}

// resolve opens an entry's configuration. Its errors never quote the configuration.
func (t *Table) resolve(en Entry) (resolved, error) {
	if t.channels == nil {
		return resolved{}, errors.New("this process cannot send to tenant destinations")
	}
	sc, err := unseal(t.keyring, en.Tenant, en.ID, en.Sealed)
	if err != nil {
		t.log.Error("tenant destination cannot be opened", "tenant_id", en.Tenant, "destination", en.ID, "err", err)
		if errors.Is(err, secretbox.ErrUnknownKey) {
			return resolved{}, errors.New("the destination's configuration is sealed under a key this worker does not have")
		}
		return resolved{}, errors.New("the destination's configuration cannot be opened")
	}
	ref := RefOf(en.Tenant, en.ID)
	cfg, err := t.channels.decode(en.Channel, sc.Config)
	if err != nil {
		return resolved{}, fmt.Errorf("invalid configuration: %s", safeFieldError(err))
	}
	r := resolved{dest: channel.Destination{ID: ref, Channel: en.Channel, Tenant: en.Tenant, Config: cfg}}
	if sc.PreviousSecret != "" && time.Now().Before(sc.PreviousUntil) {
		both, err := withSecrets(sc.Config, sc.PreviousSecret)
		if err == nil {
			if cfg2, err := t.channels.decode(en.Channel, both); err == nil {
				r.both = channel.Destination{ID: ref, Channel: en.Channel, Tenant: en.Tenant, Config: cfg2}
				r.prevUntil = sc.PreviousUntil
			}
		}
	}
	return r, nil
}

// withSecrets returns a tenant configuration whose "secret" signs with the previous secret
// too: the webhook channel signs with every space-separated secret.
func withSecrets(raw json.RawMessage, previous string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var cur string
	if err := json.Unmarshal(m["secret"], &cur); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(cur + " " + previous)
	m["secret"] = b
	return json.Marshal(m)
}

// Failing is the failure state of a tenant destination, the value of key h.<tenant>.<id>:
// it has failed since Since without a success. LastError never holds a secret (channels'
// reasons do not).
type Failing struct {
	Tenant    string    `json:"-"`
	ID        string    `json:"-"`
	Since     time.Time `json:"failing_since"`
	LastError string    `json:"last_error"`
	Channel   string    `json:"channel"`
	revision  uint64
}

// failing returns the failure state of ref, if it is failing.
func (t *Table) failing(ref string) (Failing, bool) {
	v, ok := t.health.Load(ref)
	if !ok {
		return Failing{}, false
	}
	return v.(Failing), true
}

// FailingDestinations lists the destinations failing now.
func (t *Table) FailingDestinations() []Failing {
	var out []Failing
	t.health.Range(func(_, v any) bool {
		out = append(out, v.(Failing))
		return true
	})
	return out
}
