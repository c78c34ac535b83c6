package tenants

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the tenant destinations' metrics. Labels name channels only, never tenants or
// destination ids: a fleet has a handful of channels and may have many thousands of tenants.
type Metrics struct {
	// Disabled counts the destinations disabled automatically after failing for
	// NOTIFICATIONS_DESTINATION_DISABLE_AFTER (notifications_destinations_disabled_total).
	Disabled *prometheus.CounterVec
}

// NewMetrics registers the tenant destinations' metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_destinations_disabled_total",
			Help: "Tenant destinations disabled automatically after failing for NOTIFICATIONS_DESTINATION_DISABLE_AFTER, by channel.",
		}, []string{"channel"}),
	}
	reg.MustRegister(m.Disabled)
	return m
}
