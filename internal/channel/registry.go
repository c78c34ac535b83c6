package channel

import (
	"errors"
	"fmt"
	"slices"
)

// Errors of the registry.
var (
	// ErrDuplicateChannel is returned when two providers share a name.
	ErrDuplicateChannel = errors.New("duplicate channel name")
	// ErrUnknownChannel is returned for a destination whose channel is not registered.
	ErrUnknownChannel = errors.New("unknown channel")
)

// Registry holds the channels Herald knows: each provider and the sender built from it. It
// is built once at start and only read afterwards, so it is safe for concurrent use.
type Registry struct {
	providers map[string]Provider
	channels  map[string]Channel
	names     []string // sorted
}

// NewRegistry builds every provider's sender with deps (see Build). Names must be unique
// and non-empty.
func NewRegistry(deps Deps, providers ...Provider) (*Registry, error) {
	r := &Registry{providers: make(map[string]Provider, len(providers)), channels: make(map[string]Channel, len(providers))}
	for i, p := range providers {
		if p == nil {
			return nil, fmt.Errorf("new channel registry: provider %d is nil", i)
		}
		name := p.Name()
		if name == "" {
			return nil, fmt.Errorf("new channel registry: provider %d (%T) has no name", i, p)
		}
		if _, dup := r.providers[name]; dup {
			return nil, fmt.Errorf("new channel registry: %w: %q", ErrDuplicateChannel, name)
		}
		ch, err := Build(p, deps)
		if err != nil {
			return nil, fmt.Errorf("new channel registry: %w", err)
		}
		r.providers[name] = p
		r.channels[name] = ch
		r.names = append(r.names, name)
	}
	slices.Sort(r.names)
	return r, nil
}

// Get returns the sender of the named channel.
func (r *Registry) Get(name string) (Channel, bool) {
	ch, ok := r.channels[name]
	return ch, ok
}

// Provider returns the named channel's provider.
func (r *Registry) Provider(name string) (Provider, bool) {
	p, ok := r.providers[name]
	return p, ok
}

// Names returns the registered channel names, sorted. The slice is the caller's.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Validate checks d against its channel: ErrUnknownChannel if the channel is not registered,
// else the channel's own Validate.
func (r *Registry) Validate(d Destination) error {
	ch, ok := r.channels[d.Channel]
	if !ok {
		return fmt.Errorf("destination %s: %w %q", d, ErrUnknownChannel, d.Channel)
	}
	if err := ch.Validate(d); err != nil {
		return fmt.Errorf("destination %s: %w", d, err)
	}
	return nil
}
