package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/apiclient"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// listFlags are the paging flags of every list.
type listFlags struct {
	limit int
	all   bool
}

func (f *listFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.limit, "limit", 0, "items per page, 1 to 500 (default 50); without --all, the one page shown")
	cmd.Flags().BoolVar(&f.all, "all", false, "follow next_cursor to the last page")
}

// collect reads one page, or every page with --all. The JSON answer is the page as it came,
// or with --all every page's data in one {"data":[...],"next_cursor":""}.
func collect[T any](f listFlags, page func(apiclient.PageRequest) (apiclient.Page[T], *apiclient.Response, error)) ([]T, *apiclient.Response, error) {
	if f.limit < 0 || f.limit > 500 {
		return nil, nil, usagef("--limit must be 1 to 500")
	}
	req := apiclient.PageRequest{Limit: f.limit}
	var items []T
	var raws []json.RawMessage
	for {
		p, raw, err := page(req)
		if err != nil {
			return nil, nil, err
		}
		if !f.all {
			return p.Data, raw, nil
		}
		items = append(items, p.Data...)
		var body struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw.Body, &body); err != nil {
			return nil, nil, err
		}
		raws = append(raws, body.Data...)
		if p.NextCursor == "" {
			break
		}
		req.Cursor = p.NextCursor
	}
	if raws == nil {
		raws = []json.RawMessage{}
	}
	b, err := json.Marshal(map[string]any{"data": raws, "next_cursor": ""})
	return items, &apiclient.Response{Status: 200, Body: b}, err
}

// filterFlags are the history's filters.
type filterFlags struct {
	tenant, eventType, channel, destination, eventID, since, until string
	statuses                                                       []string
}

func (f *filterFlags) add(cmd *cobra.Command, withStatus bool) {
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "only this tenant's deliveries")
	cmd.Flags().StringVar(&f.eventType, "type", "", "event type or pattern, e.g. 'payment.*'")
	cmd.Flags().StringVar(&f.channel, "channel", "", "only this channel")
	cmd.Flags().StringVar(&f.destination, "destination", "", "only this destination id")
	cmd.Flags().StringVar(&f.eventID, "event-id", "", "only this event's deliveries")
	cmd.Flags().StringVar(&f.since, "since", "", "created since: a duration back from now (2h) or an RFC 3339 time")
	cmd.Flags().StringVar(&f.until, "until", "", "created before: a duration back from now or an RFC 3339 time")
	if withStatus {
		cmd.Flags().StringSliceVar(&f.statuses, "status", nil, "pending, retrying, delivered, failed, dead (comma-separated)")
	}
}

func (f filterFlags) filter() apiclient.DeliveryFilter {
	return apiclient.DeliveryFilter{Tenant: f.tenant, EventType: f.eventType, Channel: f.channel, Destination: f.destination,
		Statuses: f.statuses, EventID: f.eventID, Since: f.since, Until: f.until}
}

func (c *ctl) historyCommand() *cobra.Command {
	var (
		ff     filterFlags
		lf     listFlags
		follow bool
		own    bool
	)
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Deliveries, newest first, with filters",
		Example: `  heraldctl history --since 1h --status dead,failed
  heraldctl history --tenant acme --type 'payment.*' --all
  heraldctl history --channel slack --follow`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if own && ff.tenant == "" {
				return usagef("--own needs --tenant")
			}
			c.start()
			page := func(ctx context.Context, f apiclient.DeliveryFilter, p apiclient.PageRequest) (apiclient.Page[store.Delivery], *apiclient.Response, error) {
				if own {
					return c.client.TenantDeliveries(ctx, f.Tenant, f, p)
				}
				return c.client.History(ctx, f, p)
			}
			if follow {
				return c.follow(cmd.Context(), ff.filter(), lf, page)
			}
			items, raw, err := collect(lf, func(p apiclient.PageRequest) (apiclient.Page[store.Delivery], *apiclient.Response, error) {
				return page(cmd.Context(), ff.filter(), p)
			})
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			c.printDeliveries(items)
			return nil
		},
	}
	ff.add(cmd, true)
	lf.add(cmd)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new deliveries as they are recorded, oldest first, until Ctrl-C")
	cmd.Flags().BoolVar(&own, "own", false, "read /v1/tenants/{tenant}/deliveries, what a tenant key may read")
	return cmd
}

