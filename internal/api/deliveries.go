package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// statuses are the delivery statuses a status filter may name.
var statuses = []store.Status{store.StatusPending, store.StatusRetrying, store.StatusDelivered, store.StatusFailed, store.StatusDead}

// deliveryQuery reads the history filters of the query string.
func (a *API) deliveryQuery(r *http.Request) (control.DeliveryQuery, error) {
	q := r.URL.Query()
	p, err := page(r)
	if err != nil {
		return control.DeliveryQuery{}, err
	}
	dq := control.DeliveryQuery{
		Tenant:      q.Get("tenant"),
		EventType:   q.Get("event_type"),
		Channel:     q.Get("channel"),
		Destination: q.Get("destination"),
		EventID:     q.Get("event_id"),
		Page:        p,
	}
	if dq.Tenant != "" && !sdk.ValidTenant(dq.Tenant) {
		return dq, invalid("tenant", fmt.Sprintf("%q is not a tenant id", dq.Tenant))
	}
	for _, v := range q["status"] {
		for s := range strings.SplitSeq(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if !slices.Contains(statuses, store.Status(s)) {
				return dq, invalid("status", fmt.Sprintf("%q is not one of pending, retrying, delivered, failed, dead", s))
			}
			if !slices.Contains(dq.Statuses, store.Status(s)) {
				dq.Statuses = append(dq.Statuses, store.Status(s))
			}
		}
	}
	now := a.now()
	if dq.Since, err = timeParam("since", q.Get("since"), now); err != nil {
		return dq, err
	}
	if dq.Until, err = timeParam("until", q.Get("until"), now); err != nil {
		return dq, err
	}
	if !dq.Since.IsZero() && !dq.Until.IsZero() && !dq.Until.After(dq.Since) {
		return dq, invalid("until", "must be after since")
	}
	return dq, nil
}

func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	dq, err := a.deliveryQuery(r)
	if err != nil {
		return err
	}
	return a.listDeliveries(w, r, dq)
}

func (a *API) tenantDeliveries(w http.ResponseWriter, r *http.Request) error {
	tenant := r.PathValue("tenant")
	if !sdk.ValidTenant(tenant) {
		return invalid("tenant", fmt.Sprintf("%q is not a tenant id", tenant))
	}
	if q := r.URL.Query(); q.Has("tenant") && q.Get("tenant") != tenant {
		return invalid("tenant", "is the path's; leave it out of the query")
	}
	dq, err := a.deliveryQuery(r)
	if err != nil {
		return err
	}
	dq.Tenant = tenant
	return a.listDeliveries(w, r, dq)
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, dq control.DeliveryQuery) error {
	if a.deps.History == nil {
		return unavailable("delivery history")
	}
	items, next, err := a.deps.History.Deliveries(r.Context(), dq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

func (a *API) delivery(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := a.scopedDelivery(w, r, id, "")
	if id, ok := strings.CutSuffix(id, previewSuffix); ok && isNotFound(err) {
		// An unescaped delivery id with a '/' in it, and /preview after it.
		return a.previewOrDetail(w, r, id, "")
	}
	return err
}

func (a *API) deadLetters(w http.ResponseWriter, r *http.Request) error {
	if a.deps.DeadLetters == nil {
		return unavailable("dead letters")
	}
	dq, err := a.deliveryQuery(r)
	if err != nil {
		return err
	}
	items, next, err := a.deps.DeadLetters.List(r.Context(), dq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

// deadSelectionInput is the body of redrive and discard: control.DeadSelection with since
// and until that may also be durations.
type deadSelectionInput struct {
	IDs       []string `json:"ids"`
	Channel   string   `json:"channel"`
	Tenant    string   `json:"tenant"`
	EventType string   `json:"event_type"`
	Since     string   `json:"since"`
	Until     string   `json:"until"`
}

func (a *API) deadSelection(w http.ResponseWriter, r *http.Request) (control.DeadSelection, error) {
	var in deadSelectionInput
	if err := decode(w, r, &in, false); err != nil {
		return control.DeadSelection{}, err
	}
	sel := control.DeadSelection{IDs: in.IDs, Channel: in.Channel, Tenant: in.Tenant, EventType: in.EventType}
	var err error
	now := a.now()
	if sel.Since, err = timeParam("since", in.Since, now); err != nil {
		return sel, err
	}
	if sel.Until, err = timeParam("until", in.Until, now); err != nil {
		return sel, err
	}
	if a.deps.DeadLetters == nil {
		return sel, unavailable("dead letters")
	}
	return sel, nil
}

func (a *API) redrive(w http.ResponseWriter, r *http.Request) error {
	sel, err := a.deadSelection(w, r)
	if err != nil {
		return err
	}
	n, err := a.deps.DeadLetters.Redrive(r.Context(), sel)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"redriven": n})
	return nil
}

func (a *API) discard(w http.ResponseWriter, r *http.Request) error {
	sel, err := a.deadSelection(w, r)
	if err != nil {
		return err
	}
	n, err := a.deps.DeadLetters.Discard(r.Context(), sel)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"discarded": n})
	return nil
}
