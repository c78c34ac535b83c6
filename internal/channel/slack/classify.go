package slack

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxErrorBody is how much of an error response is read for its code; Slack's codes are
	// short plain-text words.
	maxErrorBody = 4 << 10
	// maxDrain bounds the rest of an error body read so that the connection can be reused.
	maxDrain = 64 << 10
)

// permanentCodes are the plain-text error codes with which an incoming webhook refuses a
// message for good, each with what it means for the operator. Sending again cannot help:
// the destination or the payload must change.
// https://api.slack.com/messaging/webhooks#handling_errors
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
var permanentCodes = map[string]string{
	"invalid_payload":       "Slack could not parse the message",
	"invalid_blocks":        "Slack refused the message's blocks",
	"invalid_blocks_format": "Slack refused the message's blocks",
	"no_text":               "the message has no text",
	"missing_text_or_fallback_or_attachments": "the message has no text",
	"user_not_found":                    "the webhook's user does not exist",
	"channel_not_found":                 "the webhook's channel does not exist",
	"channel_is_archived":               "the webhook's channel is archived",
	"action_prohibited":                 "the workspace does not allow this webhook to post here",
	"posting_to_general_channel_denied": "only admins may post to the workspace's general channel",
	"too_many_attachments":              "the message has too many attachments",
	"no_service":                        "the webhook was removed, disabled or never existed; update the destination URL",
	"no_service_id":                     "the webhook URL is incomplete; update the destination URL",
	"no_team":                           "the webhook's workspace does not exist",
	"team_disabled":                     "the webhook's workspace is disabled",
	"invalid_token":                     "the webhook's token is invalid; update the destination URL",
	"no_active_hooks":                   "the webhook's app has no active webhooks; update the destination URL",
}

// transientCodes are codes worth another attempt, whatever their status.
var transientCodes = map[string]string{
	"rollup_error": "Slack failed unexpectedly",
	"rate_limited": "the webhook's rate limit is exhausted",
}

// classify turns Slack's answer into an outcome: channel.ClassifyResponse's status handling
// (2xx delivered, 408, 429 and 5xx retried with Retry-After, other statuses permanent),
// refined by the plain-text error code Slack puts in the body. A 429 also pauses every send
// to the webhook for its Retry-After (https://api.slack.com/apis/rate-limits). Reasons quote
// no secret: the body is masked with the destination's secrets.
func classify(resp *http.Response, secrets []string) channel.Outcome {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return channel.ClassifyResponse(resp)
	}
	// Read the code, then hand the same bytes to the shared classifier for its reason.
	buf := make([]byte, maxErrorBody)
	n, _ := io.ReadFull(resp.Body, buf)
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf[:n]))
	o := channel.ClassifyResponse(resp, secrets...)

	code := errorCode(buf[:n])
	status := "HTTP " + strconv.Itoa(resp.StatusCode) + " " + code + ": "
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		o.Pause = o.RetryAfter
		if code != "" {
			o.Reason = status + "the webhook's rate limit is exhausted"
		}
	case transientCodes[code] != "":
		o.Kind, o.Reason = channel.Retry, status+transientCodes[code]
	case permanentCodes[code] != "":
		o.Kind, o.Reason, o.RetryAfter = channel.Permanent, status+permanentCodes[code], 0
	}
	return o
}

// errorCode returns body as a Slack error code (a short snake_case word), or "".
func errorCode(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || len(body) > 64 {
		return ""
	}
	for _, c := range body {
		if !('a' <= c && c <= 'z') && c != '_' && !('0' <= c && c <= '9') {
			return ""
		}
	}
	return string(body)
}