// followEvery is how often --follow asks for new deliveries.
var followEvery = 2 * time.Second

// follow prints the newest page, oldest first, then every delivery recorded or changed
// since, until ctx ends (Ctrl-C), which is a clean exit.
func (c *ctl) follow(ctx context.Context, f apiclient.DeliveryFilter, lf listFlags,
	page func(context.Context, apiclient.DeliveryFilter, apiclient.PageRequest) (apiclient.Page[store.Delivery], *apiclient.Response, error)) error {
	seen := map[string]time.Time{}
	var t *table
	if !c.json {
		t = newTable(c.io.out, deliveryHeader...)
		t.flush()
	}
	since := f.Since
	var newest time.Time
	for {
		q := f
		q.Since = since
		p, _, err := page(ctx, q, apiclient.PageRequest{Limit: max(lf.limit, 100)})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		items := slices.Clone(p.Data)
		slices.Reverse(items)
		for _, d := range items {
			if at, ok := seen[d.DeliveryID]; ok && !d.UpdatedAt.After(at) {
				continue
			}
			seen[d.DeliveryID] = d.UpdatedAt
			if c.json {
				b, _ := json.Marshal(d)
				fmt.Fprintln(c.io.out, string(b))
			} else {
				t.row(deliveryRow(d)...)
				t.flush()
			}
			if d.CreatedAt.After(newest) {
				newest = d.CreatedAt
			}
		}
		if !newest.IsZero() {
			// A second back, for rows of the same instant; seen drops the repeats.
			since = newest.Add(-time.Second).Format(time.RFC3339Nano)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followEvery):
		}
	}
}

var deliveryHeader = []string{"CREATED", "DELIVERY ID", "TENANT", "TYPE", "CHANNEL", "DESTINATION", "STATUS", "ATTEMPTS", "LAST ERROR"}

func deliveryRow(d store.Delivery) []string {
	return []string{ago(d.CreatedAt), d.DeliveryID, orDash(d.TenantID), d.EventType, d.Channel, d.Destination, string(d.Status),
		fmt.Sprint(d.Attempts), orDash(cut(d.LastError, 60))}
}

func (c *ctl) printDeliveries(items []store.Delivery) {
	t := newTable(c.io.out, deliveryHeader...)
	for _, d := range items {
		t.row(deliveryRow(d)...)
	}
	t.flush()
}

func (c *ctl) deliveryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delivery DELIVERY-ID",
		Short: "One delivery with every attempt",
		Args:  exactArgs("DELIVERY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.start()
			d, raw, err := c.client.Delivery(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			c.printDelivery(d)
			return nil
		},
	}
}

func (c *ctl) printDelivery(d control.DeliveryDetail) {
	t := newTable(c.io.out, "FIELD", "VALUE")
	for _, kv := range [][2]string{
		{"delivery id", d.DeliveryID}, {"event id", d.EventID}, {"tenant", orDash(d.TenantID)}, {"event type", d.EventType},
		{"channel", d.Channel}, {"destination", d.Destination}, {"status", string(d.Status)}, {"attempts", fmt.Sprint(d.Attempts)},
		{"last error", orDash(d.LastError)}, {"created", d.CreatedAt.Format(time.RFC3339) + " (" + ago(d.CreatedAt) + ")"},
		{"updated", d.UpdatedAt.Format(time.RFC3339) + " (" + ago(d.UpdatedAt) + ")"},
	} {
		t.row(kv[0], kv[1])
	}
	t.flush()
	if len(d.AttemptsDetail) == 0 {
		return
	}
	fmt.Fprintln(c.io.out)
	a := newTable(c.io.out, "ATTEMPT", "STATUS", "HTTP", "DURATION", "AT", "ERROR")
	for _, at := range d.AttemptsDetail {
		http := "-"
		if at.HTTPStatus != 0 {
			http = fmt.Sprint(at.HTTPStatus)
		}
		a.row(fmt.Sprint(at.Attempt), string(at.Status), http, fmt.Sprintf("%dms", at.DurationMS), ago(at.AttemptedAt), orDash(strings.TrimSpace(at.Error)))
	}
	a.flush()
}
