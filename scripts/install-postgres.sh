#!/usr/bin/env bash
# Install the PostgreSQL server binaries (initdb, pg_ctl, postgres) that the label-store tests run a
# throw-away server from (tests/conftest.py: postgres_server; nothing is configured or started here).
#
# Idempotent: does nothing when the binaries are in /usr/lib/postgresql/*/bin or on PATH. Otherwise
# `apt-get install -y postgresql` (needs root or sudo; `apt-get update` runs only if that install
# fails: no or stale package lists). The Python side (ase-db-backends, psycopg2-binary) comes with
# `pip install -e .`.
set -euo pipefail

have_binaries() {
    local dir
    for dir in /usr/lib/postgresql/*/bin "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")"; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if dir="$(have_binaries)"; then
    echo "PostgreSQL server binaries in $dir: nothing to do"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y postgresql; then
    $SUDO apt-get update
    $SUDO apt-get install -y postgresql
fi
dir="$(have_binaries)" || { echo "install-postgres.sh: postgresql installed but no initdb/pg_ctl/postgres found" >&2; exit 1; }
echo "PostgreSQL server binaries in $dir"
