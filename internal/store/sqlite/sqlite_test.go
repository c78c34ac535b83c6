package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// newStore opens a store on a new file, closed when the test ends.
func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func TestConformanceInMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), ":memory:")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func BenchmarkRecord(b *testing.B) {
	storetest.BenchmarkRecord(b, func(b *testing.B) store.Store { return newStore(b) })
}

// TestReopen checks that the ledger survives closing and opening its file again, as the
// embedded fleet does across restarts.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ledger.db")
	r := store.Result{DeliveryID: "d1", EventType: "x", Channel: "webhook", Attempt: 1,
		Status: store.StatusDelivered, At: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)}
	for i := range 2 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
		if i == 0 {
			if err := s.Record(ctx, []store.Result{r}); err != nil {
				t.Fatalf("Record: %v", err)
			}
		}
		d, _, err := s.Delivery(ctx, "d1")
		if err != nil || !d.CreatedAt.Equal(r.At) {
			t.Errorf("open %d: Delivery = %+v, %v", i, d, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close %d: %v", i, err)
		}
	}
}

func TestOpenInvalidPath(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "ledger.db?_pragma=foo", filepath.Join(t.TempDir(), "missing", "dir", "ledger.db")} {
		if s, err := sqlite.Open(context.Background(), path); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}
