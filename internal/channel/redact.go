package channel

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldhq/herald/sdk"
)

// Mask is what stands in place of a redacted secret.
const Mask = "***"

// minSecretLen is the shortest string Redact masks. Shorter strings carry no entropy worth
// hiding, and masking them would mangle ordinary words in a reason ("v1", "api").
const minSecretLen = 4

// minURLPartLen is the shortest URL path segment or query value that Destination.Secrets
// reports: tokens are long, and short segments ("v2", "123") are routing, not credentials.
const minURLPartLen = 6

// RedactURL returns u with everything that may be a credential masked: the password of the
// user info, the query string, and every path segment after the first two (Discord and Slack
// put tokens there). Only scheme, user name, host and the leading path remain readable.
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return Mask
	}
	var b strings.Builder
	b.WriteString(p.Scheme)
	b.WriteString("://")
	if p.User != nil {
		b.WriteString(p.User.Username())
		if _, ok := p.User.Password(); ok {
			b.WriteString(":" + Mask)
		}
		b.WriteByte('@')
	}
	b.WriteString(p.Host)
	for i, s := range strings.Split(strings.Trim(p.EscapedPath(), "/"), "/") {
		if s == "" {
			continue
		}
		if i >= 2 {
			b.WriteString("/" + Mask)
			break
		}
		b.WriteString("/" + s)
	}
	if p.RawQuery != "" {
		b.WriteString("?" + Mask)
	}
	return b.String()
}

// urlInText finds absolute URLs inside free text, such as a response body quoted in a reason.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// Redact returns s with every URL in it masked as RedactURL does and every occurrence of the
// given secrets replaced by Mask. Longer secrets are masked first, so that a secret which
// contains another is masked whole. Secrets shorter than four bytes are ignored.
func Redact(s string, secrets ...string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "://") {
		s = urlInText.ReplaceAllStringFunc(s, RedactURL)
	}
	if len(secrets) == 0 {
		return s
	}
	if len(secrets) > 1 {
		secrets = slices.Clone(secrets)
		slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	}
	for _, sec := range secrets {
		if len(sec) >= minSecretLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// Secrets lists every string of the destination that must never appear in a reason, an error
// or a log line, for use with Redact: the secret (whole, each rotation part, and each part
// without its whsec_ prefix), the extra header values (they often carry Authorization
// tokens), and the parts of the URL that RedactURL masks (password, query string and values,
// path segments after the first two), both escaped and unescaped.
func (d Destination) Secrets() []string {
	var out []string
	add := func(s string, min int) {
		if len(s) >= min && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(d.Secret, minSecretLen)
	for _, f := range strings.Fields(d.Secret) {
		add(f, minSecretLen)
		add(strings.TrimPrefix(f, sdk.WebhookSecretPrefix), minSecretLen)
	}
	for _, v := range d.Headers {
		add(v, minSecretLen)
		// "Bearer <token>", "Basic <credentials>": the credential alone too.
		if fs := strings.Fields(v); len(fs) > 1 {
			add(fs[len(fs)-1], minSecretLen)
		}
	}
	p, err := url.Parse(d.URL)
	if err != nil {
		// An unparsable URL is masked whole by RedactURL; mask it whole here as well.
		add(d.URL, minSecretLen)
		return out
	}
	if p.User != nil {
		if pw, ok := p.User.Password(); ok {
			add(pw, minSecretLen)
			add(url.QueryEscape(pw), minSecretLen)
		}
	}
	if p.RawQuery != "" {
		add(p.RawQuery, minSecretLen)
		for _, vs := range p.Query() {
			for _, v := range vs {
				add(v, minURLPartLen)
				add(url.QueryEscape(v), minURLPartLen)
			}
		}
	}
	for i, seg := range strings.Split(strings.Trim(p.EscapedPath(), "/"), "/") {
		if i < 2 {
			continue
		}
		add(seg, minURLPartLen)
		if un, err := url.PathUnescape(seg); err == nil {
			add(un, minURLPartLen)
		}
	}
	return out
}

// Redacted returns o with its reason passed through Redact with the given secrets. Channels
// call it with their destination's Secrets before returning an outcome.
func (o Outcome) Redacted(secrets ...string) Outcome {
	o.Reason = Redact(o.Reason, secrets...)
	return o
}
