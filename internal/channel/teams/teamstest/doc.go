// Package teamstest provides a loopback fake of a Microsoft Teams Workflows webhook (a Power
// Automate flow started by "When a Teams webhook request is received") for tests of anything
// that posts to Teams through Herald: the teams channel, the channel worker, the whole fleet.
//
// The Server follows the documented contract
// (https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook,
// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using):
// workflows live at /workflows/<id>/triggers/manual/paths/invoke and need their api-version
// and their shared-access signature (sig) in the query (NewWorkflow registers one); a request
// must be a POST of application/json whose body is a message with Adaptive Card attachments
// (https://adaptivecards.io/explorer/), checked by ValidatePayload, within Teams' 28 KB
// message size (https://learn.microsoft.com/en-us/microsoftteams/limits-specifications-teams);
// each workflow is rate limited, answering 429 with Retry-After; and refusals carry the Logic
// Apps error body {"error":{"code","message"}}. Accepted messages are answered 202 with no
// body and recorded (Messages); refused requests are recorded with their reasons (Rejected),
// so that a test can assert there were none.
//
// Where the real service fails silently (it answers 202 and the flow's post to the channel
// fails afterwards: an invalid card, a retired MessageCard, an oversize message), the fake
// refuses the request with a 4xx instead, so that a test notices. Those codes are the fake's
// own and say so.
//
// CheckRequest and ValidatePayload are the same checks on their own, for tests that serve
// requests themselves (the channel conformance suite) or check a payload without sending it.
package teamstest
