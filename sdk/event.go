package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SpecVersion is the only CloudEvents version Herald accepts.
const SpecVersion = "1.0"

// DefaultMaxEventBytes is the largest encoded event Herald accepts by default. The dispatcher
// dead-letters larger events, and Publish refuses them before they leave the process.
const DefaultMaxEventBytes = 1 << 20

// Severity says how urgent an event is. Channels use it for colour, priority and routing.
type Severity string

// The severities an event may carry.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Valid reports whether s is one of the known severities.
func (s Severity) Valid() bool {
	switch s {
	case SeverityInfo, SeverityWarning, SeverityCritical:
		return true
	}
	return false
}

// Event is a CloudEvents 1.0 event in JSON structured mode, with Herald's two extensions.
// Data holds the raw JSON payload so that an event passes through Herald without being
// re-encoded.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            time.Time       `json:"time,omitzero"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	TenantID        string          `json:"tenantid,omitempty"`
	Severity        Severity        `json:"severity,omitempty"`
}

// ValidationError says which field of an event is wrong and why. Errors returned by
// Validate, Decode and Publish wrap it, so callers can use errors.As to find the field.
type ValidationError struct {
	// Field is the JSON name of the offending attribute ("id", "type", "tenantid"), "data"
	// for the payload as a whole or its size, "data.<name>" for one payload field, "json"
	// for a body that is not a JSON object, "event" for a nil event.
	Field string
	// Reason says what is wrong, for people.
	Reason string
}

// Error formats the error as "invalid event: <field>: <reason>".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid event: %s: %s", e.Field, e.Reason)
}

// ErrInvalidEvent is matched by every ValidationError with errors.Is.
var ErrInvalidEvent = errors.New("invalid event")

// Is makes errors.Is(err, ErrInvalidEvent) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidEvent }

// tokenByte reports whether c may appear in a subject token: letters, digits, '-' and '_'
// (no dots, spaces or wildcards). Hand-written rather than a regular expression: the
// dispatcher and every worker check each event, and a regexp match cost more than the rest
// of the validation together.
func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// ValidTenant reports whether tenant can stand as one subject token.
func ValidTenant(tenant string) bool {
	if len(tenant) == 0 || len(tenant) > 64 {
		return false
	}
	for i := 0; i < len(tenant); i++ {
		if !tokenByte(tenant[i]) {
			return false
		}
	}
	return true
}

// ValidType reports whether t is a valid event type: dot-separated subject tokens.
func ValidType(t string) bool {
	if len(t) == 0 || len(t) > 128 {
		return false
	}
	empty := true // the current token is empty so far
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '.':
			if empty {
				return false
			}
			empty = true
		case tokenByte(c):
			empty = false
		default:
			return false
		}
	}
	return !empty
}

// Validate checks the fields Herald relies on and returns a *ValidationError naming the
// first field that is wrong.
func (e *Event) Validate() error {
	if err := e.validateAttributes(); err != nil {
		return err
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return &ValidationError{"data", "is not valid JSON"}
	}
	return nil
}

// validateAttributes checks everything Validate does but the payload's JSON syntax, which
// json.Unmarshal has already checked when the event was decoded.
func (e *Event) validateAttributes() error {
	switch {
	case e.SpecVersion != SpecVersion:
		return &ValidationError{"specversion", fmt.Sprintf("must be %q, got %q", SpecVersion, e.SpecVersion)}
	case e.ID == "":
		return &ValidationError{"id", "is required"}
	case len(e.ID) > 256:
		return &ValidationError{"id", "is longer than 256 bytes"}
	case strings.ContainsAny(e.ID, ". \t\r\n"):
		// The id is part of every webhook-id, and Standard Webhooks signs "id.timestamp.body".
		return &ValidationError{"id", fmt.Sprintf("%q contains a '.' or white space, which a webhook-id may not", e.ID)}
	case strings.ContainsFunc(e.ID, isControl):
		// No HTTP header can carry a control character, and the id travels in webhook-id.
		return &ValidationError{"id", fmt.Sprintf("%q contains a control character, which a webhook-id header cannot carry", e.ID)}
	case e.Source == "":
		return &ValidationError{"source", "is required"}
	case e.Type == "":
		return &ValidationError{"type", "is required"}
	case !ValidType(e.Type):
		return &ValidationError{"type", fmt.Sprintf("%q is not dot-separated tokens of letters, digits, '-' and '_'", e.Type)}
	case e.TenantID != "" && !ValidTenant(e.TenantID):
		return &ValidationError{"tenantid", fmt.Sprintf("%q is not a single token of letters, digits, '-' and '_'", e.TenantID)}
	case e.Severity != "" && !e.Severity.Valid():
		return &ValidationError{"severity", fmt.Sprintf("%q is not info, warning or critical", e.Severity)}
	}
	return nil
}

// Decode parses and validates one encoded event.
func Decode(b []byte) (*Event, error) {
	e, err := decodeJSON[Event](b)
	if err != nil {
		return nil, &ValidationError{"json", err.Error()}
	}
	// Unmarshal has checked that the whole body, data included, is valid JSON.
	if err := e.validateAttributes(); err != nil {
		return nil, err
	}
	return &e, nil
}

// Tenant returns the event's tenant, or "_" for events that belong to no tenant. It is the
// tenant token of every subject the event travels on.
func (e *Event) Tenant() string {
	if e.TenantID == "" {
		return "_"
	}
	return e.TenantID
}

// Subject returns the subject the event is published on: <prefix>.events.<tenant|_>.<type>.
func (e *Event) Subject(prefix string) string {
	return prefix + ".events." + e.Tenant() + "." + e.Type
}

// isControl reports whether r is an ASCII control character (or DEL).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
