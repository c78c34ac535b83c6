package sdk_test

import (
	"sync"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/heraldhq/herald/sdk"
)

func TestNewIDUniqueAndOrderedUnderConcurrency(t *testing.T) {
	t.Parallel()
	const goroutines, perGoroutine = 16, 2000
	ids := make([][]string, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				id, err := sdk.NewID()
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
			}
		})
	}
	wg.Wait()

	seen := make(map[string]bool, goroutines*perGoroutine)
	for g, list := range ids {
		for i, id := range list {
			if seen[id] {
				t.Fatalf("duplicate id %s", id)
			}
			seen[id] = true
			if _, err := ulid.ParseStrict(id); err != nil {
				t.Fatalf("id %q is not a ULID: %v", id, err)
			}
			// One shared monotonic source: what one goroutine makes later sorts later.
			if i > 0 && id <= list[i-1] {
				t.Fatalf("goroutine %d: id %s not after %s", g, id, list[i-1])
			}
		}
	}
	if len(seen) != goroutines*perGoroutine {
		t.Fatalf("%d ids, want %d", len(seen), goroutines*perGoroutine)
	}
}
