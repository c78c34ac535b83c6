// Package render turns events into the words people read in Discord, Slack and email.
//
// PLACEHOLDER: the API below is fixed; the implementation is being replaced by the template
// engine (embedded templates per channel and event type, overridable from a directory,
// parsed and test-rendered at Load).
package render

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// Field is one labelled value of a rendered notification.
type Field struct {
	Name   string
	Value  string
	Inline bool
}

// Message is one event rendered for one channel. Strings are ready for the channel's markup
// (Discord markdown, Slack mrkdwn, plain text for email) with event data escaped for it, but
// not truncated: each channel applies its provider's limits.
type Message struct {
	// Channel is the channel rendered for ("discord", "slack", "email").
	Channel string
	// Type is the event type.
	Type string
	// Template names the template file used, e.g. "discord/payment.failed.tmpl".
	Template string
	// Severity is the event's severity, or its type's default.
	Severity sdk.Severity
	// Title is the headline: Discord's embed title, Slack's header, the email heading.
	Title string
	// Summary is the body text under the title.
	Summary string
	// Fields are the structured data, in display order.
	Fields []Field
	// Footer is the small print (source, tenant, event id).
	Footer string
	// Time is the event's time (zero if it has none).
	Time time.Time
	// Subject is the email subject; empty for other channels.
	Subject string
	// HTML is the email's HTML document; empty for other channels.
	HTML string
	// Text is the plain-text version: the email's text part, Slack's fallback text.
	Text string
}

// Set is a loaded, checked set of templates. It is safe for concurrent use.
type Set struct{}

// Load returns the embedded templates, with any file under dir (same layout:
// <dir>/<channel>/<event type>.tmpl) replacing its embedded namesake. Every template is
// parsed and test-rendered with sample events of every type; an error names the file and line.
// An empty dir means the embedded templates alone.
func Load(dir string) (*Set, error) { return &Set{}, nil }

// Default returns the embedded templates. It panics if they do not load, which tests forbid.
func Default() *Set {
	s, err := Load("")
	if err != nil {
		panic(err)
	}
	return s
}

// Render renders e for channel.
func (s *Set) Render(channel string, e *sdk.Event) (*Message, error) {
	sev := e.Severity
	if sev == "" {
		sev = sdk.DefaultSeverity(e.Type)
	}
	m := &Message{Channel: channel, Type: e.Type, Template: channel + "/default.tmpl", Severity: sev,
		Title: e.Type, Summary: "Event " + e.Type + " for tenant " + e.Tenant(), Time: e.Time,
		Footer: "Herald · " + e.Tenant() + " · " + e.ID}
	var data map[string]any
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return nil, fmt.Errorf("render %s for %s: %w", e.Type, channel, err)
		}
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Fields = append(m.Fields, Field{Name: k, Value: fmt.Sprint(data[k]), Inline: true})
	}
	m.Subject = "[" + string(sev) + "] " + m.Title
	m.Text = m.Title + "\n\n" + m.Summary
	m.HTML = "<html><body><h1>" + m.Title + "</h1></body></html>"
	return m, nil
}
