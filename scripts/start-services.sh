#!/usr/bin/env bash
# Start what the test suite needs, when it is not already running.
# PostgreSQL: 127.0.0.1:5432, trust auth, database `test` (the ledger's tests use it).
set -euo pipefail

if command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL is running on 127.0.0.1:5432"
elif ls /etc/postgresql >/dev/null 2>&1; then
  echo "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
else
  echo "warning: PostgreSQL is not installed here; tests that need it will fail, not skip" >&2
fi
