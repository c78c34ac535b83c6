package telegram

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxErrorBody is how much of an error response is read for its description.
	maxErrorBody = 4 << 10
	// maxDrain bounds the rest of an error body read so that the connection can be reused.
	maxDrain = 64 << 10
	// maxQuote is how much of Telegram's description a reason quotes.
	maxQuote = 200
)

// response is the Bot API's answer: {"ok":false,"error_code":400,"description":"Bad Request:
// chat not found","parameters":{…}} on failure.
// https://core.telegram.org/bots/api#making-requests
type response struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	// Parameters say how a failed request can succeed.
	// https://core.telegram.org/bots/api#responseparameters
	Parameters struct {
		// MigrateToChatID: the group became a supergroup with this id.
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
		// RetryAfter: seconds to wait when flood control refused the request.
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// hints add what the operator should do to the terse descriptions of the statuses that
// concern the bot itself.
var hints = map[int]string{
	http.StatusUnauthorized: "the bot token is wrong or was revoked",
	http.StatusForbidden:    "the bot may not post to this chat (blocked, removed or not an administrator of the channel)",
	http.StatusNotFound:     "the bot token or the API URL is wrong",
}

// classify turns the Bot API's answer into an outcome: channel.ClassifyResponse's status
// handling (2xx delivered; 408, 429 and 5xx retried; 400, 401, 403, 404 and other statuses
// permanent), with a reason that quotes Telegram's description. A 429 is retried after its
// parameters.retry_after (or Retry-After), which also pauses every send to the chat; a 400
// whose parameters carry migrate_to_chat_id (the group became a supergroup) is permanent
// and names the new chat id. Reasons quote no secret: the body is masked with the
// destination's secrets before it is cut.
func classify(resp *http.Response, secrets []string) channel.Outcome {
	if resp.StatusCode < 400 {
		return channel.ClassifyResponse(resp, secrets...)
	}
	// Read the body, then hand the same bytes to the shared classifier for its outcome.
	buf := make([]byte, maxErrorBody)
	n, _ := io.ReadFull(resp.Body, buf)
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf[:n]))
	o := channel.ClassifyResponse(resp, secrets...)

	var r response
	if json.Unmarshal(buf[:n], &r) != nil || r.OK || (r.Description == "" && r.ErrorCode == 0) {
		if resp.StatusCode == http.StatusTooManyRequests {
			o.Pause = o.RetryAfter
		}
		return o
	}
	status := "HTTP " + strconv.Itoa(resp.StatusCode) + ": "
	// Mask before cutting: a cut could split a secret and hide it from Redact.
	desc := channel.OneLine(channel.Redact(channel.OneLine(r.Description, maxErrorBody), secrets...), maxQuote)
	o.Reason = status + desc
	if h := hints[resp.StatusCode]; h != "" {
		o.Reason += " (" + h + ")"
	}
	switch {
	case r.Parameters.MigrateToChatID != 0:
		o.Kind, o.RetryAfter = channel.Permanent, 0
		o.Reason = status + "the group was upgraded to a supergroup: set the destination's chat_id to " +
			strconv.FormatInt(r.Parameters.MigrateToChatID, 10) + " (" + desc + ")"
	case resp.StatusCode == http.StatusTooManyRequests:
		if wait := time.Duration(r.Parameters.RetryAfter) * time.Second; wait > o.RetryAfter {
			o.RetryAfter = min(wait, channel.MaxRetryAfter)
		}
		o.Pause = o.RetryAfter
	}
	return o
}
