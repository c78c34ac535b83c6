package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/sdk"
)

// Test implements control.Destinations: it sends a herald.test event of the tenant to the
// destination now, directly through its channel (the SSRF-guarded sender where the tenant
// chooses the host), whether or not the destination is enabled, and reports the outcome.
// Nothing is queued or recorded: it is a probe, not a delivery.
func (s *Service) Test(ctx context.Context, tenant, id string) (control.TestOutcome, error) {
	d, _, sc, err := s.open(ctx, tenant, id)
	if err != nil {
		return control.TestOutcome{}, err
	}
	raw := sc.Config
	if sc.PreviousSecret != "" && s.now().Before(sc.PreviousUntil) {
		if both, err := withSecrets(raw, sc.PreviousSecret); err == nil {
			raw = both
		}
	}
	cfg, err := s.deps.Channels.decode(d.Channel, raw)
	if err != nil {
		return control.TestOutcome{}, configError(err)
	}
	ch, ok := s.deps.Channels.Sender(d.Channel)
	if !ok {
		return control.TestOutcome{}, fieldErr("channel", "%q is not a channel Herald knows", d.Channel)
	}
	ev, err := sdk.New(obs.TestEventType, tenant, map[string]any{
		"message":     "A test of your Herald destination.",
		"destination": id,
	}, sdk.WithSource("herald"), sdk.WithSeverity(sdk.SeverityInfo))
	if err != nil {
		return control.TestOutcome{}, fmt.Errorf("build test event: %w", err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return control.TestOutcome{}, fmt.Errorf("encode test event: %w", err)
	}
	ref := RefOf(tenant, id)
	n := channel.Notification{
		DeliveryID:  broker.DeliveryID(ev.ID, ref),
		Attempt:     1,
		Event:       ev,
		Raw:         body,
		Destination: channel.Destination{ID: ref, Channel: d.Channel, Tenant: tenant, Config: cfg},
	}
	sctx, cancel := context.WithTimeout(ctx, s.deps.SendTimeout)
	defer cancel()
	start := time.Now()
	out := sendGuarded(sctx, ch, n)
	res := control.TestOutcome{
		DeliveryID: n.DeliveryID, EventID: ev.ID, Channel: d.Channel, Destination: ref,
		DurationMS: time.Since(start).Milliseconds(),
	}
	res.Settle(out)
	return res, nil
}
