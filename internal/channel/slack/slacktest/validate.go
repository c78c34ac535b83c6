package slacktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Slack's documented limits, each beside its source. Slack counts "characters" without saying
// whether it means code points or UTF-16 code units; the fake counts UTF-16 code units (see
// Chars), the larger of the two, so that a payload it accepts fits either reading.
const (
	// MaxBlocks is the most blocks one message may carry.
	// https://api.slack.com/reference/block-kit/blocks ("You can include up to 50 blocks in each message")
	MaxBlocks = 50
	// MaxHeaderText bounds a header block's plain_text.
	// https://api.slack.com/reference/block-kit/blocks#header
	MaxHeaderText = 150
	// MaxSectionText bounds a section block's text.
	// https://api.slack.com/reference/block-kit/blocks#section
	MaxSectionText = 3000
	// MaxSectionFields is the most fields one section block may carry.
	// https://api.slack.com/reference/block-kit/blocks#section
	MaxSectionFields = 10
	// MaxFieldText bounds each text object among a section's fields.
	// https://api.slack.com/reference/block-kit/blocks#section
	MaxFieldText = 2000
	// MaxTextObject bounds any text object; its minimum length is 1.
	// https://api.slack.com/reference/block-kit/composition-objects#text
	MaxTextObject = 3000
	// MaxContextElements is the most elements one context block may carry.
	// https://api.slack.com/reference/block-kit/blocks#context
	MaxContextElements = 10
	// MaxBlockID bounds a block_id.
	// https://api.slack.com/reference/block-kit/blocks
	MaxBlockID = 255
	// MaxMessageText bounds the top-level text; Slack truncates longer text, which the fake
	// refuses instead so that a test notices.
	// https://api.slack.com/methods/chat.postMessage#truncating
	MaxMessageText = 40000
)

// Error codes the fake answers, as Slack's incoming webhooks do.
// https://api.slack.com/messaging/webhooks#handling_errors
const (
	CodeInvalidPayload = "invalid_payload"
	CodeInvalidBlocks  = "invalid_blocks"
	CodeNoText         = "no_text"
	CodeNoService      = "no_service"
	CodeInvalidToken   = "invalid_token"
	CodeArchived       = "channel_is_archived"
	CodeRateLimited    = "rate_limited"
)

// PayloadError is why Slack would refuse a request: the code Slack answers with status 400,
// and every problem found.
type PayloadError struct {
	// Code is the plain-text error code Slack answers (invalid_payload, invalid_blocks, no_text).
	Code string
	// Problems lists what is wrong, one entry per problem.
	Problems []string
}

func (e *PayloadError) Error() string { return e.Code + ": " + strings.Join(e.Problems, "; ") }

// Chars counts s as the fake measures Slack's limits: in UTF-16 code units, so that a
// character outside the Basic Multilingual Plane (most emoji) counts twice.
func Chars(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// CheckRequest checks one request to an incoming webhook, minus its path: a POST of
// application/json (https://api.slack.com/messaging/webhooks#posting_with_webhooks) whose body
// ValidatePayload accepts. Warnings are ignored; see ValidatePayload.
func CheckRequest(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost {
		return &PayloadError{Code: CodeInvalidPayload, Problems: []string{"method " + r.Method + ", want POST"}}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &PayloadError{Code: CodeInvalidPayload, Problems: []string{
			fmt.Sprintf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))}}
	}
	_, err := ValidatePayload(body)
	return err
}

// ValidatePayload checks a message body against Block Kit's documented rules and limits and
// returns the decoded payload. A payload Slack would refuse yields a *PayloadError.
// Payload.Warnings lists what Slack accepts but probably renders wrongly: a '<' that opens no
// valid link, mention or date, a bare '&' (https://api.slack.com/reference/surfaces/formatting#escaping).
func ValidatePayload(body []byte) (*Payload, error) {
	if !utf8.Valid(body) {
		return nil, &PayloadError{Code: CodeInvalidPayload, Problems: []string{"body is not valid UTF-8"}}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, &PayloadError{Code: CodeInvalidPayload, Problems: []string{"body is not a JSON object: " + err.Error()}}
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, &PayloadError{Code: CodeInvalidPayload, Problems: []string{"body does not decode: " + err.Error()}}
	}
	v := &validator{}
	// The text is the notification and accessibility fallback when blocks are present.
	// https://api.slack.com/reference/messaging/payload
	switch n := Chars(p.Text); {
	case strings.TrimSpace(p.Text) == "":
		v.fail(CodeNoText, "top-level text fallback is missing or blank")
	case n > MaxMessageText:
		v.fail(CodeInvalidPayload, fmt.Sprintf("top-level text has %d characters, more than %d", n, MaxMessageText))
	default:
		v.markup("text", p.Text)
	}
	if raw, ok := top["blocks"]; ok {
		var blocks []json.RawMessage
		if err := json.Unmarshal(raw, &blocks); err != nil {
			v.fail(CodeInvalidBlocks, "blocks is not an array")
		}
		if len(blocks) > MaxBlocks {
			v.fail(CodeInvalidBlocks, fmt.Sprintf("%d blocks, more than %d", len(blocks), MaxBlocks))
		}
		for i, b := range blocks {
			v.block(fmt.Sprintf("blocks[%d]", i), b)
		}
	}
	if v.err != nil {
		return nil, v.err
	}
	p.Warnings = v.warnings
	return &p, nil
}

