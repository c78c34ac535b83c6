package pagerdutytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf16"
)

// Limits of an Events API v2 event.
const (
	// MaxSummaryChars bounds payload.summary; PagerDuty refuses a longer one.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	MaxSummaryChars = 1024
	// MaxDedupKeyChars bounds dedup_key.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	MaxDedupKeyChars = 255
	// MaxEventBytes bounds the whole event.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	// https://github.com/prometheus/alertmanager/issues/2178 (PagerDuty announcing the limit)
	MaxEventBytes = 512 * 1000
	// RoutingKeyLen is the length of an integration's routing key.
	// https://developer.pagerduty.com/docs/events-api-v2/overview/
	RoutingKeyLen = 32
	// EnqueuePath is where events are posted.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	EnqueuePath = "/v2/enqueue"
)

// The event actions and severities PagerDuty accepts.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
var (
	Actions    = []string{"trigger", "acknowledge", "resolve"}
	Severities = []string{"critical", "error", "warning", "info"}
)

// Event is an Events API v2 event as posted.
type Event struct {
	RoutingKey  string          `json:"routing_key"`
	EventAction string          `json:"event_action"`
	DedupKey    string          `json:"dedup_key,omitempty"`
	Payload     *Payload        `json:"payload,omitempty"`
	Client      string          `json:"client,omitempty"`
	ClientURL   string          `json:"client_url,omitempty"`
	Links       json.RawMessage `json:"links,omitempty"`
	Images      json.RawMessage `json:"images,omitempty"`
}

// Payload is the payload of a trigger event.
type Payload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp,omitempty"`
	Component     string          `json:"component,omitempty"`
	Group         string          `json:"group,omitempty"`
	Class         string          `json:"class,omitempty"`
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
}

