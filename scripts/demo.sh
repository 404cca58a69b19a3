#!/usr/bin/env bash
# Installs what is missing, then migrates, loads the five calls and demo data into the SQLite default
# and serves the platform on http://127.0.0.1:8000/ (it prints the URL and the demo logins).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
exec .venv/bin/shenbao demo "$@"
