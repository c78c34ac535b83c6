package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/redact"
)

// This file turns the errors of the layers below config (channels, pgx, net/url) into one
// sentence after the variable's name: the variable already says which channel and field is
// wrong, so the layers' own prefixes ("webhook: secret: new webhook signer: ...") only
// stutter, and a URL is shown with its secret parts masked rather than not at all.

// constructorWrap matches the "new <thing>: " prefix that constructors put on their errors.
var constructorWrap = regexp.MustCompile(`^new [a-z ]+: `)

// tidyReason strips from reason the prefixes that repeat what the variable's name says:
// "invalid configuration", "invalid destination", the channel's and the field's names,
// and constructors' "new <thing>" wraps.
func tidyReason(reason string, names ...string) string {
	prefixes := []string{channel.ErrConfig.Error() + ": ", channel.ErrInvalidDestination.Error() + ": "}
	for _, n := range names {
		if n != "" {
			prefixes = append(prefixes, n+": ")
		}
	}
	for {
		before := reason
		for _, p := range prefixes {
			reason = strings.TrimPrefix(reason, p)
		}
		if m := constructorWrap.FindString(reason); m != "" {
			reason = reason[len(m):]
		}
		if reason == before {
			return reason
		}
	}
}

// DestinationError is the configuration error of an operator destination that its channel
// refused: it names the variable behind the field at fault (or NOTIFICATIONS_DESTINATIONS
// for one of that list, whose id it then names) and says what is wrong once.
func (c *Config) DestinationError(d channel.Destination, err error) *Error {
	field := fieldOf(err)
	name := c.VarOf(d.ID, field)
	reason := tidyReason(err.Error(), d.Channel, field)
	if name == "NOTIFICATIONS_DESTINATIONS" {
		reason = fmt.Sprintf("destination %q: %s", d.ID, reason)
	}
	return &Error{Var: name, Reason: reason}
}

// urlProblem says what is wrong with a URL that does not parse or is not absolute, showing
// it masked as channel.RedactURL would (password, query, and path segments after the
// second hidden); "" when it is an absolute URL, whose other rules the channel checks.
func urlProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// ue.Err quotes at most the piece at fault (a port, an escape, a character).
			return fmt.Sprintf("%s is not a valid URL: %v", maskLoose(raw), ue.Err)
		}
		return fmt.Sprintf("%s is not a valid URL", maskLoose(raw))
	}
	switch {
	case u.Scheme == "" || !strings.Contains(raw, "://"):
		return fmt.Sprintf("%s has no scheme: write the whole URL, starting with https:// (or http://)", maskLoose(raw))
	case u.Host == "":
		return fmt.Sprintf("%s has no host", maskLoose(raw))
	}
	return ""
}

// maskLoose masks a URL-like string that may not parse, by the rules of redact.URL: the
// password before an '@', the query and fragment, and every path segment after the second.
func maskLoose(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" && u.Scheme != "" {
		return redact.URL(raw)
	}
	s, cut := raw, false
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s, cut = s[:i], true
	}
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, s = s[:i+3], s[i+3:]
	}
	parts := strings.Split(s, "/")
	if at := strings.LastIndex(parts[0], "@"); at >= 0 {
		if colon := strings.Index(parts[0][:at], ":"); colon >= 0 {
			parts[0] = parts[0][:colon+1] + redact.Mask + parts[0][at:]
		}
	}
	if len(parts) > 3 {
		parts = append(parts[:3], redact.Mask)
		cut = false
	}
	out := scheme + strings.Join(parts, "/")
	if cut {
		out += "?" + redact.Mask
	}
	return out
}

// databaseURLProblem parses a PostgreSQL URL (or key=value string) as pgx will, and says
// what is wrong without quoting the string: pgx masks a password only where it can find it.
func databaseURLProblem(raw string) string {
	_, err := pgconn.ParseConfig(raw)
	if err == nil {
		return ""
	}
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return "is not a valid PostgreSQL URL"
	}
	reason := "is not a valid PostgreSQL URL"
	// The message follows the quoted string; the wrapped error may quote it again.
	msg := pce.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+3:]
		if inner := errors.Unwrap(pce); inner != nil {
			msg = strings.TrimSuffix(msg, " ("+inner.Error()+")")
		}
		reason += ": " + msg
	}
	var ue *url.Error
	var ne *strconv.NumError
	switch inner := errors.Unwrap(pce); {
	case errors.As(inner, &ue):
		reason += " (" + ue.Err.Error() + ")"
	case errors.As(inner, &ne):
		reason += fmt.Sprintf(" (%s is not a number)", ne.Num)
	case inner != nil && !strings.Contains(inner.Error(), raw):
		reason += " (" + redact.Text(inner.Error(), passwordOf(raw)) + ")"
	}
	return reason
}

// passwordOf is the password of a postgres:// URL or of a key=value string, if one can be
// found, for masking.
func passwordOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		return pw
	}
	if _, after, ok := strings.Cut(raw, "password="); ok {
		pw, _, _ := strings.Cut(after, " ")
		return strings.Trim(pw, "'")
	}
	return ""
}

// envURLProblem checks the URL variables of an enabled channel before the channel does, so
// that a URL without a scheme or host is shown (masked) with what is missing. It returns the
// problem and the variable, or "" when there is none to report here.
func (l *loader) envURLProblem(spec channel.Spec) (problem, name string) {
	if on, err := strconv.ParseBool(strings.TrimSpace(l.get(spec.EnabledVar))); err != nil || !on {
		return "", ""
	}
	for _, f := range spec.Fields {
		if !strings.HasSuffix(f.Env, "_URL") {
			continue
		}
		if v := strings.TrimSpace(l.get(f.Env)); v != "" {
			if p := urlProblem(v); p != "" {
				return p, f.Env
			}
		}
	}
	return "", ""
}

// fieldOf names the field a *channel.FieldError blames, or "".
func fieldOf(err error) string {
	var fe *channel.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// fieldOfVar names the field that variable name sets, or "".
func fieldOfVar(spec channel.Spec, name string) string {
	for _, f := range spec.Fields {
		if f.Env == name {
			return f.Name
		}
	}
	return ""
}
