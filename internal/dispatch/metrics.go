package dispatch

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the dispatcher's counters. Labels are bounded: result and reason come from
// fixed sets, never from event content.
type Metrics struct {
	events   *prometheus.CounterVec
	invalid  *prometheus.CounterVec
	fanout   prometheus.Counter
	duration prometheus.Histogram
}

// NewMetrics registers the dispatcher's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_events_total",
			Help: "Events the dispatcher handled, by result: dispatched, duplicate (already dispatched within the idempotency window), unrouted, invalid.",
		}, []string{"result"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_invalid_events_total",
			Help: "Events rejected as malformed and dead-lettered, by the field at fault (json, specversion, id, source, type, size, subject, ...).",
		}, []string{"reason"}),
		fanout: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifications_fanout_total",
			Help: "Deliveries the dispatcher published to DELIVERIES.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notification_dispatch_duration_seconds",
			Help:    "Time from an event's arrival at the dispatcher to its ack, fan-out included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	reg.MustRegister(m.events, m.invalid, m.fanout, m.duration)
	return m
}
