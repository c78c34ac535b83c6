package dispatch

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/broker"
)

// Metrics are the dispatcher's counters. Labels are bounded: result and reason come from
// fixed sets, event_type from obs.EventTypes, and field from the seed payloads' JSON names,
// never from event content as such.
type Metrics struct {
	events   *prometheus.CounterVec
	invalid  *prometheus.CounterVec
	mismatch *prometheus.CounterVec
	fanout   prometheus.Counter
	duration prometheus.Histogram
	consume  *broker.ConsumeMetrics
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
			Help: "Events rejected as malformed and dead-lettered, by the field at fault (json, specversion, id, source, type, size, utf8, depth, subject, ...).",
		}, []string{"reason"}),
		mismatch: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_data_mismatch_total",
			Help: "Fields of seed-type data that could not be interpreted (such as time_remaining \"soon\") or break the type's rules (a required field missing, a negative amount), by event type and field (data for the whole payload). The events are dispatched all the same: webhooks get them as published, other channels render them generically when a field cannot be interpreted.",
		}, []string{"event_type", "field"}),
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
	reg.MustRegister(m.events, m.invalid, m.mismatch, m.fanout, m.duration)
	m.consume = broker.NewConsumeMetrics(reg)
	return m
}
