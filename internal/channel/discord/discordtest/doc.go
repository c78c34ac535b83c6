// Package discordtest provides a loopback stand-in for Discord's Execute Webhook endpoint, for
// the discord channel's own tests and for end-to-end tests of the worker and the fleet.
//
// A Server follows the documented contract of
// https://discord.com/developers/docs/resources/webhook#execute-webhook: webhooks are
// addressed as /api/webhooks/{id}/{token} (or /api/v<N>/webhooks/...), the body must be JSON
// within the message and embed limits, each webhook has a rate-limit bucket reported in
// X-RateLimit-* headers, and a refusal is answered as Discord answers it (a JSON error with
// Discord's code, and for 50035 an errors object naming the offending fields). It records the
// messages it accepted and the requests it refused, so that a test can assert that no request
// was one a real Discord would have refused.
//
// ValidatePayload and CheckRequest expose the same rules without a server, for fuzz tests and
// for channeltest's Harness.Check.
package discordtest
