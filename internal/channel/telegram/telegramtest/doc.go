// Package telegramtest provides a loopback fake of the Telegram Bot API's sendMessage for
// tests of anything that posts to Telegram through Herald: the telegram channel, the channel
// worker, the whole fleet.
//
// The Server follows the documented contract (https://core.telegram.org/bots/api): requests
// go to /bot<token>/<method> (https://core.telegram.org/bots/api#making-requests), and the
// token must be a registered bot's (NewBot); sendMessage takes a JSON object whose chat_id
// names a registered chat (NewChat) and whose text, parsed in the HTML style
// (https://core.telegram.org/bots/api#html-style) by the fake's own parser (ParseHTML: only
// the documented tags, properly nested, with the documented attributes and entities), is 1
// to 4096 characters long, counted in UTF-16 code units after parsing
// (https://core.telegram.org/bots/api#sendmessage); each chat is rate limited
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this),
// answering 429 with parameters.retry_after; errors are answered as the Bot API answers them,
// {"ok":false,"error_code":…,"description":…,"parameters":…}
// (https://core.telegram.org/bots/api#responseparameters). A blocked bot, a revoked token and
// a group upgraded to a supergroup (migrate_to_chat_id) can be simulated.
//
// Accepted messages are answered {"ok":true,"result":<Message>} and recorded (Messages), with
// their parsed text and entities; refused requests are recorded with their reasons
// (Rejected), so that a test can assert there were none. Where the documentation says a
// character "must" be escaped, the fake refuses it unescaped, even where the real service may
// be lenient; those descriptions, like the fake's own limits on what it emulates, start with
// "telegramtest:" or say so.
//
// CheckRequest, ValidatePayload and ParseHTML are the same checks on their own, for tests
// that serve requests themselves (the channel conformance suite) or check a payload without
// sending it.
package telegramtest
