# Sourced by scripts/test.sh and scripts/bench.sh. ensure_postgres installs PostgreSQL's
# server binaries with apt when they are missing; the tests and the benchmark start their own
# throwaway servers with initdb and pg_ctl, so the packaged cluster is stopped again.

have_postgres() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

ensure_postgres() {
  have_postgres && return 0
  echo "PostgreSQL not found: installing it with apt-get" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq postgresql >/dev/null
  $sudo service postgresql stop >/dev/null 2>&1 || true
}
