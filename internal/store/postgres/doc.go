// Package postgres is the production delivery ledger: store.Store on PostgreSQL through a
// pgx connection pool.
//
// New builds a Store from a postgres:// URL without connecting; Migrate applies the embedded
// migrations (package migrations) with goose, under an advisory lock so that several
// processes may migrate at once, and records them in herald_schema_migrations.
//
// Record is the hot path, fed in batches from the RESULTS stream. It writes a whole batch in
// one transaction with two set-based statements: an upsert of notification_deliveries from
// unnest()ed arrays, one row per delivery after the batch is collapsed in Go (PostgreSQL
// refuses to update a row twice in one ON CONFLICT DO UPDATE), then an insert of
// notification_attempts from unnest()ed arrays with ON CONFLICT DO NOTHING. Rows are sent in
// key order so that concurrent batches lock them in the same order and cannot deadlock.
//
// Errors never carry the URL's password.
package postgres
