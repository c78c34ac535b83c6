package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// pubBundle is what a publisher test works with.
type pubBundle struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	pub    *sdk.Publisher
}

// setupPublisher starts an embedded JetStream server with an EVENTS stream on
// herald.events.> (duplicate window one minute) and returns a Publisher on it.
func setupPublisher(t testing.TB, opts ...sdk.PublisherOption) pubBundle {
	t.Helper()
	srv := testutil.StartNATS(t)
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       "EVENTS",
		Subjects:   []string{"herald.events.>"},
		Duplicates: time.Minute,
		Storage:    jetstream.MemoryStorage,
	})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
	pub, err := sdk.NewPublisher(nc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return pubBundle{nc: nc, js: js, stream: stream, pub: pub}
}

func testEvent(t testing.TB) *sdk.Event {
	t.Helper()
	e, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 49.99},
		sdk.WithSource("billing"))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPublishSetsMsgIDAndDeduplicates(t *testing.T) {
	t.Parallel()
	b := setupPublisher(t)
	ctx := t.Context()
	e := testEvent(t)

	first, err := b.pub.Publish(ctx, e)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if first.Stream != "EVENTS" || first.Sequence != 1 || first.Duplicate {
		t.Errorf("first ack = %+v", first)
	}
	again, err := b.pub.Publish(ctx, e)
	if err != nil {
		t.Fatalf("publish again: %v", err)
	}
	if !again.Duplicate || again.Sequence != first.Sequence {
		t.Errorf("second ack = %+v, want a duplicate of seq %d", again, first.Sequence)
	}

	msg, err := b.stream.GetMsg(ctx, first.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get(jetstream.MsgIDHeader); got != e.ID {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, e.ID)
	}
	if msg.Subject != "herald.events.acme.payment.failed" {
		t.Errorf("subject = %s", msg.Subject)
	}
	got, err := sdk.Decode(msg.Data)
	if err != nil {
		t.Fatalf("stored event does not decode: %v", err)
	}
	if got.ID != e.ID || !bytes.Equal(got.Data, e.Data) || !got.Time.Equal(e.Time) {
		t.Errorf("stored %+v, published %+v", got, e)
	}
}

func TestPublishValidationNamesTheField(t *testing.T) {
	t.Parallel()
	b := setupPublisher(t, sdk.WithMaxEventBytes(512))
	valid := func() *sdk.Event {
		return &sdk.Event{SpecVersion: "1.0", ID: "01HZX", Source: "billing", Type: "payment.failed", TenantID: "acme"}
	}
	tests := []struct {
		name   string
		mutate func(*sdk.Event)
		field  string
	}{
		{"missing id", func(e *sdk.Event) { e.ID = "" }, "id"},
		{"id with a dot", func(e *sdk.Event) { e.ID = "order-1.created" }, "id"},
		{"missing type", func(e *sdk.Event) { e.Type = "" }, "type"},
		{"missing source", func(e *sdk.Event) { e.Source = "" }, "source"},
		{"missing specversion", func(e *sdk.Event) { e.SpecVersion = "" }, "specversion"},
		{"type with space", func(e *sdk.Event) { e.Type = "bad type" }, "type"},
		{"empty token", func(e *sdk.Event) { e.Type = "a..b" }, "type"},
		{"wildcard", func(e *sdk.Event) { e.Type = "x.*" }, "type"},
		{"tenant wildcard", func(e *sdk.Event) { e.TenantID = ">" }, "tenantid"},
		{"oversize", func(e *sdk.Event) { e.Data = json.RawMessage(`"` + strings.Repeat("x", 600) + `"`) }, "data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := valid()
			tc.mutate(e)
			_, err := b.pub.Publish(t.Context(), e)
			if err == nil {
				t.Fatal("published an invalid event")
			}
			if got := fieldOf(t, err); got != tc.field {
				t.Errorf("field = %q, want %q (%v)", got, tc.field, err)
			}
			if tc.name == "oversize" && (!strings.Contains(err.Error(), "512") || !strings.Contains(err.Error(), "bytes")) {
				t.Errorf("oversize error %q does not give the size and the limit", err)
			}
		})
	}
	if _, err := b.pub.Publish(t.Context(), nil); fieldOf(t, err) != "event" {
		t.Errorf("nil event: %v", err)
	}
	info, err := b.stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("stream holds %d messages after only invalid publishes", info.State.Msgs)
	}
}

