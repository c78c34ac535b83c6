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

// TestHistoryPlans checks, with EXPLAIN on a ledger of 50,000 deliveries, that the history's
// pages, a tenant's pages and the dead list each read an index in the history's order
// rather than scanning and sorting the table.
func TestHistoryPlans(t *testing.T) {
	t.Parallel()
	dbURL := testutil.NewDatabase(t)
	s, err := postgres.New(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(t.Context()) })
	_, err = conn.Exec(t.Context(), `
INSERT INTO notification_deliveries (delivery_id, event_id, tenant_id, event_type, channel,
	destination, status, attempts, created_at, updated_at)
SELECT 'd' || i, 'e' || i, 't' || (i % 50), 'payment.failed', 'slack', 'slack',
	CASE WHEN i % 100 = 0 THEN 'dead' ELSE 'delivered' END, 1,
	now() - i * interval '1 second', now() - i * interval '1 second'
FROM generate_series(1, 50000) AS i;
ANALYZE notification_deliveries`)
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	after := &store.Position{CreatedAt: time.Now().Add(-time.Hour), DeliveryID: "d3600"}
	tests := []struct {
		name  string
		q     store.Query
		index string
	}{
		{"first page", store.Query{Limit: 50}, "notification_deliveries_created_id_idx"},
		{"next page", store.Query{Limit: 50, After: after}, "notification_deliveries_created_id_idx"},
		{"tenant", store.Query{Limit: 50, TenantID: "t7", After: after}, "notification_deliveries_tenant_created_id_idx"},
		{"dead list", store.Query{Limit: 50, DeadLettered: true, After: after}, "notification_deliveries_dead_idx"},
	}
	for _, tc := range tests {
		where, args := tc.q.Where(func(n int) string { return "$" + string(rune('0'+n)) }, func(t time.Time) any { return t })
		args = append(args, tc.q.RowLimit())
		query := "EXPLAIN SELECT * FROM notification_deliveries" + where +
			" ORDER BY created_at DESC, delivery_id DESC LIMIT $" + string(rune('0'+len(args)))
		rows, err := conn.Query(t.Context(), query, args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, tc.index) || strings.Contains(plan, "Sort") || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: the plan does not read %s in order:\n%s", tc.name, tc.index, plan)
		}
	}
}

// BenchmarkHealth measures the admin status's one ledger query (store.HealthSQL) on a
// ledger holding 100,000 deliveries created in the last hour over 16 destinations, 1% of
// them dead: what a status poll costs the database when its figures are not cached.
func BenchmarkHealth(b *testing.B) {
	dbURL := testutil.NewDatabase(b)
	s, err := postgres.New(b.Context(), dbURL)
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatalf("Migrate: %v", err)
	}
	conn, err := pgx.Connect(b.Context(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	_, err = conn.Exec(b.Context(), `
INSERT INTO notification_deliveries (delivery_id, event_id, tenant_id, event_type, channel,
	destination, status, attempts, created_at, updated_at)
SELECT 'd' || i, 'e' || i, 't' || (i % 50), 'payment.failed',
	CASE WHEN i % 2 = 0 THEN 'slack' ELSE 'webhook' END, 'dest-' || (i % 8),
	CASE WHEN i % 100 = 0 THEN 'dead' ELSE 'delivered' END, 1,
	now() - (i % 3600) * interval '1 second', now() - (i % 3600) * interval '1 second'
FROM generate_series(1, 100000) AS i;
ANALYZE notification_deliveries`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		now := time.Now()
		if _, err := s.Health(b.Context(), now.Add(-5*time.Minute), now.Add(-time.Hour), now.Add(-30*24*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
