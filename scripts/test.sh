#!/usr/bin/env bash
# Runs Herald's whole test suite the way CI does. On a fresh Debian machine with Go it
# installs PostgreSQL's server binaries if they are missing (the tests start their own
# throwaway server with initdb and pg_ctl; set NOTIFICATIONS_TEST_DATABASE_URL to use an
# existing server instead), and Debian's chromium for the dashboard's browser tests. NATS
# needs nothing: the tests embed it from the Go module.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/postgres.sh
if [ -z "${NOTIFICATIONS_TEST_DATABASE_URL:-}" ]; then
  ensure_postgres
fi

# The dashboard's browser tests (internal/ui) drive Debian's chromium headless. Install it
# when it is missing, and tell the tests that here its absence is a failure, not a skip.
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium not found: installing it with apt-get" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
export HERALD_BROWSER_TESTS=1

go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go test -race -count=1 -timeout 20m "$@" ./...

# Fuzz what reads untrusted input (events, webhook headers) for about a minute in all.
# Each target runs a fixed number of inputs rather than a duration: go1.26's fuzzing
# coordinator can fail a run that ends on its -fuzztime deadline with "context deadline
# exceeded" and no crasher (https://go.dev/issue/75804). A crasher is written to
# <package>/testdata/fuzz/<target>/; commit it, and it runs with the package's tests.
while read -r target pkg inputs; do
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "${inputs}x" "$pkg" </dev/null
done <<'TARGETS'
FuzzDecode ./sdk 100000
FuzzValidateData ./sdk 30000
FuzzVerify ./sdk 50000
FuzzSignVerify ./sdk 20000
FuzzRender ./internal/render 30000
FuzzSendVerifies ./internal/channel/webhook 20000
TARGETS

# The fault suite at ci scale (about 3 minutes on 2 cores): the real binaries against
# nats-server processes and PostgreSQL, one fault per scenario; see docs/fault-suite.md.
go run ./cmd/herald-chaos -scale ci
