// Package smstest provides a loopback fake of Twilio's Messages API for tests of anything
// that sends SMS through Herald: the sms channel, the channel worker, the whole fleet.
//
// The Server follows the documented contract of creating a message
// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
// a POST to /2010-04-01/Accounts/{AccountSid}/Messages.json under its URL, authenticated with
// HTTP basic auth as the Account SID and its Auth Token (NewAccount registers one, with the
// sender number it owns); form-encoded To, From and Body; To and From E.164 numbers, From one
// of the account's; a Body of at most 1,600 characters. Every refusal is answered as Twilio
// answers it (https://www.twilio.com/docs/usage/twilios-response), with the HTTP status and
// the JSON body {"code","message","more_info","status"} of the documented error code
// (https://www.twilio.com/docs/api/errors). Each account is rate limited, answering 429 with
// error 20429. Refuse makes a number fail as an invalid, unsubscribed or unreachable one
// does; Inject and FailNext queue any other answer.
//
// Accepted messages are answered 201 with a queued Message resource and recorded
// (Messages), with the segments they take (Segments); refused requests are recorded with
// Twilio's error (Rejected), so that a test can assert there were none.
//
// CheckRequest is the same contract on its own, for tests that serve requests themselves
// (the channel conformance suite).
package smstest
