package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/testutil"
)

// TestStatsUsesIndex checks that the charts' query can be answered from the index of
// migration 00004 alone: with sequential scans priced out (the test table is too small for
// the planner to prefer an index otherwise), its plan is an index-only scan of it.
func TestStatsUsesIndex(t *testing.T) {
	t.Parallel()
	dbURL := testutil.NewDatabase(t)
	s, err := postgres.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(t.Context()) })
	if _, err := conn.Exec(t.Context(), "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	for _, channel := range []bool{false, true} {
		args := []any{int64(0), int64(60), time.Now().Add(-time.Hour), time.Now()}
		if channel {
			args = append(args, "slack")
		}
		rows, err := conn.Query(t.Context(), "EXPLAIN "+store.StatsSQL(func(n int) string { return "$" + string(rune('0'+n)) },
			postgres.StatsEpoch, postgres.StatsStatus, channel), args...)
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "Index Only Scan using notification_deliveries_updated_idx") {
			t.Errorf("channel filter %v: the plan reads more than the index:\n%s", channel, plan)
		}
	}
}
