package teamstest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits and constants of the contract, each beside its source.
const (
	// MaxMessageBytes bounds a message: Teams refuses messages over 28 KB. The fake reads
	// 28 KB as 28,000 bytes, the stricter of its two readings.
	// https://learn.microsoft.com/en-us/microsoftteams/limits-specifications-teams#chat
	MaxMessageBytes = 28_000
	// CardContentType is the only attachment content type a workflow posts as an Adaptive Card.
	// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook
	CardContentType = "application/vnd.microsoft.card.adaptive"
	// connectorCardType is the content type of the retired Office 365 connector card.
	// https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference#office-365-connector-card
	connectorCardType = "application/vnd.microsoft.teams.card.o365connector"
)

// Error codes the fake answers. The first four are the Logic Apps codes a workflow trigger
// answers; the others stand for failures Teams does not report to the sender (see the
// package documentation) and are the fake's own.
const (
	// CodeWorkflowNotFound: no workflow at this path, or it was deleted (404).
	CodeWorkflowNotFound = "WorkflowNotFound"
	// CodeAuthorizationRequired: the URL has no sig parameter (401).
	CodeAuthorizationRequired = "DirectApiAuthorizationRequired"
	// CodeInvalidSignature: the sig parameter is not the workflow's (401).
	CodeInvalidSignature = "DirectApiInvalidAuthorizationSignature"
	// CodeMissingAPIVersion: the URL has no api-version parameter (400).
	// https://learn.microsoft.com/en-us/rest/api/azure/#request-uri
	CodeMissingAPIVersion = "MissingApiVersionParameter"
	// CodeInvalidCard (the fake's own, 400): the body is not a message with a valid Adaptive
	// Card.
	CodeInvalidCard = "InvalidAdaptiveCard"
	// CodeMessageCard (the fake's own, 400): the body is a retired Office 365 connector
	// MessageCard, which a workflow does not post.
	CodeMessageCard = "MessageCardNotSupported"
	// CodeTooLarge (the fake's own, 413): the message is over MaxMessageBytes.
	CodeTooLarge = "MessageSizeExceeded"
	// CodeThrottled (429): the workflow's rate limit is exhausted.
	CodeThrottled = "TooManyRequests"
)

// APIError is a refusal: the HTTP status and the Logic Apps error body.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Code and Message are the body's error.code and error.message.
	Code    string
	Message string
	// Problems lists what is wrong with a card, one entry per problem.
	Problems []string
}

// Error describes the refusal on one line.
func (e *APIError) Error() string {
	s := "HTTP " + strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Message
	if len(e.Problems) > 0 {
		s += ": " + strings.Join(e.Problems, "; ")
	}
	return s
}

// Body returns the error as a workflow trigger answers it.
func (e *APIError) Body() []byte {
	msg := e.Message
	if len(e.Problems) > 0 {
		msg += ": " + strings.Join(e.Problems, "; ")
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.Code, "message": msg}})
	return b
}

// Payload is a decoded message body.
type Payload struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
	// Warnings lists what Teams accepts but probably renders wrongly: markdown left open by a
	// cut, a lone trailing backslash, a {{ that spells no date function, a broken link.
	Warnings []string `json:"-"`
}

// Attachment is one attachment of a message.
type Attachment struct {
	ContentType string `json:"contentType"`
	ContentURL  any    `json:"contentUrl"`
	Content     *Card  `json:"content"`
}

// Card is an Adaptive Card. https://adaptivecards.io/explorer/AdaptiveCard.html
type Card struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []Element      `json:"body"`
	MSTeams map[string]any `json:"msteams"`
}

// Element is one element of a card's body. Only the properties of TextBlock and FactSet are
// decoded.
type Element struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Size     string `json:"size"`
	Weight   string `json:"weight"`
	Color    string `json:"color"`
	IsSubtle bool   `json:"isSubtle"`
	Wrap     bool   `json:"wrap"`
	Facts    []Fact `json:"facts"`
}

// Fact is one fact of a FactSet. https://adaptivecards.io/explorer/Fact.html
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Card returns the first attachment's card, or nil.
func (p *Payload) Card() *Card {
	if p == nil || len(p.Attachments) == 0 {
		return nil
	}
	return p.Attachments[0].Content
}

// Title returns the text of the card's first TextBlock.
func (p *Payload) Title() string {
	if c := p.Card(); c != nil {
		for _, e := range c.Body {
			if e.Type == "TextBlock" {
				return e.Text
			}
		}
	}
	return ""
}

