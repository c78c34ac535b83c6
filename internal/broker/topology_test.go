package broker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/testutil"
)

func TestApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	topo := Topology{Prefix: "acme", DuplicateWindow: time.Minute}
	for range 3 {
		if err := topo.Apply(ctx, js); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	want := map[string]struct {
		subject   string
		retention jetstream.RetentionPolicy
	}{
		StreamEvents:     {"acme.events.>", jetstream.LimitsPolicy},
		StreamDeliveries: {"acme.deliver.>", jetstream.WorkQueuePolicy},
		StreamResults:    {"acme.results.>", jetstream.WorkQueuePolicy},
		StreamDead:       {"acme.dead.>", jetstream.LimitsPolicy},
	}
	for name, w := range want {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		cfg := s.CachedInfo().Config
		if len(cfg.Subjects) != 1 || cfg.Subjects[0] != w.subject || cfg.Retention != w.retention || cfg.Duplicates != time.Minute {
			t.Errorf("stream %s = subjects %v retention %s dup %s", name, cfg.Subjects, cfg.Retention, cfg.Duplicates)
		}
	}
	cc, err := topo.Consumer(StreamDeliveries, "channel", "slack")
	if err != nil {
		t.Fatal(err)
	}
	if cc.Durable != "deliver-slack" || cc.FilterSubject != "acme.deliver.slack.>" {
		t.Errorf("channel consumer = %s on %s", cc.Durable, cc.FilterSubject)
	}
}

func TestApplyReportsConflictingStream(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Someone made DELIVERIES with limits retention: Herald needs a work queue, and the server cannot convert one without losing its messages.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: StreamDeliveries, Subjects: []string{"herald.deliver.>"}, Retention: jetstream.LimitsPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "herald.deliver.webhook.acme", []byte("keep me")); err != nil {
		t.Fatal(err)
	}
	err = Topology{}.Apply(ctx, js)
	if !errors.Is(err, ErrStreamConflict) {
		t.Fatalf("apply = %v, want ErrStreamConflict", err)
	}
	s, err := js.Stream(ctx, StreamDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Info(ctx); info.Config.Retention != jetstream.LimitsPolicy || info.State.Msgs != 1 {
		t.Errorf("the conflicting stream was changed: %s, %d msgs", info.Config.Retention, info.State.Msgs)
	}
}

// TestStreamsAreBounded: every stream has a size limit, overridable per stream; the work
// queues refuse new messages when full rather than drop the ones not yet consumed, and only
// EVENTS, the replay log, lets its oldest messages go.
func TestStreamsAreBounded(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		maxBytes int64
		discard  jetstream.DiscardPolicy
	}{
		StreamEvents:     {DefaultEventsMaxBytes, jetstream.DiscardOld},
		StreamDeliveries: {DefaultDeliveriesMaxBytes, jetstream.DiscardNew},
		StreamResults:    {DefaultResultsMaxBytes, jetstream.DiscardNew},
		StreamDead:       {DefaultDeadMaxBytes, jetstream.DiscardNew},
	}
	cfgs, err := Topology{}.Streams()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != len(want) {
		t.Fatalf("%d streams, want %d", len(cfgs), len(want))
	}
	for _, cfg := range cfgs {
		w := want[cfg.Name]
		if w.maxBytes <= 0 || cfg.MaxBytes != w.maxBytes || cfg.Discard != w.discard {
			t.Errorf("%s: max_bytes %d, discard %s; want %d, %s", cfg.Name, cfg.MaxBytes, cfg.Discard, w.maxBytes, w.discard)
		}
	}

	over := Topology{MaxBytes: map[string]int64{StreamDeliveries: 1 << 20, StreamDead: 0}}
	cfgs, err = over.Streams()
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range cfgs {
		wantBytes := want[cfg.Name].maxBytes
		if cfg.Name == StreamDeliveries {
			wantBytes = 1 << 20
		}
		if cfg.MaxBytes != wantBytes {
			t.Errorf("with overrides, %s: max_bytes %d, want %d", cfg.Name, cfg.MaxBytes, wantBytes)
		}
	}
}

// TestFullWorkQueueRefusesNewMessages: a DELIVERIES that is full refuses the next delivery
// (the dispatcher retries the event later) and keeps every undelivered one. The stream was
// made by an earlier Herald with discard old and no limit: Apply brings it to the bound.
func TestFullWorkQueueRefusesNewMessages(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: StreamDeliveries, Subjects: []string{"herald.deliver.>"},
		Retention: jetstream.WorkQueuePolicy, Discard: jetstream.DiscardOld, MaxBytes: -1}); err != nil {
		t.Fatal(err)
	}
	const limit = 16 << 10
	if err := (Topology{MaxBytes: map[string]int64{StreamDeliveries: limit}}).Apply(ctx, js); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 1<<10)
	stored := 0
	for i := range 100 {
		_, err := js.Publish(ctx, "herald.deliver.webhook.acme", body)
		if err != nil {
			if stored == 0 || !strings.Contains(err.Error(), "maximum bytes") {
				t.Fatalf("publish %d: %v", i, err)
			}
			break
		}
		stored++
	}
	if stored == 100 {
		t.Fatalf("a %d-byte DELIVERIES took 100 KiB", limit)
	}
	s, err := js.Stream(ctx, StreamDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Discard != jetstream.DiscardNew || info.State.Msgs != uint64(stored) || info.State.FirstSeq != 1 {
		t.Errorf("discard %s, %d messages from #%d; want discard new and all %d from #1", info.Config.Discard, info.State.Msgs, info.State.FirstSeq, stored)
	}
}
