package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Block Kit's limits, each beside its source. Lengths are in characters as chars counts them.
const (
	// maxBlocks is the most blocks one message may carry.
	// https://api.slack.com/reference/block-kit/blocks
	maxBlocks = 50
	// maxHeaderLen bounds a header block's plain_text.
	// https://api.slack.com/reference/block-kit/blocks#header
	maxHeaderLen = 150
	// maxSectionTextLen bounds a section block's text.
	// https://api.slack.com/reference/block-kit/blocks#section
	maxSectionTextLen = 3000
	// maxSectionFields is the most fields one section block may carry.
	// https://api.slack.com/reference/block-kit/blocks#section
	maxSectionFields = 10
	// maxFieldLen bounds each of a section's fields.
	// https://api.slack.com/reference/block-kit/blocks#section
	maxFieldLen = 2000
	// maxContextTextLen bounds a context block's text element, a text object.
	// https://api.slack.com/reference/block-kit/composition-objects#text
	maxContextTextLen = 3000
	// maxTextLen bounds the top-level text; Slack truncates beyond it.
	// https://api.slack.com/methods/chat.postMessage#truncating
	maxTextLen = 40000

	// maxFields is Herald's own cap on the fields of one message: more is unreadable in a
	// channel (Block Kit would allow 480). The excess is folded into one last field.
	maxFields = 50
	// maxFieldNameLen bounds a field's label, so that its value keeps most of the field.
	maxFieldNameLen = 200
)

// severityEmoji prefixes the header, so that urgency shows in the channel list and in
// notifications alike.
var severityEmoji = map[sdk.Severity]string{
	sdk.SeverityCritical: "🔴",
	sdk.SeverityWarning:  "🟠",
	sdk.SeverityInfo:     "🔵",
}

// payload is the body of an incoming-webhook request.
// https://api.slack.com/messaging/webhooks#advanced_message_formatting
type payload struct {
	// Text is the fallback shown in notifications and to screen readers.
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

// block is a header, section or context block.
type block struct {
	Type     string     `json:"type"`
	Text     *textObj   `json:"text,omitempty"`
	Fields   []*textObj `json:"fields,omitempty"`
	Elements []*textObj `json:"elements,omitempty"`
}

// textObj is a Block Kit text object.
// https://api.slack.com/reference/block-kit/composition-objects#text
type textObj struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

func mrkdwn(s string) *textObj { return &textObj{Type: "mrkdwn", Text: s} }

// buildPayload lays m out in Block Kit within every limit, whatever m holds: a header with
// the severity and title, a section with the summary and up to ten fields, further sections
// for further fields, and a context with the event's time and the footer.
func buildPayload(m *render.Message) payload {
	var p payload
	p.Blocks = append(p.Blocks, block{Type: "header", Text: &textObj{Type: "plain_text", Text: header(m), Emoji: true}})

	summary := truncate(escapeMrkdwn(clean(m.Summary)), maxSectionTextLen, true)
	fields := buildFields(m.Fields)
	first := block{Type: "section"}
	if strings.TrimSpace(summary) != "" {
		first.Text = mrkdwn(summary)
	}
	n := min(len(fields), maxSectionFields)
	first.Fields, fields = fields[:n], fields[n:]
	if first.Text != nil || len(first.Fields) > 0 {
		p.Blocks = append(p.Blocks, first)
	}
	for len(fields) > 0 {
		n := min(len(fields), maxSectionFields)
		p.Blocks = append(p.Blocks, block{Type: "section", Fields: fields[:n]})
		fields = fields[n:]
	}

	var ctx []*textObj
	if !m.Time.IsZero() {
		ctx = append(ctx, mrkdwn(slackDate(m.Time)))
	}
	if footer := truncate(escapeMrkdwn(clean(m.Footer)), maxContextTextLen, true); strings.TrimSpace(footer) != "" {
		ctx = append(ctx, mrkdwn(footer))
	}
	if len(ctx) > 0 {
		p.Blocks = append(p.Blocks, block{Type: "context", Elements: ctx})
	}
	if len(p.Blocks) > maxBlocks { // unreachable with maxFields; kept as the last guard
		p.Blocks = p.Blocks[:maxBlocks]
	}
	p.Text = fallback(m)
	return p
}

// header is the header block's text: the severity's emoji and the title on one line. It
// stays escaped: Slack's escaping applies to plain_text objects too.
// https://api.slack.com/reference/surfaces/formatting#escaping
func header(m *render.Message) string {
	title := strings.TrimSpace(oneLine(clean(m.Title)))
	if title == "" {
		title = strings.TrimSpace(oneLine(clean(m.Type)))
	}
	if title == "" {
		title = "Herald notification"
	}
	if e := severityEmoji[m.Severity]; e != "" {
		title = e + " " + title
	}
	return truncate(escapePlain(title), maxHeaderLen, false)
}

// buildFields renders fields as "*Name*\nValue" mrkdwn, folding those beyond maxFields into
// one last field.
func buildFields(fs []render.Field) []*textObj {
	out := make([]*textObj, 0, min(len(fs), maxFields))
	for i, f := range fs {
		if len(out) == maxFields-1 && len(fs)-i > 1 {
			out = append(out, mrkdwn(fmt.Sprintf("_…and %d more fields_", len(fs)-i)))
			break
		}
		if t := fieldText(f); t != "" {
			out = append(out, mrkdwn(t))
		}
	}
	return out
}

// fieldText is one field's mrkdwn, or "" if it has neither name nor value. The name is
// bolded, so asterisks and backticks in it are dropped: they would end the bold early or
// open code that the value's truncation cannot see.
var nameMarkup = strings.NewReplacer("*", "", "`", "")

func fieldText(f render.Field) string {
	name := strings.TrimSpace(nameMarkup.Replace(oneLine(clean(f.Name))))
	name = truncate(escapeMrkdwn(name), maxFieldNameLen, true)
	value := escapeMrkdwn(clean(f.Value))
	switch {
	case strings.TrimSpace(value) == "" && name == "":
		return ""
	case name == "":
		return truncate(value, maxFieldLen, true)
	case strings.TrimSpace(value) == "":
		return "*" + name + "*"
	}
	prefix := "*" + name + "*\n"
	return prefix + truncate(value, maxFieldLen-chars(prefix), true)
}

// slackDate shows t in each reader's own time zone, with a UTC fallback for clients that
// cannot. https://api.slack.com/reference/surfaces/formatting#date-formatting
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// fallback is the top-level text: the rendered plain text, else the title and summary.
func fallback(m *render.Message) string {
	text := strings.TrimSpace(clean(m.Text))
	if text == "" {
		text = strings.TrimSpace(clean(m.Title) + "\n" + clean(m.Summary))
	}
	if text == "" {
		text = "Herald notification"
	}
	if e := severityEmoji[m.Severity]; e != "" {
		text = e + " " + text
	}
	return truncate(escapeMrkdwn(text), maxTextLen, true)
}

// encode marshals p as compact JSON, leaving '<', '>' and '&' as they are (they are Slack's
// markup, and \u003c would only make previews and golden files harder to read).
func encode(p payload) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
