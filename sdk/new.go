package sdk

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ContentTypeJSON is the datacontenttype of every event the SDK builds.
const ContentTypeJSON = "application/json"

// fallbackSource is the source of events built by a program without a usable name.
const fallbackSource = "herald-sdk"

// defaultSource is computed once: os.Args does not change while a program runs.
var defaultSource = programName()

func programName() string {
	if len(os.Args) == 0 {
		return fallbackSource
	}
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	if name == "" || name == "." || name == string(filepath.Separator) {
		return fallbackSource
	}
	return name
}

// DefaultSource returns the source of events built without [WithSource]: the running
// program's name (os.Args[0] without its directory or ".exe"), such as "billing", which
// CloudEvents accepts as a relative URI reference; "herald-sdk" when the program has no
// name. Services that run under a generic name should pass WithSource.
func DefaultSource() string { return defaultSource }

// Option changes one attribute of an event built by [New] or a typed constructor.
type Option func(*eventOptions)

type eventOptions struct {
	source   string
	id       string
	idSet    bool
	severity Severity
	time     time.Time
	timeSet  bool
}

// WithSource sets the event's source, the CloudEvents attribute naming the producer (for
// example "billing" or "https://api.example.com/nodes"). It defaults to [DefaultSource].
func WithSource(source string) Option {
	return func(o *eventOptions) { o.source = source }
}

// WithID sets the event's id instead of a new ULID. Use it when the occurrence already has a
// stable identifier (a payment id, a provider's event id): publishing twice with the same id
// is then deduplicated by Herald even across process restarts.
func WithID(id string) Option {
	return func(o *eventOptions) { o.id, o.idSet = id, true }
}

// WithSeverity overrides the severity that the event's type has by default (see
// [DefaultSeverity]). The empty severity leaves the attribute out.
func WithSeverity(s Severity) Option {
	return func(o *eventOptions) { o.severity = s }
}

// WithTime sets when the occurrence happened; the default is the moment the event is built.
// The time is stored in UTC. A zero time leaves the attribute out.
func WithTime(t time.Time) Option {
	return func(o *eventOptions) { o.time, o.timeSet = t.UTC(), true }
}

// New builds a complete, valid event of any type. Data is the payload: nil for none, a
// json.RawMessage used as is, or any value that encoding/json can encode. For one of the
// known types (see [KnownTypes]) the data must decode into the type's payload struct and
// pass its checks; prefer the typed constructors such as [NewPaymentFailed] for those.
//
// The event gets a new ULID id, specversion 1.0, the [DefaultSource], the current time in
// UTC, datacontenttype application/json when it has data, the given tenant (empty for
// none) and the type's default severity; opts change any of these. Any problem is
// returned as a *ValidationError naming the field.
func New(eventType, tenant string, data any, opts ...Option) (*Event, error) {
	raw, err := encodeData(data)
	if err != nil {
		return nil, err
	}
	e, err := build(eventType, tenant, raw, opts)
	if err != nil {
		return nil, err
	}
	if p, ok := data.(Payload); ok {
		if p.EventType() != eventType {
			return nil, &ValidationError{"type", fmt.Sprintf("%q does not match the data, a %s payload", eventType, p.EventType())}
		}
		err = p.Validate()
	} else {
		err = ValidateData(eventType, raw)
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// newTyped is what every typed constructor does: the type comes from the payload.
func newTyped(tenant string, p Payload, opts []Option) (*Event, error) {
	return New(p.EventType(), tenant, p, opts...)
}

func encodeData(data any) (json.RawMessage, error) {
	switch d := data.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return d, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, &ValidationError{"data", "cannot be encoded as JSON: " + err.Error()}
	}
	return b, nil
}

// build fills the envelope and validates it.
func build(eventType, tenant string, data json.RawMessage, opts []Option) (*Event, error) {
	o := eventOptions{source: defaultSource, severity: DefaultSeverity(eventType)}
	for _, opt := range opts {
		opt(&o)
	}
	if !o.idSet {
		id, err := NewID()
		if err != nil {
			return nil, err
		}
		o.id = id
	}
	if !o.timeSet {
		o.time = time.Now().UTC()
	}
	e := &Event{
		SpecVersion: SpecVersion,
		ID:          o.id,
		Source:      o.source,
		Type:        eventType,
		Time:        o.time,
		Data:        data,
		TenantID:    tenant,
		Severity:    o.severity,
	}
	if len(data) > 0 {
		e.DataContentType = ContentTypeJSON
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}
