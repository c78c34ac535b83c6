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
// Beside the suite are the helpers the channels' own tests share:
//
//   - setting a test up: Build, NewClient, Notify, NotifyRaw, Sample and SampleOf;
//   - checks every channel makes: CheckValidate (a table of valid and invalid destinations),
//     CheckNoSecrets, CheckPreviewIsWhatSendPosts and SendPastLimit (against a provider's
//     fake);
//   - golden files under testdata that -update rewrites: Golden, GoldenJSON, GoldenPreviews
//     and CheckCompactJSON;
//   - property and fuzz tests: Hostile, HostileText, BigMessage and HostileEvent generate long
//     and hostile messages and events (10 kB texts, 40 fields and more, emoji, right-to-left
//     text, the markup of every channel), Runs sizes them, FuzzEvent and Grow turn a fuzz
//     target's arguments into an event or a long text.
//
// The machinery the providers' fakes share is in the sub-package fakeprovider.
package channeltest