// Facts returns every fact of the card, in order.
func (p *Payload) Facts() []Fact {
	var out []Fact
	if c := p.Card(); c != nil {
		for _, e := range c.Body {
			out = append(out, e.Facts...)
		}
	}
	return out
}

// AllText joins every text of the card: TextBlocks, fact titles and values.
func (p *Payload) AllText() string {
	var b strings.Builder
	if c := p.Card(); c != nil {
		for _, e := range c.Body {
			b.WriteString(e.Text)
			b.WriteByte('\n')
			for _, f := range e.Facts {
				b.WriteString(f.Title + "\n" + f.Value + "\n")
			}
		}
	}
	return b.String()
}

// CheckRequest checks one request to a workflow, minus its URL: a POST of application/json
// (https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook)
// whose body ValidatePayload accepts. Warnings are ignored; see ValidatePayload.
func CheckRequest(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost {
		return &APIError{Status: http.StatusMethodNotAllowed, Code: CodeInvalidCard, Message: "method " + r.Method + ", want POST"}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidCard,
			Message: fmt.Sprintf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))}
	}
	_, err := ValidatePayload(body)
	return err
}

// ValidatePayload checks a message body against the documented envelope and Adaptive Card
// schema and returns the decoded payload. A payload Teams would not post yields an *APIError.
func ValidatePayload(body []byte) (*Payload, error) {
	if len(body) > MaxMessageBytes {
		return nil, &APIError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Message: fmt.Sprintf("the message is %d bytes, more than %d", len(body), MaxMessageBytes)}
	}
	invalid := func(problems ...string) error {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidCard, Message: "the message cannot be posted", Problems: problems}
	}
	if !utf8.Valid(body) {
		return nil, invalid("body is not valid UTF-8")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, invalid("body is not a JSON object: " + err.Error())
	}
	// The retired connector card: {"@type":"MessageCard","@context":…,"sections":…}.
	// https://learn.microsoft.com/en-us/outlook/actionable-messages/message-card-reference
	if _, ok := top["@type"]; ok {
		return nil, &APIError{Status: http.StatusBadRequest, Code: CodeMessageCard,
			Message: "Office 365 connector MessageCards are retired; post a message with an Adaptive Card attachment"}
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, invalid("body does not decode: " + err.Error())
	}
	v := &validator{}
	if p.Type != "message" {
		v.fail(fmt.Sprintf("type is %q, want \"message\"", p.Type))
	}
	if len(p.Attachments) == 0 {
		v.fail("attachments is missing or empty")
	}
	var atts []map[string]json.RawMessage
	_ = json.Unmarshal(top["attachments"], &atts)
	for i, a := range p.Attachments {
		path := fmt.Sprintf("attachments[%d]", i)
		switch {
		case a.ContentType == connectorCardType:
			return nil, &APIError{Status: http.StatusBadRequest, Code: CodeMessageCard,
				Message: path + " is a retired Office 365 connector card; use " + CardContentType}
		case a.ContentType != CardContentType:
			v.fail(fmt.Sprintf("%s.contentType is %q, want %q", path, a.ContentType, CardContentType))
			continue
		case a.Content == nil:
			v.fail(path + ".content is missing")
			continue
		}
		var raw map[string]json.RawMessage
		if i < len(atts) {
			_ = json.Unmarshal(atts[i]["content"], &raw)
		}
		v.card(path+".content", a.Content, raw)
	}
	if len(v.problems) > 0 {
		return nil, invalid(v.problems...)
	}
	p.Warnings = v.warnings
	return &p, nil
}

// validator collects problems and warnings.
type validator struct {
	problems []string
	warnings []string
}

func (v *validator) fail(p string) { v.problems = append(v.problems, p) }
func (v *validator) warn(w string) { v.warnings = append(v.warnings, w) }

// version is a schema version Teams renders: 1.0 to 1.5.
// https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference#adaptive-card
var version = regexp.MustCompile(`^1\.[0-5]$`)

// knownElements are the card elements of schema 1.5.
// https://adaptivecards.io/explorer/
var knownElements = []string{
	"TextBlock", "RichTextBlock", "Image", "ImageSet", "Media", "FactSet", "Container",
	"ColumnSet", "ActionSet", "Table",
}

