package delivery

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/broker"
)

// Metrics are a channel worker's metrics, the names the README promises operators. Labels are
// bounded: channel and status come from fixed sets; event_type from the producers' types.
type Metrics struct {
	delivered  *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	retries    *prometheus.CounterVec
	retryDepth *prometheus.GaugeVec
	queueDepth *prometheus.GaugeVec
	inFlight   *prometheus.GaugeVec

	circuitOpened *prometheus.CounterVec
	circuitState  *prometheus.GaugeVec
	held          *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	// consume counts the channel consumers' stalls (see broker.ConsumeWith).
	consume *broker.ConsumeMetrics
}

// NewMetrics registers the worker's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_delivered_total",
			Help: "Delivery attempts by channel, event type and resulting status: delivered, retrying, failed (permanent error), dead (attempts ran out).",
		}, []string{"channel", "event_type", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "notification_delivery_duration_seconds",
			Help:    "Time one send to the provider took, whatever its outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"channel"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notification_retries_total",
			Help: "Retries scheduled through NakWithDelay.",
		}, []string{"channel"}),
		retryDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "notification_retry_queue_depth",
			Help: "Deliveries handed out and not yet acknowledged on the channel's consumer: in flight, or waiting for a scheduled retry. Sampled from the consumer; every worker of a channel reports the same figure.",
		}, []string{"channel"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "notification_queue_depth",
			Help: "Deliveries waiting on the channel's consumer that no worker has taken yet.",
		}, []string{"channel"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "notification_sends_in_flight",
			Help: "Sends this process is running now.",
		}, []string{"channel"}),
		circuitOpened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_circuit_opened_total",
			Help: "Times a destination's circuit breaker opened (or reopened after a failed probe).",
		}, []string{"channel"}),
		circuitState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "notifications_circuit_state",
			Help: "Circuits that are not closed, by channel and destination: 1 open (holding deliveries), 2 half-open (one probe out). A closed circuit has no series, so the series are as many as the failing destinations.",
		}, []string{"channel", "destination"}),
		held: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_held_total",
			Help: "Deliveries handed back to JetStream for later without spending an attempt, by reason: circuit_open, rate_limited, unknown_destination, attempts_unavailable, publish_failed, destination_busy.",
		}, []string{"channel", "reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_rate_limited_total",
			Help: "Sends a provider refused for its rate limit (429), none of which uses up an attempt: sent again in place after a wait of up to a minute, or else held.",
		}, []string{"channel"}),
	}
	m.consume = broker.NewConsumeMetrics(reg)
	reg.MustRegister(m.delivered, m.duration, m.retries, m.retryDepth, m.queueDepth, m.inFlight, m.circuitOpened, m.circuitState, m.held, m.rateLimited)
	return m
}
