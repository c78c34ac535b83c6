// Package redact masks credentials in text before it reaches a log line, an error, a metric or
// an API response. Herald's destinations carry tokens in their URLs (Discord and Slack
// webhooks), in query strings and in passwords of connection URLs.
//
// It is the one implementation: package channel's RedactURL and Redact, and package obs's
// logger, call it.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask is what stands in place of a secret.
const Mask = "***"

// MinSecretLen is the shortest secret Text masks. Shorter strings carry no entropy worth
// hiding, and masking them would mangle ordinary words in a message ("v1", "api").
const MinSecretLen = 4

// URL returns u with everything that may be a credential masked: the password of user info,
// the query string, and every path segment after the first two (Discord and Slack put their
// tokens there). Scheme, user name, host and the leading path stay readable; a string that
// does not parse as an absolute URL is masked whole.
func URL(u string) string {
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

// urlInText finds absolute URLs inside free text, such as a response body quoted in an error.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// Text returns s with every URL in it masked as URL does and every occurrence of the given
// secrets replaced by Mask. Longer secrets are masked first, so that a secret which contains
// another is masked whole. Secrets shorter than MinSecretLen are ignored.
//
// A caller that cuts text to length must mask it first: half a secret escapes Text.
func Text(s string, secrets ...string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "://") {
		s = urlInText.ReplaceAllStringFunc(s, URL)
	}
	if len(secrets) == 0 {
		return s
	}
	if len(secrets) > 1 {
		secrets = slices.Clone(secrets)
		slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	}
	for _, sec := range secrets {
		if len(sec) >= MinSecretLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}
