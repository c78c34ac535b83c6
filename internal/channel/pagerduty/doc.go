// Package pagerduty sends notifications to PagerDuty's Events API v2
// (https://developer.pagerduty.com/docs/events-api-v2/overview/) as alerts that open and
// resolve: one POST {api_url}/v2/enqueue of a JSON event per notification, authenticated by
// the routing key (an integration key) in the body.
//
// # Configuration
//
// A destination is a routing key, 32 letters and digits: NOTIFICATIONS_PAGERDUTY_ROUTING_KEY
// for the operator's, {"routing_key"} for a tenant's. NOTIFICATIONS_PAGERDUTY_API_URL
// (https://events.pagerduty.com unless a test points it at a fake) is the operator's.
//
// # Alerts: trigger, and resolve on recovery
//
// Each event maps to an alert named by a dedup key that depends only on the event (AlertOf),
// so every attempt of a delivery carries the same key, and events about the same thing share
// one alert: a node's reclaim warning and its degraded health open (or add to) the alert
// herald/<tenant>/node/<node_id>, which the node's next node.launched resolves; a tenant's
// payment.failed opens herald/<tenant>/payment, which its next payment.succeeded resolves;
// cost anomalies and rate-limit thresholds open one alert per tenant, resolved in PagerDuty;
// tenant.created and custom types open one alert per event. A resolve for an alert that is
// not open changes nothing in PagerDuty, so routing every event to PagerDuty is safe.
//
// A trigger is rendered by package render for "pagerduty" (plain text; see the templates
// directory): its title becomes payload.summary, the incident's title, cut to 1,024
// characters; the event's source, time, type and tenant become payload.source, timestamp,
// class and group, a node event's node_id its component; the severity maps onto PagerDuty's
// (info, warning, critical; PagerDuty's error is not used); custom_details carries the
// rendered fields by name, the rendered summary, and the event's identity under "herald". Every
// text is cut by runes to its bound (counted in UTF-16 code units, the strictest reading of
// "characters"), ending with "…", and the event stays under PagerDuty's 512 kB; whatever the
// event holds, PagerDuty accepts it (the property and fuzz tests check it against
// pagerdutytest).
//
// # Errors and rate limits
//
// PagerDuty's answers follow its retry table through channel.ClassifyResponse: 202 delivered,
// 400 permanent with PagerDuty's message and errors quoted ("Event object is invalid:
// 'summary' is too long"), 429 and 5xx retried, a 429 pausing the routing key for its
// Retry-After or, without one, for as long as the pace takes to refill a burst (5 s). Sends
// are paced per routing key at PagerDuty's 120 events a minute (one every 500 ms, bursts of
// ten).
//
// The sub-package pagerdutytest is a fake PagerDuty for tests, enforcing the same contract
// and tracking open alerts.
package pagerduty
