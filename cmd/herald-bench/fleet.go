package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/childproc"
	"github.com/heraldhq/herald/internal/dispatch"
	"github.com/heraldhq/herald/internal/fleetproc"
	"github.com/heraldhq/herald/sdk"
)

// harness is what every run shares: NATS, PostgreSQL, the binaries and the receiver.
type harness struct {
	o       options
	dir     string
	bin     string
	natsURL string
	nats    *childproc.Process // the embedded server, unless NOTIFICATIONS_NATS_URL names one
	dbURL   string
	nc      *nats.Conn
	js      jetstream.JetStream
	recv    *receiver
	secret  string

	asyncErrs atomic.Int64
	runs      int
}

// reset removes the streams, the idempotency bucket and the ledger's rows, so that every run
// starts from nothing.
func (h *harness) reset(ctx context.Context) error {
	for _, s := range []string{broker.StreamEvents, broker.StreamDeliveries, broker.StreamResults, broker.StreamDead, baselineStream} {
		if err := h.js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("delete stream %s: %w", s, err)
		}
	}
	bucket := dispatch.IdempotencyBucketConfig("herald", time.Hour, 1).Bucket
	if err := h.js.DeleteKeyValue(ctx, bucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	return resetLedger(ctx, h.dbURL)
}

// destinations returns n webhook destinations on the receiver.
func (h *harness) destinations(n int) []channel.Destination {
	out := make([]channel.Destination, n)
	for i := range out {
		id := "d" + strconv.Itoa(i)
		out[i] = webhook.Destination(id, h.recv.url+"/hooks/"+id, h.secret)
	}
	return out
}

// startFleet starts the dispatcher (with the recorder) and workers channel-worker processes
// for fanout destinations, and waits until each is consuming. extra overrides variables.
func (h *harness) startFleet(ctx context.Context, fanout, workers int, extra map[string]string) (*fleetproc.Fleet, error) {
	h.runs++
	dests, err := json.Marshal(h.destinations(fanout))
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"NOTIFICATIONS_NATS_URL":     h.natsURL,
		"NOTIFICATIONS_DATABASE_URL": h.dbURL,
		"NOTIFICATIONS_DATA_DIR":     filepath.Join(h.dir, "data"),
		"NOTIFICATIONS_HTTP_ADDR":    "127.0.0.1:0",
		"NOTIFICATIONS_DESTINATIONS": string(dests),
		"NOTIFICATIONS_LOG_LEVEL":    "warn",
		"NOTIFICATIONS_LOG_FORMAT":   "json",
	}
	for k, v := range extra {
		vars[k] = v
	}
	return fleetproc.Start(ctx, fleetproc.Config{Bin: h.bin, LogDir: h.dir, LogPrefix: fmt.Sprintf("run%02d-", h.runs),
		Env: vars, Workers: workers, JetStream: h.js, StopGrace: stopGrace})
}

// payment is the benchmark's event payload: a seed type, so it is validated and routed as in
// production.
var payment = sdk.PaymentSucceeded{TenantName: "Acme Corporation", Amount: 129.99, Currency: "EUR", PaymentID: "pay_3NqLr8Ke2Zvx9A"}

// eventMsg builds one event, stamped now, as the SDK publishes it.
func eventMsg() (*nats.Msg, error) {
	ev, err := sdk.NewPaymentSucceeded("acme", payment)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return &nats.Msg{
		Subject: ev.Subject(sdk.DefaultSubjectPrefix),
		Header:  nats.Header{jetstream.MsgIDHeader: []string{ev.ID}},
		Data:    body,
	}, nil
}

// publish publishes n fresh events asynchronously; a full window of unacknowledged publishes
// slows it down.
func (h *harness) publish(n int) error {
	for range n {
		m, err := eventMsg()
		if err != nil {
			return err
		}
		if _, err := h.js.PublishMsgAsync(m, jetstream.WithStallWait(30*time.Second)); err != nil {
			return fmt.Errorf("publish event: %w", err)
		}
	}
	return nil
}

// drain waits until every delivery of the published events has arrived.
func (h *harness) drain(ctx context.Context, base int64, want int) error {
	return childproc.WaitFor(ctx, 2*time.Minute, fmt.Sprintf("%d deliveries", want), func() bool {
		return h.recv.delivered.Load()-base >= int64(want)
	})
}

// paced offers rate events per second for d and returns how many it published.
func (h *harness) paced(ctx context.Context, rate int, d time.Duration) (int, error) {
	start := time.Now()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	published := 0
	for {
		select {
		case <-ctx.Done():
			return published, ctx.Err()
		case now := <-t.C:
			el := now.Sub(start)
			if el >= d {
				return published, nil
			}
			target := int(el.Seconds() * float64(rate))
			if err := h.publish(target - published); err != nil {
				return published, err
			}
			published = target
		}
	}
}

// saturate publishes as fast as the pipeline delivers, keeping window deliveries in flight,
// for d; it returns how many events it published.
func (h *harness) saturate(ctx context.Context, fanout, window int, d time.Duration, base int64) (int, error) {
	deadline := time.Now().Add(d)
	published := 0
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for time.Now().Before(deadline) {
		out := published*fanout - int(h.recv.delivered.Load()-base)
		room := (window - out) / fanout
		if room <= 0 {
			wake.Reset(50 * time.Millisecond)
			select {
			case <-h.recv.notify:
			case <-wake.C:
			case <-ctx.Done():
				return published, ctx.Err()
			}
			continue
		}
		n := min(room, 100)
		if err := h.publish(n); err != nil {
			return published, err
		}
		published += n
	}
	return published, nil
}
