// Package discord delivers notifications to Discord channels through webhooks, as one rich
// embed per event (https://discord.com/developers/docs/resources/webhook#execute-webhook).
//
// A destination is a webhook URL, https://discord.com/api/webhooks/<id>/<token>; the token is
// a secret and never appears in a reason, an error or a log line. Each send renders the event
// with the "discord" templates of package render and POSTs, to the URL with ?wait=true, a
// JSON body of:
//
//	username          "Herald"
//	allowed_mentions  {"parse": []}: event data can never ping @everyone, a role or a user
//	embeds            one embed: title, description (the summary), colour by severity
//	                  (info blue, warning amber, critical red), inline fields, footer, and
//	                  the event's time as an RFC 3339 timestamp
//
// Rendered text arrives untruncated; this package makes it fit Discord's embed limits
// (https://discord.com/developers/docs/resources/message#embed-object-embed-limits), counting
// characters as Unicode code points: each part is cut to its own limit with an ellipsis,
// never leaving a lone markdown escape at the cut; empty field names and values get a
// placeholder; more than 25 fields become 24 and a count of the rest; and if the whole still
// exceeds 6000 characters the longest parts are shortened first, the description before the
// fields and the last fields before the first. No rendered message yields a request Discord
// refuses; a fuzz test holds it to that.
//
// Answers are classified by channel.Classify, refined for Discord: its JSON error code and
// message go into the reason; a 429 is retried after its retry_after; and any answer with
// X-RateLimit-Remaining: 0 (and every 429) sets Outcome.Pause, so that the worker holds the
// webhook's other sends until the bucket refills. The channel is a channel.Pacer (one key per
// webhook id, about 5 sends per 2 seconds) and a channel.Previewer.
//
// The sub-package discordtest is a loopback fake of Discord that enforces the same contract,
// for tests here and end to end.
package discord
