// Package webhook delivers events to HTTP endpoints as signed Standard Webhooks
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
//
// Each delivery is one request, POST by default or PUT if the destination asks for it, whose
// body is the CloudEvent exactly as it was published (JSON structured mode, so the body is
// sent with Content-Type application/cloudevents+json, as the CloudEvents HTTP binding
// prescribes). The request carries:
//
//	webhook-id:        the notification's DeliveryID, "<event id>:<destination id>", the same
//	                   on every attempt, so that receivers can deduplicate on it;
//	webhook-timestamp: the attempt's time in Unix seconds (a retry is signed afresh);
//	webhook-signature: "v1,<base64 HMAC-SHA256>" per destination secret (several during a
//	                   rotation), as sdk.Signer computes it;
//	User-Agent:        Herald/1;
//
// plus the destination's extra headers, which may not replace any of the above nor the
// framing headers. Receivers verify requests with sdk.Verifier or any Standard Webhooks
// library. The response is classified by channel.Classify: 2xx delivered, 408/429/5xx and
// network errors retried, redirects and other statuses permanent.
//
// The sub-package webhooktest is a loopback receiver for end-to-end tests.
package webhook
