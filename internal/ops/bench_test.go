package ops_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/testutil"
)

// BenchmarkStatus measures one poll of the admin status on a fleet whose ledger holds
// 100,000 deliveries created in the last hour over 8 destinations (1% of them dead): the
// channels' consumers, the one ledger query, the circuit states from memory.
func BenchmarkStatus(b *testing.B) {
	n := testutil.StartNATS(b)
	dbURL := testutil.NewDatabase(b)
	slack := newFakeSlack(b)
	hook := newReceiver(b)
	p := startFleet(b, fleetEnv(b, n.URL(), dbURL, slack.URL, hook.URL))
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `
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
	svc := p.Ops()
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
