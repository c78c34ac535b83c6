package embedded

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
)

func start(t *testing.T, opts Options) jetstream.JetStream {
	t.Helper()
	s, err := StartWith(opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if got, want := s.JetStreamConfig().MaxStore, opts.MaxStorage; want > 0 && got != want || want == 0 && got != DefaultMaxStorage {
		t.Errorf("JetStream storage limit %d, want %d (default %d)", got, want, DefaultMaxStorage)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestStorageIsBounded: the embedded server has a JetStream storage limit, by default room
// for every stream's default limit; streams that do not fit in it are refused at start
// with the variables to change.
func TestStorageIsBounded(t *testing.T) {
	t.Parallel()
	ctx := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("default", func(t *testing.T) {
		t.Parallel()
		js := start(t, Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0"})
		if err := (broker.Topology{}).Apply(ctx(t), js); err != nil {
			t.Fatalf("the default streams do not fit the default storage: %v", err)
		}
	})
	t.Run("too small", func(t *testing.T) {
		t.Parallel()
		js := start(t, Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", MaxStorage: 1 << 30})
		err := (broker.Topology{}).Apply(ctx(t), js)
		if err == nil || !strings.Contains(err.Error(), "_MAX_BYTES") || !strings.Contains(err.Error(), "NOTIFICATIONS_EMBEDDED_MAX_STORAGE") {
			t.Fatalf("apply = %v, want an error naming the variables", err)
		}
		small := broker.Topology{MaxBytes: map[string]int64{broker.StreamEvents: 256 << 20, broker.StreamDeliveries: 256 << 20,
			broker.StreamResults: 128 << 20, broker.StreamDead: 128 << 20}}
		if err := small.Apply(ctx(t), js); err != nil {
			t.Fatalf("streams that fit: %v", err)
		}
	})
}