// Error is an error answer of the Events API: the HTTP status and the JSON body
// {"status","message","errors"}.
// https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
type Error struct {
	// HTTPStatus is the status of the answer.
	HTTPStatus int `json:"-"`
	// Status is PagerDuty's short name for the error ("invalid event").
	Status string `json:"status"`
	// Message describes it ("Event object is invalid").
	Message string `json:"message"`
	// Errors are the specific problems.
	Errors []string `json:"errors,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("HTTP %d: %s: %s (%s)", e.HTTPStatus, e.Status, e.Message, strings.Join(e.Errors, "; "))
}

// Write answers w with the error as PagerDuty does: its status and JSON body.
func (e *Error) Write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTPStatus)
	_ = json.NewEncoder(w).Encode(e)
}

// invalid is PagerDuty's 400 for an event that breaks a rule; the problems are worded as
// PagerDuty words them where its answers are known ("Length of 'routing_key' is incorrect
// (should be 32 characters)", "'summary' is too long (maiximum is 1024 characters)", with
// PagerDuty's own typo).
func invalid(problems ...string) *Error {
	return &Error{HTTPStatus: http.StatusBadRequest, Status: "invalid event", Message: "Event object is invalid", Errors: problems}
}

// unrecognized is PagerDuty's 400 for a body that is not a JSON event object.
// https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty
func unrecognized() *Error {
	return &Error{HTTPStatus: http.StatusBadRequest, Status: "Unrecognized object", Message: "Event object format is unrecognized", Errors: []string{"JSON parse error"}}
}

// Chars counts s as the limits are counted here: in UTF-16 code units, the strictest
// reading of PagerDuty's "characters" (an emoji counts two).
func Chars(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // 1 or 2: ranging over a string never yields a surrogate
	}
	return n
}

// CheckRequest checks one request against the Events API's documented contract: a POST of
// application/json to /v2/enqueue (under any base path) whose body ValidateEvent accepts.
// Its error is an *Error with the status and body PagerDuty answers.
func CheckRequest(r *http.Request, body []byte) (*Event, error) {
	if !strings.HasSuffix(r.URL.Path, EnqueuePath) {
		return nil, &Error{HTTPStatus: http.StatusNotFound, Status: "not found", Message: "Not Found"}
	}
	if r.Method != http.MethodPost {
		return nil, &Error{HTTPStatus: http.StatusMethodNotAllowed, Status: "method not allowed", Message: "Method Not Allowed"}
	}
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (Content-Type:
	// application/json)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, unrecognized()
	}
	return ValidateEvent(body)
}

// ValidateEvent decodes body and checks it against the rules of an event
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/,
// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/): at most 512 kB of JSON;
// a routing key of 32 alphanumeric characters; an event action of trigger, acknowledge or
// resolve; a dedup_key of at most 255 characters, required to acknowledge or resolve; and for
// a trigger a payload with a summary of 1 to 1,024 characters, a source, a severity of
// critical, error, warning or info, an ISO 8601 timestamp if any, custom_details an object if
// any, and a client_url that is a URL if any. Its error is an *Error listing every problem.
func ValidateEvent(body []byte) (*Event, error) {
	if len(body) > MaxEventBytes {
		// The limit is documented; the wording of PagerDuty's answer to it is not.
		return nil, invalid(fmt.Sprintf("Event object is too large (%d bytes, maximum is %d)", len(body), MaxEventBytes))
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil || dec.More() {
		return nil, unrecognized()
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	switch {
	case ev.RoutingKey == "":
		add("'routing_key' is missing or blank")
	default:
		if len(ev.RoutingKey) != RoutingKeyLen {
			add("Length of 'routing_key' is incorrect (should be %d characters)", RoutingKeyLen)
		}
		if strings.IndexFunc(ev.RoutingKey, func(r rune) bool { return !isAlnum(r) }) >= 0 {
			add("'routing_key' cannot contain non-alphanumeric characters.")
		}
	}
	if !contains(Actions, ev.EventAction) {
		add("'event_action' is invalid (must be one of %s)", strings.Join(Actions, ", "))
	}
	if Chars(ev.DedupKey) > MaxDedupKeyChars {
		add("'dedup_key' is too long (maximum is %d characters)", MaxDedupKeyChars)
	}
	if ev.EventAction != "trigger" && ev.EventAction != "" && ev.DedupKey == "" {
		add("'dedup_key' is missing or blank")
	}
	if ev.EventAction == "trigger" {
		checkPayload(ev.Payload, add)
		if ev.ClientURL != "" {
			if u, err := url.Parse(ev.ClientURL); err != nil || u.Scheme == "" || u.Host == "" {
				add("'client_url' is not a valid URL")
			}
		}
	}
	if len(problems) > 0 {
		return &ev, invalid(problems...)
	}
	return &ev, nil
}

// checkPayload applies the rules of a trigger's payload.
func checkPayload(p *Payload, add func(string, ...any)) {
	if p == nil {
		add("'payload' is missing or blank")
		return
	}
	switch {
	case strings.TrimSpace(p.Summary) == "":
		add("'summary' is missing or blank")
	case Chars(p.Summary) > MaxSummaryChars:
		// https://github.com/prometheus/alertmanager/issues/1700 quotes this answer.
		add("'summary' is too long (maiximum is %d characters)", MaxSummaryChars)
	}
	if strings.TrimSpace(p.Source) == "" {
		add("'source' is missing or blank")
	}
	if !contains(Severities, p.Severity) {
		add("'severity' is invalid (must be one of %s)", strings.Join(Severities, ", "))
	}
	if p.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
			add("'timestamp' is not a valid ISO 8601 date-time")
		}
	}
	if len(p.CustomDetails) > 0 && !bytes.HasPrefix(bytes.TrimSpace(p.CustomDetails), []byte("{")) && string(bytes.TrimSpace(p.CustomDetails)) != "null" {
		add("'custom_details' must be an object")
	}
}

func isAlnum(r rune) bool {
	return ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
