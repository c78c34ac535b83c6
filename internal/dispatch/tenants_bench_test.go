package dispatch

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/sdk"
)

// noTenantRoutes is a tenant table that knows no tenant: one lock-free lookup per event, as
// the real table costs an operator-only fleet.
type noTenantRoutes struct{ m sync.Map }

func (n *noTenantRoutes) Route(tenant, _ string) []channel.Destination {
	if v, ok := n.m.Load(tenant); ok {
		return v.([]channel.Destination)
	}
	return nil
}

// BenchmarkRouteEvent routes an event to the operator's ten destinations: without tenant
// destinations, with a tenant table that does not know the event's tenant, and with two
// destinations of its tenant.
func BenchmarkRouteEvent(b *testing.B) {
	dests := make([]channel.Destination, 10)
	for i := range dests {
		dests[i] = channel.Destination{ID: "d" + strconv.Itoa(i), Channel: "webhook"}
	}
	ev, err := sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 12.5, Currency: "EUR", PaymentID: "pay_1"})
	if err != nil {
		b.Fatal(err)
	}
	own := &noTenantRoutes{}
	own.m.Store("acme", []channel.Destination{{ID: "acme/a", Channel: "webhook", Tenant: "acme"}, {ID: "acme/b", Channel: "slack", Tenant: "acme"}})
	for _, bc := range []struct {
		name    string
		tenants TenantRoutes
		want    int
	}{
		{"operator-only", nil, 10},
		{"unknown-tenant", &noTenantRoutes{}, 10},
		{"tenant-destinations", own, 12},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := New(Config{}, Deps{Router: NewRouter(dests, nil), Tenants: bc.tenants, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			b.ReportAllocs()
			for b.Loop() {
				if len(d.route(ev)) != bc.want {
					b.Fatal("not routed to every destination")
				}
			}
		})
	}
}
