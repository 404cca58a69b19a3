#!/usr/bin/env bash
# Prepares a machine that has never seen the project: system packages (CJK TrueType fonts; for the tests
# also Debian's chromium and poppler-utils), a virtual environment in .venv, and the project in it.
# Usage: scripts/setup.sh [demo|test]. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-demo}"

need_apt=()
fonts_ok=0
for f in /usr/share/fonts/truetype/arphic/uming.ttc /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; do
  [ -f "$f" ] && fonts_ok=1
done
[ "$fonts_ok" = 1 ] || need_apt+=(fonts-arphic-uming fonts-wqy-microhei)
if [ "$purpose" = test ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
fi
PY=""
for cand in python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    PY="$cand"; break
  fi
done
[ -n "$PY" ] || need_apt+=(python3.11 python3.11-venv)

if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "== installing system packages: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  [ -n "$PY" ] || PY=python3.11
fi

extras="."
[ "$purpose" = test ] && extras=".[dev]"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${purpose}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $PY"
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ]; then
  echo "== installing the project into .venv ($extras)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -e "$extras" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import shenbao, django, cel, reportlab" || { echo "installation failed" >&2; exit 1; }
  touch "$stamp"
fi
