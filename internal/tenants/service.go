package tenants

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// Reasons a destination is disabled (control.Destination.DisabledReason).
const (
	DisabledManual  = "manual"
	DisabledFailing = "failing"
)

// DefaultOverlap is how long a rotated-out secret keeps signing when RotateSecret is given
// no overlap.
const DefaultOverlap = 24 * time.Hour

// ServiceDeps are what a Service works with.
type ServiceDeps struct {
	// Store keeps the destinations (notification_config).
	Store store.DestinationStore
	// Bucket is the destinations bucket every replica and worker watches.
	Bucket Bucket
	// Keyring seals configurations; nil turns tenant destinations off (ErrNoKey).
	Keyring  *secretbox.Keyring
	Channels *Channels
	// Local is this process's table, if it has one: a change returns once it is routed by
	// this process, so that an event published after the answer finds it here at least.
	Local *Table
	// SendTimeout bounds a test send. Defaults to 10s.
	SendTimeout time.Duration
	Logger      *slog.Logger
}

// Service manages tenants' destinations: it implements control.Destinations. It writes the
// database first, then the destinations bucket; a failed bucket write is logged and healed
// by the next reconciliation (see Reconcile), so the database is the truth.
type Service struct {
	deps ServiceDeps
	log  *slog.Logger
	now  func() time.Time
}

var _ control.Destinations = (*Service)(nil)

// NewService builds the service.
func NewService(deps ServiceDeps) *Service {
	if deps.SendTimeout <= 0 {
		deps.SendTimeout = 10 * time.Second
	}
	return &Service{deps: deps, log: deps.Logger.With("component", "tenant_destinations"), now: time.Now}
}

// Enabled reports whether tenant destinations are on: a key is configured.
func (s *Service) Enabled() bool { return s.deps.Keyring != nil }

func (s *Service) ready(tenant string) error {
	if s.deps.Keyring == nil {
		return fmt.Errorf("%w: %w", control.ErrConflict, ErrNoKey)
	}
	return checkTenant(tenant)
}

