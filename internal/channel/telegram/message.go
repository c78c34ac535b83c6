package telegram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Limits, each beside its source. Lengths are in UTF-16 code units of visible text, as
// Telegram counts them (see visibleLen).
const (
	// maxTextLen bounds a message's text after entity parsing.
	// https://core.telegram.org/bots/api#sendmessage ("1-4096 characters after entities parsing")
	maxTextLen = 4096

	// The rest are Herald's own caps, so that one long text leaves room for the others.
	maxTitleLen      = 256
	maxSummaryLen    = 2000
	maxFields        = 40
	maxFieldNameLen  = 64
	maxFieldValueLen = 500
	maxFooterLen     = 256
)

// ParseMode is the parse mode of every message.
// https://core.telegram.org/bots/api#formatting-options
const ParseMode = "HTML"

// severityEmoji prefixes the title, so that urgency shows in the chat list and in
// notifications alike.
var severityEmoji = map[sdk.Severity]string{
	sdk.SeverityCritical: "🔴",
	sdk.SeverityWarning:  "🟠",
	sdk.SeverityInfo:     "🔵",
}

// payload is the body of a sendMessage request.
// https://core.telegram.org/bots/api#sendmessage
type payload struct {
	// ChatID is a number (json.Number) or an @channelusername.
	ChatID             any                `json:"chat_id"`
	Text               string             `json:"text"`
	ParseMode          string             `json:"parse_mode"`
	LinkPreviewOptions linkPreviewOptions `json:"link_preview_options"`
}

// linkPreviewOptions turns link previews off: a preview of a URL in event data would put a
// stranger's page into the alert. https://core.telegram.org/bots/api#linkpreviewoptions
type linkPreviewOptions struct {
	IsDisabled bool `json:"is_disabled"`
}

// chatIDValue is chatID as the chat_id field takes it: an integer for a numeric id, the
// string for an @channelusername.
func chatIDValue(chatID string) any {
	if _, err := strconv.ParseInt(chatID, 10, 64); err == nil {
		return json.Number(chatID)
	}
	return chatID
}

// buildText lays m out as one HTML message within maxTextLen:
//
//	🔴 <b>Title</b>
//
//	Summary
//
//	<b>Name:</b> value …
//
//	<i>2026-11-28 09:30 UTC · footer</i>
//
// Every part is sanitized (sanitize) with the tags the layout wraps it in, so that Telegram's
// nesting rules hold, and cut to its cap; if the whole is still too long, the part before
// the footer is cut so that the footer stays.
func buildText(m *render.Message) string {
	var b strings.Builder
	if e := severityEmoji[m.Severity]; e != "" {
		b.WriteString(e + " ")
	}
	b.WriteString(title(m))
	if s := strings.TrimSpace(truncate(sanitize(m.Summary), maxSummaryLen)); visibleLen(s) > 0 {
		b.WriteString("\n\n" + s)
	}
	if fs := fields(m.Fields); fs != "" {
		b.WriteString("\n\n" + fs)
	}
	head := b.String()
	foot := footer(m)
	budget := maxTextLen
	if foot != "" {
		foot = "\n\n" + foot
		budget -= visibleLen(foot)
	}
	return truncate(head, budget) + foot
}

// title is the headline on one line, in bold, its own tags kept; the type's name stands in
// for a blank one.
func title(m *render.Message) string {
	t := strings.TrimSpace(oneLine(m.Title))
	if visibleLen(sanitize(t)) == 0 {
		t = strings.TrimSpace(EscapeHTML(oneLine(clean(m.Type))))
	}
	if t == "" {
		t = "Herald notification"
	}
	return truncate(sanitize("<b>"+t+"</b>"), maxTitleLen)
}

// fields renders fields as "<b>Name:</b> value" lines, folding those beyond maxFields into one
// last line. Fields with neither name nor value are dropped.
func fields(fs []render.Field) string {
	var lines []string
	for i, f := range fs {
		if len(lines) == maxFields-1 && len(fs)-i > 1 {
			lines = append(lines, "<i>…and "+strconv.Itoa(len(fs)-i)+" more fields</i>")
			break
		}
		name := strings.TrimSpace(oneLine(f.Name))
		value := strings.TrimSpace(truncate(sanitize(f.Value), maxFieldValueLen))
		hasName, hasValue := visibleLen(sanitize(name)) > 0, visibleLen(value) > 0
		switch {
		case !hasName && !hasValue:
			continue
		case !hasName:
			lines = append(lines, value)
		default:
			lines = append(lines, strings.TrimSpace(truncate(sanitize("<b>"+name+":</b>"), maxFieldNameLen))+" "+value)
		}
	}
	return strings.Join(lines, "\n")
}

// footer is the event's time in UTC and the rendered footer, on one line, in italics.
func footer(m *render.Message) string {
	var parts []string
	if !m.Time.IsZero() {
		parts = append(parts, m.Time.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if f := strings.TrimSpace(oneLine(m.Footer)); visibleLen(sanitize(f)) > 0 {
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		return ""
	}
	return truncate(sanitize("<i>"+strings.Join(parts, " · ")+"</i>"), maxFooterLen)
}

// encode marshals p as compact JSON, leaving '<', '>' and '&' as they are (they are the
// message's HTML, and \u003c would only make previews and golden files harder to read).
func encode(p payload) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode telegram message: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
