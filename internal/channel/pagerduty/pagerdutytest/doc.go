// Package pagerdutytest provides a loopback fake of PagerDuty's Events API v2 for tests of
// anything that sends alerts through Herald: the pagerduty channel, the channel worker, the
// whole fleet.
//
// The Server follows the documented contract of sending an event
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/,
// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/): a POST of
// application/json to /v2/enqueue under its URL; a routing key of 32 alphanumeric characters
// that belongs to an integration (NewRoutingKey registers one); an event_action of trigger,
// acknowledge or resolve; a dedup_key of at most 255 characters, required to resolve; for a
// trigger, a payload with a summary of at most 1,024 characters, a source and a severity of
// critical, error, warning or info; at most 512 kB in all (ValidateEvent). Refusals are
// answered as PagerDuty answers them, 400 with {"status","message","errors"}; each routing key
// is rate limited, answering 429
// (https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic).
//
// Accepted events are answered 202 {"status":"success","message":"Event processed",
// "dedup_key"} and recorded (Events), and the server keeps the alerts they make as PagerDuty
// does (Alert, Alerts): a trigger opens an alert or adds to the open one with its dedup key,
// a resolve closes it, a resolve for a key with no open alert changes nothing. Refused
// requests are recorded with PagerDuty's answer (Rejected), so that a test can assert there
// were none. Inject and FailNext queue any other answer.
//
// CheckRequest and ValidateEvent are the same checks on their own, for tests that serve
// requests themselves (the channel conformance suite) or check an event without sending it.
package pagerdutytest
