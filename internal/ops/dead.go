package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/store"
)

// maxSelect bounds the dead letters one redrive or discard takes; a larger selection takes
// the newest maxSelect, and the operator runs it again for the rest.
const maxSelect = 100_000

// redriveBatch is how many dead letters are published before their acknowledgements are
// awaited, and removed from DEAD and settled in the ledger together.
const redriveBatch = 256

// deadLetters implements control.DeadLetters over the ledger and the DEAD stream.
type deadLetters struct{ *Service }

// List lists the dead list, newest first; see control.DeadLetters.
func (d deadLetters) List(ctx context.Context, q control.DeliveryQuery) ([]store.Delivery, string, error) {
	since, err := d.deadSince(ctx, time.Now())
	if err != nil {
		return nil, "", err
	}
	return d.list(ctx, q, true, since)
}

// Redrive selects the dead letters, answers how many, and sends them again in the
// background; see the package doc for how.
func (d deadLetters) Redrive(ctx context.Context, sel control.DeadSelection) (int, error) {
	letters, err := d.selectLetters(ctx, sel)
	if err != nil || len(letters) == 0 {
		return 0, err
	}
	err = d.background(func(ctx context.Context) { d.redrive(ctx, sel, letters) })
	if err != nil {
		return 0, err
	}
	return len(letters), nil
}

// Discard takes the dead letters off the dead list at once, and removes their messages
// from DEAD in the background. The ledger is settled first: should the process stop before
// DEAD is cleaned, the messages left there are never redriven (a redrive starts from the
// dead list) and age out with the stream's max_age.
func (d deadLetters) Discard(ctx context.Context, sel control.DeadSelection) (int, error) {
	letters, err := d.selectLetters(ctx, sel)
	if err != nil || len(letters) == 0 {
		return 0, err
	}
	n := 0
	for chunk := range slices.Chunk(letters, 1000) {
		k, err := d.deps.Ledger.SettleDead(ctx, store.SettleDiscarded, settles(chunk), time.Now())
		if err != nil {
			return n, fmt.Errorf("discard dead letters: %w", err)
		}
		n += k
	}
	err = d.background(func(ctx context.Context) {
		found, _, err := d.findDead(ctx, sel, letters, true)
		if err == nil {
			err = d.deleteDead(ctx, found)
		}
		if err != nil && ctx.Err() == nil {
			d.log.Warn("discard: removing dead letters from DEAD failed; they age out with the stream", "err", err)
		}
	})
	return n, err
}

// selectLetters returns the dead letters a selection picks, newest first.
func (d deadLetters) selectLetters(ctx context.Context, sel control.DeadSelection) ([]store.Delivery, error) {
	if len(sel.IDs) == 0 && sel.Channel == "" && sel.Tenant == "" && sel.EventType == "" && sel.Since.IsZero() && sel.Until.IsZero() {
		return nil, &control.FieldError{Field: "ids", Message: "give ids or a filter (channel, tenant, event_type, since, until): selecting every dead letter takes an explicit filter"}
	}
	tf, err := parseTypePattern("event_type", sel.EventType)
	if err != nil {
		return nil, err
	}
	if !sel.Since.IsZero() && !sel.Until.IsZero() && !sel.Since.Before(sel.Until) {
		return nil, &control.FieldError{Field: "until", Message: "until must be after since"}
	}
	deadSince, err := d.deadSince(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	q := store.Query{
		TenantID: sel.Tenant, Channel: sel.Channel, EventType: tf.exact, EventTypePrefix: tf.prefix,
		Since: sel.Since, Until: sel.Until, DeadLettered: true, Limit: 1000,
	}
	if q.Since.Before(deadSince) {
		q.Since = deadSince
	}
	var out []store.Delivery
	keep := func(rows []store.Delivery) {
		for _, r := range rows {
			if tf.matches(r.EventType) && len(out) < maxSelect {
				out = append(out, r)
			}
		}
	}
	if len(sel.IDs) > 0 {
		for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(sel.IDs))), 500) {
			q.IDs = chunk
			rows, err := d.deps.Ledger.Page(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("select dead letters: %w", err)
			}
			keep(rows)
		}
		return out, nil
	}
	for len(out) < maxSelect {
		rows, err := d.deps.Ledger.Page(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("select dead letters: %w", err)
		}
		keep(rows)
		if len(rows) < q.Limit {
			break
		}
		last := rows[len(rows)-1]
		q.After = &store.Position{CreatedAt: last.CreatedAt, DeliveryID: last.DeliveryID}
	}
	return out, nil
}

