package sqlite_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/storetest"
)

func TestDestinationsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunDestinations(t, func(t *testing.T) storetest.DestinationLedger { return newStore(t) })
}

func TestDestinationsConformanceInMemory(t *testing.T) {
	t.Parallel()
	storetest.RunDestinations(t, func(t *testing.T) storetest.DestinationLedger {
		s, err := sqlite.Open(t.Context(), ":memory:")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
