package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel"
)

// Health notes, from the workers' sends, which tenant destinations are failing and since
// when, in the destinations bucket (key h.<tenant>.<id>), where every worker and dispatcher
// sees it through its Table.
//
// It is cheap on the hot path: a success costs a map lookup unless the destination is
// failing; a failure writes the bucket once when the destination starts failing and then at
// most once per refresh interval per worker, to keep its last error current. The first
// worker to note a failure sets failing_since (a create, which only one wins); a success
// anywhere deletes the key. A worker that missed another's success may note a failure up
// to one refresh interval late, which delays an automatic disable by as much, never
// hastens one.
type Health struct {
	bucket  Bucket
	table   *Table
	refresh time.Duration
	log     *slog.Logger

	mu    sync.Mutex
	local map[string]time.Time // ref -> when this worker last wrote its failure state
}

// NewHealth builds the failure notes of a worker process. refresh is the longest a worker
// leaves its last error unwritten; 30s if zero.
func NewHealth(bucket Bucket, table *Table, refresh time.Duration, log *slog.Logger) *Health {
	if refresh <= 0 {
		refresh = 30 * time.Second
	}
	return &Health{bucket: bucket, table: table, refresh: refresh, log: log.With("component", "tenant_destinations"), local: map[string]time.Time{}}
}

// writeTimeout bounds one write of the failure state: a slow bucket must not hold a send.
const writeTimeout = 2 * time.Second

// Observe notes the outcome of a send to tenant destination d. A provider's rate limit is
// neither a success nor a failure.
func (h *Health) Observe(ctx context.Context, d channel.Destination, out channel.Outcome) {
	if out.Kind == channel.Retry && out.StatusCode == http.StatusTooManyRequests {
		return
	}
	ref := d.ID
	f, failing := h.table.failing(ref)
	if out.Kind == channel.Delivered {
		if failing {
			h.clear(ctx, ref, f)
		}
		return
	}
	now := time.Now()
	h.mu.Lock()
	last, wrote := h.local[ref]
	if wrote && now.Sub(last) < h.refresh {
		h.mu.Unlock()
		return
	}
	h.local[ref] = now
	h.mu.Unlock()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	var err error
	if failing {
		f.LastError = out.Reason
		_, err = h.bucket.Update(wctx, healthKey(d.Tenant, idOf(ref)), f.encode(), f.revision)
	} else {
		f = Failing{Since: now.UTC(), LastError: out.Reason, Channel: d.Channel}
		_, err = h.bucket.Create(wctx, healthKey(d.Tenant, idOf(ref)), f.encode())
	}
	// Another worker's write won: its state is as good as this one's.
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
		h.log.Warn("note failing tenant destination", "destination", ref, "err", err)
	}
}

func (h *Health) clear(ctx context.Context, ref string, f Failing) {
	h.mu.Lock()
	delete(h.local, ref)
	h.mu.Unlock()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	// Only the state this worker saw: a newer one (a failure after the success) stays.
	err := h.bucket.Delete(wctx, healthKey(f.Tenant, f.ID), jetstream.LastRevision(f.revision))
	if err != nil && !isWrongSequence(err) {
		h.log.Warn("clear failing tenant destination", "destination", ref, "err", err)
	}
}

func (f Failing) encode() []byte {
	b, _ := json.Marshal(f)
	return b
}

func idOf(ref string) string {
	_, id, _ := splitRef(ref)
	return id
}

// isWrongSequence reports a conditional write that lost to another (the revision moved).
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
