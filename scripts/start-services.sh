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

# Chromium (Debian's package): the browser tests and the offline map's PNG drive it headless.
# Playwright never downloads a browser here; it is pointed at /usr/bin/chromium.
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; } \
    || echo "warning: could not install chromium; browser tests will fail, not skip" >&2
fi
command -v chromium >/dev/null 2>&1 && chromium --version 2>/dev/null || true
