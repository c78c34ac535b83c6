package channel

import (
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/redact"
	"github.com/heraldhq/herald/sdk"
)

// Mask is what stands in place of a redacted secret.
const Mask = redact.Mask

// minSecretLen is the shortest secret Redact masks; Destination.Secrets lists nothing shorter.
const minSecretLen = redact.MinSecretLen

// minURLPartLen is the shortest URL path segment or query value that Destination.Secrets
// reports: tokens are long, and short segments ("v2", "123") are routing, not credentials.
const minURLPartLen = 6

// RedactURL masks whatever in URL u may be a credential. It is redact.URL, under the name the
// channels use; see there for what stays readable.
func RedactURL(u string) string { return redact.URL(u) }

// Redact masks every URL in s as RedactURL does and every occurrence of the given secrets
// (usually a destination's Secrets). It is redact.Text, under the name the channels use.
func Redact(s string, secrets ...string) string { return redact.Text(s, secrets...) }

// Secrets lists every string of the destination that must never appear in a reason, an error
// or a log line, for use with Redact: what its configuration's Secrets lists.
func (d Destination) Secrets() []string {
	if d.Config == nil {
		return nil
	}
	return d.Config.Secrets()
}

// SecretsOf derives the strings to mask from a configuration's secrets, extra headers and
// token-bearing URLs: each secret (whole, each space-separated rotation part, and each part
// without its whsec_ prefix), the header values (they often carry Authorization tokens), and
// the parts of each URL that RedactURL masks (password, query string and values, path
// segments after the first two), both escaped and unescaped. Channels' configurations build
// their Secrets with it.
func SecretsOf(secrets []string, headers map[string]string, urls ...string) []string {
	var out []string
	add := func(s string, min int) {
		if len(s) >= min && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, secret := range secrets {
		add(secret, minSecretLen)
		for _, f := range strings.Fields(secret) {
			add(f, minSecretLen)
			add(strings.TrimPrefix(f, sdk.WebhookSecretPrefix), minSecretLen)
		}
	}
	for _, v := range headers {
		add(v, minSecretLen)
		// "Bearer <token>", "Basic <credentials>": the credential alone too.
		if fs := strings.Fields(v); len(fs) > 1 {
			add(fs[len(fs)-1], minSecretLen)
		}
	}
	for _, u := range urls {
		urlSecrets(u, add)
	}
	return out
}

// urlSecrets adds the parts of u that RedactURL masks.
func urlSecrets(u string, add func(string, int)) {
	if u == "" {
		return
	}
	p, err := url.Parse(u)
	if err != nil {
		// An unparsable URL is masked whole by RedactURL; mask it whole here as well.
		add(u, minSecretLen)
		return
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
}

// Redacted returns o with its reason passed through Redact with the given secrets. Channels
// call it with their destination's Secrets before returning an outcome.
func (o Outcome) Redacted(secrets ...string) Outcome {
	o.Reason = Redact(o.Reason, secrets...)
	return o
}
