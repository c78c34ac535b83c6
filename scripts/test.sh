#!/usr/bin/env bash
# Runs Herald's whole test suite the way CI does. On a fresh Debian machine with Go it
# installs PostgreSQL's server binaries if they are missing (the tests start their own
# throwaway server with initdb and pg_ctl; set NOTIFICATIONS_TEST_DATABASE_URL to use an
# existing server instead). NATS needs nothing: the tests embed it from the Go module.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/postgres.sh
if [ -z "${NOTIFICATIONS_TEST_DATABASE_URL:-}" ]; then
  ensure_postgres
fi

go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go test -race -count=1 -timeout 20m "$@" ./...
