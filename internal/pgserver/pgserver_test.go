package pgserver

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestOutageAndRecovery(t *testing.T) {
	if os.Getenv("NOTIFICATIONS_TEST_DATABASE_URL") != "" {
		t.Skip("uses a throwaway server of its own; the tests were pointed at an existing one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url, err := s.CreateDatabase(ctx, "chaos_1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Split(url, "?")[0], "/chaos_1") {
		t.Errorf("URL of the new database: %s", url)
	}
	if _, err := s.CreateDatabase(ctx, "chaos_1"); err == nil {
		t.Error("a second database of the same name was created")
	}
	exec := func() error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS t (x int)")
		return err
	}
	if err := exec(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := exec(); err == nil {
		t.Fatal("a stopped server answered")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := exec(); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
}
