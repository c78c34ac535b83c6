// Package redact masks credentials in text before it reaches a log line, an error, a metric or
// an API response. Herald's destinations carry tokens in their URLs (Discord and Slack
// webhooks), in query strings and in passwords of connection URLs.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask is what stands in place of a secret.
const Mask = "***"

// URL returns u with everything that may be a credential masked: the password of user info,
// the query string, and every path segment after the first two (Discord and Slack put their
// tokens there). Scheme, host and the leading path stay readable.
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
		b.WriteString("@")
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

var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// Text masks every URL found in s (as URL does) and every occurrence of the given secrets.
func Text(s string, secrets ...string) string {
	if strings.Contains(s, "://") {
		s = urlInText.ReplaceAllStringFunc(s, URL)
	}
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}