// validator collects problems; the first refusal's code is the one answered.
type validator struct {
	err      *PayloadError
	warnings []string
}

func (v *validator) fail(code, problem string) {
	if v.err == nil {
		v.err = &PayloadError{Code: code}
	}
	v.err.Problems = append(v.err.Problems, problem)
}

func (v *validator) warn(problem string) { v.warnings = append(v.warnings, problem) }

// blockFields lists the properties each block type we check may have; Block Kit refuses
// unknown properties. Other known block types are accepted unchecked.
// https://api.slack.com/reference/block-kit/blocks
var blockFields = map[string][]string{
	"header":  {"type", "text", "block_id"},
	"section": {"type", "text", "fields", "block_id", "accessory", "expand"},
	"context": {"type", "elements", "block_id"},
	"divider": {"type", "block_id"},
}

// otherBlocks are the remaining block types Block Kit knows in messages.
var otherBlocks = []string{"actions", "file", "image", "input", "rich_text", "video", "markdown", "table"}

func (v *validator) block(where string, raw json.RawMessage) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		v.fail(CodeInvalidBlocks, where+" is not an object")
		return
	}
	var typ string
	_ = json.Unmarshal(m["type"], &typ)
	allowed, checked := blockFields[typ]
	if !checked {
		if !slices.Contains(otherBlocks, typ) {
			v.fail(CodeInvalidBlocks, fmt.Sprintf("%s has unknown type %q", where, typ))
		}
		return
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			v.fail(CodeInvalidBlocks, fmt.Sprintf("%s (%s) has unknown property %q", where, typ, k))
		}
	}
	if id, ok := m["block_id"]; ok {
		var s string
		if json.Unmarshal(id, &s) != nil || s == "" || Chars(s) > MaxBlockID {
			v.fail(CodeInvalidBlocks, where+".block_id must be a string of 1 to 255 characters")
		}
	}
	switch typ {
	case "header":
		// https://api.slack.com/reference/block-kit/blocks#header
		t := v.textObject(where+".text", m["text"], MaxHeaderText)
		if t != nil && t.Type != "plain_text" {
			v.fail(CodeInvalidBlocks, where+".text must be plain_text")
		}
	case "section":
		// https://api.slack.com/reference/block-kit/blocks#section
		_, hasText := m["text"]
		_, hasFields := m["fields"]
		if !hasText && !hasFields {
			v.fail(CodeInvalidBlocks, where+" has neither text nor fields")
		}
		if hasText {
			v.textObject(where+".text", m["text"], MaxSectionText)
		}
		if hasFields {
			var fields []json.RawMessage
			if json.Unmarshal(m["fields"], &fields) != nil || len(fields) == 0 {
				v.fail(CodeInvalidBlocks, where+".fields must be a non-empty array")
			}
			if len(fields) > MaxSectionFields {
				v.fail(CodeInvalidBlocks, fmt.Sprintf("%s has %d fields, more than %d", where, len(fields), MaxSectionFields))
			}
			for i, f := range fields {
				v.textObject(fmt.Sprintf("%s.fields[%d]", where, i), f, MaxFieldText)
			}
		}
	case "context":
		// https://api.slack.com/reference/block-kit/blocks#context
		var elems []json.RawMessage
		if json.Unmarshal(m["elements"], &elems) != nil || len(elems) == 0 {
			v.fail(CodeInvalidBlocks, where+".elements must be a non-empty array")
		}
		if len(elems) > MaxContextElements {
			v.fail(CodeInvalidBlocks, fmt.Sprintf("%s has %d elements, more than %d", where, len(elems), MaxContextElements))
		}
		for i, e := range elems {
			var probe struct{ Type string }
			_ = json.Unmarshal(e, &probe)
			if probe.Type == "image" {
				continue
			}
			v.textObject(fmt.Sprintf("%s.elements[%d]", where, i), e, MaxTextObject)
		}
	}
}

