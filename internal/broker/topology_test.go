package broker

import (
	"context"
	"errors"
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
