package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// TestStatsUsesIndex checks that SQLite answers the charts' query from the covering index of
// migration 00004, with or without the channel filter.
func TestStatsUsesIndex(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, channel := range []bool{false, true} {
		args := []any{int64(0), int64(60), time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)}
		if channel {
			args = append(args, "slack")
		}
		rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+store.StatsSQL(func(int) string { return "?" }, sqlite.StatsEpoch, sqlite.StatsStatus, channel), args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
		}
		var plan []string
		for rows.Next() {
			var (
				id, parent, unused int
				detail             string
			)
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "\n"); !strings.Contains(p, "USING COVERING INDEX notification_deliveries_updated_idx") {
			t.Errorf("channel filter %v: the plan reads more than the index:\n%s", channel, p)
		}
	}
}
