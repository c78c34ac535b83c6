package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/embedded"
)

// TestStorageLimits: the streams' sizes and the embedded server's storage have defaults
// that match the stream definitions and the server's, take sizes as people write them, and
// an embedded server too small for the streams stops the process at start.
func TestStorageLimits(t *testing.T) {
	t.Parallel()
	c, err := Load(getenv(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		broker.StreamEvents:     broker.DefaultEventsMaxBytes,
		broker.StreamDeliveries: broker.DefaultDeliveriesMaxBytes,
		broker.StreamResults:    broker.DefaultResultsMaxBytes,
		broker.StreamDead:       broker.DefaultDeadMaxBytes,
	}
	for name, w := range want {
		if c.StreamMaxBytes[name] != w {
			t.Errorf("default max bytes of %s = %d, want %d as streams/ defines it", name, c.StreamMaxBytes[name], w)
		}
	}
	if c.EmbeddedMaxStorage != embedded.DefaultMaxStorage {
		t.Errorf("default embedded storage = %d, want %d", c.EmbeddedMaxStorage, embedded.DefaultMaxStorage)
	}

	c, err = Load(getenv(map[string]string{
		"NOTIFICATIONS_EVENTS_MAX_BYTES":     "20GiB",
		"NOTIFICATIONS_DELIVERIES_MAX_BYTES": "512MB",
		"NOTIFICATIONS_RESULTS_MAX_BYTES":    "256 MiB",
		"NOTIFICATIONS_DEAD_MAX_BYTES":       "1073741824",
		"NOTIFICATIONS_EMBEDDED_MAX_STORAGE": "24gib",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	got := c.StreamMaxBytes
	if got[broker.StreamEvents] != 20<<30 || got[broker.StreamDeliveries] != 512e6 || got[broker.StreamResults] != 256<<20 ||
		got[broker.StreamDead] != 1<<30 || c.EmbeddedMaxStorage != 24<<30 {
		t.Errorf("sizes %v, embedded %d", got, c.EmbeddedMaxStorage)
	}

	// Against an external NATS, the embedded server's limit is not checked.
	if _, err := Load(getenv(map[string]string{"NOTIFICATIONS_EVENTS_MAX_BYTES": "100GiB", "NOTIFICATIONS_NATS_URL": "nats://n1:4222"}), ""); err != nil {
		t.Errorf("external NATS: %v", err)
	}

	bad := []struct {
		env  map[string]string
		name string
		says string
	}{
		{map[string]string{"NOTIFICATIONS_EVENTS_MAX_BYTES": "lots"}, "NOTIFICATIONS_EVENTS_MAX_BYTES", "size"},
		{map[string]string{"NOTIFICATIONS_DELIVERIES_MAX_BYTES": "-1"}, "NOTIFICATIONS_DELIVERIES_MAX_BYTES", "size"},
		{map[string]string{"NOTIFICATIONS_RESULTS_MAX_BYTES": "512KiB"}, "NOTIFICATIONS_RESULTS_MAX_BYTES", "less than"},
		{map[string]string{"NOTIFICATIONS_DEAD_MAX_BYTES": "99999999999EB"}, "NOTIFICATIONS_DEAD_MAX_BYTES", "size"},
		{map[string]string{"NOTIFICATIONS_EMBEDDED_MAX_STORAGE": "ten"}, "NOTIFICATIONS_EMBEDDED_MAX_STORAGE", "size"},
		{map[string]string{"NOTIFICATIONS_EMBEDDED_MAX_STORAGE": "8GiB"}, "NOTIFICATIONS_EMBEDDED_MAX_STORAGE", "NOTIFICATIONS_EVENTS_MAX_BYTES"},
		{map[string]string{"NOTIFICATIONS_EVENTS_MAX_BYTES": "9GiB"}, "NOTIFICATIONS_EMBEDDED_MAX_STORAGE", "13 GiB"},
	}
	for _, b := range bad {
		_, err := Load(getenv(b.env), "")
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != b.name || !strings.Contains(ce.Reason, b.says) {
			t.Errorf("env %v: error %v, want one naming %s and saying %q", b.env, err, b.name, b.says)
		}
	}
}
