package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/sdk"
)

// defaultOverlap is how long a rotated-out webhook secret keeps signing when the request
// does not say.
const defaultOverlap = 24 * time.Hour

// destinations returns the service and the path's tenant, checked.
func (a *API) destinations(r *http.Request) (control.Destinations, string, error) {
	tenant := r.PathValue("tenant")
	if !sdk.ValidTenant(tenant) {
		return nil, "", invalid("tenant", fmt.Sprintf("%q is not a tenant id (1 to 64 letters, digits, '-' and '_')", tenant))
	}
	if a.deps.Destinations == nil {
		return nil, "", unavailable("tenant destinations")
	}
	return a.deps.Destinations, tenant, nil
}

func (a *API) createDestination(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	var in control.DestinationInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	d, err := svc.Create(r.Context(), tenant, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (a *API) listDestinations(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	items, next, err := svc.List(r.Context(), tenant, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, next))
	return nil
}

func (a *API) getDestination(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	d, err := svc.Get(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) updateDestination(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	var patch control.DestinationPatch
	if err := decode(w, r, &patch, false); err != nil {
		return err
	}
	d, err := svc.Update(r.Context(), tenant, r.PathValue("id"), patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) deleteDestination(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	if err := svc.Delete(r.Context(), tenant, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) enableDestination(w http.ResponseWriter, r *http.Request) error {
	return a.setEnabled(w, r, true)
}

func (a *API) disableDestination(w http.ResponseWriter, r *http.Request) error {
	return a.setEnabled(w, r, false)
}

func (a *API) setEnabled(w http.ResponseWriter, r *http.Request, enabled bool) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	d, err := svc.SetEnabled(r.Context(), tenant, r.PathValue("id"), enabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// rotateSecretInput is the optional body of rotate-secret.
type rotateSecretInput struct {
	// Overlap is how long the old secret keeps signing, as a Go duration ("24h", "30m",
	// "0s"). Defaults to 24h.
	Overlap string `json:"overlap"`
}

func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	var in rotateSecretInput
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	overlap := defaultOverlap
	if in.Overlap != "" {
		overlap, err = time.ParseDuration(in.Overlap)
		if err != nil || overlap < 0 {
			return invalid("overlap", fmt.Sprintf("%q is not a duration such as 24h or 30m", in.Overlap))
		}
	}
	d, err := svc.RotateSecret(r.Context(), tenant, r.PathValue("id"), overlap)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) testDestination(w http.ResponseWriter, r *http.Request) error {
	svc, tenant, err := a.destinations(r)
	if err != nil {
		return err
	}
	out, err := svc.Test(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
