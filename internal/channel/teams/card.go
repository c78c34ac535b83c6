package teams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// The envelope a Workflows webhook takes: a message with one Adaptive Card attachment.
// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook
const (
	// MessageType is the envelope's type.
	MessageType = "message"
	// CardContentType is the attachment's content type; anything else (a MessageCard) is
	// not posted.
	CardContentType = "application/vnd.microsoft.card.adaptive"
	// CardSchema is the card's $schema.
	CardSchema = "http://adaptivecards.io/schemas/adaptive-card.json"
	// CardVersion is the schema version the card needs: every element and property used here
	// exists in 1.4, which Teams renders on the desktop, the web and mobile.
	// https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference#adaptive-card
	CardVersion = "1.4"
)

// Limits, each beside its source.
const (
	// maxMessageBytes bounds the whole request body: Teams refuses messages over 28 KB, and
	// a workflow's post fails after the webhook has answered 202, so an oversize card would
	// be lost silently. 28 KB is read as 28,000 bytes, the smaller of its two readings.
	// https://learn.microsoft.com/en-us/microsoftteams/limits-specifications-teams#chat
	maxMessageBytes = 28_000

	// The rest are Herald's own caps, in runes, for a card that reads well: Adaptive Cards
	// set no length on a TextBlock or a fact (https://adaptivecards.io/explorer/TextBlock.html,
	// https://adaptivecards.io/explorer/Fact.html). fit lowers them further when the card
	// would not fit maxMessageBytes.
	maxTitleRunes     = 300
	maxSummaryRunes   = 10_000
	maxFacts          = 50
	maxFactTitleRunes = 100
	maxFactValueRunes = 2_000
	maxFooterRunes    = 500
)

// severityColor is the title's colour: green, amber or red.
// https://adaptivecards.io/explorer/TextBlock.html (color)
var severityColor = map[sdk.Severity]string{
	sdk.SeverityInfo:     "good",
	sdk.SeverityWarning:  "warning",
	sdk.SeverityCritical: "attention",
}

// message is the request body.
type message struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string `json:"contentType"`
	// ContentURL is null: the card is inline.
	ContentURL *string `json:"contentUrl"`
	Content    card    `json:"content"`
}

// card is an Adaptive Card. https://adaptivecards.io/explorer/AdaptiveCard.html
type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []element `json:"body"`
	// MSTeams widens the card to the whole message column.
	// https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format#full-width-adaptive-card
	MSTeams msteams `json:"msteams"`
}

type msteams struct {
	Width string `json:"width"`
}

