package ui_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.StopSharedPostgres()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreCurrent(),
			// Helpers of the pgx pool and nats-server that end shortly after Close.
			goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