// The enumerations of TextBlock's properties, which Adaptive Cards reads case-insensitively.
// https://adaptivecards.io/explorer/TextBlock.html
var (
	sizes   = []string{"default", "small", "medium", "large", "extralarge"}
	weights = []string{"default", "lighter", "bolder"}
	colors  = []string{"default", "dark", "light", "accent", "good", "warning", "attention"}
	spacing = []string{"default", "none", "small", "medium", "large", "extralarge", "padding"}
)

func (v *validator) card(path string, c *Card, raw map[string]json.RawMessage) {
	if c.Type != "AdaptiveCard" {
		v.fail(fmt.Sprintf("%s.type is %q, want \"AdaptiveCard\"", path, c.Type))
	}
	if !version.MatchString(c.Version) {
		v.fail(fmt.Sprintf("%s.version is %q, want 1.0 to 1.5", path, c.Version))
	}
	if len(c.Body) == 0 {
		v.fail(path + ".body is missing or empty: the card would show nothing")
	}
	var elems []map[string]json.RawMessage
	_ = json.Unmarshal(raw["body"], &elems)
	for i, e := range c.Body {
		ep := fmt.Sprintf("%s.body[%d]", path, i)
		var er map[string]json.RawMessage
		if i < len(elems) {
			er = elems[i]
		}
		v.element(ep, e, er)
	}
}

func (v *validator) element(path string, e Element, raw map[string]json.RawMessage) {
	if !slices.Contains(knownElements, e.Type) {
		v.fail(fmt.Sprintf("%s.type %q is not an Adaptive Card element", path, e.Type))
		return
	}
	for name, allowed := range map[string][]string{"size": sizes, "weight": weights, "color": colors, "spacing": spacing} {
		r, ok := raw[name]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(r, &s) != nil || !slices.Contains(allowed, strings.ToLower(s)) {
			v.fail(fmt.Sprintf("%s.%s is %s, want one of %s", path, name, r, strings.Join(allowed, ", ")))
		}
	}
	switch e.Type {
	case "TextBlock":
		// https://adaptivecards.io/explorer/TextBlock.html: text is required.
		if strings.TrimSpace(e.Text) == "" {
			v.fail(path + ".text is missing or blank")
		}
		v.markdown(path+".text", e.Text)
	case "FactSet":
		// https://adaptivecards.io/explorer/FactSet.html: facts is required; each fact's title
		// and value are required strings (https://adaptivecards.io/explorer/Fact.html).
		var facts []map[string]json.RawMessage
		if json.Unmarshal(raw["facts"], &facts) != nil || len(facts) == 0 {
			v.fail(path + ".facts is missing or empty")
		}
		for i, f := range facts {
			for _, k := range []string{"title", "value"} {
				var s string
				if json.Unmarshal(f[k], &s) != nil {
					v.fail(fmt.Sprintf("%s.facts[%d].%s is missing or not a string", path, i, k))
				}
			}
		}
		for i, f := range e.Facts {
			v.markdown(fmt.Sprintf("%s.facts[%d].title", path, i), f.Title)
			v.markdown(fmt.Sprintf("%s.facts[%d].value", path, i), f.Value)
		}
	}
}

// dateFunc is a well-formed date or time function; anything else between {{ and }} is shown
// as it is. https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features#datetime-function-rules
var dateFunc = regexp.MustCompile(`^\{\{(DATE\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})(, ?(SHORT|LONG|COMPACT))?\)|TIME\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\))\}\}`)

// markdown warns about markdown that Teams would render wrongly: an odd number of bold
// markers, a lone trailing backslash, a {{ that is no date function, a link cut in half.
// Backslash-escaped characters are literal (CommonMark's escapes).
// https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features
func (v *validator) markdown(path, s string) {
	bold, link := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i == len(s)-1 {
				v.warn(path + ": ends in a lone backslash")
			}
			i++
		case c == '*' && i+1 < len(s) && s[i+1] == '*':
			bold++
			i++
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			if m := dateFunc.FindString(s[i:]); m != "" {
				i += len(m) - 1
			} else {
				v.warn(fmt.Sprintf("%s: %q at byte %d is not a date or time function", path, "{{", i))
				i++
			}
		case c == '[':
			link = true
		case c == ']' && link && i+1 < len(s) && s[i+1] == '(':
			if !strings.Contains(s[i:], ")") {
				v.warn(fmt.Sprintf("%s: link at byte %d has no end", path, i))
			}
			link = false
		}
	}
	if bold%2 == 1 {
		v.warn(path + ": bold (**) left open")
	}
}
