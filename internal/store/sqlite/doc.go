// Package sqlite is the embedded delivery ledger, the default when no PostgreSQL is
// configured: store.Store on a single SQLite file through modernc.org/sqlite (pure Go, no
// cgo).
//
// The database runs in WAL mode with a busy timeout. Writes go through one connection, so
// that transactions never contend for SQLite's single write lock inside the process, and
// reads through a separate pool of read-only connections, which WAL lets run beside a write.
//
// Times are stored as fixed-width UTC text with microseconds (2006-01-02T15:04:05.000000Z),
// so that comparing the strings compares the times: the Since filters and newest-first
// order work on the text directly. Migrate applies the embedded migrations (package
// migrations) with goose and records them in herald_schema_migrations, as store/postgres does.
package sqlite
