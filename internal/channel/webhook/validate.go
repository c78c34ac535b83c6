package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxExtraHeaders bounds a destination's extra headers, which ride on every request.
	maxExtraHeaders = 32
	// maxHeaderValueLen bounds one extra header value. Servers commonly refuse request
	// headers beyond 8 KiB in total.
	// https://nginx.org/en/docs/http/ngx_http_core_module.html#large_client_header_buffers
	maxHeaderValueLen = 4096
)

var errMethod = errors.New("webhook: method must be POST or PUT")

// reservedHeaders are set by the channel or by the HTTP client; a destination may not
// replace them. Every header starting with "webhook-" is reserved too, so that no extra
// header can pose as part of the Standard Webhooks signature scheme.
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#webhook-headers-sending-metadata-to-consumers
var reservedHeaders = map[string]bool{
	"content-type":      true,
	"content-length":    true,
	"content-encoding":  true,
	"transfer-encoding": true,
	"host":              true,
	"connection":        true,
	"keep-alive":        true,
	"proxy-connection":  true,
	"te":                true,
	"trailer":           true,
	"upgrade":           true,
}

// Validate checks that d can receive webhooks: an absolute http or https URL, one or more
// valid whsec_ secrets, POST or PUT (or no method, meaning POST), extra headers with valid
// names and values that do not replace the Content-Type, framing or webhook-* headers, and an
// ID without '.', since it becomes part of every webhook-id. The error wraps
// channel.ErrInvalidDestination and never contains the secret or the URL's token.
func (c *Channel) Validate(d channel.Destination) error {
	if err := validate(d); err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	return nil
}

func validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("webhook: destination is for channel %q", d.Channel)
	}
	if strings.Contains(d.ID, ".") {
		return fmt.Errorf("webhook: destination id %q contains '.', which the webhook-id may not", d.ID)
	}
	cfg, err := configOf(d)
	if err != nil {
		return err
	}
	return cfg.Validate()
}

// checkURL accepts absolute http and https URLs. HTTPS is not enforced: the spec leaves it
// advisable, and operators' own endpoints may sit on a private network.
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#enforcing-https
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("webhook: url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("webhook: url does not parse") // err quotes the URL
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("webhook: url %s: scheme must be http or https", channel.RedactURL(raw))
	}
	if u.Host == "" {
		return errors.New("webhook: url has no host")
	}
	return nil
}

// checkDeliveryID refuses ids the spec forbids in the signed content: an id with '.' could
// shift the boundary between id, timestamp and body.
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
func checkDeliveryID(id string) error {
	switch {
	case id == "":
		return errors.New("webhook: notification has no delivery id")
	case strings.Contains(id, "."):
		return fmt.Errorf("webhook: delivery id %q contains '.', which a webhook-id may not", id)
	case !validHeaderValue(id):
		// No HTTP client would send it; a retry would fail the same way.
		return fmt.Errorf("webhook: delivery id %q contains a control character, which no webhook-id header can carry", id)
	}
	return nil
}

// checkHeaders validates extra headers. Errors name the header, never its value.
func checkHeaders(h map[string]string) error {
	if len(h) > maxExtraHeaders {
		return fmt.Errorf("webhook: %d extra headers, at most %d allowed", len(h), maxExtraHeaders)
	}
	for name, value := range h {
		if !validHeaderName(name) {
			return fmt.Errorf("webhook: header name %q is not a valid HTTP token", name)
		}
		lower := strings.ToLower(name)
		if reservedHeaders[lower] || strings.HasPrefix(lower, "webhook-") {
			return fmt.Errorf("webhook: header %q is set by Herald and may not be overridden", name)
		}
		if len(value) > maxHeaderValueLen {
			return fmt.Errorf("webhook: header %q: value longer than %d bytes", name, maxHeaderValueLen)
		}
		if !validHeaderValue(value) {
			return fmt.Errorf("webhook: header %q: value contains control characters", name)
		}
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s holds no control characters other than horizontal tab.
// https://www.rfc-editor.org/rfc/rfc9110#section-5.5
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