// textObject checks a text object: type plain_text or mrkdwn, text of 1 to max characters,
// emoji only on plain_text, verbatim only on mrkdwn.
// https://api.slack.com/reference/block-kit/composition-objects#text
func (v *validator) textObject(where string, raw json.RawMessage, max int) *Text {
	if len(raw) == 0 {
		v.fail(CodeInvalidBlocks, where+" is missing")
		return nil
	}
	var m map[string]json.RawMessage
	var t Text
	if json.Unmarshal(raw, &m) != nil || json.Unmarshal(raw, &t) != nil {
		v.fail(CodeInvalidBlocks, where+" is not a text object")
		return nil
	}
	for k := range m {
		if !slices.Contains([]string{"type", "text", "emoji", "verbatim"}, k) {
			v.fail(CodeInvalidBlocks, fmt.Sprintf("%s has unknown property %q", where, k))
		}
	}
	switch t.Type {
	case "plain_text":
		if t.Verbatim != nil {
			v.fail(CodeInvalidBlocks, where+": verbatim is only for mrkdwn")
		}
	case "mrkdwn":
		if t.Emoji != nil {
			v.fail(CodeInvalidBlocks, where+": emoji is only for plain_text")
		}
	default:
		v.fail(CodeInvalidBlocks, fmt.Sprintf("%s has type %q, want plain_text or mrkdwn", where, t.Type))
	}
	if n := Chars(t.Text); n < 1 || n > max {
		v.fail(CodeInvalidBlocks, fmt.Sprintf("%s has %d characters, want 1 to %d", where, n, max))
	}
	if t.Type == "plain_text" {
		if strings.ContainsAny(t.Text, "<>") {
			v.warn(where + ": unescaped '<' or '>' in plain_text")
		}
		v.entities(where, t.Text)
	} else {
		v.markup(where, t.Text)
	}
	return &t
}

// sequence matches the control sequences Slack parses between '<' and '>': links
// (<https://…|label>, <mailto:…>), channel and user mentions (<#C…>, <@U…>), special mentions
// and dates (<!here>, <!date^…>).
// https://api.slack.com/reference/surfaces/formatting#advanced
var sequence = regexp.MustCompile(`^<(?:[#@][A-Z0-9]+(?:\|[^<>]*)?|![a-z]+(?:\^[^<>]*)?(?:\|[^<>]*)?|[a-zA-Z][a-zA-Z0-9+.-]*:[^<>|\s]+(?:\|[^<>]*)?)>`)

// date matches a date sequence, whose fallback text is required.
// https://api.slack.com/reference/surfaces/formatting#date-formatting
var date = regexp.MustCompile(`^<!date\^-?[0-9]+\^[^<>|^]+(?:\^[^<>|]+)?\|[^<>]+>`)

// markup warns of a '<' that opens no valid sequence, of a malformed date and of a bare '&'.
func (v *validator) markup(where, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		m := sequence.FindString(s[i:])
		if m == "" {
			v.warn(fmt.Sprintf("%s: '<' at byte %d opens no link, mention or date", where, i))
			continue
		}
		if strings.HasPrefix(m, "<!date") && date.FindString(s[i:]) == "" {
			v.warn(fmt.Sprintf("%s: malformed date sequence at byte %d", where, i))
		}
		i += len(m) - 1
	}
	v.entities(where, s)
}

// entities warns of an '&' that starts none of the three entities Slack decodes.
func (v *validator) entities(where, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '&' && !strings.HasPrefix(s[i:], "&amp;") && !strings.HasPrefix(s[i:], "&lt;") && !strings.HasPrefix(s[i:], "&gt;") {
			v.warn(fmt.Sprintf("%s: bare '&' at byte %d", where, i))
		}
	}
}

// Payload is a decoded incoming-webhook message.
type Payload struct {
	// Text is the top-level text: the fallback shown in notifications.
	Text string `json:"text"`
	// Blocks are the message's layout blocks.
	Blocks []Block `json:"blocks"`
	// Warnings lists what Slack accepts but probably renders wrongly (unescaped '<', bare '&').
	Warnings []string `json:"-"`
}

// Block is one layout block, with the properties of the types Herald sends.
type Block struct {
	Type     string `json:"type"`
	BlockID  string `json:"block_id,omitempty"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Text is a text object (or a context element, which is one).
type Text struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    *bool  `json:"emoji,omitempty"`
	Verbatim *bool  `json:"verbatim,omitempty"`
}

// Header returns the text of the first header block, or "".
func (p *Payload) Header() string {
	for _, b := range p.Blocks {
		if b.Type == "header" && b.Text != nil {
			return b.Text.Text
		}
	}
	return ""
}

// AllText returns every text of the message (the fallback, then each block's texts in order)
// joined by newlines, for assertions that some value was shown somewhere.
func (p *Payload) AllText() string {
	var b bytes.Buffer
	b.WriteString(p.Text)
	for _, bl := range p.Blocks {
		if bl.Text != nil {
			b.WriteString("\n" + bl.Text.Text)
		}
		for _, t := range bl.Fields {
			b.WriteString("\n" + t.Text)
		}
		for _, t := range bl.Elements {
			b.WriteString("\n" + t.Text)
		}
	}
	return b.String()
}

// errorCode returns the code of a *PayloadError, or invalid_payload.
func errorCode(err error) string {
	var pe *PayloadError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CodeInvalidPayload
}
