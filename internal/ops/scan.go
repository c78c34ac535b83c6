package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fetchWait bounds one pull of a scan: a pull that finds nothing within it means the scan
// has caught up.
const fetchWait = 2 * time.Second

// scan reads a consumer made for one read (of DEAD or EVENTS, from a start time) a batch of
// batchSize at a time, calling visit for each message, until visit answers false or an
// error, the consumer has nothing more pending, a pull comes back empty, or ctx ends. The
// pull in progress is cancelled when scan returns, so that a scan which stops early leaves
// no pull running behind it. A failed pull is an error naming stream; visit's errors come
// back as they are.
func scan(ctx context.Context, cons jetstream.Consumer, stream string, batchSize int, visit func(jetstream.Msg, *jetstream.MsgMetadata) (bool, error)) error {
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		return nil
	}
	for {
		more, err := scanBatch(ctx, cons, stream, batchSize, visit)
		if err != nil || !more {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// scanBatch is one pull of scan; more is false when the scan is over.
func scanBatch(ctx context.Context, cons jetstream.Consumer, stream string, batchSize int, visit func(jetstream.Msg, *jetstream.MsgMetadata) (bool, error)) (more bool, err error) {
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	batch, err := cons.Fetch(batchSize, jetstream.FetchContext(fctx))
	if err != nil {
		return false, fmt.Errorf("read %s: %w", stream, err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		if more, err := visit(m, md); err != nil || !more {
			return false, err
		}
		if md.NumPending == 0 {
			return false, nil
		}
	}
	err = batch.Error()
	// The pull's own end: the server's timeout, or fetchWait passing before it answered.
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", stream, err)
	}
	return n > 0, nil
}