func settles(letters []store.Delivery) []store.Settle {
	out := make([]store.Settle, len(letters))
	for i, l := range letters {
		out[i] = store.Settle{DeliveryID: l.DeliveryID, Attempts: l.Attempts}
	}
	return out
}

// deadMsg is one selected letter's message in DEAD: the newest, and the sequences of every
// message of it there (a crash between a redrive's publish and its cleanup can leave two).
type deadMsg struct {
	letter store.Delivery
	msg    jetstream.Msg // the newest; nil when read headers only
	seqs   []uint64
}

// findDead reads DEAD for the letters' messages, with an ordered consumer filtered as
// narrowly as the selection allows and starting a minute before the oldest letter was
// created (a dead letter is written after its delivery). It returns them in the letters'
// order, and the letters it did not find.
func (d deadLetters) findDead(ctx context.Context, sel control.DeadSelection, letters []store.Delivery, headersOnly bool) ([]*deadMsg, []store.Delivery, error) {
	want := make(map[string]*deadMsg, len(letters))
	oldest := time.Now()
	for _, l := range letters {
		want[l.DeliveryID] = &deadMsg{letter: l}
		if l.CreatedAt.Before(oldest) {
			oldest = l.CreatedAt
		}
	}
	channelTok, tenantTok := "*", "*"
	if sel.Channel != "" && len(sel.IDs) == 0 {
		channelTok = sel.Channel
	}
	if sel.Tenant != "" && len(sel.IDs) == 0 {
		tenantTok = sel.Tenant
	}
	start := oldest.Add(-time.Minute)
	cctx, cancel := context.WithTimeout(ctx, d.cfg.PublishTimeout)
	cons, err := d.deps.JetStream.OrderedConsumer(cctx, broker.StreamDead, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{d.subj.Dead(channelTok, tenantTok)},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
		HeadersOnly:    headersOnly,
		// Gone soon after the read ends, rather than after the default 5 minutes.
		InactiveThreshold: 30 * time.Second,
	})
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("read DEAD: %w", err)
	}
	if err := scan(ctx, cons, "DEAD", 512, func(m jetstream.Msg, md *jetstream.MsgMetadata) (bool, error) {
		if dm := want[m.Headers().Get(broker.HeaderDeliveryID)]; dm != nil {
			dm.msg = m
			dm.seqs = append(dm.seqs, md.Sequence.Stream)
		}
		return true, nil
	}); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var found []*deadMsg
	var missing []store.Delivery
	for _, l := range letters {
		if dm := want[l.DeliveryID]; len(dm.seqs) > 0 {
			found = append(found, dm)
		} else {
			missing = append(missing, l)
		}
	}
	return found, missing, nil
}

// deleteDead removes the messages from DEAD.
func (d deadLetters) deleteDead(ctx context.Context, found []*deadMsg) error {
	st, err := d.deps.JetStream.Stream(ctx, broker.StreamDead)
	if err != nil {
		return fmt.Errorf("DEAD stream: %w", err)
	}
	for _, dm := range found {
		for _, seq := range dm.seqs {
			dctx, cancel := context.WithTimeout(ctx, d.cfg.PublishTimeout)
			err := st.DeleteMsg(dctx, seq)
			cancel()
			if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return fmt.Errorf("remove dead letter %s: %w", dm.letter.DeliveryID, err)
			}
		}
	}
	return nil
}

