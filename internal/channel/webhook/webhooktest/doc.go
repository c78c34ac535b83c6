// Package webhooktest provides a loopback Standard Webhooks receiver for end-to-end tests of
// anything that sends webhooks through Herald: the webhook channel, the channel worker, the
// whole fleet.
//
// The Receiver follows the receiving side of the Standard Webhooks specification
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-signatures):
// it verifies every request's signature and timestamp with sdk.Verifier, answers 401 to a
// request that fails, and otherwise answers as the test programmed it (200 by default),
// recording every request so that the test can assert on deliveries, retries and
// deduplication by webhook-id.
package webhooktest
