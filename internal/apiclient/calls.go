package apiclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// Page is one page of a list: the items and the cursor of the next page, empty on the last.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// PageRequest asks for one page: Limit items at most (0: the server's default, 50) after
// Cursor.
type PageRequest struct {
	Limit  int
	Cursor string
}

func (p PageRequest) values() url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// DeliveryFilter selects deliveries in history and dead letters. Since and Until are RFC
// 3339 times or durations back from now ("2h"), as the API takes them; empty fields do not
// filter.
type DeliveryFilter struct {
	Tenant      string
	EventType   string
	Channel     string
	Destination string
	Statuses    []string
	EventID     string
	Since       string
	Until       string
}

func (f DeliveryFilter) values(p PageRequest) url.Values {
	q := p.values()
	for k, v := range map[string]string{"tenant": f.Tenant, "event_type": f.EventType, "channel": f.Channel,
		"destination": f.Destination, "event_id": f.EventID, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for _, s := range f.Statuses {
		q.Add("status", s)
	}
	return q
}

// ---- tenant destinations ------------------------------------------------------------------

func destPath(tenant string, rest ...string) string {
	p := "/v1/tenants/" + seg(tenant) + "/destinations"
	for _, r := range rest {
		p += "/" + seg(r)
	}
	return p
}

// Destinations lists one page of a tenant's destinations.
func (c *Client) Destinations(ctx context.Context, tenant string, p PageRequest) (Page[control.Destination], *Response, error) {
	return call[Page[control.Destination]](ctx, c, http.MethodGet, destPath(tenant), p.values(), nil)
}

// Destination gets one destination.
func (c *Client) Destination(ctx context.Context, tenant, id string) (control.Destination, *Response, error) {
	return call[control.Destination](ctx, c, http.MethodGet, destPath(tenant, id), nil, nil)
}

// CreateDestination creates a destination.
func (c *Client) CreateDestination(ctx context.Context, tenant string, in control.DestinationInput) (control.Destination, *Response, error) {
	return call[control.Destination](ctx, c, http.MethodPost, destPath(tenant), nil, in)
}

// UpdateDestination changes the fields the patch sets.
func (c *Client) UpdateDestination(ctx context.Context, tenant, id string, patch control.DestinationPatch) (control.Destination, *Response, error) {
	return call[control.Destination](ctx, c, http.MethodPatch, destPath(tenant, id), nil, patch)
}

// DeleteDestination deletes a destination.
func (c *Client) DeleteDestination(ctx context.Context, tenant, id string) (*Response, error) {
	return c.Do(ctx, http.MethodDelete, destPath(tenant, id), nil, nil)
}

// SetDestinationEnabled enables or disables (pauses) a destination.
func (c *Client) SetDestinationEnabled(ctx context.Context, tenant, id string, enabled bool) (control.Destination, *Response, error) {
	verb := "disable"
	if enabled {
		verb = "enable"
	}
	return call[control.Destination](ctx, c, http.MethodPost, destPath(tenant, id, verb), nil, nil)
}

// RotateSecret gives a webhook destination a new secret; overlap (such as "24h", empty for
// the server's default) is how long the old one keeps signing.
func (c *Client) RotateSecret(ctx context.Context, tenant, id, overlap string) (control.Destination, *Response, error) {
	var body any
	if overlap != "" {
		body = map[string]string{"overlap": overlap}
	}
	return call[control.Destination](ctx, c, http.MethodPost, destPath(tenant, id, "rotate-secret"), nil, body)
}

// TestDestination sends a herald.test event to a tenant's destination now.
func (c *Client) TestDestination(ctx context.Context, tenant, id string) (control.TestOutcome, *Response, error) {
	return call[control.TestOutcome](ctx, c, http.MethodPost, destPath(tenant, id, "test"), nil, nil)
}

// ---- history and dead letters -------------------------------------------------------------

// History lists deliveries, newest first. A filter with a Tenant and a tenant key reads the
// tenant's own deliveries instead (see TenantDeliveries).
func (c *Client) History(ctx context.Context, f DeliveryFilter, p PageRequest) (Page[store.Delivery], *Response, error) {
	return call[Page[store.Delivery]](ctx, c, http.MethodGet, "/admin/notifications/history", f.values(p), nil)
}

// TenantDeliveries lists a tenant's own deliveries, newest first: what a tenant key may read.
func (c *Client) TenantDeliveries(ctx context.Context, tenant string, f DeliveryFilter, p PageRequest) (Page[store.Delivery], *Response, error) {
	f.Tenant = ""
	return call[Page[store.Delivery]](ctx, c, http.MethodGet, "/v1/tenants/"+seg(tenant)+"/deliveries", f.values(p), nil)
}

// Delivery gets one delivery with every attempt.
func (c *Client) Delivery(ctx context.Context, id string) (control.DeliveryDetail, *Response, error) {
	return call[control.DeliveryDetail](ctx, c, http.MethodGet, "/admin/notifications/deliveries/"+seg(id), nil, nil)
}

// DeadLetters lists dead letters, newest first.
func (c *Client) DeadLetters(ctx context.Context, f DeliveryFilter, p PageRequest) (Page[store.Delivery], *Response, error) {
	return call[Page[store.Delivery]](ctx, c, http.MethodGet, "/admin/notifications/dead", f.values(p), nil)
}

// DeadSelection picks dead letters by IDs, or by the filter fields when IDs is empty. Since
// and Until are RFC 3339 times or durations back from now.
type DeadSelection struct {
	IDs       []string `json:"ids,omitempty"`
	Channel   string   `json:"channel,omitempty"`
	Tenant    string   `json:"tenant,omitempty"`
	EventType string   `json:"event_type,omitempty"`
	Since     string   `json:"since,omitempty"`
	Until     string   `json:"until,omitempty"`
}

// Redrive sends the selected dead letters again and returns how many.
func (c *Client) Redrive(ctx context.Context, sel DeadSelection) (int, *Response, error) {
	out, resp, err := call[struct {
		N int `json:"redriven"`
	}](ctx, c, http.MethodPost, "/admin/notifications/dead/redrive", nil, sel)
	return out.N, resp, err
}

// Discard removes the selected dead letters and returns how many.
func (c *Client) Discard(ctx context.Context, sel DeadSelection) (int, *Response, error) {
	out, resp, err := call[struct {
		N int `json:"discarded"`
	}](ctx, c, http.MethodPost, "/admin/notifications/dead/discard", nil, sel)
	return out.N, resp, err
}

// ---- replays ------------------------------------------------------------------------------

// ReplayRequest starts a replay. Since (required) and Until are RFC 3339 times or durations
// back from now; Until defaults to now on the server.
type ReplayRequest struct {
	Since        string   `json:"since"`
	Until        string   `json:"until,omitempty"`
	Tenant       string   `json:"tenant,omitempty"`
	EventTypes   []string `json:"event_types,omitempty"`
	Channels     []string `json:"channels,omitempty"`
	Destinations string   `json:"destinations,omitempty"`
	DryRun       bool     `json:"dry_run,omitempty"`
}

// StartReplay starts a replay job (or a dry run, which only counts).
func (c *Client) StartReplay(ctx context.Context, req ReplayRequest) (control.Replay, *Response, error) {
	return call[control.Replay](ctx, c, http.MethodPost, "/admin/notifications/replays", nil, req)
}

// Replay gets a replay job's progress.
func (c *Client) Replay(ctx context.Context, id string) (control.Replay, *Response, error) {
	return call[control.Replay](ctx, c, http.MethodGet, "/admin/notifications/replays/"+seg(id), nil, nil)
}

// CancelReplay cancels a replay job and answers it as it stands.
func (c *Client) CancelReplay(ctx context.Context, id string) (control.Replay, *Response, error) {
	return call[control.Replay](ctx, c, http.MethodDelete, "/admin/notifications/replays/"+seg(id), nil, nil)
}

// WaitReplay polls a replay job every interval until it is no longer running, calling
// progress (if not nil) with each state seen.
func (c *Client) WaitReplay(ctx context.Context, id string, interval time.Duration, progress func(control.Replay)) (control.Replay, *Response, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		job, resp, err := c.Replay(ctx, id)
		if err != nil {
			return job, resp, err
		}
		if progress != nil {
			progress(job)
		}
		if job.State != control.ReplayRunning {
			return job, resp, nil
		}
		select {
		case <-ctx.Done():
			return job, resp, ctx.Err()
		case <-t.C:
		}
	}
}

