package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/testutil"
)

func TestClaim(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kv, err := js.CreateOrUpdateKeyValue(ctx, IdempotencyBucketConfig("herald", time.Hour, 1))
	if err != nil {
		t.Fatal(err)
	}
	idem := NewIdempotency(kv)
	const id = "01JDQ5Z8X1Y2Z3A4B5C6D7E8F9"
	steps := []struct {
		name               string
		tenant, source, id string
		seq                uint64
		want               bool
	}{
		{"a new event is claimed", "acme", "billing", id, 7, true},
		{"a redelivery of the claiming message may fan out again", "acme", "billing", id, 7, true},
		{"another message of the same event is a duplicate", "acme", "billing", id, 9, false},
		{"another tenant's event with the same source and id is claimed", "globex", "billing", id, 10, true},
		{"another source's event with the same id is claimed", "acme", "crm", id, 11, true},
		{"another event is claimed", "acme", "billing", "01JDQ5Z8X1Y2Z3A4B5C6D7E8FA", 12, true},
		{"any id is claimed", "_", "https://example.com/a b", "evt.1 with spaces", 13, true},
		{"and its duplicate is caught", "_", "https://example.com/a b", "evt.1 with spaces", 14, false},
		{"fields do not run together", "_", "https://example.com/a", " bevt.1 with spaces", 15, true},
	}
	for _, s := range steps {
		got, err := idem.Claim(ctx, eventKey(s.tenant, s.source, s.id), s.seq)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: Claim(%s/%s/%s, %d) = %v, want %v", s.name, s.tenant, s.source, s.id, s.seq, got, s.want)
		}
	}
}

// TestEventKey: keys are valid bucket keys whatever the event's fields, and differ when any
// of tenant, source and id does.
func TestEventKey(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, f := range [][3]string{
		{"acme", "billing", "1"}, {"globex", "billing", "1"}, {"acme", "crm", "1"}, {"acme", "billing", "2"},
		{"acme", "billin", "g1"}, {"acm", "ebilling", "1"}, {"_", strings.Repeat("s", 1000), "1"}, {"_", "ü\x00.*>", "id"},
	} {
		k := eventKey(f[0], f[1], f[2])
		if len(k) != 22 || strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("eventKey%q = %q, not a 22-character bucket key", f, k)
		}
		if prev, ok := seen[k]; ok {
			t.Errorf("eventKey%q = eventKey(%s)", f, prev)
		}
		seen[k] = strings.Join(f[:], "/")
		if again := eventKey(f[0], f[1], f[2]); again != k {
			t.Errorf("eventKey%q is not stable", f)
		}
	}
}