// redrive sends the letters again, a batch at a time at RedriveRate, each batch published,
// acknowledged, removed from DEAD and marked pending in the ledger before the next.
//
// The ledger is written directly (SettleDead), not through RESULTS: the recorder's merge
// lets the terminal status of an attempt win over a pending one of the same attempt, which
// is what a redrive has to say, and SettleDead only marks a letter that has made no attempt
// since it was selected, so a redriven delivery that is already being sent again keeps the
// status its worker recorded.
func (d deadLetters) redrive(ctx context.Context, sel control.DeadSelection, letters []store.Delivery) {
	start := time.Now()
	found, missing, err := d.findDead(ctx, sel, letters, false)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("redrive: reading DEAD failed; the dead letters stay on the dead list", "selected", len(letters), "err", err)
		}
		return
	}
	if len(missing) > 0 {
		d.log.Warn("redrive: dead letters not found in DEAD (aged out, or removed by hand) stay on the dead list; discard them",
			"missing", len(missing), "example_delivery_id", missing[0].DeliveryID)
	}
	sent := 0
	for batch := range slices.Chunk(found, redriveBatch) {
		if err := d.redriveBatch(ctx, batch); err != nil {
			if ctx.Err() == nil {
				d.log.Error("redrive stopped; the dead letters not redriven stay on the dead list", "redriven", sent, "left", len(found)-sent, "err", err)
			}
			return
		}
		sent += len(batch)
		if err := pace(ctx, start, sent, d.cfg.RedriveRate); err != nil {
			return
		}
	}
	d.log.Info("redrive done", "selected", len(letters), "redriven", sent, "missing", len(missing), "duration", time.Since(start).String())
}

func (d deadLetters) redriveBatch(ctx context.Context, batch []*deadMsg) error {
	futures := make([]jetstream.PubAckFuture, 0, len(batch))
	for _, dm := range batch {
		m, err := d.redriveMsg(dm)
		if err != nil {
			return err
		}
		// A count left by the first life would only be a floor (the worker numbers after the
		// base): forgetting it keeps the bucket tidy.
		actx, cancel := context.WithTimeout(ctx, d.cfg.PublishTimeout)
		_ = d.deps.Attempts.Forget(actx, dm.letter.DeliveryID)
		cancel()
		f, err := d.deps.JetStream.PublishMsgAsync(m, jetstream.WithStallWait(d.cfg.PublishTimeout))
		if err != nil {
			return fmt.Errorf("publish %s: %w", dm.letter.DeliveryID, err)
		}
		futures = append(futures, f)
	}
	if err := broker.WaitAcks(ctx, d.cfg.PublishTimeout, futures...); err != nil {
		return err
	}
	if err := d.deleteDead(ctx, batch); err != nil {
		return err
	}
	letters := make([]store.Delivery, len(batch))
	for i, dm := range batch {
		letters[i] = dm.letter
	}
	if _, err := d.deps.Ledger.SettleDead(ctx, store.SettleRedriven, settles(letters), time.Now()); err != nil {
		return fmt.Errorf("mark redriven deliveries pending: %w", err)
	}
	return nil
}

// redriveMsg rebuilds a delivery from its dead letter: the original subject, body and
// delivery headers, and a fresh budget of attempts numbered after the attempts made
// (delivery.HeaderAttemptBase). Its Nats-Msg-Id, <delivery id>:redrive:<attempts made>,
// differs from every earlier message of the delivery, so the duplicate window cannot
// swallow it, while two redrives of the same letter at once publish it once.
func (d deadLetters) redriveMsg(dm *deadMsg) (*nats.Msg, error) {
	h := dm.msg.Headers()
	subject := h.Get(broker.HeaderOriginalSubject)
	if !strings.HasPrefix(subject, d.cfg.Prefix+".deliver.") {
		return nil, fmt.Errorf("dead letter %s has no delivery subject (%q)", dm.letter.DeliveryID, subject)
	}
	base := dm.letter.Attempts
	if n, err := strconv.Atoi(h.Get(broker.HeaderAttempts)); err == nil && n > base {
		base = n
	}
	m := nats.NewMsg(subject)
	m.Data = dm.msg.Data()
	for k, vs := range h {
		switch k {
		case jetstream.MsgIDHeader, broker.HeaderDeadReason, broker.HeaderDeadStatus, broker.HeaderAttempts,
			broker.HeaderOriginalSubject, delivery.HeaderAttemptBase:
			continue
		}
		m.Header[k] = vs
	}
	m.Header.Set(jetstream.MsgIDHeader, dm.letter.DeliveryID+":redrive:"+strconv.Itoa(base))
	m.Header.Set(delivery.HeaderAttemptBase, strconv.Itoa(base))
	return m, nil
}
