// Package sms texts notifications through Twilio's Messages API
// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
// one POST {api_url}/2010-04-01/Accounts/{AccountSid}/Messages.json per recipient, with the
// form parameters To, From and Body and HTTP basic auth as the Account SID and its Auth Token.
//
// # Configuration
//
// The operator's Twilio account sends every SMS: NOTIFICATIONS_TWILIO_ACCOUNT_SID,
// NOTIFICATIONS_TWILIO_AUTH_TOKEN (a secret), NOTIFICATIONS_TWILIO_FROM (the sender number)
// and NOTIFICATIONS_TWILIO_API_URL (https://api.twilio.com unless a test points it at a fake).
// A destination adds its recipients, "to": 1 to 10 E.164 numbers (+ then 8 to 15 digits), the
// only field a tenant sets ({"to":["+14155550100"]}). Validation names the field at fault.
//
// # The text
//
// A notification is rendered by package render for "sms" (plain text; see the templates
// directory) and laid out as the title, after [CRITICAL] or [WARNING] for those severities,
// then the summary, one "Name: value" line per field the template keeps, and the footer
// ("Herald: billing, tenant acme"). Each part is cut to its own bound and the whole to
// Twilio's 1,600 characters, counted in UTF-16 code units so that no reading of "characters"
// can exceed it, and a cut ends in "..." rather than "…". The templates write only characters
// of the GSM-7 alphabet, so that a message whose event data is plain ASCII travels in
// 160-character segments rather than the 70 of UCS-2
// (https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding). Whatever the event
// holds, the body is one Twilio accepts (the property and fuzz tests check it against
// smstest).
//
// # Several recipients, and retries
//
// Twilio's Messages API has no idempotency key: a request sent twice is two texts. A send
// therefore goes to each recipient in turn and remembers, per delivery id, who Twilio
// accepted a message for; a retry or redrive of the same delivery texts only the others. A
// failure that concerns one number (21211 invalid, 21408 region not enabled, 21610
// unsubscribed, 21612 unreachable, 21614 not a mobile number) is permanent for that number and
// the send goes on with the others; any other failure stops the send, since the others would
// fail alike. The outcome is Delivered when everyone has the message, Retry when a retry can
// still help someone (429, 5xx, network), Permanent otherwise, its reason naming each number
// that did not get the message and saying how many did. The record lives in the process for 24
// hours: a retry picked up by another worker process texts everyone again, which the fleet's
// at-least-once delivery allows.
//
// # Errors and rate limits
//
// Twilio's answers are classified by channel.ClassifyResponse, refined by the code of its
// JSON error body {"code","message","more_info","status"}
// (https://www.twilio.com/docs/usage/twilios-response, https://www.twilio.com/docs/api/errors):
// 20429 and any 429 are retried after their Retry-After and pause the sender's pace key;
// 20003 (authentication), 21211, 21408, 21610, 21614, 21617 and the other message errors are
// permanent; 5xx are retried. Reasons quote Twilio's message. Sends are paced per account and
// sender number (one a second, bursts of five).
//
// The sub-package smstest is a fake Twilio for tests, enforcing the same contract.
package sms
