package tenants

import (
	"context"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/delivery"
)

// Destinations resolves both kinds of destination ids for a worker: the operator's from its
// configuration, a tenant's (<tenant>/<id>) from the table. It implements
// delivery.Destinations.
type Destinations struct {
	Operator delivery.StaticDestinations
	Table    *Table
}

// Destination implements delivery.Destinations. Operator ids never hold a '/', so the
// operator's lookup costs what it did before tenant destinations.
func (d Destinations) Destination(id string) (channel.Destination, bool) {
	if !strings.Contains(id, "/") {
		return d.Operator.Destination(id)
	}
	if d.Table == nil {
		return channel.Destination{}, false
	}
	return d.Table.Destination(id)
}

// Sender is a worker's channel when tenant destinations are on: the operator's destinations
// go to the operator's sender as before; a tenant's go to the tenant sender of the channel
// (the SSRF-guarded one where the tenant chooses the host, see Channels.Sender), a deleted
// or disabled one's deliveries end at once, a refusal of the SSRF guard is a permanent
// failure naming the address class, and every outcome is noted for automatic disabling.
// It unwraps to the operator's sender, so the worker finds its pacer and raw-sending mode.
type Sender struct {
	operator channel.Channel
	tenant   channel.Channel
	health   *Health
}

// NewSender builds the sender of one channel. tenant may be nil if the channel has no
// tenant sender (it then fails tenant deliveries); health may be nil.
func NewSender(operator, tenant channel.Channel, health *Health) *Sender {
	return &Sender{operator: operator, tenant: tenant, health: health}
}

// Name implements channel.Channel.
func (s *Sender) Name() string { return s.operator.Name() }

// Unwrap returns the operator's sender (see channel.As).
func (s *Sender) Unwrap() channel.Channel { return s.operator }

// Validate implements channel.Channel.
func (s *Sender) Validate(d channel.Destination) error {
	if d.Tenant != "" && s.tenant != nil {
		return s.tenant.Validate(d)
	}
	return s.operator.Validate(d)
}

// Send implements channel.Channel.
func (s *Sender) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	d := n.Destination
	if d.Tenant == "" {
		return s.operator.Send(ctx, n)
	}
	if g, ok := d.Config.(gone); ok {
		if g.retry {
			return channel.RetryLater(0, 0, g.reason)
		}
		return channel.Fail(0, g.reason)
	}
	if s.tenant == nil {
		return channel.Fail(0, "tenant destinations are off in this worker")
	}
	if d.Channel != s.operator.Name() {
		// Its channel changed after the fan-out: this channel cannot send to it.
		return channel.Fail(0, "destination moved to channel "+d.Channel)
	}
	out := sendGuarded(ctx, s.tenant, n)
	if s.health != nil && ctx.Err() == nil {
		s.health.Observe(ctx, d, out)
	}
	return out
}

// sendGuarded sends n and turns a refusal of the SSRF guard into a permanent failure: the
// address will not become allowed by waiting, and the channels would classify a refused
// dial as a network error to retry.
func sendGuarded(ctx context.Context, ch channel.Channel, n channel.Notification) channel.Outcome {
	ctx, blocked := all.NoteBlocked(ctx)
	out := ch.Send(ctx, n)
	if b := blocked(); b != nil && out.Kind != channel.Delivered {
		return channel.Fail(0, "SSRF guard: "+b.Error())
	}
	return out
}
