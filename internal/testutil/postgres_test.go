package testutil

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopSharedPostgres()
	os.Exit(code)
}

// queryInt runs a query returning one integer, or returns the error.
func queryInt(ctx context.Context, url, query string, args ...any) (int, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

func TestStartPostgresStopStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := StartPostgres(t)
	url := pg.URL("postgres")
	if !strings.HasPrefix(url, "postgres://postgres@127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback URL for the postgres user", url)
	}
	if n, err := queryInt(ctx, url, "SELECT 1"); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
	var fsync string
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
		t.Errorf("fsync = %q, %v; want off", fsync, err)
	}
	port := pg.Port()

	pg.Stop(t)
	// Stop waits for the server to exit and ends open sessions.
	if err := conn.Ping(ctx); err == nil {
		t.Error("a session survived Stop")
	}
	conn.Close(ctx)
	if _, err := queryInt(ctx, url, "SELECT 1"); err == nil {
		t.Fatal("connected to a stopped server")
	}
	pg.Stop(t) // stopping twice is harmless

	pg.Start(t)
	if pg.Port() != port {
		t.Errorf("port changed across a restart: %d, then %d", port, pg.Port())
	}
	// Start returns once the server accepts connections: no waiting here.
	if n, err := queryInt(ctx, url, "SELECT 1"); err != nil || n != 1 {
		t.Fatalf("after restart, SELECT 1 = %d, %v", n, err)
	}
}

func TestStartPostgresCleanup(t *testing.T) {
	t.Parallel()
	var pg *Postgres
	t.Run("server", func(t *testing.T) {
		pg = StartPostgres(t)
	})
	if _, err := os.Stat(pg.dir); !os.IsNotExist(err) {
		t.Errorf("server directory %s still there after the test: %v", pg.dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := queryInt(ctx, pg.URL("postgres"), "SELECT 1"); err == nil {
		t.Error("the server still answers after its test ended")
	}
}

func TestNewDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var first string
	t.Run("first", func(t *testing.T) {
		first = NewDatabase(t)
		conn, err := pgx.Connect(ctx, first)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE mine (id int)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		// A session still open at cleanup must not stop the drop.
		leftover, err := pgx.Connect(ctx, first)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { leftover.Close(ctx) })
	})
	second := NewDatabase(t)
	if second == first {
		t.Fatalf("two tests got the same database %s", first)
	}
	n, err := queryInt(ctx, second,
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
	if err != nil || n != 0 {
		t.Errorf("the new database has %d tables (%v), want none", n, err)
	}
	firstName := first[strings.LastIndex(first, "/")+1:]
	n, err = queryInt(ctx, second, "SELECT count(*) FROM pg_database WHERE datname = $1", firstName)
	if err != nil || n != 0 {
		t.Errorf("the first test's database %s was not dropped: count %d, %v", firstName, n, err)
	}
}

// TestNewDatabaseFromEnv points NewDatabase at an existing server, as CI does with a service
// container.
func TestNewDatabaseFromEnv(t *testing.T) {
	pg := StartPostgres(t)
	t.Setenv(EnvTestDatabaseURL, pg.URL("postgres"))
	url := NewDatabase(t)
	if !strings.HasPrefix(url, strings.TrimSuffix(pg.URL(""), "/?sslmode=disable")) {
		t.Errorf("NewDatabase = %q, want a database on %s", url, pg.URL(""))
	}
	if n, err := queryInt(context.Background(), url, "SELECT 1"); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	a := databaseName("TestRecord/Out-of-order results, attempt 2 first and then a very long name")
	b := databaseName("TestRecord/Out-of-order results, attempt 2 first and then a very long name")
	if a == b {
		t.Errorf("two calls gave the same name %q", a)
	}
	if len(a) > 63 {
		t.Errorf("%q is longer than PostgreSQL's 63-byte identifiers", a)
	}
	if strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		t.Errorf("%q has characters that need quoting", a)
	}
}

func TestFindPostgresBinaries(t *testing.T) {
	t.Parallel()
	missing := pgSearch{pgConfig: "/nonexistent/pg_config", versionGlob: "/nonexistent/*/bin"}
	_, err := missing.find()
	if err == nil || !strings.Contains(err.Error(), "install PostgreSQL") {
		t.Errorf("find with no PostgreSQL = %v, want an error that says to install it", err)
	}
	dir, err := defaultPGSearch.find()
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	if !isExecutable(dir + "/initdb") {
		t.Errorf("find = %s, which holds no initdb", dir)
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int // sign
	}{
		{"15", "9.6", 1},
		{"9.6", "15", -1},
		{"16", "16", 0},
		{"10", "9", 1},
	} {
		got := compareVersions(tc.a, tc.b)
		if (got > 0) != (tc.want > 0) || (got < 0) != (tc.want < 0) {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}