// element is a TextBlock (https://adaptivecards.io/explorer/TextBlock.html) or a FactSet
// (https://adaptivecards.io/explorer/FactSet.html).
type element struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
	Facts    []fact `json:"facts,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// limits are the caps one layout of a card applies.
type limits struct {
	title, summary, facts, factTitle, factValue, footer int
}

// levels are the caps fit tries in turn, each smaller than the last. The last always fits:
// at most 4 bytes a rune, it is under 6 kB.
var levels = []limits{
	{maxTitleRunes, maxSummaryRunes, maxFacts, maxFactTitleRunes, maxFactValueRunes, maxFooterRunes},
	{maxTitleRunes, 6000, maxFacts, maxFactTitleRunes, 1000, maxFooterRunes},
	{maxTitleRunes, 4000, maxFacts, 80, 500, 300},
	{200, 2000, maxFacts, 60, 250, 200},
	{200, 1000, 40, 50, 120, 200},
	{150, 500, 30, 40, 60, 150},
	{100, 250, 20, 30, 30, 100},
	{100, 100, 10, 20, 20, 100},
}

// fit lays m out as the largest card of levels whose body fits maxMessageBytes, and returns
// its body.
func fit(m *render.Message) ([]byte, error) {
	// Clean once: every level would clean the same texts again.
	cm := *m
	cm.Title, cm.Summary, cm.Footer, cm.Type = clean(m.Title), clean(m.Summary), clean(m.Footer), clean(m.Type)
	cm.Fields = make([]render.Field, len(m.Fields))
	for i, f := range m.Fields {
		cm.Fields[i] = render.Field{Name: clean(f.Name), Value: clean(f.Value), Inline: f.Inline}
	}
	var body []byte
	for _, l := range levels {
		var err error
		if body, err = encode(buildMessage(&cm, l)); err != nil {
			return nil, err
		}
		if len(body) <= maxMessageBytes {
			return body, nil
		}
	}
	return nil, fmt.Errorf("teams: card of %d bytes does not fit %d", len(body), maxMessageBytes) // unreachable
}

// buildMessage lays m, whose texts clean has cleaned, out within l: a title coloured by severity, the summary, the fields
// as facts, and a small subtle footer with the event's time, shown in each reader's time zone.
func buildMessage(m *render.Message, l limits) message {
	var body []element
	body = append(body, element{
		Type: "TextBlock", Text: title(m, l.title), Size: "medium", Weight: "bolder",
		Color: severityColor[m.Severity], Wrap: true,
	})
	if s := strings.TrimSpace(truncate(m.Summary, l.summary)); s != "" && s != ellipsis {
		body = append(body, element{Type: "TextBlock", Text: s, Wrap: true})
	}
	if facts := buildFacts(m.Fields, l); len(facts) > 0 {
		body = append(body, element{Type: "FactSet", Facts: facts})
	}
	if f := footer(m, l.footer); f != "" {
		body = append(body, element{Type: "TextBlock", Text: f, Size: "small", IsSubtle: true, Wrap: true, Spacing: "medium"})
	}
	return message{
		Type: MessageType,
		Attachments: []attachment{{
			ContentType: CardContentType,
			Content: card{
				Schema: CardSchema, Type: "AdaptiveCard", Version: CardVersion, Body: body,
				MSTeams: msteams{Width: "Full"},
			},
		}},
	}
}

// title is the headline on one line; the type's name stands in for a blank one, since a
// TextBlock needs text.
func title(m *render.Message, max int) string {
	t := strings.TrimSpace(oneLine(m.Title))
	if t == "" {
		t = strings.TrimSpace(EscapeMarkdown(oneLine(m.Type)))
	}
	if t == "" {
		t = "Herald notification"
	}
	return truncate(t, max)
}

// buildFacts turns fields into facts within l, folding those beyond l.facts into one last
// fact. Fields with neither name nor value are dropped.
func buildFacts(fs []render.Field, l limits) []fact {
	out := make([]fact, 0, min(len(fs), l.facts))
	for i, f := range fs {
		if len(out) == l.facts-1 && len(fs)-i > 1 {
			out = append(out, fact{Title: "More", Value: "…and " + strconv.Itoa(len(fs)-i) + " more fields"})
			break
		}
		name := strings.TrimSpace(truncate(oneLine(f.Name), l.factTitle))
		value := strings.TrimSpace(truncate(f.Value, l.factValue))
		if value == ellipsis {
			value = ""
		}
		if name == "" && value == "" {
			continue
		}
		out = append(out, fact{Title: name, Value: value})
	}
	return out
}

// footer is the event's time, with Adaptive Cards' DATE and TIME functions so that each
// reader sees it in their own time zone, and the rendered footer.
// https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features#datetime-formatting-and-localization
func footer(m *render.Message, max int) string {
	var parts []string
	if !m.Time.IsZero() && m.Time.Year() >= 1 && m.Time.Year() <= 9999 {
		ts := m.Time.UTC().Format(time.RFC3339)
		parts = append(parts, "{{DATE("+ts+", SHORT)}} {{TIME("+ts+")}}")
	}
	if f := strings.TrimSpace(oneLine(m.Footer)); f != "" {
		parts = append(parts, truncate(f, max))
	}
	return strings.Join(parts, " · ")
}

// encode marshals p as compact JSON, leaving '<', '>' and '&' as they are (\u003c would only
// make previews and golden files harder to read).
func encode(p message) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode teams message: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
