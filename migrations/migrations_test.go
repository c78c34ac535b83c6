package migrations_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/migrations"
)

// TestDialectsMatch checks that both dialects carry the same numbered files, each with an Up
// and a Down section, so that a change is never added to one store only.
func TestDialectsMatch(t *testing.T) {
	t.Parallel()
	names := func(fsys fs.FS) []string {
		t.Helper()
		got, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatalf("glob: %v", err)
		}
		for _, name := range got {
			body, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			for _, marker := range []string{"-- +goose Up", "-- +goose Down"} {
				if !strings.Contains(string(body), marker) {
					t.Errorf("%s has no %q section", name, marker)
				}
			}
		}
		return got
	}
	pg, lite := names(migrations.Postgres), names(migrations.SQLite)
	if len(pg) == 0 || pg[0] != "00001_init.sql" {
		t.Fatalf("postgres migrations = %v, want 00001_init.sql first", pg)
	}
	if !slices.Equal(pg, lite) {
		t.Errorf("postgres migrations %v differ from sqlite migrations %v", pg, lite)
	}
}
