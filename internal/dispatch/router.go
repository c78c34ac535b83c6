package dispatch

import (
	"sync"
	"sync/atomic"

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
	cache  sync.Map     // event type -> []channel.Destination
	cached atomic.Int64 // entries stored in cache since it was last cleared
}

// maxCachedTypes bounds the router's cache. Producers choose event types, and one that
// invents a type per event must not grow the dispatcher's memory with them. Past this many
// types the cache is cleared and refills with the types in use: a fleet's real types number
// in the tens, and routing a type anew costs a few microseconds.
const maxCachedTypes = 1024

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
	if r.cached.Add(1) > maxCachedTypes {
		// Clear, not evict one by one: the cost is one re-route per type in use, and the
		// reads on the hot path stay lock-free. Concurrent stores may leave a few more
		// than the bound until the next clear.
		r.cache.Clear()
		r.cached.Store(1)
	}
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
