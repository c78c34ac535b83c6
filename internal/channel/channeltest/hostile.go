package channeltest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Hostile are pieces of text chosen to break a message, whichever channel lays it out: the
// markup of every channel (Slack mrkdwn and its control sequences, Discord and Teams
// markdown, Adaptive Card date functions, Telegram and email HTML), mentions, HTML entities,
// multibyte letters, emoji and ZWJ sequences, right-to-left text and overrides, JSON and
// form-encoding characters, GSM-7 extension characters, control characters and invalid
// UTF-8. Property tests draw from them with HostileText, BigMessage and HostileEvent.
var Hostile = []string{
	// Letters and emoji, as one and two UTF-16 units, and sequences that must not be split.
	"a", "é", "€", "日本", "🔥", "👩‍👩‍👧", "\u200d", "\ufe0f",
	// Right-to-left text, its marks and an override.
	"مرحبا بالعالم", "مرحبا", "שלום", "\u202e", "\u200f",
	// HTML: entities, tags Telegram parses, and others.
	"&amp;", "&lt;", "&gt;", "&#39;", "&#128293;", "&nbsp;", "&", "<", ">", "\"", "'",
	"<b>", "</b>", "<i>x</i>", "<a href=\"https://evil.example\">x</a>", "<tg-spoiler>", "<pre>", "</code>",
	"<blockquote>", "<span class=\"tg-spoiler\">", "<script>",
	// Markdown, mrkdwn and their markers alone.
	"*", "_", "~", "`", "**", "*bold*", "**bold**", "**strong**", "_x_", "_it_", "__u__", "~~s~~", "`code`", "```",
	"||spoiler||", "||", "[x](https://evil.example)", "![img](https://evil.example/i.png)", "# heading", "\n- item",
	"\n1. one", "\n+ plus", "\n> quote", "|a|b|", "=====", "-----", "\\", "\\*",
	// Links, mentions, dates and functions of Slack, Discord and Teams.
	"<https://evil.example>", "<https://example.com/a_b?x=1&y=2|link>", "<not a link>", "@everyone", "@here",
	"<!channel>", "<!here>", "<@U024BE7LH>", "<!date^1700000000^{date}|fallback>", "<t:1700000000:R>", "<at>Admin</at>",
	"{{DATE(2026-11-28T09:30:00Z, SHORT)}}", "{{DATE(x)}}", "{{", "}}",
	// JSON, form encoding and GSM-7's extension table.
	"{", "}", "/", "%", "+", "=", "^{}[]~|\\",
	// White space, line breaks and control characters, and invalid UTF-8.
	"\n", "\r\n", " ", "\t", "\u2028", "\u0085", "\x00", "\x1b[31m", "\x7f", "\xff",
}

// HostileText returns n pieces of Hostile drawn with r.
func HostileText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(Hostile[r.IntN(len(Hostile))])
	}
	return b.String()
}

// severities are the severities a message may carry: none, Herald's three, and one it does
// not know, which a channel must not pass on as it is.
var severities = []sdk.Severity{"", sdk.SeverityInfo, sdk.SeverityWarning, sdk.SeverityCritical, "error"}

// BigMessage returns a message for channel whose every text is made of hostile pieces, markup
// included, as a template might write them, to stress a channel's limits. scale bounds its
// size: a title and a footer of up to scale pieces, a summary of up to 4×scale, a fallback
// text of up to 8×scale (a piece is 1 to 30 bytes; a scale of a few thousand makes texts of
// 10 kB and more); up to 60 fields, named in up to scale/8 pieces, of which one in every 1 to
// 8 (drawn per message) has a value of up to 2×scale pieces and the others short ones.
func BigMessage(r *rand.Rand, channel string, scale int) *render.Message {
	size := func() int { return r.IntN(scale) }
	m := &render.Message{
		Channel: channel, Type: HostileText(r, 3), Severity: severities[r.IntN(len(severities))],
		Title: HostileText(r, size()), Summary: HostileText(r, size()*4), Footer: HostileText(r, size()),
		Text: HostileText(r, size()*8), Time: time.Unix(r.Int64N(4_000_000_000), 0),
	}
	long := 1 + r.IntN(8)
	for i := range r.IntN(61) {
		value := HostileText(r, r.IntN(8))
		if i%long == 0 {
			value = HostileText(r, size()*2)
		}
		m.Fields = append(m.Fields, render.Field{Name: HostileText(r, r.IntN(scale/8+1)), Value: value, Inline: r.IntN(2) == 0})
	}
	return m
}

