package discord

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxErrorBody is how much of a refusal's body is read to find Discord's JSON error.
	maxErrorBody = 8 << 10
	// maxReasonRunes bounds an outcome's reason.
	maxReasonRunes = 300
	// maxProblems bounds how many field problems of a 50035 a reason lists.
	maxProblems = 3
)

// apiError is Discord's JSON error body; a 429 adds retry_after and global.
// https://discord.com/developers/docs/reference#error-messages
// https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit-rate-limit-response-structure
type apiError struct {
	Code       *int            `json:"code"`
	Message    string          `json:"message"`
	Errors     json.RawMessage `json:"errors"`
	RetryAfter *float64        `json:"retry_after"`
	Global     bool            `json:"global"`
}

// classify turns Discord's answer into an outcome. The shared classifier decides the kind
// (2xx delivered; 408, 429 and 5xx retried; 401, 403, 404 and other 4xx permanent) and reads
// Retry-After; on top of it:
//
//   - any response whose X-RateLimit-Remaining is 0 sets Pause to X-RateLimit-Reset-After:
//     the webhook's bucket is empty, so sends that share it should wait
//     (https://discord.com/developers/docs/topics/rate-limits#header-format);
//   - a 429 takes RetryAfter from the body's retry_after (seconds with decimals, more precise
//     than the header) and always pauses the bucket
//     (https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit);
//   - a JSON error body puts Discord's code and message in the reason, with the first field
//     problems of a 50035 Invalid Form Body
//     (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
//
// Secrets are masked before any text is cut.
func (c *Channel) classify(resp *http.Response, err error, secrets []string) channel.Outcome {
	if err != nil || resp == nil {
		return channel.Classify(resp, err, secrets...)
	}
	pause := bucketPause(resp.Header)
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		o := channel.ClassifyResponse(resp) // nothing quoted, so nothing to mask
		o.Pause = pause
		return o
	}

	// Read the start of the body for Discord's JSON error, then hand the same bytes, and the
	// rest, to the shared classifier, which drains and closes.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	orig := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), orig), orig}
	o := channel.ClassifyResponse(resp, secrets...)

	var ae apiError
	isJSON := json.Unmarshal(body, &ae) == nil && (ae.Message != "" || ae.Code != nil)
	if isJSON {
		o.Reason = "HTTP " + strconv.Itoa(code) + ": " + describe(&ae)
	}
	if code == http.StatusTooManyRequests {
		if isJSON && ae.RetryAfter != nil {
			if d := seconds(*ae.RetryAfter); d > 0 {
				o.RetryAfter = d
			}
		}
		// The bucket is empty: hold every send that shares it, for as long as Discord says,
		// or a whole pace window if it said nothing usable.
		o.Pause = max(pause, o.RetryAfter)
		if o.Pause == 0 {
			o.Pause = c.pace.Every * time.Duration(c.pace.Burst)
		}
		o.Reason = "HTTP 429: rate limited by Discord"
		if isJSON && ae.Global {
			o.Reason += " (global limit)"
		}
		if o.RetryAfter > 0 {
			o.Reason += "; retry after " + o.RetryAfter.String()
		}
	} else {
		o.Pause = pause
	}
	o.Reason = cut(channel.Redact(channel.OneLine(o.Reason, len(o.Reason)), secrets...), maxReasonRunes)
	return o
}

// describe words a Discord error: "Discord error 50035: Invalid Form Body
// (embeds.0.title: Must be 256 or fewer in length.)".
func describe(ae *apiError) string {
	var b strings.Builder
	b.WriteString("Discord error")
	if ae.Code != nil {
		b.WriteString(" " + strconv.Itoa(*ae.Code))
	}
	if ae.Message != "" {
		b.WriteString(": " + ae.Message)
	}
	if ae.Code != nil && *ae.Code == 10015 {
		b.WriteString(" (the webhook was deleted or its token is wrong; update the destination URL)")
	}
	if probs := problems(ae.Errors); len(probs) > 0 {
		if len(probs) > maxProblems {
			probs = append(probs[:maxProblems], "…")
		}
		b.WriteString(" (" + strings.Join(probs, "; ") + ")")
	}
	return b.String()
}

// problems flattens Discord's errors object, in which each path leads to
// {"_errors":[{"code","message"}]}, into "path: message" lines in path order.
// https://discord.com/developers/docs/reference#error-messages
func problems(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var tree any
	if json.Unmarshal(raw, &tree) != nil {
		return nil
	}
	var out []string
	var walk func(path string, node any, depth int)
	walk = func(path string, node any, depth int) {
		obj, ok := node.(map[string]any)
		if !ok || depth > 8 {
			return
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, comparePathKeys)
		for _, k := range keys {
			if k == "_errors" {
				list, _ := obj[k].([]any)
				for _, item := range list {
					if e, ok := item.(map[string]any); ok {
						msg, _ := e["message"].(string)
						if path == "" {
							out = append(out, msg)
						} else {
							out = append(out, path+": "+msg)
						}
					}
				}
				continue
			}
			next := k
			if path != "" {
				next = path + "." + k
			}
			walk(next, obj[k], depth+1)
		}
	}
	walk("", tree, 0)
	return out
}

// comparePathKeys orders numeric keys (array indices) numerically, the rest alphabetically.
func comparePathKeys(a, b string) int {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return na - nb
	}
	return strings.Compare(a, b)
}

// bucketPause returns X-RateLimit-Reset-After when X-RateLimit-Remaining is 0, else zero.
// https://discord.com/developers/docs/topics/rate-limits#header-format
func bucketPause(h http.Header) time.Duration {
	if strings.TrimSpace(h.Get("X-RateLimit-Remaining")) != "0" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-RateLimit-Reset-After")), 64)
	if err != nil {
		return 0
	}
	return seconds(f)
}

// seconds converts Discord's decimal seconds to a duration, rounded up to the millisecond,
// capped at channel.MaxRetryAfter; NaN, infinities and values not above zero give zero.
func seconds(f float64) time.Duration {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	if f >= channel.MaxRetryAfter.Seconds() {
		return channel.MaxRetryAfter
	}
	return time.Duration(math.Ceil(f*1000)) * time.Millisecond
}

// cut keeps at most n runes of s, marking a cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n-1 {
			return s[:pos] + ellipsis
		}
		i++
	}
	return s
}
