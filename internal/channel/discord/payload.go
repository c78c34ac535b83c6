package discord

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Embed limits, counted in characters (Unicode code points).
// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
const (
	maxTitleRunes       = 256  // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	maxDescriptionRunes = 4096 // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	maxFields           = 25   // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	maxFieldNameRunes   = 256  // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	maxFieldValueRunes  = 1024 // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	maxFooterRunes      = 2048 // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	// maxEmbedRunes bounds title, description, field names and values, footer text and author
	// name taken together.
	maxEmbedRunes = 6000 // https://discord.com/developers/docs/resources/message#embed-object-embed-limits
)

const (
	// Username is the name Herald's messages appear under, overriding the webhook's own.
	// It may not contain "discord" or "clyde".
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	Username = "Herald"
	// ellipsis marks text that was cut.
	ellipsis = "…"
	// placeholder stands in for a field name or value that is empty (or only white space),
	// which Discord refuses.
	placeholder = "—"
	// untitled stands in for a title that renders empty.
	untitled = "Notification"
)

// Embed colours by severity.
const (
	colorInfo     = 0x3B82F6 // blue
	colorWarning  = 0xF59E0B // amber
	colorCritical = 0xEF4444 // red
)

// payload is the Execute Webhook JSON body Herald sends.
// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
type payload struct {
	Username string `json:"username"`
	// AllowedMentions with an empty parse list: no @everyone, role or user ping, whatever the
	// event data holds.
	// https://discord.com/developers/docs/resources/message#allowed-mentions-object
	AllowedMentions allowedMentions `json:"allowed_mentions"`
	Embeds          []embed         `json:"embeds"`
}

type allowedMentions struct {
	Parse []string `json:"parse"`
}

// embed is a rich embed.
// https://discord.com/developers/docs/resources/message#embed-object-embed-structure
type embed struct {
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Color       int     `json:"color"`
	Fields      []field `json:"fields,omitempty"`
	Footer      *footer `json:"footer,omitempty"`
	Timestamp   string  `json:"timestamp,omitempty"`
}

type field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type footer struct {
	Text string `json:"text"`
}

// buildPayload turns a rendered message into the body Send posts, within every embed limit
// whatever the message holds.
func buildPayload(m *render.Message) ([]byte, *payload, error) {
	p := &payload{
		Username:        Username,
		AllowedMentions: allowedMentions{Parse: []string{}},
		Embeds:          []embed{buildEmbed(m)},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Discord reads <, > and & as they are; escaping them would only bloat the body.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), p, nil
}

// buildEmbed cuts each part to its own limit, then the whole to the 6000-character total.
func buildEmbed(m *render.Message) embed {
	e := embed{Color: color(m.Severity), Timestamp: timestamp(m.Time)}

	e.Title = clip(m.Title, maxTitleRunes)
	if strings.TrimSpace(e.Title) == "" {
		e.Title = clip(m.Type, maxTitleRunes)
	}
	if strings.TrimSpace(e.Title) == "" {
		e.Title = untitled
	}
	e.Description = clip(m.Summary, maxDescriptionRunes)
	if strings.TrimSpace(e.Description) == "" {
		e.Description = ""
	}

	fields := m.Fields
	omitted := 0
	if len(fields) > maxFields {
		// Keep room for one field that says how many did not fit.
		omitted = len(fields) - (maxFields - 1)
		fields = fields[:maxFields-1]
	}
	for _, f := range fields {
		e.Fields = append(e.Fields, field{
			Name:   orPlaceholder(clip(f.Name, maxFieldNameRunes)),
			Value:  orPlaceholder(clip(f.Value, maxFieldValueRunes)),
			Inline: f.Inline,
		})
	}
	if omitted > 0 {
		e.Fields = append(e.Fields, field{Name: ellipsis, Value: strconv.Itoa(omitted) + " more fields not shown"})
	}
	if text := clip(m.Footer, maxFooterRunes); strings.TrimSpace(text) != "" {
		e.Footer = &footer{Text: text}
	}
	fitTotal(&e)
	return e
}

