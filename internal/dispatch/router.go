package dispatch

import (
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/config"
)

// Router decides which destinations an event type goes to. Operator rules come from
// configuration: every rule whose pattern matches applies, and a target names a channel (all
// of its destinations) or one destination. Without rules, every destination gets every event.
// Results are cached per event type; a Router is safe for concurrent use.
type Router struct {
	routes []config.Route
	dests  []channel.Destination
	cache  sync.Map // event type -> []channel.Destination
}

// NewRouter builds a router over the operator's destinations and rules.
func NewRouter(dests []channel.Destination, routes []config.Route) *Router {
	return &Router{routes: routes, dests: dests}
}

// Route returns the destinations of an event type, each once, in configuration order.
func (r *Router) Route(eventType string) []channel.Destination {
	if v, ok := r.cache.Load(eventType); ok {
		return v.([]channel.Destination)
	}
	out := r.route(eventType)
	r.cache.Store(eventType, out)
	return out
}

func (r *Router) route(eventType string) []channel.Destination {
	if r.routes == nil {
		return r.dests
	}
	want := map[string]bool{}
	for _, rt := range r.routes {
		if !rt.Matches(eventType) {
			continue
		}
		for _, t := range rt.Targets {
			want[t] = true
		}
	}
	var out []channel.Destination
	for _, d := range r.dests {
		if want[d.ID] || want[d.Channel] {
			out = append(out, d)
		}
	}
	return out
}
