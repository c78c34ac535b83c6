// Package teams delivers notifications to Microsoft Teams through Workflows webhooks: Power
// Automate flows started by "When a Teams webhook request is received"
// (https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook),
// which post the Adaptive Card they are given to a channel or a chat.
//
// A notification is rendered by package render for "teams", with event data escaped for the
// cards' markdown (Markdown), and posted as a message with one Adaptive Card attachment
// (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using):
//
//	TextBlock  the title, bold, coloured by severity (good, warning, attention);
//	TextBlock  the summary, wrapped;
//	FactSet    the fields as facts (beyond 50, the rest are folded into one);
//	TextBlock  small and subtle: the event's time through {{DATE()}} and {{TIME()}}, which
//	           each reader sees in their own time zone, and the footer;
//
// on a full-width card of schema 1.4. The retired Office 365 connector MessageCard is never
// sent (workflows drop it silently after answering 202), and connector URLs are refused by
// Validate. The whole body stays within Teams' 28 KB message size: texts are cut by runes,
// ending with "…", never between a backslash and the character it escapes, inside a link, or
// leaving bold or italic open, and the caps are lowered until the card fits; whatever the
// event holds, the card is one Teams posts (the property and fuzz tests check it against
// teamstest's validator).
//
// The workflow's answer is classified by channel.ClassifyResponse, quoting the Logic Apps
// error body {"error":{"code","message"}}: 202 is delivered; 400, 401 (a wrong signature),
// 403 and 404 (a deleted or disabled flow) are permanent; 408 and 5xx are retried; a 429 is
// retried after its Retry-After, which also pauses every send to the workflow
// (Outcome.Pause). Sends are paced to one a second after a burst of four per workflow
// (Pace). A workflow URL's sig parameter is its credential: it is masked in every reason.
//
// The sub-package teamstest is a fake Teams for tests, enforcing the same contract.
package teams
