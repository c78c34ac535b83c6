package dispatch

import (
	"context"
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
	steps := []struct {
		name    string
		eventID string
		seq     uint64
		want    bool
	}{
		{"a new event is claimed", "01JDQ5Z8X1Y2Z3A4B5C6D7E8F9", 7, true},
		{"a redelivery of the claiming message may fan out again", "01JDQ5Z8X1Y2Z3A4B5C6D7E8F9", 7, true},
		{"another message of the same event is a duplicate", "01JDQ5Z8X1Y2Z3A4B5C6D7E8F9", 9, false},
		{"another event is claimed", "01JDQ5Z8X1Y2Z3A4B5C6D7E8FA", 9, true},
		{"an id that is no valid key is claimed through its hash", "evt.1 with spaces", 10, true},
		{"and its duplicate is caught", "evt.1 with spaces", 11, false},
	}
	for _, s := range steps {
		got, err := idem.Claim(ctx, s.eventID, s.seq)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: Claim(%q, %d) = %v, want %v", s.name, s.eventID, s.seq, got, s.want)
		}
	}
}
