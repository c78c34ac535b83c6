package obs

import (
	"strings"

	"github.com/heraldhq/herald/sdk"
)

// OtherEventType is the event_type label of every event type that is not known by name.
const OtherEventType = "other"

// TestEventType is the type of the test events Herald sends itself (a destination's test
// button); its deliveries are labelled by name.
const TestEventType = "herald.test"

// EventTypes bounds the values of the event_type label of Herald's metrics. Event types
// are chosen by producers, so a label taken from them as they come grows without bound:
// 500 invented types once took the notifications_* series from 179 to 1,745. Label keeps
// the types the fleet knows by name (the seed types, herald.test, and those the operator
// names) and folds every other into "other". An EventTypes is immutable and safe for
// concurrent use; a nil *EventTypes knows the seed types and herald.test only.
type EventTypes struct {
	// named maps each known type to itself: Label returns the map's copy, so that a label
	// never holds on to the memory of the event it came from.
	named map[string]string
}

var defaultEventTypes = NewEventTypes()

// NewEventTypes returns the seed types, herald.test, and the named types: the operator's
// exact NOTIFICATIONS_ROUTES patterns and the custom types that have templates of their
// own in NOTIFICATIONS_TEMPLATES_DIR. Patterns with glob characters (*, ?, [, \) and
// strings that are no valid event type are skipped, so the routes' patterns can be passed
// as they are: a glob names no type, and "payment.*" must not admit every type producers
// invent under it.
func NewEventTypes(named ...string) *EventTypes {
	t := &EventTypes{named: make(map[string]string, len(named)+len(sdk.KnownTypes())+1)}
	for _, typ := range sdk.KnownTypes() {
		t.named[typ] = typ
	}
	t.named[TestEventType] = TestEventType
	for _, n := range named {
		if strings.ContainsAny(n, `*?[\`) || !sdk.ValidType(n) {
			continue
		}
		t.named[n] = strings.Clone(n)
	}
	return t
}

// Label returns eventType when it is known by name, else "other". It does not allocate.
func (t *EventTypes) Label(eventType string) string {
	if t == nil {
		t = defaultEventTypes
	}
	if label, ok := t.named[eventType]; ok {
		return label
	}
	return OtherEventType
}
