#!/usr/bin/env bash
# Installs what is missing, checks style and migrations, runs the whole test suite (browser tests too).
# SHENBAO_DATABASE_URL selects the database (default: SQLite). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export SHENBAO_DATA_DIR="${SHENBAO_DATA_DIR:-$PWD/var/test}"
mkdir -p "$SHENBAO_DATA_DIR"
.venv/bin/ruff check src tests bench
.venv/bin/shenbao makemigrations --check --dry-run >/dev/null || {
  echo "models and migrations differ: run .venv/bin/shenbao makemigrations" >&2; exit 1; }
set +e
.venv/bin/python -m pytest --create-db "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
