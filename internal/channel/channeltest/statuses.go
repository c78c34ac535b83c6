package channeltest

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

// StatusCase is one row of the status-code table every channel must honour.
type StatusCase struct {
	// Name names the subtest.
	Name string
	// Status is what the fake answers.
	Status int
	// RetryAfter, if set, returns the Retry-After header value the fake sends, given the
	// time of the request (so that an HTTP date can lie in the future).
	RetryAfter func(now time.Time) string
	// Want is the outcome's kind.
	Want channel.Kind
	// WantRetryAfter is the outcome's RetryAfter. An HTTP date has one-second resolution,
	// so the outcome may fall short of it by up to Slack.
	WantRetryAfter time.Duration
	// Slack is how far below WantRetryAfter the outcome may be.
	Slack time.Duration
}

// header returns a Retry-After function that always answers v.
func header(v string) func(time.Time) string { return func(time.Time) string { return v } }

// StatusCases is the one status-code table shared by every integration, following the
// status handling that Standard Webhooks suggests and RFC 9110's Retry-After:
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#delivery-success-and-failure
// https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
var StatusCases = []StatusCase{
	{Name: "200 OK", Status: http.StatusOK, Want: channel.Delivered},
	{Name: "201 Created", Status: http.StatusCreated, Want: channel.Delivered},
	{Name: "202 Accepted", Status: http.StatusAccepted, Want: channel.Delivered},
	{Name: "204 No Content", Status: http.StatusNoContent, Want: channel.Delivered},

	{Name: "400 Bad Request", Status: http.StatusBadRequest, Want: channel.Permanent},
	{Name: "401 Unauthorized", Status: http.StatusUnauthorized, Want: channel.Permanent},
	{Name: "403 Forbidden", Status: http.StatusForbidden, Want: channel.Permanent},
	{Name: "404 Not Found", Status: http.StatusNotFound, Want: channel.Permanent},
	{Name: "410 Gone", Status: http.StatusGone, Want: channel.Permanent},
	{Name: "413 Content Too Large", Status: http.StatusRequestEntityTooLarge, Want: channel.Permanent},
	{Name: "422 Unprocessable", Status: http.StatusUnprocessableEntity, Want: channel.Permanent},

	{Name: "408 Request Timeout", Status: http.StatusRequestTimeout, Want: channel.Retry},
	{Name: "429 Too Many Requests", Status: http.StatusTooManyRequests, Want: channel.Retry},
	{Name: "500 Internal Server Error", Status: http.StatusInternalServerError, Want: channel.Retry},
	{Name: "502 Bad Gateway", Status: http.StatusBadGateway, Want: channel.Retry},
	{Name: "503 Service Unavailable", Status: http.StatusServiceUnavailable, Want: channel.Retry},
	{Name: "504 Gateway Timeout", Status: http.StatusGatewayTimeout, Want: channel.Retry},

	{Name: "429 Retry-After seconds", Status: http.StatusTooManyRequests, RetryAfter: header("7"),
		Want: channel.Retry, WantRetryAfter: 7 * time.Second},
	{Name: "503 Retry-After seconds", Status: http.StatusServiceUnavailable, RetryAfter: header("120"),
		Want: channel.Retry, WantRetryAfter: 2 * time.Minute},
	{Name: "429 Retry-After HTTP date", Status: http.StatusTooManyRequests,
		RetryAfter: func(now time.Time) string { return now.Add(30 * time.Second).UTC().Format(http.TimeFormat) },
		Want:       channel.Retry, WantRetryAfter: 30 * time.Second, Slack: 2 * time.Second},
	{Name: "429 Retry-After in the past", Status: http.StatusTooManyRequests,
		RetryAfter: func(now time.Time) string { return now.Add(-time.Hour).UTC().Format(http.TimeFormat) },
		Want:       channel.Retry},
	{Name: "429 Retry-After garbage", Status: http.StatusTooManyRequests, RetryAfter: header("soon"), Want: channel.Retry},
	{Name: "429 Retry-After negative", Status: http.StatusTooManyRequests, RetryAfter: header("-5"), Want: channel.Retry},
	{Name: "400 Retry-After ignored", Status: http.StatusBadRequest, RetryAfter: header("7"), Want: channel.Permanent},
}
