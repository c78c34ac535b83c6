package sms

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
	// maxErrorBody is how much of a refusal's body is read for Twilio's JSON error.
	maxErrorBody = 8 << 10
	// maxMessage bounds the part of a reason that quotes Twilio's message.
	maxMessage = 300
)

// apiError is the JSON body of Twilio's error answers.
// https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Error codes with which Twilio refuses a message for good, whatever the HTTP status: sending
// it again cannot help until the configuration or the recipient changes.
// https://www.twilio.com/docs/api/errors
var permanentCodes = map[int]string{
	20003: "the account SID or auth token is wrong",
	20404: "no such account or resource; check the account SID and the API URL",
	21211: "the To number is not a valid phone number",
	21212: "the From number is not a valid phone number",
	21266: "the To number is the sender's own",
	21408: "SMS to the To number's region is not enabled on the account",
	21602: "the message body is empty",
	21603: "the From number is missing",
	21604: "the To number is missing",
	21606: "the From number is not an SMS-capable number of the account",
	21610: "the recipient has unsubscribed (replied STOP)",
	21612: "the To number cannot be reached by SMS from the From number",
	21614: "the To number is not a mobile number",
	21617: "the message body is longer than 1,600 characters",
}

// recipientCodes are the permanent codes that concern one recipient alone: the channel goes
// on with the other recipients after one of these, and stops after any other failure, which
// would concern them all.
var recipientCodes = map[int]bool{21211: true, 21408: true, 21610: true, 21612: true, 21614: true}

// codeTooManyRequests is Twilio's 429: the account has too many requests in flight.
// https://www.twilio.com/docs/api/errors/20429
const codeTooManyRequests = 20429

// classify turns Twilio's answer to one message into an outcome and Twilio's error code (0
// when the body carried none). The shared classifier decides by status (2xx sent; 408, 429
// and 5xx retried with their Retry-After; redirects and other 4xx permanent); Twilio's code
// refines it: the codes of permanentCodes are permanent and 20429 is retried whatever the
// status. A 429 or a 20429 also pauses the destination's pace key for its Retry-After, or for
// pauseDefault if Twilio named no wait. The reason quotes Twilio's message, masked with the
// destination's secrets before it is cut.
func classify(resp *http.Response, secrets []string, pauseDefault time.Duration) (channel.Outcome, int) {
	code := resp.StatusCode
	if code < 400 {
		return channel.ClassifyResponse(resp, secrets...), 0
	}
	// Read the start of the body for Twilio's error, then hand the same bytes, and the rest,
	// to the shared classifier, which drains and closes.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	orig := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), orig), orig}
	o := channel.ClassifyResponse(resp, secrets...)

	var ae apiError
	if json.Unmarshal(body, &ae) != nil || (ae.Code == 0 && ae.Message == "") {
		ae = apiError{}
	} else {
		o.Reason = "HTTP " + strconv.Itoa(code) + ": " + describe(&ae, secrets)
	}
	switch {
	case ae.Code == codeTooManyRequests || code == http.StatusTooManyRequests:
		o.Kind, o.Pause = channel.Retry, o.RetryAfter
		if o.Pause == 0 {
			o.Pause = pauseDefault
		}
	case permanentCodes[ae.Code] != "":
		o.Kind, o.RetryAfter = channel.Permanent, 0
	}
	return o, ae.Code
}

// describe words a Twilio error: "Twilio error 21211: The 'To' number +1555 is not a valid
// phone number. (the To number is not a valid phone number)".
func describe(ae *apiError, secrets []string) string {
	msg := channel.OneLine(channel.Redact(ae.Message, secrets...), maxMessage)
	out := "Twilio error"
	if ae.Code != 0 {
		out += " " + strconv.Itoa(ae.Code)
	}
	if msg != "" {
		out += ": " + msg
	}
	if hint := permanentCodes[ae.Code]; hint != "" {
		out += " (" + hint + ")"
	}
	return out
}