// hostileTypes are the event types HostileEvent makes: seed types whose templates show
// their data in different ways, and a custom type, which the default template lays out field
// by field.
var hostileTypes = []string{"payment.failed", "node.health_degraded", "tenant.created", "node.terminated", "node.launched", "order.shipped", "order.shipped"}

// HostileEvent returns an event of a random type whose data is made of hostile text, to run
// through a channel's templates: a quarter of its strings are up to 3000 pieces long (10 kB
// and more), and a custom type has up to 40 fields, a degraded node up to 39 issues.
func HostileEvent(t testing.TB, r *rand.Rand) *sdk.Event {
	t.Helper()
	text := func() string {
		if r.IntN(4) == 0 {
			return HostileText(r, 1+r.IntN(3000))
		}
		return HostileText(r, 1+r.IntN(6))
	}
	typ := hostileTypes[r.IntN(len(hostileTypes))]
	var data any
	switch typ {
	case "payment.failed":
		data = map[string]any{"tenant_id": text(), "reason": text(), "amount": r.Float64() * 1e6}
	case "node.health_degraded":
		var issues []string
		for range r.IntN(40) {
			issues = append(issues, text())
		}
		data = map[string]any{"node_id": text(), "health_score": r.Float64(), "issues": issues}
	case "tenant.created":
		data = map[string]any{"name": text(), "email": text(), "billing_plan": text()}
	case "node.terminated":
		data = map[string]any{"node_id": text(), "time_remaining": r.IntN(1000), "reason": text()}
	case "node.launched":
		data = map[string]any{"node_id": text(), "provider": text(), "region": text(), "gpu_type": text(), "gpu_count": 8, "model": text()}
	default:
		m := map[string]any{}
		for range r.IntN(41) {
			m[HostileText(r, 1+r.IntN(6))] = text()
		}
		data = m
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sdk.New(typ, "acme", json.RawMessage(raw), sdk.WithID(fmt.Sprintf("01JHOSTILE%d", r.Int64N(1e15))),
		sdk.WithSource(text()), sdk.WithTime(render.SampleTime))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// FuzzEvent returns the event a fuzz target's arguments describe: for an even nfields, a
// payment.failed event whose reason and tenant_id are reason and key; for an odd one, a
// custom event of nfields fields named key0, key1, … whose values repeat value, up to about
// 20 kB each (grow, bounded, sets how fast they grow). It skips the test when sdk refuses the
// event.
func FuzzEvent(t testing.TB, reason, key, value string, nfields uint8, grow int) *sdk.Event {
	t.Helper()
	grow = max(1, min(grow, 20_000)/max(len(value), 1))
	data := map[string]any{"reason": reason, "tenant_id": key}
	typ := "payment.failed"
	if nfields%2 == 1 {
		typ = "order.shipped"
		custom := map[string]any{}
		for i := range int(nfields) {
			custom[fmt.Sprintf("%s%d", key, i)] = strings.Repeat(value, 1+i%grow)
		}
		data = custom
	}
	raw, _ := json.Marshal(data)
	ev, err := sdk.New(typ, "acme", json.RawMessage(raw), sdk.WithID("01JFUZZ"), sdk.WithSource("fuzz"), sdk.WithTime(render.SampleTime))
	if err != nil {
		t.Skip(err)
	}
	return ev
}

// Grow repeats s until it is at least n bytes long, so that a fuzz target's short inputs
// reach a channel's limits; an empty s stays empty.
func Grow(s string, n int) string {
	if s == "" {
		return s
	}
	return strings.Repeat(s, n/len(s)+1)
}
