package channel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// maxReasonBody is how much of a failed response's body a reason quotes.
	maxReasonBody = 200
	// maxReasonRead is how much of a failed response's body is read to build a reason:
	// more than is quoted, so that secrets are masked whole before the quote is cut.
	maxReasonRead = 4 << 10
	// maxDrain bounds how much of a response body is read so that its connection can be
	// reused. A larger body is abandoned, which costs one connection and nothing more.
	maxDrain = 64 << 10
	// MaxRetryAfter caps the wait that Retry-After may ask for, so that an absurd value
	// cannot overflow a time.Duration; the delivery loop applies its own, lower cap.
	MaxRetryAfter = 24 * time.Hour
)

// Classify turns the result of one HTTP round trip into an Outcome, following the status
// code handling that Standard Webhooks suggests
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#delivery-success-and-failure):
//
//   - a 2xx response is Delivered;
//   - 408, 429 and 5xx are Retry, with RetryAfter taken from a Retry-After header given in
//     seconds or as an HTTP date;
//   - any error (network failure, timeout, cancelled or expired context) is Retry;
//   - 3xx (redirects are never followed) and every other status are Permanent.
//
// Classify drains (up to a bound) and closes resp.Body whatever the outcome, so that the
// connection goes back to the pool. Reasons quote at most 200 bytes of the response body on
// one line, and never the request URL. A receiver may echo anything, so the given secrets
// (a destination's Secrets) are masked in the body before it is cut to length: a secret cut
// in half would escape Redact.
func Classify(resp *http.Response, err error, secrets ...string) Outcome {
	if err != nil {
		if resp != nil {
			drainAndClose(resp.Body)
		}
		return ClassifyError(err)
	}
	if resp == nil {
		return RetryLater(0, 0, "no response")
	}
	return ClassifyResponse(resp, secrets...)
}

// ClassifyResponse classifies a response as Classify does, draining and closing its body and
// masking the given secrets in the reason.
func ClassifyResponse(resp *http.Response, secrets ...string) Outcome {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		drainAndClose(resp.Body)
		return Sent(code)
	}
	if code >= 300 && code < 400 {
		drainAndClose(resp.Body)
		reason := "HTTP " + strconv.Itoa(code) + ": redirect not followed; update the destination URL"
		if loc := resp.Header.Get("Location"); loc != "" {
			reason = "HTTP " + strconv.Itoa(code) + ": redirect to " + redactLocation(loc) + " not followed; update the destination URL"
		}
		return Fail(code, reason)
	}
	reason := statusReason(code, resp.Body, secrets)
	if Retryable(code) {
		return RetryLater(code, ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), reason)
	}
	return Fail(code, reason)
}

// Retryable reports whether an HTTP status is worth another attempt: 408 Request Timeout,
// 429 Too Many Requests and every 5xx.
func Retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || (code >= 500 && code < 600)
}

// ClassifyError classifies a failed round trip as Retry. The reason names the operation and
// the cause ("post: connection refused") without the URL that *url.Error carries.
func ClassifyError(err error) Outcome {
	return RetryLater(0, 0, ErrorReason(err))
}

// ErrorReason describes err for an outcome's reason: the HTTP operation, if any, and a short
// cause, with any URL removed. It is safe to log.
func ErrorReason(err error) string {
	if err == nil {
		return ""
	}
	op := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		op = strings.ToLower(ue.Op) + ": "
		err = ue.Err
	}
	var reason string
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(err, context.Canceled):
		reason = "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		reason = "timeout (deadline exceeded)"
	case isTimeout(err):
		reason = "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		reason = "connection reset by peer"
	case errors.Is(err, syscall.EPIPE):
		reason = "broken pipe"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		reason = "host unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		reason = "connection closed by server"
	case errors.As(err, &dnsErr):
		reason = "dns lookup of " + dnsErr.Name + ": " + dnsErr.Err
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certErr):
		reason = "tls certificate: " + OneLine(err.Error(), maxReasonBody)
	default:
		reason = OneLine(err.Error(), maxReasonBody)
	}
	if ue != nil && ue.URL != "" {
		reason = strings.ReplaceAll(reason, ue.URL, RedactURL(ue.URL))
	}
	return Redact(op + reason)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// ParseRetryAfter reads a Retry-After header value, either delay-seconds or an HTTP date
// (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after), relative to now. It returns zero
// for an empty, malformed or past value and caps the result at MaxRetryAfter.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, MaxRetryAfter)
}

// reasonBufs holds the buffers statusReason reads bodies into.
var reasonBufs = sync.Pool{New: func() any { return new([maxReasonRead]byte) }}

// statusReason is "HTTP <code>" followed by the first bytes of the body, secrets and URLs
// masked, on one line; it drains and closes the body.
func statusReason(code int, body io.ReadCloser, secrets []string) string {
	reason := "HTTP " + strconv.Itoa(code)
	if body == nil {
		return reason
	}
	bp := reasonBufs.Get().(*[maxReasonRead]byte)
	defer reasonBufs.Put(bp)
	buf := bp[:]
	n, _ := io.ReadFull(body, buf)
	drainAndClose(body)
	if n == 0 {
		return reason
	}
	// Mask before cutting: a cut could split a secret or a URL and hide it from Redact.
	text := Redact(OneLine(string(buf[:n]), maxReasonRead), secrets...)
	if snippet := OneLine(text, maxReasonBody); snippet != "" {
		reason += ": " + snippet
	}
	return reason
}

// OneLine collapses every run of white space and control characters in s to one space, drops
// invalid UTF-8 (such as a rune cut at the end of a quoted body) and keeps at most max bytes.
// Channels use it to keep a provider's message on the one line a reason must be.
func OneLine(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// redactLocation masks a redirect target; a relative Location has no host to keep, so only
// its first path segment survives.
func redactLocation(loc string) string {
	if strings.Contains(loc, "://") {
		return RedactURL(loc)
	}
	p, _, _ := strings.Cut(loc, "?")
	p = strings.TrimPrefix(p, "/")
	first, rest, _ := strings.Cut(p, "/")
	out := "/" + first
	if rest != "" {
		out += "/" + Mask
	}
	if strings.Contains(loc, "?") {
		out += "?" + Mask
	}
	return out
}

// drainAndClose reads what is left of a body, up to maxDrain, and closes it, so that the
// transport can reuse the connection.
func drainAndClose(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, maxDrain)
	_ = body.Close()
}
