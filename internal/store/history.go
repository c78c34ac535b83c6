package store

import (
	"context"
	"strings"
	"time"
)

// Position is a place in the history's order, newest first by created_at then delivery_id:
// a page that resumes after a Position holds the rows strictly older than it. Because
// deliveries are only ever added with created_at at about now, new ones sort before any
// page in progress, and a walk through the pages neither skips nor repeats a row while they
// arrive.
type Position struct {
	CreatedAt  time.Time `json:"t"`
	DeliveryID string    `json:"id"`
}

// Query selects a page of deliveries for the operators' history and dead list. Zero fields
// do not filter.
type Query struct {
	TenantID string
	// EventType selects one event type exactly; EventTypePrefix those that start with it
	// (the SQL side of a pattern such as "payment.*"; the caller filters finer patterns).
	EventType       string
	EventTypePrefix string
	Channel         string
	Destination     string
	// Statuses selects any of several statuses.
	Statuses []Status
	EventID  string
	// Since and Until bound created_at: Since <= created_at < Until.
	Since, Until time.Time
	// DeadLettered keeps the deliveries on the dead list: failed or dead, and not redriven
	// or discarded since (see SettleDead).
	DeadLettered bool
	// After resumes after a position, for the next page; nil starts with the newest row.
	After *Position
	// IDs keeps the deliveries with these ids.
	IDs []string
	// Limit caps the rows returned. Defaults to 100; at most 1000.
	Limit int
}

// RowLimit returns q.Limit with its documented default and maximum applied.
func (q Query) RowLimit() int { return Filter{Limit: q.Limit}.RowLimit() }

// deadListSQL is the condition of the dead list on notification_deliveries. Its first term
// is the predicate of the partial index notification_deliveries_dead_idx, written the same
// way so that both planners use the index.
const deadListSQL = `status IN ('dead', 'failed') AND attempts > COALESCE(dead_settled_attempts, -1)`

// Where renders q's conditions as an SQL WHERE clause (or "") and its arguments, in order;
// placeholder and timeArg are as for Filter.Where. The order and the limit are the caller's:
// ORDER BY created_at DESC, delivery_id DESC.
func (q Query) Where(placeholder func(n int) string, timeArg func(time.Time) any) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return placeholder(len(args))
	}
	add := func(column, op string, v any) { where = append(where, column+" "+op+" "+arg(v)) }
	if q.TenantID != "" {
		add("tenant_id", "=", q.TenantID)
	}
	if q.EventType != "" {
		add("event_type", "=", q.EventType)
	}
	if q.EventTypePrefix != "" {
		// LIKE with an escape character, so that '%' and '_' in the prefix match themselves.
		where = append(where, "event_type LIKE "+arg(likePrefix(q.EventTypePrefix))+` ESCAPE '\'`)
	}
	if q.Channel != "" {
		add("channel", "=", q.Channel)
	}
	if q.Destination != "" {
		add("destination", "=", q.Destination)
	}
	if len(q.Statuses) > 0 {
		ph := make([]string, len(q.Statuses))
		for i, s := range q.Statuses {
			ph[i] = arg(string(s))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if len(q.IDs) > 0 {
		ph := make([]string, len(q.IDs))
		for i, id := range q.IDs {
			ph[i] = arg(id)
		}
		where = append(where, "delivery_id IN ("+strings.Join(ph, ", ")+")")
	}
	if q.EventID != "" {
		add("event_id", "=", q.EventID)
	}
	if !q.Since.IsZero() {
		add("created_at", ">=", timeArg(q.Since))
	}
	if !q.Until.IsZero() {
		add("created_at", "<", timeArg(q.Until))
	}
	if q.DeadLettered {
		where = append(where, deadListSQL)
	}
	if q.After != nil {
		t := arg(timeArg(q.After.CreatedAt))
		id := arg(q.After.DeliveryID)
		where = append(where, "(created_at, delivery_id) < ("+t+", "+id+")")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// likePrefix returns the LIKE pattern of the strings that start with p, escaping with '\'.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

// Settle is what SettleDead records of one dead letter: its id, and the attempts it had
// made when it was selected. A delivery that has made more attempts since (a redrive already
// running) is left alone.
type Settle struct {
	DeliveryID string
	Attempts   int
}

// Health is one destination's figures for the admin status: deliveries created in the last
// 5 and 60 minutes that finished (delivered, failed or dead) and those delivered, and its
// dead letters.
type Health struct {
	Channel      string
	Destination  string
	Finished5m   int64
	Delivered5m  int64
	Finished60m  int64
	Delivered60m int64
	DeadLetters  int64
}

// HealthSQL is the status query both stores run: one statement, two index range scans
// (created_at over the last hour; the dead list's partial index), grouped by destination.
// Its arguments are the start of the 5-minute window, the start of the 60-minute window and
// the oldest dead letter to count, rendered by placeholder.
func HealthSQL(placeholder func(n int) string) string {
	p1, p2, p3 := placeholder(1), placeholder(2), placeholder(3)
	return `SELECT channel, destination, SUM(f5), SUM(d5), SUM(f60), SUM(d60), SUM(dead) FROM (
	SELECT channel, destination,
		SUM(CASE WHEN created_at >= ` + p1 + ` AND status IN ('delivered', 'failed', 'dead') THEN 1 ELSE 0 END) AS f5,
		SUM(CASE WHEN created_at >= ` + p1 + ` AND status = 'delivered' THEN 1 ELSE 0 END) AS d5,
		SUM(CASE WHEN status IN ('delivered', 'failed', 'dead') THEN 1 ELSE 0 END) AS f60,
		SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS d60,
		0 AS dead
	FROM notification_deliveries WHERE created_at >= ` + p2 + `
	GROUP BY channel, destination
	UNION ALL
	SELECT channel, destination, 0, 0, 0, 0, COUNT(*)
	FROM notification_deliveries WHERE ` + deadListSQL + ` AND created_at >= ` + p3 + `
	GROUP BY channel, destination
) AS h GROUP BY channel, destination ORDER BY channel, destination`
}

// SettleStatus is what SettleDead leaves a dead letter as.
type SettleStatus int

// How a dead letter is settled.
const (
	// SettleRedriven marks it pending again: it is on its way to its destination.
	SettleRedriven SettleStatus = iota + 1
	// SettleDiscarded leaves its status (failed or dead) as it was.
	SettleDiscarded
)

// HistoryStore is what the operators' tools (package ops) read and write of the ledger,
// beside Store. Both store/postgres and store/sqlite implement it.
type HistoryStore interface {
	// Page lists the deliveries q selects, newest first by created_at then delivery_id, at
	// most q.RowLimit() of them.
	Page(ctx context.Context, q Query) ([]Delivery, error)
	// SettleDead takes dead letters off the dead list in one transaction: each that is still
	// on it with the given attempt count gets dead_settled_attempts set to that count and
	// dead_settled_at and updated_at set to at, and, for SettleRedriven, status pending. It
	// returns how many it settled.
	SettleDead(ctx context.Context, how SettleStatus, letters []Settle, at time.Time) (int, error)
	// Health returns the status figures of every destination with deliveries created since
	// since60 or dead letters created since deadSince (see Health).
	Health(ctx context.Context, since5, since60, deadSince time.Time) ([]Health, error)
}
