package teams

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxErrorBody is how much of an error response is read for its code and message.
	maxErrorBody = 4 << 10
	// maxDrain bounds the rest of an error body read so that the connection can be reused.
	maxDrain = 64 << 10
	// maxQuote is how much of the provider's message a reason quotes.
	maxQuote = 200
)

// apiError is the body with which a workflow trigger refuses a request, as Azure Logic Apps
// (which runs Power Automate's flows) answers: {"error":{"code","message"}}.
// https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-limits-and-config
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// classify turns the workflow's answer into an outcome: channel.ClassifyResponse's status
// handling (2xx delivered, 202 being the workflow's answer; 408, 429 and 5xx retried with
// Retry-After; 400, 401, 403, 404 and other statuses permanent), with a reason that quotes
// the error's code and message when the body is the Logic Apps error shape. A 429 also
// pauses every send to the workflow for its Retry-After. Reasons quote no secret: the body is
// masked with the destination's secrets before it is cut.
func classify(resp *http.Response, secrets []string) channel.Outcome {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return channel.ClassifyResponse(resp)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return channel.ClassifyResponse(resp, secrets...)
	}
	// Read the body, then hand the same bytes to the shared classifier for its outcome.
	buf := make([]byte, maxErrorBody)
	n, _ := io.ReadFull(resp.Body, buf)
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf[:n]))
	o := channel.ClassifyResponse(resp, secrets...)
	if resp.StatusCode == http.StatusTooManyRequests {
		o.Pause = o.RetryAfter
	}
	var e apiError
	if json.Unmarshal(buf[:n], &e) == nil && (e.Error.Code != "" || e.Error.Message != "") {
		text := e.Error.Code
		if e.Error.Message != "" {
			if text != "" {
				text += ": "
			}
			text += e.Error.Message
		}
		// Mask before cutting: a cut could split a secret and hide it from Redact.
		text = channel.OneLine(channel.Redact(channel.OneLine(text, maxErrorBody), secrets...), maxQuote)
		o.Reason = "HTTP " + strconv.Itoa(resp.StatusCode) + " " + text
	}
	return o
}
