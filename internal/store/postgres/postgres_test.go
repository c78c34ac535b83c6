package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/testutil"
)

func TestMain(m *testing.M) { testutil.MainWithPostgres(m) }

// newStore opens a store on a fresh database, closed when the test ends.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.New(t.Context(), testutil.NewDatabase(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func BenchmarkRecord(b *testing.B) {
	storetest.BenchmarkRecord(b, func(b *testing.B) store.Store { return newStore(b) })
}

// TestDesignQuery runs the status query of the original design, as written, on the schema.
func TestDesignQuery(t *testing.T) {
	t.Parallel()
	dbURL := testutil.NewDatabase(t)
	s, err := postgres.New(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	now := time.Now()
	r := store.Result{DeliveryID: "d1", EventID: "e1", TenantID: "t", EventType: "payment.failed",
		Channel: "slack", Attempt: 1, Status: store.StatusDelivered, At: now}
	old := r
	old.DeliveryID, old.At = "d0", now.Add(-25*time.Hour)
	if err := s.Record(t.Context(), []store.Result{r, old}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT event_type, channel, status, COUNT(*) FROM notification_deliveries WHERE created_at > NOW() - INTERVAL '24 hours' GROUP BY event_type, channel, status`)
	if err != nil {
		t.Fatalf("design query: %v", err)
	}
	var got []string
	for rows.Next() {
		var eventType, channel, status string
		var n int64
		if err := rows.Scan(&eventType, &channel, &status, &n); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, fmt.Sprintf("%s/%s/%s=%d", eventType, channel, status, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("design query: %v", err)
	}
	if want := "payment.failed/slack/delivered=1"; strings.Join(got, ",") != want {
		t.Errorf("design query = %v, want %s", got, want)
	}
	// Migrate recorded its version where operators look for it.
	var version int64
	err = conn.QueryRow(t.Context(), "SELECT max(version_id) FROM "+postgres.MigrationsTable).Scan(&version)
	if err != nil || version < 1 {
		t.Errorf("%s: max version %d, %v", postgres.MigrationsTable, version, err)
	}
}

// TestNoPasswordInErrors checks that no error quotes the database password, whether the URL
// is malformed or the server is unreachable.
func TestNoPasswordInErrors(t *testing.T) {
	t.Parallel()
	const password = "hunter2-s3cret"
	tests := []struct {
		name string
		url  string
	}{
		{"unreachable", "postgres://herald:" + password + "@127.0.0.1:1/ledger?sslmode=disable&connect_timeout=2"},
		{"bad port", "postgres://herald:" + password + "@127.0.0.1:notaport/ledger"},
		{"bad escape", "postgres://herald:" + password + "%zz@127.0.0.1:5432/ledger"},
		{"keyword form", "host=127.0.0.1 port=1 user=herald password=" + password + " dbname=ledger connect_timeout=2"},
		{"password in query", "postgres://herald@127.0.0.1:1/ledger?password=" + url.QueryEscape(password) + "&connect_timeout=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var errs []error
			s, err := postgres.New(ctx, tc.url)
			errs = append(errs, err)
			if err == nil {
				defer s.Close()
				errs = append(errs, s.Ping(ctx), s.Migrate(ctx),
					s.Record(ctx, []store.Result{{DeliveryID: "d", Attempt: 1, Status: store.StatusDelivered}}))
				_, err = s.Deliveries(ctx, store.Filter{})
				errs = append(errs, err)
			}
			failed := false
			for _, err := range errs {
				if err == nil {
					continue
				}
				failed = true
				t.Log(err)
				if strings.Contains(err.Error(), password) || strings.Contains(fmt.Sprintf("%+v", err), password) {
					t.Errorf("error leaks the password: %v", err)
				}
			}
			if !failed {
				t.Error("no operation failed; the test proves nothing")
			}
		})
	}
}

// TestOutage checks that the store rides out a restart of PostgreSQL: calls fail while it is
// down and work again, without a new Store, once it is back.
func TestOutage(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	s, err := postgres.New(t.Context(), pg.URL("postgres"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	r := store.Result{DeliveryID: "d1", EventType: "x", Channel: "webhook", Attempt: 1, Status: store.StatusRetrying, At: time.Now()}
	if err := s.Record(t.Context(), []store.Result{r}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	pg.Stop(t)
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping succeeded with the server down")
	}
	r.Attempt, r.Status = 2, store.StatusDelivered
	if err := s.Record(t.Context(), []store.Result{r}); err == nil {
		t.Error("Record succeeded with the server down")
	}
	pg.Start(t)
	if err := s.Record(t.Context(), []store.Result{r}); err != nil {
		t.Fatalf("Record after restart: %v", err)
	}
	d, attempts, err := s.Delivery(t.Context(), "d1")
	if err != nil || d.Status != store.StatusDelivered || len(attempts) != 2 {
		t.Errorf("after restart: %+v, %d attempts, %v", d, len(attempts), err)
	}
}

// TestMigrateConcurrentStores migrates one database from several stores at once, as the
// fleet's processes do when they start together.
func TestMigrateConcurrentStores(t *testing.T) {
	t.Parallel()
	dbURL := testutil.NewDatabase(t)
	errs := make(chan error, 3)
	for range cap(errs) {
		s, err := postgres.New(t.Context(), dbURL)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		defer s.Close()
		go func() { errs <- s.Migrate(t.Context()) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
}
