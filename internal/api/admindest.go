package api

import (
	"net/http"

	"github.com/heraldhq/herald/internal/control"
)

// operatorDestinations answers GET /admin/destinations: the operator's own destinations,
// from configuration, masked. They are read-only here: variables set them.
func (a *API) operatorDestinations(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	if a.deps.Operator == nil {
		return unavailable("operator destinations")
	}
	all, err := a.deps.Operator.OperatorDestinations(r.Context())
	if err != nil {
		return err
	}
	// Ordered by channel then id; "\x00" sorts before any character of an id, so the keys
	// sort in the same order.
	items, next, err := pageSlice(all, func(d control.OperatorDestination) string { return d.Channel + "\x00" + d.ID }, p)
	if err != nil {
		return err
	}
	for i := range items {
		if items[i].Config == nil {
			items[i].Config = map[string]any{}
		}
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

// tenants answers GET /admin/tenants: the tenants that have destinations or working keys,
// so that the dashboard can offer them.
func (a *API) tenants(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	if a.deps.Tenants == nil {
		return unavailable("tenants")
	}
	all, err := a.deps.Tenants.Tenants(r.Context())
	if err != nil {
		return err
	}
	views := make([]control.TenantSummary, len(all))
	for i, t := range all {
		views[i] = control.TenantSummary{Tenant: t.Tenant, Destinations: t.Destinations, Keys: t.Keys}
	}
	items, next, err := pageSlice(views, func(t control.TenantSummary) string { return t.Tenant }, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}