// Create implements control.Destinations.
func (s *Service) Create(ctx context.Context, tenant string, in control.DestinationInput) (control.Destination, error) {
	if err := s.ready(tenant); err != nil {
		return control.Destination{}, err
	}
	id := in.ID
	if id == "" {
		id = strings.ToLower(ulid.Make().String())
	} else if !validID(id) {
		return control.Destination{}, fieldErr("id", "must be 1 to 64 letters, digits, '-' and '_'")
	}
	if _, ok := s.deps.Channels.spec(in.Channel); !ok {
		return control.Destination{}, fieldErr("channel", "%q is not a channel Herald knows (%s)", in.Channel, strings.Join(s.deps.Channels.Operator.Names(), ", "))
	}
	m, err := decodeObject(in.Config)
	if err != nil {
		return control.Destination{}, err
	}
	var generated string
	if needsSecret(s.deps.Channels, in.Channel) && m["secret"] == nil {
		if generated, err = sdk.NewWebhookSecret(); err != nil {
			return control.Destination{}, err
		}
		m["secret"], _ = json.Marshal(generated)
	}
	if err := s.deps.Channels.checkConfig(in.Channel, m); err != nil {
		return control.Destination{}, err
	}
	if err := checkEventTypes(in.EventTypes); err != nil {
		return control.Destination{}, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	rec := record{V: recordVersion}
	if !enabled {
		rec.DisabledReason = DisabledManual
	}
	d := store.TenantDestination{Tenant: tenant, ID: id, Channel: in.Channel, EventTypes: in.EventTypes, Enabled: enabled}
	if d.Config, err = s.sealRecord(tenant, id, rec, sealedConfig{Config: mustJSON(m)}); err != nil {
		return control.Destination{}, err
	}
	stored, err := s.deps.Store.CreateDestination(ctx, d)
	if errors.Is(err, store.ErrExists) {
		return control.Destination{}, fmt.Errorf("destination %q of tenant %q: %w", id, tenant, control.ErrExists)
	}
	if err != nil {
		return control.Destination{}, fmt.Errorf("create destination: %w", err)
	}
	s.propagate(ctx, stored)
	v, err := s.view(stored)
	v.Secret = generated
	return v, err
}

// needsSecret reports whether a channel's tenant destinations sign with a secret that Herald
// generates when none is given: the webhook channel's.
func needsSecret(c *Channels, name string) bool {
	spec, _ := c.spec(name)
	f, ok := spec.Field("secret")
	return ok && f.Tenant && f.Required && name == "webhook"
}

// Disabled lists every tenant's disabled destinations, ordered by tenant then id, as the
// admin status shows them.
func (s *Service) Disabled(ctx context.Context) ([]control.Destination, error) {
	if s.deps.Keyring == nil {
		return []control.Destination{}, nil
	}
	all, err := s.deps.Store.ListDestinations(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	out := []control.Destination{}
	for _, d := range all {
		if d.Enabled {
			continue
		}
		v, err := s.view(d)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get implements control.Destinations.
func (s *Service) Get(ctx context.Context, tenant, id string) (control.Destination, error) {
	d, err := s.load(ctx, tenant, id)
	if err != nil {
		return control.Destination{}, err
	}
	return s.view(d)
}

// List implements control.Destinations. The cursor is the last id of the previous page.
func (s *Service) List(ctx context.Context, tenant string, page control.Page) ([]control.Destination, string, error) {
	if err := s.ready(tenant); err != nil {
		return nil, "", err
	}
	after := ""
	if page.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(page.Cursor)
		if err != nil {
			return nil, "", fieldErr("cursor", "is not a cursor this API gave")
		}
		after = string(b)
	}
	limit := page.Limit
	if limit <= 0 {
		limit = 50
	}
	all, err := s.deps.Store.ListDestinations(ctx, tenant)
	if err != nil {
		return nil, "", fmt.Errorf("list destinations: %w", err)
	}
	out := []control.Destination{}
	next := ""
	for _, d := range all {
		if d.ID <= after {
			continue
		}
		if len(out) == limit {
			next = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1].ID))
			break
		}
		v, err := s.view(d)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// Update implements control.Destinations. A change of channel starts from an empty
// configuration: the old channel's keys mean nothing to the new one.
func (s *Service) Update(ctx context.Context, tenant, id string, patch control.DestinationPatch) (control.Destination, error) {
	d, rec, sc, err := s.open(ctx, tenant, id)
	if err != nil {
		return control.Destination{}, err
	}
	cur, err := decodeObject(sc.Config)
	if err != nil {
		return control.Destination{}, fmt.Errorf("destination %s/%s: stored config is not an object", tenant, id)
	}
	if patch.Channel != nil && *patch.Channel != d.Channel {
		if _, ok := s.deps.Channels.spec(*patch.Channel); !ok {
			return control.Destination{}, fieldErr("channel", "%q is not a channel Herald knows (%s)", *patch.Channel, strings.Join(s.deps.Channels.Operator.Names(), ", "))
		}
		d.Channel = *patch.Channel
		cur = map[string]json.RawMessage{}
		sc.PreviousSecret, sc.PreviousUntil, rec.OverlapUntil = "", time.Time{}, nil
	}
	if len(patch.Config) > 0 {
		pm, err := decodeObject(patch.Config)
		if err != nil {
			return control.Destination{}, err
		}
		spec, _ := s.deps.Channels.spec(d.Channel)
		for k, v := range pm {
			switch {
			case string(v) == "null":
				delete(cur, k)
			case isMaskedForm(spec, k, cur[k], v):
				// The masked value the API showed: keep the stored one.
			default:
				if k == "secret" && string(cur[k]) != string(v) {
					// A secret set by hand replaces the old one at once.
					sc.PreviousSecret, sc.PreviousUntil, rec.OverlapUntil = "", time.Time{}, nil
				}
				cur[k] = v
			}
		}
	}
	var generated string
	if needsSecret(s.deps.Channels, d.Channel) && cur["secret"] == nil {
		// A destination that became a webhook gets a secret as a new one does.
		if generated, err = sdk.NewWebhookSecret(); err != nil {
			return control.Destination{}, err
		}
		cur["secret"] = mustJSON(generated)
	}
	if err := s.deps.Channels.checkConfig(d.Channel, cur); err != nil {
		return control.Destination{}, err
	}
	if patch.EventTypes != nil {
		if err := checkEventTypes(*patch.EventTypes); err != nil {
			return control.Destination{}, err
		}
		d.EventTypes = *patch.EventTypes
	}
	if patch.Enabled != nil {
		d.Enabled = *patch.Enabled
		rec.DisabledReason = ""
		if !d.Enabled {
			rec.DisabledReason = DisabledManual
		}
	}
	sc.Config = mustJSON(cur)
	return s.save(ctx, d, rec, sc, generated)
}

// Delete implements control.Destinations.
func (s *Service) Delete(ctx context.Context, tenant, id string) error {
	if err := s.ready(tenant); err != nil {
		return err
	}
	if err := s.deps.Store.DeleteDestination(ctx, tenant, id); err != nil {
		return s.storeErr(tenant, id, err)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := s.deps.Bucket.Delete(pctx, destKey(tenant, id)); err != nil {
		s.log.Error("deleted destination not yet propagated; the next reconciliation will", "tenant_id", tenant, "destination", id, "err", err)
	}
	_ = s.deps.Bucket.Delete(pctx, healthKey(tenant, id))
	return nil
}

// SetEnabled implements control.Destinations.
func (s *Service) SetEnabled(ctx context.Context, tenant, id string, enabled bool) (control.Destination, error) {
	return s.Update(ctx, tenant, id, control.DestinationPatch{Enabled: &enabled})
}

// RotateSecret implements control.Destinations.
func (s *Service) RotateSecret(ctx context.Context, tenant, id string, overlap time.Duration) (control.Destination, error) {
	d, rec, sc, err := s.open(ctx, tenant, id)
	if err != nil {
		return control.Destination{}, err
	}
	if !needsSecret(s.deps.Channels, d.Channel) {
		return control.Destination{}, fieldErr("channel", "a %s destination has no signing secret to rotate", d.Channel)
	}
	if overlap <= 0 {
		overlap = DefaultOverlap
	}
	cur, err := decodeObject(sc.Config)
	if err != nil {
		return control.Destination{}, fmt.Errorf("destination %s/%s: stored config is not an object", tenant, id)
	}
	var old string
	_ = json.Unmarshal(cur["secret"], &old)
	secret, err := sdk.NewWebhookSecret()
	if err != nil {
		return control.Destination{}, err
	}
	until := s.now().UTC().Add(overlap).Truncate(time.Second)
	// Only the secret in use keeps signing: one rotated out earlier stops now.
	sc.PreviousSecret, sc.PreviousUntil, rec.OverlapUntil = "", time.Time{}, nil
	if f := strings.Fields(old); len(f) > 0 {
		sc.PreviousSecret, sc.PreviousUntil, rec.OverlapUntil = f[0], until, &until
	}
	cur["secret"], _ = json.Marshal(secret)
	sc.Config = mustJSON(cur)
	return s.save(ctx, d, rec, sc, secret)
}

func (s *Service) sealRecord(tenant, id string, rec record, sc sealedConfig) ([]byte, error) {
	token, err := seal(s.deps.Keyring, tenant, id, sc)
	if err != nil {
		return nil, err
	}
	rec.V, rec.Sealed = recordVersion, token
	return rec.encode(), nil
}

func (s *Service) save(ctx context.Context, d store.TenantDestination, rec record, sc sealedConfig, secret string) (control.Destination, error) {
	var err error
	if d.Config, err = s.sealRecord(d.Tenant, d.ID, rec, sc); err != nil {
		return control.Destination{}, err
	}
	stored, err := s.deps.Store.UpdateDestination(ctx, d)
	if err != nil {
		return control.Destination{}, s.storeErr(d.Tenant, d.ID, err)
	}
	s.propagate(ctx, stored)
	v, err := s.view(stored)
	v.Secret = secret
	return v, err
}

// propagate writes a stored destination to the bucket. A failure is logged, not returned:
// the database has the change, and reconciliation carries it to the bucket.
func (s *Service) propagate(ctx context.Context, d store.TenantDestination) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	rev, err := putEntry(pctx, s.deps.Bucket, d)
	if err != nil {
		s.log.Error("destination change not yet propagated; the next reconciliation will", "tenant_id", d.Tenant, "destination", d.ID, "err", err)
		return
	}
	s.settle(pctx, rev)
}

func putEntry(ctx context.Context, b Bucket, d store.TenantDestination) (uint64, error) {
	en, err := entryOf(d)
	if err != nil {
		return 0, err
	}
	return b.Put(ctx, destKey(d.Tenant, d.ID), mustJSON(en))
}

// settle waits, briefly, until this process's table has applied revision rev.
func (s *Service) settle(ctx context.Context, rev uint64) {
	if s.deps.Local == nil || rev == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.deps.Local.WaitRevision(wctx, rev); err != nil {
		s.log.Warn("destination change not yet seen by this process's table", "revision", rev, "err", err)
	}
}

func (s *Service) load(ctx context.Context, tenant, id string) (store.TenantDestination, error) {
	if err := s.ready(tenant); err != nil {
		return store.TenantDestination{}, err
	}
	d, err := s.deps.Store.Destination(ctx, tenant, id)
	if err != nil {
		return d, s.storeErr(tenant, id, err)
	}
	return d, nil
}

func (s *Service) open(ctx context.Context, tenant, id string) (store.TenantDestination, record, sealedConfig, error) {
	d, err := s.load(ctx, tenant, id)
	if err != nil {
		return d, record{}, sealedConfig{}, err
	}
	rec, err := decodeRecord(d)
	if err != nil {
		return d, rec, sealedConfig{}, err
	}
	sc, err := unseal(s.deps.Keyring, tenant, id, rec.Sealed)
	return d, rec, sc, err
}

func (s *Service) storeErr(tenant, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("destination %q of tenant %q: %w", id, tenant, control.ErrNotFound)
	}
	return fmt.Errorf("destination %s/%s: %w", tenant, id, err)
}

// view is a destination as the API shows it, secrets masked.
func (s *Service) view(d store.TenantDestination) (control.Destination, error) {
	rec, err := decodeRecord(d)
	if err != nil {
		return control.Destination{}, err
	}
	sc, err := unseal(s.deps.Keyring, d.Tenant, d.ID, rec.Sealed)
	if err != nil {
		return control.Destination{}, err
	}
	m, err := decodeObject(sc.Config)
	if err != nil {
		return control.Destination{}, fmt.Errorf("destination %s/%s: stored config is not an object", d.Tenant, d.ID)
	}
	spec, _ := s.deps.Channels.spec(d.Channel)
	v := control.Destination{
		Tenant: d.Tenant, ID: d.ID, Channel: d.Channel, Config: mustJSON(masked(spec, m)),
		EventTypes: d.EventTypes, Enabled: d.Enabled, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if v.EventTypes == nil {
		v.EventTypes = []string{}
	}
	if !d.Enabled {
		v.DisabledReason = rec.DisabledReason
		if v.DisabledReason == "" {
			v.DisabledReason = DisabledManual
		}
	}
	if rec.OverlapUntil != nil && s.now().Before(*rec.OverlapUntil) {
		t := *rec.OverlapUntil
		v.SecretOverlapUntil = &t
	}
	return v, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of raw JSON and plain structs: cannot fail
	}
	return b
}