// ---- tenant keys --------------------------------------------------------------------------

// TenantKey is a tenant's API key as the API shows it; Key is set only in the answer to its
// creation.
type TenantKey struct {
	ID        string    `json:"id"`
	Key       string    `json:"key,omitempty"`
	Tenant    string    `json:"tenant"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateKey issues a tenant key.
func (c *Client) CreateKey(ctx context.Context, tenant string) (TenantKey, *Response, error) {
	return call[TenantKey](ctx, c, http.MethodPost, "/admin/tenants/"+seg(tenant)+"/keys", nil, nil)
}

// Keys lists one page of a tenant's keys that work.
func (c *Client) Keys(ctx context.Context, tenant string, p PageRequest) (Page[TenantKey], *Response, error) {
	return call[Page[TenantKey]](ctx, c, http.MethodGet, "/admin/tenants/"+seg(tenant)+"/keys", p.values(), nil)
}

// RevokeKey revokes a tenant key.
func (c *Client) RevokeKey(ctx context.Context, tenant, id string) (*Response, error) {
	return c.Do(ctx, http.MethodDelete, "/admin/tenants/"+seg(tenant)+"/keys/"+seg(id), nil, nil)
}

// ---- status, tests, catalog ---------------------------------------------------------------

// Status answers the fleet's state at a glance.
func (c *Client) Status(ctx context.Context) (control.Status, *Response, error) {
	return call[control.Status](ctx, c, http.MethodGet, "/admin/notifications/status", nil, nil)
}

// TestChannel sends a herald.test event to a channel's operator destinations now.
func (c *Client) TestChannel(ctx context.Context, channel string) ([]control.TestOutcome, *Response, error) {
	out, resp, err := call[struct {
		Outcomes []control.TestOutcome `json:"outcomes"`
	}](ctx, c, http.MethodPost, "/admin/notifications/test", nil, map[string]string{"channel": channel})
	return out.Outcomes, resp, err
}

// EventType is one entry of the event type catalog.
type EventType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// EventTypes lists the known event types.
func (c *Client) EventTypes(ctx context.Context) ([]EventType, *Response, error) {
	out, resp, err := call[Page[EventType]](ctx, c, http.MethodGet, "/v1/event-types", nil, nil)
	return out.Data, resp, err
}
