package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// Field is one labelled value of a rendered notification.
type Field struct {
	Name   string
	Value  string
	Inline bool
}

// Message is one event rendered for one channel.
//
// Every string is ready for the channel's markup (Discord markdown, Slack mrkdwn, plain
// text for email) with the event's data escaped for that channel: on Slack & < > are
// entities, on Discord markdown characters are backslash-escaped and mentions are defused
// with a zero-width space. The exceptions are Discord's Footer, which Discord shows as plain
// text and so is not escaped, and the email's HTML, which html/template escapes. No string
// is truncated: each channel applies its provider's limits.
type Message struct {
	// Channel is the channel rendered for ("discord", "slack", "email", ...).
	Channel string
	// Type is the event type.
	Type string
	// Template names the template file used, e.g. "discord/payment.failed.tmpl", or the
	// path of the override file that replaced it.
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
	// Subject is the email subject; empty for channels without layouts.
	Subject string
	// HTML is the email's HTML document; empty for channels without layouts.
	HTML string
	// Text is the plain-text version: the email's text part; the title on channels without
	// layouts (Slack's fallback text).
	Text string
}

// ErrUnknownChannel is returned by Render for a channel that has no templates.
var ErrUnknownChannel = errors.New("render: unknown channel")

// Set is a loaded, checked set of templates. It is safe for concurrent use.
type Set struct {
	channels map[string]*channelSet
}

// channelSet holds one channel's templates.
type channelSet struct {
	name   string
	esc    escaper
	byType map[string]*typeTemplate
	def    *typeTemplate
	// layouts is set for channels whose messages are documents (email).
	layouts bool
	// html and text are the layouts; nil for other channels.
	html     *htmltemplate.Template
	htmlName string
	text     *template.Template
	textName string
}

// typeTemplate is one parsed template file with its blocks looked up.
type typeTemplate struct {
	name string // file name for Message.Template and errors
	// generic is true for default.tmpl and custom types: their data is decoded JSON.
	generic                                 bool
	title, summary, fields, footer, subject *template.Template
}

