// Package channel defines what a delivery channel is: a Channel sends one Notification to one
// Destination and answers with an Outcome that the delivery loop maps onto a JetStream verb
// (Delivered: Ack; Retry: NakWithDelay; Permanent: dead letter and Term).
//
// Each provider lives in its own sub-package (webhook/, later discord/, slack/, email/) with
// its constructor, its Validate and its Send side by side. What they share lives here:
//
//   - Classify, the one HTTP classifier: 2xx delivered; 408, 429 and 5xx retried (honouring
//     Retry-After); network errors, timeouts and cancellation retried; redirects and every
//     other 4xx permanent. Reasons never carry the request URL.
//   - NewHTTPClient, the tuned client every HTTP channel uses; it never follows redirects.
//   - Redact, RedactURL and Destination.Secrets, which keep tokens and secrets out of every reason,
//     error and log line.
//   - Registry, the explicit name-to-channel table; the one line per channel that fills it
//     lives in package all.
//   - UTF16Len, UTF16Prefix, CutUTF16, TrimEnd and Clean, which fit rendered text to the
//     limits of providers that count in UTF-16 units.
//
// The sub-package channeltest holds the conformance suite that every channel runs.
package channel