// fitTotal shrinks the embed until its counted text is within maxEmbedRunes: the longest parts
// are cut first, all to one common length (the largest that fits), so that short parts
// survive whole. Among parts cut, the description gives way first, then fields from the end.
// Every part keeps at least a few characters: 53 parts at most, so the common length is never
// below 6000/53.
func fitTotal(e *embed) {
	parts := []*string{&e.Description}
	for i := len(e.Fields) - 1; i >= 0; i-- {
		parts = append(parts, &e.Fields[i].Value, &e.Fields[i].Name)
	}
	parts = append(parts, &e.Title)
	if e.Footer != nil {
		parts = append(parts, &e.Footer.Text)
	}
	lens := make([]int, len(parts))
	total := 0
	for i, p := range parts {
		lens[i] = utf8.RuneCountInString(*p)
		total += lens[i]
	}
	if total <= maxEmbedRunes {
		return
	}
	// Largest cap such that the capped lengths fit.
	capped := func(c int) int {
		sum := 0
		for _, n := range lens {
			sum += min(n, c)
		}
		return sum
	}
	lo, hi := 0, maxDescriptionRunes
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if capped(mid) <= maxEmbedRunes {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	limit := lo
	// The characters left over go, one each, to the parts cut last: walk from the end of
	// parts (footer, title, first fields) towards the description.
	spare := maxEmbedRunes - capped(limit)
	for i := len(parts) - 1; i >= 0; i-- {
		if lens[i] <= limit {
			continue
		}
		n := limit
		if spare > 0 {
			n++
			spare--
		}
		*parts[i] = clip(*parts[i], n)
	}
	if strings.TrimSpace(e.Description) == "" {
		e.Description = ""
	}
}

// clip returns s made safe for Discord and cut to at most limit characters: invalid UTF-8
// becomes U+FFFD, control characters other than newline and tab are dropped, and text that
// does not fit ends in an ellipsis, never in a backslash that escaped what was cut away. It
// reads no further into s than it needs to, so a huge value costs no more than a small one.
func clip(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(min(len(s), limit*utf8.UTFMax))
	n := 0
	cutAt := 0 // b.Len() after limit-1 kept runes: where a cut goes
	for i := 0; i < len(s); {
		// An invalid byte decodes as utf8.RuneError and is written as U+FFFD.
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if dropped(r) {
			continue
		}
		if n == limit-1 {
			cutAt = b.Len()
		}
		if n == limit {
			// One rune too many: cut to limit-1 runes and add the ellipsis.
			kept := b.String()[:cutAt]
			kept = strings.TrimRight(kept, " \t\n")
			kept = trimLoneBackslash(kept)
			return kept + ellipsis
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// dropped reports whether r is a control character Discord's text has no use for. Newline and
// tab stay; carriage returns go, so that CRLF becomes LF.
func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	}
	return false
}

// trimLoneBackslash drops a trailing backslash that escapes nothing: after a cut, an odd run
// of backslashes at the end would escape the ellipsis and lose the character it escaped.
func trimLoneBackslash(s string) string {
	run := len(s) - len(strings.TrimRight(s, `\`))
	if run%2 == 1 {
		s = s[:len(s)-1]
	}
	return s
}

func orPlaceholder(s string) string {
	if strings.TrimSpace(s) == "" {
		return placeholder
	}
	return s
}

// color maps a severity to the embed's colour; an unknown severity reads as info.
func color(s sdk.Severity) int {
	switch s {
	case sdk.SeverityCritical:
		return colorCritical
	case sdk.SeverityWarning:
		return colorWarning
	}
	return colorInfo
}

// timestamp formats t as RFC 3339 in UTC, or "" for a zero time or one that RFC 3339 cannot
// write (a year outside 0001-9999).
func timestamp(t time.Time) string {
	if t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// plainText renders the embed as plain text, for Preview: Discord's markdown escapes removed.
func plainText(e *embed) string {
	var b strings.Builder
	b.WriteString(unescape(e.Title))
	if e.Description != "" {
		b.WriteString("\n\n" + unescape(e.Description))
	}
	if len(e.Fields) > 0 {
		b.WriteString("\n")
		for _, f := range e.Fields {
			b.WriteString("\n" + unescape(f.Name) + ": " + unescape(f.Value))
		}
	}
	if e.Footer != nil {
		b.WriteString("\n\n" + e.Footer.Text)
	}
	if e.Timestamp != "" {
		b.WriteString("\n" + e.Timestamp)
	}
	return b.String()
}

// unescape removes markdown escapes: a backslash before ASCII punctuation.
// https://support.discord.com/hc/en-us/articles/210298617-Markdown-Text-101-Chat-Formatting-Bold-Italic-Underline
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isASCIIPunct(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}
