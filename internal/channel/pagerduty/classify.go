package pagerduty

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxErrorBody is how much of a refusal's body is read for PagerDuty's JSON error.
	maxErrorBody = 8 << 10
	// maxMessage bounds the part of a reason that quotes PagerDuty's message and errors.
	maxMessage = 400
)

// apiError is the JSON body of the Events API's error answers.
// https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
type apiError struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
}

// classify turns PagerDuty's answer into an outcome, following the Events API's retry table
// (https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic)
// through the shared classifier: 202 (any 2xx) delivered; 400 (any other 4xx) permanent; 429
// and 5xx retried, with their Retry-After if PagerDuty sends one. A 429 also pauses every send
// to the routing key, for its Retry-After or, without one, for pauseDefault. The reason quotes
// PagerDuty's message and errors ("Event object is invalid: 'summary' is too long"), masked
// with the destination's secrets before it is cut.
func classify(resp *http.Response, secrets []string, pauseDefault time.Duration) channel.Outcome {
	code := resp.StatusCode
	if code < 400 {
		return channel.ClassifyResponse(resp, secrets...)
	}
	// Read the start of the body for PagerDuty's error, then hand the same bytes, and the
	// rest, to the shared classifier, which drains and closes.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	orig := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), orig), orig}
	o := channel.ClassifyResponse(resp, secrets...)

	var ae apiError
	if json.Unmarshal(body, &ae) == nil && (ae.Message != "" || len(ae.Errors) > 0) {
		o.Reason = "HTTP " + strconv.Itoa(code) + ": " + describe(&ae, secrets)
	}
	if code == http.StatusTooManyRequests {
		o.Pause = o.RetryAfter
		if o.Pause == 0 {
			o.Pause = pauseDefault
		}
	}
	return o
}

// describe words a PagerDuty error: "PagerDuty: Event object is invalid: 'summary' is too
// long (maiximum is 1024 characters)".
func describe(ae *apiError, secrets []string) string {
	text := ae.Message
	if text == "" {
		text = ae.Status
	}
	if len(ae.Errors) > 0 {
		text += ": " + strings.Join(ae.Errors, "; ")
	}
	return "PagerDuty: " + channel.OneLine(channel.Redact(text, secrets...), maxMessage)
}
