// Package channeltest is the conformance suite that every channel runs, in the manner of
// alertmanager's shared notifier tests and watermill's pub/sub suite: one set of behaviours,
// checked the same way for webhook, Discord, Slack, email and whatever comes next.
//
// A channel's test describes itself with a Harness (how to build the channel and a
// destination against a base URL, which strings are secret, how the provider's fake checks
// requests and answers success) and calls Run. The suite serves the fake itself and drives
// it through the happy path, the shared status-code table (StatusCases), network errors,
// timeouts and cancellation, redirects, secret redaction in reasons and logs, and an
// oversize event.
//
// Beside the suite are the helpers the channels' own tests share: NewClient, Notify, Sample
// and SampleOf to set a test up; Golden and GoldenJSON to pin a rendered body in a file under
// testdata that -update rewrites; and HostileText, BigMessage and HostileEvent, generators of
// long and hostile messages and events (10 kB texts, 40 fields and more, emoji, right-to-left
// text, the markup of every channel) for property tests, with Runs to size them and FuzzEvent
// and Grow for fuzz targets. The machinery the providers' fakes
// share is in the sub-package fakeprovider.
package channeltest
