// Package slacktest provides a loopback fake of Slack's incoming webhooks for tests of
// anything that posts to Slack through Herald: the slack channel, the channel worker, the
// whole fleet.
//
// The Server follows the documented contract of an incoming webhook
// (https://api.slack.com/messaging/webhooks): webhooks live at
// /services/T…/B…/<secret> (NewWebhook registers one); a request must be a POST of
// application/json whose body is a message that Block Kit accepts
// (https://api.slack.com/reference/block-kit/blocks), checked by ValidatePayload; each
// webhook is rate limited (https://api.slack.com/apis/rate-limits), answering 429 with
// Retry-After; and errors are answered as Slack answers them, with a status and a plain-text
// code (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
// Accepted messages are answered 200 "ok" and recorded (Messages); refused requests are
// recorded with their reasons (Rejected), so that a test can assert there were none.
//
// CheckRequest and ValidatePayload are the same checks on their own, for tests that serve
// requests themselves (the channel conformance suite) or check a payload without sending it.
package slacktest