func TestPublishWithoutStreamFailsWithinTimeout(t *testing.T) {
	t.Parallel()
	srv := testutil.StartNATS(t) // JetStream on, but no stream
	nc := srv.Connect(t)
	const timeout = 300 * time.Millisecond
	pub, err := sdk.NewPublisher(nc, sdk.WithPublishTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("no responders", func(t *testing.T) {
		start := time.Now()
		_, err := pub.Publish(t.Context(), testEvent(t))
		// jetstream retries "no responders" twice, 250 ms apart (a leader election looks
		// the same), so the timeout comes first here.
		if !errors.Is(err, sdk.ErrNoStream) && !errors.Is(err, sdk.ErrPublishTimeout) {
			t.Fatalf("err = %v, want ErrNoStream or ErrPublishTimeout", err)
		}
		if elapsed := time.Since(start); elapsed > timeout+time.Second {
			t.Errorf("took %s with a %s timeout", elapsed, timeout)
		}
	})

	t.Run("no responders, longer timeout", func(t *testing.T) {
		const timeout = 3 * time.Second
		pub, err := sdk.NewPublisher(nc, sdk.WithPublishTimeout(timeout))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = pub.Publish(t.Context(), testEvent(t))
		if !errors.Is(err, sdk.ErrNoStream) {
			t.Fatalf("err = %v, want ErrNoStream", err)
		}
		if elapsed := time.Since(start); elapsed > timeout {
			t.Errorf("took %s with a %s timeout", elapsed, timeout)
		}
	})

	t.Run("silent listener", func(t *testing.T) {
		// A core subscriber that never answers stands for a stream without a leader.
		sub, err := nc.SubscribeSync("herald.events.acme.>")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		start := time.Now()
		_, err = pub.Publish(t.Context(), testEvent(t))
		if !errors.Is(err, sdk.ErrPublishTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrPublishTimeout wrapping DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed < timeout || elapsed > timeout+time.Second {
			t.Errorf("took %s with a %s timeout", elapsed, timeout)
		}
	})

	t.Run("caller cancels", func(t *testing.T) {
		sub, err := nc.SubscribeSync("herald.events.acme.>")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = pub.Publish(ctx, testEvent(t))
		if !errors.Is(err, context.Canceled) || errors.Is(err, sdk.ErrPublishTimeout) {
			t.Fatalf("err = %v, want context.Canceled only", err)
		}
	})
}

func TestPublishJSONKeepsBytes(t *testing.T) {
	t.Parallel()
	b := setupPublisher(t)
	body := []byte(`{"specversion":"1.0","id":"evt-1","source":"cli","type":"deploy.finished","tenantid":"acme","traceparent":"00-abc-def-01","data":{"ok":true}}`)
	ack, err := b.pub.PublishJSON(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := b.stream.GetMsg(t.Context(), ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg.Data, body) || msg.Header.Get(jetstream.MsgIDHeader) != "evt-1" ||
		msg.Subject != "herald.events.acme.deploy.finished" {
		t.Errorf("stored %s %q on %s", msg.Data, msg.Header, msg.Subject)
	}
	if _, err := b.pub.PublishJSON(t.Context(), []byte(`{"specversion":"1.0","id":"x","type":"a.b"}`)); fieldOf(t, err) != "source" {
		t.Errorf("missing source: %v", err)
	}
	if _, err := b.pub.PublishJSON(t.Context(), []byte(`not json`)); fieldOf(t, err) != "json" {
		t.Errorf("not json: %v", err)
	}
}

func TestPublishBatch(t *testing.T) {
	t.Parallel()
	b := setupPublisher(t)
	ctx := t.Context()
	events := make([]*sdk.Event, 200)
	for i := range events {
		events[i] = testEvent(t)
	}
	acks, err := b.pub.PublishBatch(ctx, events)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	seqs := make(map[uint64]bool)
	for i, a := range acks {
		if a.Stream != "EVENTS" || a.Duplicate || seqs[a.Sequence] {
			t.Fatalf("ack %d = %+v", i, a)
		}
		seqs[a.Sequence] = true
	}

	// Partial failure: an invalid event and a repeat among good ones.
	bad := &sdk.Event{SpecVersion: "1.0", ID: "x", Source: "s", Type: "x.*"}
	fresh := testEvent(t)
	acks, err = b.pub.PublishBatch(ctx, []*sdk.Event{events[0], bad, fresh})
	var be *sdk.BatchError
	if !errors.As(err, &be) || be.Failed() != 1 || be.Errs[0] != nil || be.Errs[2] != nil {
		t.Fatalf("err = %v, want a BatchError with only event 1 failing", err)
	}
	if fieldOf(t, be.Errs[1]) != "type" || !errors.Is(err, sdk.ErrInvalidEvent) {
		t.Errorf("event 1 error = %v", be.Errs[1])
	}
	if !acks[0].Duplicate || acks[0].Sequence != 1 || acks[1] != (sdk.PubAck{}) || acks[2].Sequence != 201 {
		t.Errorf("acks = %+v", acks)
	}
}

func TestPublishBatchWithoutStream(t *testing.T) {
	t.Parallel()
	srv := testutil.StartNATS(t)
	nc := srv.Connect(t)
	pub, err := sdk.NewPublisher(nc, sdk.WithPublishTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = pub.PublishBatch(t.Context(), []*sdk.Event{testEvent(t), testEvent(t)})
	var be *sdk.BatchError
	if !errors.As(err, &be) || be.Failed() != 2 {
		t.Fatalf("err = %v, want both events failed", err)
	}
	if !errors.Is(err, sdk.ErrNoStream) && !errors.Is(err, sdk.ErrPublishTimeout) {
		t.Errorf("err = %v, want ErrNoStream or ErrPublishTimeout", err)
	}
	if elapsed := time.Since(start); elapsed > 1300*time.Millisecond {
		t.Errorf("took %s", elapsed)
	}
}

func TestPublisherOptions(t *testing.T) {
	t.Parallel()
	srv := testutil.StartNATS(t)
	nc := srv.Connect(t)
	for _, opts := range [][]sdk.PublisherOption{
		{sdk.WithSubjectPrefix("")},
		{sdk.WithSubjectPrefix("a.*")},
		{sdk.WithPublishTimeout(0)},
		{sdk.WithMaxEventBytes(-1)},
	} {
		if _, err := sdk.NewPublisher(nc, opts...); err == nil {
			t.Errorf("options %v accepted", opts)
		}
	}
	if _, err := sdk.NewPublisher(nil); err == nil {
		t.Error("nil connection accepted")
	}

	// A custom prefix publishes where a stream on that prefix listens.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "STAGING", Subjects: []string{"staging.herald.events.>"},
		Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	pub, err := sdk.NewPublisher(nc, sdk.WithSubjectPrefix("staging.herald"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := pub.Publish(t.Context(), testEvent(t))
	if err != nil || ack.Stream != "STAGING" {
		t.Errorf("publish with prefix: %+v, %v", ack, err)
	}
}
