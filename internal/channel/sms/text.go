package sms

import (
	"strings"
	"unicode"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Limits of the SMS text, in characters counted as chars counts them.
const (
	// MaxBodyChars is the longest Body Twilio accepts.
	// https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
	// https://www.twilio.com/docs/api/errors/21617
	MaxBodyChars = 1600
	// maxTitleChars, maxSummaryChars, maxFieldChars and maxFooterChars bound each part, so
	// that a huge summary cannot push the fields and footer out of the message. A title fits
	// one 160-character segment.
	// https://www.twilio.com/docs/glossary/what-sms-character-limit
	maxTitleChars   = 160
	maxSummaryChars = 640
	maxFieldChars   = 160
	maxFooterChars  = 160
	// maxFields bounds the field lines; the templates keep a few key fields.
	maxFields = 8
)

// marker ends a cut text. It is three full stops rather than "…": the ellipsis is not in the
// GSM-7 alphabet, and one such character turns the whole message into UCS-2, 70 characters
// a segment instead of 160.
// https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding
const marker = "..."

// severityTag prefixes the title of a warning or a critical event; info events carry none.
func severityTag(s sdk.Severity) string {
	switch s {
	case sdk.SeverityCritical:
		return "[CRITICAL] "
	case sdk.SeverityWarning:
		return "[WARNING] "
	}
	return ""
}

// text lays out a rendered message as the SMS body: the title (after its severity tag), the
// summary, one "Name: value" line per field, and the footer, each on its own lines and each
// cut to its own limit, then the whole cut to MaxBodyChars. The parts come in order of
// importance, so a cut at the end loses the least. The body is never empty.
func text(m *render.Message) string {
	var parts []string
	if t := oneLine(clean(m.Title)); t != "" {
		parts = append(parts, cut(severityTag(m.Severity)+t, maxTitleChars))
	}
	if s := strings.TrimSpace(clean(m.Summary)); s != "" {
		parts = append(parts, cut(s, maxSummaryChars))
	}
	n := 0
	for _, f := range m.Fields {
		name, value := oneLine(clean(f.Name)), oneLine(clean(f.Value))
		if value == "" || n == maxFields {
			continue
		}
		line := value
		if name != "" {
			line = name + ": " + value
		}
		parts = append(parts, cut(line, maxFieldChars))
		n++
	}
	if f := oneLine(clean(m.Footer)); f != "" {
		parts = append(parts, cut(f, maxFooterChars))
	}
	body := cut(strings.Join(parts, "\n"), MaxBodyChars)
	if strings.TrimSpace(body) == "" {
		// Twilio refuses an empty body (21602); a message of nothing but control characters
		// still says what happened.
		body = cut(oneLine(clean(m.Type)), MaxBodyChars)
		if body == "" {
			body = "Herald notification"
		}
	}
	return body
}

// chars measures s as Twilio's limit is measured, in UTF-16 code units: Twilio counts
// "characters" without saying how, and an emoji (two UTF-16 units) is two characters in the
// UCS-2 encoding of an SMS. Counting so keeps every body within the limit under any reading.
func chars(s string) int { return channel.UTF16Len(s) }

// cut keeps s within max characters, cutting on a rune boundary and ending the cut text with
// the marker, without white space or a dangling zero-width joiner before it.
func cut(s string, max int) string { return channel.CutUTF16(s, max, marker) }

// clean makes s valid UTF-8 without control characters other than newline and tab (an SMS
// shows the others as garbage, and the unicode line separators as nothing).
func clean(s string) string { return channel.Clean(s) }

// oneLine collapses line breaks and runs of white space into single spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
