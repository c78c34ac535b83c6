// Package slack delivers notifications to Slack incoming webhooks
// (https://api.slack.com/messaging/webhooks) as Block Kit messages
// (https://api.slack.com/reference/block-kit/blocks).
//
// A notification is rendered by package render for "slack" and laid out as:
//
//	header   the severity's emoji and the title (plain_text, at most 150 characters);
//	section  the summary (mrkdwn, at most 3000) and up to ten fields as "*Name*\nValue"
//	         (at most 2000 each); further fields go to further sections, and beyond 50 fields
//	         the rest are folded into one;
//	context  the event's time as a <!date^…> that each reader sees in their own time zone,
//	         and the footer;
//
// with the rendered plain text as the top-level text, which notifications and screen
// readers show. Every text is cut to its limit by runes, ending with "…", never inside an
// entity (&amp; &lt; &gt;) or a <…> sequence, and never leaving inline formatting or a code
// block open; whatever the event holds, the body is one that Slack accepts (FuzzPayload and
// the property tests check it against slacktest's validator).
//
// Slack's answer is classified by channel.ClassifyResponse, refined by the plain-text error
// code in the body: codes such as no_service, channel_not_found or invalid_payload are
// permanent, rollup_error and 5xx are retried, and a 429 is retried after its Retry-After,
// which also pauses every send to the webhook (Outcome.Pause). Sends are paced to about one
// per second per webhook (Pace), as Slack asks.
//
// The sub-package slacktest is a fake Slack for tests, enforcing the same contract.
package slack
