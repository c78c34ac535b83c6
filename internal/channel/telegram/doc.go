// Package telegram delivers notifications to Telegram chats through the Bot API's
// sendMessage (https://core.telegram.org/bots/api#sendmessage): a POST of JSON to
// {api_url}/bot<token>/sendMessage, where the API URL defaults to https://api.telegram.org.
//
// A notification is rendered by package render for "telegram", with event data escaped for
// the HTML parse mode (HTML: & < > " become entities, so that data opens no tag and no link),
// and laid out as one message (https://core.telegram.org/bots/api#html-style):
//
//	🔴 <b>Title</b>              the severity's emoji and the title
//	Summary                      the template's HTML
//	<b>Name:</b> value           one line per field; beyond 40, the rest are folded into one
//	<i>time UTC · footer</i>
//
// with parse_mode HTML and link previews off (a preview of a URL in event data would put a
// stranger's page into the alert). Every part is sanitized: only the documented tags stay,
// nested as Telegram allows, with their documented attributes; anything else is escaped, and
// tags left open are closed. The text is cut to 4096 characters as Telegram counts them,
// after entity parsing and in UTF-16 code units, by visible text, never inside a tag, an
// entity or a surrogate pair, closing the tags it leaves open and keeping the footer;
// whatever the event holds, Telegram parses the message (the property and fuzz tests check it
// against telegramtest's independent parser).
//
// The bot token is a credential that travels in the request path, so the request URL is
// never logged or quoted: reasons are masked with the token here already, before Build masks
// them again.
//
// Telegram's answer {"ok":false,"error_code","description","parameters"} is classified by
// channel.ClassifyResponse, quoting the description: 400 (chat not found, bad markup), 401 (a
// wrong or revoked token), 403 (the bot blocked or removed) and 404 are permanent; a 400 with
// parameters.migrate_to_chat_id (a group upgraded to a supergroup) is permanent with a reason
// naming the new chat id; 5xx are retried; a 429 is retried after parameters.retry_after,
// which also pauses every send to the chat (Outcome.Pause). Sends are paced per chat as the
// Bot FAQ asks: one a second to a private chat, twenty a minute to a group or a channel
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
//
// The sub-package telegramtest is a fake Bot API for tests, enforcing the same contract.
package telegram
