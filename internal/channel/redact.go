package channel

import (
	"net/url"
	"strings"
)

// RedactURL returns u with everything that may be a credential masked: user info, the query
// string, and every path segment after the first two (Discord and Slack put tokens there).
// Only scheme, host and the leading path remain readable.
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "***"
	}
	out := p.Scheme + "://" + p.Host
	segs := strings.Split(strings.Trim(p.EscapedPath(), "/"), "/")
	for i, s := range segs {
		if s == "" {
			continue
		}
		if i >= 2 {
			out += "/***"
			break
		}
		out += "/" + s
	}
	if p.RawQuery != "" {
		out += "?***"
	}
	return out
}