// Channels returns the names of the channels the set renders for, sorted.
func (s *Set) Channels() []string {
	out := make([]string, 0, len(s.channels))
	for name := range s.channels {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Render renders e for channel. The data of a seed type is read with
// sdk.DecodeDataLenient, so that a field written in another reasonable spelling ("93s" or
// "PT2M" for seconds, "49.99" for a number) still gets the type's own layout; data with a
// field that cannot be interpreted is rendered with the channel's default template, which
// shows it as published, rather than lost or shown with a blank. The error of a failing
// template names the template file.
func (s *Set) Render(channel string, e *sdk.Event) (*Message, error) {
	if e == nil {
		return nil, fmt.Errorf("render for %s: nil event", channel)
	}
	cs, ok := s.channels[channel]
	if !ok {
		return nil, fmt.Errorf("render %s for %q: %w", e.Type, channel, ErrUnknownChannel)
	}
	t := cs.byType[e.Type]
	var data any
	if t != nil && !t.generic {
		p, bad, err := sdk.DecodeDataLenient(e.Type, e.Data)
		if err == nil && len(bad) == 0 {
			data = p
		} else {
			t = nil
		}
	}
	if t == nil {
		t = cs.def
	}
	if t.generic {
		var err error
		if data, err = decodeGeneric(e.Data); err != nil {
			return nil, fmt.Errorf("render %s for %s with %s: %w", e.Type, channel, t.name, err)
		}
	}
	return cs.render(t, e, data, false)
}

// Types returns the event types that have a template of their own on at least one channel,
// sorted: the seed types and the custom types of the operator's templates directory.
func (s *Set) Types() []string {
	var out []string
	for _, cs := range s.channels {
		for typ := range cs.byType {
			out = append(out, typ)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// decodeGeneric decodes the data of a custom type, keeping numbers as written.
func decodeGeneric(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode data: %w", err)
	}
	return v, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes t's blocks and, for email, the layouts. strict (at Load) makes an empty
// title an error; at send time the type's name stands in for it.
func (cs *channelSet) render(t *typeTemplate, e *sdk.Event, data any, strict bool) (*Message, error) {
	sev := e.Severity
	if sev == "" {
		sev = sdk.DefaultSeverity(e.Type)
	}
	esc := cs.esc.esc
	v := &View{ID: esc(e.ID), Type: esc(e.Type), Tenant: esc(e.Tenant()), Source: esc(e.Source),
		Severity: sev, Time: e.Time, Channel: cs.name, Data: data, esc: cs.esc}
	if t.generic {
		v.raw = data
	}
	if !cs.esc.none {
		v.Data = escapeData(data, esc)
	}

	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	exec := func(b *template.Template, dot any) (string, error) {
		if b == nil {
			return "", nil
		}
		buf.Reset()
		if err := b.Execute(buf, dot); err != nil {
			return "", fmt.Errorf("render %s for %s with %s (.Data is %T): %w", e.Type, cs.name, t.name, data, err)
		}
		return strings.TrimSpace(buf.String()), nil
	}

	m := &Message{Channel: cs.name, Type: e.Type, Template: t.name, Severity: sev, Time: e.Time}
	var err error
	if m.Title, err = exec(t.title, v); err != nil {
		return nil, err
	}
	if m.Title == "" {
		if strict {
			return nil, fmt.Errorf("render %s for %s with %s: the title block rendered empty", e.Type, cs.name, t.name)
		}
		m.Title = v.TypeTitle()
	}
	if m.Summary, err = exec(t.summary, v); err != nil {
		return nil, err
	}
	if _, err = exec(t.fields, v); err != nil {
		return nil, err
	}
	m.Fields = v.fields
	if m.Footer, err = cs.footer(t, e, v, exec); err != nil {
		return nil, err
	}
	if !cs.layouts {
		m.Text = m.Title
	} else {
		if m.Subject, err = exec(t.subject, v); err != nil {
			return nil, err
		}
		if m.Subject == "" {
			m.Subject = "[" + string(sev) + "] " + m.Title
		}
		if err := cs.layout(m, e, buf); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// footer renders the footer block, or the default "source · tenant · event id". On
// channels that show footers as plain text it sees the event unescaped.
func (cs *channelSet) footer(t *typeTemplate, e *sdk.Event, v *View, exec func(*template.Template, any) (string, error)) (string, error) {
	esc := cs.esc.esc
	if cs.esc.plainFooter {
		esc = identity
	}
	if t.footer == nil {
		parts := make([]string, 0, 3)
		for _, p := range []string{e.Source, e.Tenant(), e.ID} {
			if p != "" {
				parts = append(parts, esc(p))
			}
		}
		return strings.Join(parts, " · "), nil
	}
	if !cs.esc.plainFooter {
		return exec(t.footer, v)
	}
	plain := *v
	plain.ID, plain.Type, plain.Tenant, plain.Source = e.ID, e.Type, e.Tenant(), e.Source
	plain.Data, plain.fields = v.raw, nil
	if !t.generic {
		// Render chose this template because the data fits it: it decodes the same again.
		p, _, err := sdk.DecodeDataLenient(e.Type, e.Data)
		if err != nil {
			return "", fmt.Errorf("render %s for %s with %s: %w", e.Type, cs.name, t.name, err)
		}
		plain.Data = p
	}
	plain.esc = escaper{esc: identity, unesc: identity, plainFooter: true}
	return exec(t.footer, &plain)
}

// layoutData is the dot of the email layouts.
type layoutData struct {
	*Message
	// Color is the severity's colour, "#rrggbb".
	Color string
	// Tenant, Source and ID are the event's.
	Tenant, Source, ID string
}

// layout fills the email's HTML and Text from the layouts.
func (cs *channelSet) layout(m *Message, e *sdk.Event, buf *bytes.Buffer) error {
	d := layoutData{Message: m, Color: SeverityHex(m.Severity), Tenant: e.Tenant(), Source: e.Source, ID: e.ID}
	buf.Reset()
	if err := cs.html.Execute(buf, d); err != nil {
		return fmt.Errorf("render %s for %s with %s: %w", e.Type, cs.name, cs.htmlName, err)
	}
	m.HTML = buf.String()
	buf.Reset()
	if err := cs.text.Execute(buf, d); err != nil {
		return fmt.Errorf("render %s for %s with %s: %w", e.Type, cs.name, cs.textName, err)
	}
	m.Text = strings.TrimSpace(buf.String()) + "\n"
	return nil
}

// SeverityColor returns the colour that stands for a severity, as 0xRRGGBB (Discord's embed
// color): blue for info, amber for warning, red for critical.
func SeverityColor(s sdk.Severity) int {
	switch s {
	case sdk.SeverityCritical:
		return 0xdc2626
	case sdk.SeverityWarning:
		return 0xd97706
	default:
		return 0x2563eb
	}
}

// SeverityHex returns SeverityColor as "#rrggbb" (Slack's attachment color, CSS).
func SeverityHex(s sdk.Severity) string { return fmt.Sprintf("#%06x", SeverityColor(s)) }
