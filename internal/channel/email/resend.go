package email

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxResendBody is how much of a Resend response is read: its answers are small JSON
	// objects; anything longer is cut.
	maxResendBody = 4 << 10
	// maxMessageQuote is how much of Resend's error message a reason quotes.
	maxMessageQuote = 300
)

// Resend's error names that decide an outcome beyond the status code.
// https://resend.com/docs/api-reference/errors
const (
	errConcurrentIdempotent = "concurrent_idempotent_requests"
	errInvalidIdempotent    = "invalid_idempotent_request"
)

// resendEmail is the body of POST /emails.
// https://resend.com/docs/api-reference/emails/send-email
type resendEmail struct {
	From    string            `json:"from"`
	To      []string          `json:"to"`
	Subject string            `json:"subject"`
	HTML    string            `json:"html,omitempty"`
	Text    string            `json:"text,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Tags    []resendTag       `json:"tags,omitempty"`
}

// resendTag is one custom tag: ASCII letters, digits, '_' and '-', up to 256 characters each.
type resendTag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// resendError is Resend's error body.
// https://resend.com/docs/api-reference/errors
type resendError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Name       string `json:"name"`
}

// resendPayload encodes the request body for ct: compact JSON with HTML left unescaped (the
// default escaping of <, > and & would only grow the body), fields in a fixed order.
func resendPayload(t *target, ct *content) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(ct.html) + len(ct.text) + 512)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(resendEmail{
		From:    t.from,
		To:      t.to,
		Subject: ct.subject,
		HTML:    ct.html,
		Text:    ct.text,
		Headers: map[string]string{HeaderDeliveryID: ct.deliveryID},
		Tags: []resendTag{
			{Name: "event_type", Value: tagValue(ct.eventType)},
			{Name: "tenant", Value: tagValue(ct.tenant)},
		},
	})
	if err != nil {
		return nil, errors.New("email: encode resend request: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (c *Channel) sendResend(ctx context.Context, t *target, ct *content) channel.Outcome {
	body, err := resendPayload(t, ct)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		return channel.Fail(0, "email: cannot build request for "+channel.RedactURL(t.endpoint))
	}
	req.Header["Authorization"] = []string{"Bearer " + t.apiKey}
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{UserAgent}
	// Resend answers a repeat within 24 hours with the first answer and sends nothing.
	// https://resend.com/docs/dashboard/emails/idempotency-keys
	req.Header["Idempotency-Key"] = []string{idempotencyKey(ct.deliveryID)}

	resp, err := c.client.Do(req)
	if err != nil {
		return channel.Classify(nil, err)
	}
	return classifyResend(resp, t.apiKey)
}

// classifyResend turns Resend's answer into an outcome: channel.ClassifyResponse decides by
// status (and reads Retry-After); Resend's error body then names the reason, and 409s and
// 429s are refined by the error name and the rate-limit headers. It closes the body.
func classifyResend(resp *http.Response, secrets ...string) channel.Outcome {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResendBody))
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	o := channel.ClassifyResponse(resp, secrets...)

	if o.Kind == channel.Delivered || (resp.StatusCode >= 300 && resp.StatusCode < 400) {
		return o
	}
	var re resendError
	if json.Unmarshal(raw, &re) == nil && (re.Name != "" || re.Message != "") {
		o.Reason = "resend: HTTP " + strconv.Itoa(resp.StatusCode)
		if re.Name != "" {
			o.Reason += " " + quote(re.Name, 64, secrets)
		}
		if re.Message != "" {
			o.Reason += ": " + quote(re.Message, maxMessageQuote, secrets)
		}
	} else {
		o.Reason = "resend: " + o.Reason
	}
	if resp.StatusCode == http.StatusConflict {
		if re.Name == errConcurrentIdempotent {
			// The first attempt is still in flight at Resend; its answer is what we want.
			o.Kind = channel.Retry
		} else {
			o.Kind = channel.Permanent
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		// The bucket of the whole team is empty: hold every send with this key until it
		// refills. Only a 429 pauses: after a paced send, ratelimit-remaining: 0 is the
		// steady state, and pausing on it would halve the rate the pacer allows.
		// https://resend.com/docs/api-reference/introduction#rate-limit
		wait := max(o.RetryAfter, seconds(resp.Header.Get("Ratelimit-Reset")))
		o.RetryAfter = wait
		o.Pause = wait
	}
	return o
}

// seconds reads a non-negative number of seconds (ratelimit-reset), capped at
// channel.MaxRetryAfter; anything else is zero.
func seconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || f != f {
		return 0
	}
	if f >= channel.MaxRetryAfter.Seconds() {
		return channel.MaxRetryAfter
	}
	return time.Duration(f * float64(time.Second))
}

// quote returns s on one line, secrets masked, at most max bytes.
func quote(s string, max int, secrets []string) string {
	s = strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, ""), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	s = channel.Redact(s, secrets...)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}
