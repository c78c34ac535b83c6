package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// maxScan bounds the ledger rows one page may read when a pattern is filtered in Go: a page
// of a rare type in a large ledger ends early, with a cursor to go on from.
const maxScan = 10_000

// Deliveries lists deliveries newest first; see control.History.
func (s *Service) Deliveries(ctx context.Context, q control.DeliveryQuery) ([]store.Delivery, string, error) {
	return s.list(ctx, q, false, time.Time{})
}

// list pages the ledger for the history (dead false) or the dead list (dead true, created
// since deadSince).
func (s *Service) list(ctx context.Context, q control.DeliveryQuery, dead bool, deadSince time.Time) ([]store.Delivery, string, error) {
	after, err := decodeCursor(q.Page.Cursor)
	if err != nil {
		return nil, "", err
	}
	tf, err := parseTypePattern("event_type", q.EventType)
	if err != nil {
		return nil, "", err
	}
	for _, st := range q.Statuses {
		if !validStatus(st) {
			return nil, "", &control.FieldError{Field: "status", Message: "unknown status " + quote(string(st)) + " (pending, retrying, delivered, failed, dead)"}
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, "", &control.FieldError{Field: "until", Message: "until must be after since"}
	}
	sq := store.Query{
		TenantID: q.Tenant, EventType: tf.exact, EventTypePrefix: tf.prefix, Channel: q.Channel,
		Destination: q.Destination, Statuses: q.Statuses, EventID: q.EventID,
		Since: q.Since, Until: q.Until, DeadLettered: dead, After: after,
	}
	if dead && sq.Since.Before(deadSince) {
		sq.Since = deadSince
	}
	limit := pageLimit(q.Page.Limit)
	items, next, err := s.scan(ctx, sq, tf, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	return items, next, nil
}

// scan reads pages of the ledger from sq until limit deliveries pass tf (or maxScan rows
// were read), and returns them with the cursor of the next page, empty after the last.
func (s *Service) scan(ctx context.Context, sq store.Query, tf typeFilter, limit int) ([]store.Delivery, string, error) {
	items := make([]store.Delivery, 0, limit)
	if tf.match == nil {
		// The database filters everything: one query, one row more to know whether a next
		// page exists.
		sq.Limit = limit + 1
		rows, err := s.deps.Ledger.Page(ctx, sq)
		if err != nil {
			return nil, "", err
		}
		if len(rows) > limit {
			return rows[:limit], encodeCursor(rows[limit-1]), nil
		}
		return rows, "", nil
	}
	sq.Limit = 1000
	for scanned := 0; ; {
		rows, err := s.deps.Ledger.Page(ctx, sq)
		if err != nil {
			return nil, "", err
		}
		for _, d := range rows {
			if !tf.matches(d.EventType) {
				continue
			}
			if len(items) == limit {
				// A further match exists: the next page starts after the last item.
				return items, encodeCursor(items[limit-1]), nil
			}
			items = append(items, d)
		}
		scanned += len(rows)
		if len(rows) < sq.Limit {
			return items, "", nil
		}
		last := rows[len(rows)-1]
		sq.After = &store.Position{CreatedAt: last.CreatedAt, DeliveryID: last.DeliveryID}
		if scanned >= maxScan {
			// Resume after the last row read, matched or not.
			return items, encodeCursor(last), nil
		}
	}
}

// Delivery returns one delivery with every attempt; see control.History.
func (s *Service) Delivery(ctx context.Context, deliveryID string) (control.DeliveryDetail, error) {
	d, attempts, err := s.deps.Ledger.Delivery(ctx, deliveryID)
	if err != nil {
		return control.DeliveryDetail{}, notFound(err)
	}
	out := control.DeliveryDetail{Delivery: d, AttemptsDetail: make([]control.AttemptView, len(attempts))}
	for i, a := range attempts {
		out.AttemptsDetail[i] = control.AttemptView{
			Attempt: a.Attempt, Status: a.Status, HTTPStatus: a.HTTPStatus, Error: a.Error,
			DurationMS: a.DurationMS, AttemptedAt: a.At,
		}
	}
	return out, nil
}

func validStatus(st store.Status) bool {
	switch st {
	case store.StatusPending, store.StatusRetrying, store.StatusDelivered, store.StatusFailed, store.StatusDead:
		return true
	}
	return false
}
