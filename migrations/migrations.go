// Package migrations holds the ledger's schema as numbered goose SQL files, one directory per
// SQL dialect, embedded in the binaries so that a store can migrate its database at start.
//
// Add a change as the next numbered file in both postgres/ and sqlite/ (for example
// 00002_add_column.sql) with a "-- +goose Up" and a "-- +goose Down" section; never edit a
// file that has shipped. store/postgres and store/sqlite apply them with goose and record the
// applied versions in the herald_schema_migrations table.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Postgres holds the PostgreSQL migrations at its root (00001_init.sql, ...).
var Postgres fs.FS = mustSub("postgres")

// SQLite holds the SQLite migrations at its root (00001_init.sql, ...).
var SQLite fs.FS = mustSub("sqlite")

// mustSub returns the embedded directory dir as a file system of its own. fs.Sub fails only on
// an invalid path, a programming error caught by the package's test.
func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic("migrations: " + err.Error())
	}
	return sub
}
