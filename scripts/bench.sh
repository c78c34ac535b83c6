#!/usr/bin/env bash
# Runs Herald's benchmark (cmd/herald-bench) the way docs/performance.md was made. Like
# scripts/test.sh, it installs PostgreSQL's server binaries with apt if they are missing and
# NOTIFICATIONS_DATABASE_URL is unset; herald-bench then starts a throwaway server with the
# tests' helper (set NOTIFICATIONS_DATABASE_URL to use an existing database instead: its
# ledger tables are emptied between runs). NATS runs embedded unless NOTIFICATIONS_NATS_URL
# is set. Arguments go to herald-bench; without any, results go to docs/bench.
#
#   ./scripts/bench.sh                       # the whole benchmark, a few minutes on 2 cores
#   ./scripts/bench.sh -fanout 1 -workers 1  # one configuration, printed only
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/postgres.sh
if [ -z "${NOTIFICATIONS_DATABASE_URL:-}" ]; then
  ensure_postgres
fi

if [ "$#" -eq 0 ]; then
  set -- -out docs/bench
fi
exec go run ./cmd/herald-bench "$@"
