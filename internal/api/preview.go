package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/sdk"
)

// previewSuffix ends the path of a delivery's preview.
const previewSuffix = "/preview"

// deliveryPreview answers GET /admin/notifications/deliveries/{id}/preview.
func (a *API) deliveryPreview(w http.ResponseWriter, r *http.Request) error {
	return a.previewOrDetail(w, r, r.PathValue("id"), "")
}

// tenantDelivery answers GET /v1/tenants/{tenant}/deliveries/{id...}: one of the tenant's
// deliveries with every attempt.
func (a *API) tenantDelivery(w http.ResponseWriter, r *http.Request) error {
	tenant, err := tenantOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	err = a.scopedDelivery(w, r, id, tenant)
	if id, ok := strings.CutSuffix(id, previewSuffix); ok && isNotFound(err) {
		// An unescaped delivery id with a '/' in it, and /preview after it.
		return a.previewOrDetail(w, r, id, tenant)
	}
	return err
}

// tenantDeliveryPreview answers GET /v1/tenants/{tenant}/deliveries/{id}/preview.
func (a *API) tenantDeliveryPreview(w http.ResponseWriter, r *http.Request) error {
	tenant, err := tenantOf(r)
	if err != nil {
		return err
	}
	return a.previewOrDetail(w, r, r.PathValue("id"), tenant)
}

// previewOrDetail answers the preview of delivery id, of tenant unless it is empty. An id
// that is not found may be the start of one whose destination is named "preview", sent
// unescaped: its detail is answered then.
func (a *API) previewOrDetail(w http.ResponseWriter, r *http.Request, id, tenant string) error {
	err := a.preview(w, r, id, tenant)
	if isNotFound(err) {
		if derr := a.scopedDelivery(w, r, id+previewSuffix, tenant); !isNotFound(derr) {
			return derr
		}
	}
	return err
}

func (a *API) preview(w http.ResponseWriter, r *http.Request, id, tenant string) error {
	if id == "" {
		return invalid("id", "a delivery id is required")
	}
	if a.deps.Previews == nil || a.deps.History == nil {
		return unavailable("delivery previews")
	}
	if tenant != "" {
		d, err := a.deps.History.Delivery(r.Context(), id)
		if err != nil {
			return err
		}
		if d.TenantID != tenant {
			return notFound(fmt.Sprintf("delivery %q: not found", id))
		}
	}
	p, err := a.deps.Previews.Preview(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// scopedDelivery answers one delivery's detail; with tenant set, only one of that tenant's
// deliveries, any other being not found.
func (a *API) scopedDelivery(w http.ResponseWriter, r *http.Request, id, tenant string) error {
	if a.deps.History == nil {
		return unavailable("delivery history")
	}
	if id == "" {
		return invalid("id", "a delivery id is required")
	}
	d, err := a.deps.History.Delivery(r.Context(), id)
	if err != nil {
		return err
	}
	if tenant != "" && d.TenantID != tenant {
		return notFound(fmt.Sprintf("delivery %q: not found", id))
	}
	if d.AttemptsDetail == nil {
		d.AttemptsDetail = []control.AttemptView{}
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func tenantOf(r *http.Request) (string, error) {
	tenant := r.PathValue("tenant")
	if !sdk.ValidTenant(tenant) {
		return "", invalid("tenant", fmt.Sprintf("%q is not a tenant id", tenant))
	}
	return tenant, nil
}

// isNotFound reports whether err is answered as a 404.
func isNotFound(err error) bool {
	return err != nil && toError(err).Status == http.StatusNotFound
}
