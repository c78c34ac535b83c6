package channel

import (
	"errors"
	"fmt"
	"slices"
)

// Errors returned by NewRegistry and Registry.Validate; compare with errors.Is.
var (
	// ErrDuplicateChannel means two channels share a name.
	ErrDuplicateChannel = errors.New("duplicate channel name")
	// ErrUnknownChannel means no registered channel has the requested name.
	ErrUnknownChannel = errors.New("unknown channel")
)

// Registry maps channel names to channels. It is built once, explicitly (no init()
// registration), and is read-only afterwards, so it is safe for concurrent use.
type Registry struct {
	byName map[string]Channel
	names  []string // sorted
}

// NewRegistry registers the given channels under their names. A nil channel, an empty name or
// a name used twice is an error.
func NewRegistry(chs ...Channel) (*Registry, error) {
	r := &Registry{byName: make(map[string]Channel, len(chs))}
	for i, ch := range chs {
		if ch == nil {
			return nil, fmt.Errorf("new channel registry: channel %d is nil", i)
		}
		name := ch.Name()
		if name == "" {
			return nil, fmt.Errorf("new channel registry: channel %d (%T) has no name", i, ch)
		}
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("new channel registry: %w: %q", ErrDuplicateChannel, name)
		}
		r.byName[name] = ch
		r.names = append(r.names, name)
	}
	slices.Sort(r.names)
	return r, nil
}

// Get returns the channel registered under name.
func (r *Registry) Get(name string) (Channel, bool) {
	ch, ok := r.byName[name]
	return ch, ok
}

// Names returns the registered names in sorted order. The slice is the caller's to keep.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Validate checks d with the channel named by d.Channel. The error wraps ErrUnknownChannel
// if there is none, or the channel's own validation error, and never contains a secret.
func (r *Registry) Validate(d Destination) error {
	ch, ok := r.byName[d.Channel]
	if !ok {
		return fmt.Errorf("destination %s: %w %q", d, ErrUnknownChannel, d.Channel)
	}
	if err := ch.Validate(d); err != nil {
		return fmt.Errorf("destination %s: %w", d, err)
	}
	return nil
}
