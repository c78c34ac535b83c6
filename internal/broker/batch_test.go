package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/testutil"
)

func TestBatcherDeliversEveryValueInFewerMessages(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.>"}})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBatcher(js, "r.x", BatcherConfig{MaxItems: 50, InFlight: 1})
	const callers, perCaller = 40, 25
	var wg sync.WaitGroup
	errs := make(chan error, callers*perCaller)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perCaller {
				v := fmt.Appendf(nil, `{"c":%d,"i":%d}`, c, i)
				errs <- b.Add(ctx, v, v) // a caller's values travel together
			}
		}()
	}
	wg.Wait()
	b.Stop()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("add: %v", err)
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs >= callers*perCaller {
		t.Errorf("%d messages for %d adds: nothing was batched", info.State.Msgs, callers*perCaller)
	}
	seen := map[string]int{}
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var vs []json.RawMessage
		if err := json.Unmarshal(m.Data, &vs); err != nil {
			t.Fatalf("message %d is not a JSON array: %v: %s", seq, err, m.Data)
		}
		if len(vs) > 50 {
			t.Errorf("message %d holds %d values, over MaxItems", seq, len(vs))
		}
		for i := 0; i < len(vs); i += 2 {
			if string(vs[i]) != string(vs[i+1]) {
				t.Fatalf("one Add's values were split: %s, %s", vs[i], vs[i+1])
			}
			seen[string(vs[i])]++
		}
	}
	if len(seen) != callers*perCaller {
		t.Fatalf("%d distinct values stored, want %d", len(seen), callers*perCaller)
	}
}

func TestBatcherReportsFailuresAndStops(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	// No stream listens on the subject: the publish fails, and every caller hears of it.
	b := NewBatcher(js, "nowhere", BatcherConfig{Timeout: 2 * time.Second})
	if err := b.Add(context.Background(), []byte(`1`)); err == nil {
		t.Fatal("add to a subject without a stream succeeded")
	}
	b.Stop()
	b.Stop()
	if err := b.Add(context.Background(), []byte(`1`)); !errors.Is(err, ErrBatcherStopped) {
		t.Fatalf("add after stop: %v, want ErrBatcherStopped", err)
	}
}
