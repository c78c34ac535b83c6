package dispatch

import (
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/sdk"
)

// TenantRoutes routes events to tenants' own destinations (package tenants implements it
// over the destinations bucket).
type TenantRoutes interface {
	// Route returns the enabled destinations of tenant subscribed to eventType, each with
	// the id <tenant>/<destination id>; none for an event without a tenant. It is called
	// once per event and must be cheap: a tenant with no destination costs one lookup.
	Route(tenant, eventType string) []channel.Destination
}

// route returns an event's destinations: the operator's rules' and, after them, those of
// the event's own tenant. An event never reaches another tenant's destination, since the
// tenant routes are looked up by the event's tenant, and a delivery's subject,
// <prefix>.deliver.<channel>.<tenant>, carries that tenant too.
func (d *Dispatcher) route(ev *sdk.Event) []channel.Destination {
	dests := d.deps.Router.Route(ev.Type)
	if d.deps.Tenants == nil {
		return dests
	}
	own := d.deps.Tenants.Route(ev.Tenant(), ev.Type)
	if len(own) == 0 {
		return dests
	}
	// A new slice: the router's and the table's are cached and shared.
	out := make([]channel.Destination, 0, len(dests)+len(own))
	return append(append(out, dests...), own...)
}
