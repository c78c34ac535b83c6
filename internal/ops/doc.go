// Package ops holds the operators' engines behind the admin API: delivery history over the
// ledger, dead letters and their redrive, replays of the EVENTS stream, the fleet's status and
// test sends. It implements the interfaces of package control; package api serves them over
// HTTP, and internal/app wires them into every dispatcher replica.
//
// What each engine promises:
//
//   - History pages the ledger newest first with an opaque keyset cursor on (created_at,
//     delivery_id), so a walk through the pages neither skips nor repeats a delivery while new
//     ones arrive. Event type patterns use the syntax of NOTIFICATIONS_ROUTES; the part SQL
//     can express (an exact type, a prefix) is filtered by the database, the rest in Go.
//   - The dead list is the ledger's failed and dead deliveries that have not been redriven or
//     discarded since they died, within the DEAD stream's max age. Redrive publishes each
//     dead letter again from DEAD under its delivery id (so its webhook-id), with a fresh
//     budget of attempts numbered after the first life's (delivery.HeaderAttemptBase), then
//     removes it from DEAD and marks it pending in the ledger. It answers the number selected
//     at once and moves the letters in the background at a bounded rate, so that a redrive of
//     thousands neither blocks the API nor buries live deliveries behind it.
//   - A replay reads [since, until) of EVENTS with an ordered consumer and re-dispatches each
//     event through the dispatcher's own validation and routing, bypassing only the
//     idempotency record; its deliveries' ids carry the replay id. Job state lives in the
//     key-value bucket <prefix>_replays, so any replica answers for any job.
//   - Status reads the channels' consumers, one ledger query, and the circuit and pause
//     states the workers publish to <prefix>_circuits.
//   - Stats, for the dashboard's charts, counts deliveries by the step in which their status
//     last changed, per channel and status, with one ledger query on a covering index, and
//     fills in the steps without any.
//   - Preview renders what a delivery's channel sends for its event with the current
//     templates and a made-up destination of the channel (as publisher-sdk preview does),
//     reading the event from EVENTS by its tenant's and type's subject, from just before its
//     first fan-out.
//   - OperatorDestinations shows the operator's destinations from configuration, every
//     secret masked.
package ops
