#!/usr/bin/env bash
# Tries docs/deploy.md on this machine without touching its real configuration: the files in deploy/ (the
# ones the document shows) with their paths and ports moved into a temporary directory, then requests through
# nginx to the platform. Installs nginx-light and openssl if missing (apt-get, as root). Everything it starts
# is stopped and everything it creates (PostgreSQL database and role included) is removed at the end.
#   SHENBAO_PYTHON      the Python with the platform installed (default .venv/bin/python)
#   SHENBAO_TRY_REDIS_DB  Redis database number to use if Redis answers (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="${SHENBAO_PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || { echo "no Python at $PY (set SHENBAO_PYTHON)" >&2; exit 2; }
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
REDIS_DB="${SHENBAO_TRY_REDIS_DB:-1}"
# the units get their settings from the environment file only, as under systemd
for var in $(compgen -e | grep '^SHENBAO_' || true); do unset "$var"; done
step() { echo "== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

# --- packages (docs/deploy.md §6) ------------------------------------------------------------------------
need=()
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || need+=(nginx-light)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  step "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

TMP=$(mktemp -d /tmp/shenbao-try-deploy.XXXXXX)
chmod 0755 "$TMP"
PIDS=()
PGNAME=""
cleanup() {
  set +e
  [ -f "$TMP/nginx/nginx.pid" ] && kill "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$PGNAME" ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "$PGNAME" 2>/dev/null || dropdb -h 127.0.0.1 -U postgres --if-exists "$PGNAME"
    dropuser -h 127.0.0.1 -U postgres --if-exists "$PGNAME" 2>/dev/null
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); HTTPS_PORT=$(free_port); APP_PORT=$(free_port)
HOST=shenbao.example.org
mkdir -p "$TMP/tls" "$TMP/nginx/sites" "$TMP/systemd" "$TMP/bin" "$TMP/data" "$TMP/etc"

# /opt/shenbao/.venv/bin/shenbao of the units is this checkout's platform
cat > "$TMP/bin/shenbao" <<EOF
#!/bin/sh
exec "$PY" -m shenbao "\$@"
EOF
chmod 0755 "$TMP/bin/shenbao"
relocate() {
  sed -e "s|/opt/shenbao/.venv/bin/shenbao|$TMP/bin/shenbao|g" -e "s|/opt/shenbao|$ROOT|g" \
      -e "s|/etc/shenbao/env|$TMP/etc/env|g" -e "s|/var/lib/shenbao|$TMP/data|g" \
      -e "s|/etc/shenbao/tls/|$TMP/tls/|g" -e "s|127.0.0.1:8000|127.0.0.1:$APP_PORT|g" "$@"
}

# --- certificate (§6, the document's openssl command) -------------------------------------------------
step "self-signed certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$HOST" \
  -keyout "$TMP/tls/privkey.pem" -out "$TMP/tls/fullchain.pem" 2>/dev/null

# --- settings (§4) -------------------------------------------------------------------------------------
step "settings from deploy/env.example"
install -m 0600 deploy/env.example "$TMP/etc/env"
sed -i "s|^SHENBAO_SECRET_KEY=.*|SHENBAO_SECRET_KEY=$(openssl rand -base64 48 | tr -d '\n/+=')|" "$TMP/etc/env"
sed -i "s|^SHENBAO_DATA_DIR=.*|SHENBAO_DATA_DIR=$TMP/data|" "$TMP/etc/env"
grep -q '^SHENBAO_SECRET_KEY=change-me' "$TMP/etc/env" && fail "secret key not replaced"

# --- PostgreSQL (§2) -----------------------------------------------------------------------------------
if command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  PGNAME="shenbao_try_$$"
  step "PostgreSQL: createuser / createdb $PGNAME"
  createuser -h 127.0.0.1 -U postgres "$PGNAME"
  createdb -h 127.0.0.1 -U postgres -O "$PGNAME" "$PGNAME"
  sed -i "s|^SHENBAO_DATABASE_URL=.*|SHENBAO_DATABASE_URL=postgres://$PGNAME@127.0.0.1:5432/$PGNAME|" "$TMP/etc/env"
else
  step "no PostgreSQL on 127.0.0.1:5432: SQLite in the data dir"
  sed -i '/^SHENBAO_DATABASE_URL=/d' "$TMP/etc/env"
fi

# --- Redis (§3) ----------------------------------------------------------------------------------------
if command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli ping 2>/dev/null)" = PONG ]; then
  step "Redis answers: cache and sessions in db $REDIS_DB"
  sed -i "s|^SHENBAO_REDIS_URL=.*|SHENBAO_REDIS_URL=redis://127.0.0.1:6379/$REDIS_DB|" "$TMP/etc/env"
else
  step "no Redis: local memory cache"
  sed -i '/^SHENBAO_REDIS_URL=/d' "$TMP/etc/env"
fi
echo "SHENBAO_WORKERS=2" >> "$TMP/etc/env"  # a test machine: two gunicorn workers, whatever its CPUs

# --- systemd units (§5, §7) ----------------------------------------------------------------------------
for unit in shenbao.service shenbao-worker@.service; do
  relocate "deploy/systemd/$unit" > "$TMP/systemd/$unit"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  step "systemd-analyze verify"
  systemd-analyze verify "$TMP/systemd/shenbao.service" 2>&1 | tee "$TMP/verify.log"
  cp "$TMP/systemd/shenbao-worker@.service" "$TMP/systemd/shenbao-worker@1.service"
  systemd-analyze verify "$TMP/systemd/shenbao-worker@1.service" 2>&1 | tee -a "$TMP/verify.log"
  if grep -E "shenbao(-worker@1)?\.service" "$TMP/verify.log"; then fail "systemd-analyze verify"; fi
fi
unit_value() { sed -n "s/^$2=//p" "$TMP/systemd/$1"; }
[ "$(unit_value shenbao.service UMask)" = 0077 ] || fail "shenbao.service has no UMask=0077"

# --- the platform as the unit starts it ----------------------------------------------------------------
run_unit() {  # run_unit UNIT KEY: that Exec line with the unit's environment, umask and working directory
  local cmd; cmd=$(unit_value "$1" "$2")
  [ -n "$cmd" ] || fail "$1 has no $2"
  (cd "$(unit_value "$1" WorkingDirectory)" && umask "$(unit_value "$1" UMask)" && set -a \
    && . "$(unit_value "$1" EnvironmentFile)" && set +a && exec $cmd)
}
step "ExecStartPre: $(unit_value shenbao.service ExecStartPre)"
run_unit shenbao.service ExecStartPre >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; fail "ExecStartPre"; }
step "ExecStart: $(unit_value shenbao.service ExecStart)"
run_unit shenbao.service ExecStart >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
if "$TMP/bin/shenbao" help worker >/dev/null 2>&1; then
  step "worker ExecStart: $(unit_value shenbao-worker@.service ExecStart)"
  run_unit shenbao-worker@.service ExecStart >"$TMP/worker.log" 2>&1 &
  PIDS+=($!)
else
  step "no 'shenbao worker' command in this version: worker unit verified only"
fi
for _ in $(seq 1 240); do
  curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/" && break
  kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$TMP/serve.log"; fail "shenbao serve exited"; }
  sleep 1
done

# --- nginx (§6) ----------------------------------------------------------------------------------------
step "nginx -t"
relocate deploy/nginx/shenbao.conf \
  | sed -e "s|listen 80;|listen 127.0.0.1:$HTTP_PORT;|" -e "s|listen 443 ssl|listen 127.0.0.1:$HTTPS_PORT ssl|" \
  > "$TMP/nginx/sites/shenbao"
grep -q "127.0.0.1:$HTTPS_PORT ssl" "$TMP/nginx/sites/shenbao" && grep -q "$TMP/tls/privkey.pem" "$TMP/nginx/sites/shenbao" \
  || fail "deploy/nginx/shenbao.conf no longer has the lines this script moves"
MIME=/etc/nginx/mime.types
cat > "$TMP/nginx/nginx.conf" <<EOF
user $(id -un);
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 64; }
http {
    include $MIME;
    access_log $TMP/nginx/access.log;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    include $TMP/nginx/sites/shenbao;
}
EOF
"$NGINX" -t -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"

# --- requests through nginx ------------------------------------------------------------------------------
C=(curl -s --max-time 60 --resolve "$HOST:$HTTP_PORT:127.0.0.1" --resolve "$HOST:$HTTPS_PORT:127.0.0.1"
   --cacert "$TMP/tls/fullchain.pem")
HTTPS="https://$HOST:$HTTPS_PORT"

step "plain HTTP redirects to HTTPS"
out=$("${C[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$HOST:$HTTP_PORT/calls/")
[[ "$out" == "301 https://$HOST/calls/" ]] || fail "HTTP: $out"

step "the portal over HTTPS: HSTS, CSP, no redirect loop"
"${C[@]}" -D "$TMP/h.txt" -o "$TMP/portal.html" "$HTTPS/"
head -1 "$TMP/h.txt" | grep -q " 200" || { cat "$TMP/h.txt"; fail "portal over HTTPS"; }
grep -qi '^strict-transport-security: max-age=31536000' "$TMP/h.txt" || fail "no HSTS"
grep -qi "^content-security-policy: .*script-src 'self'" "$TMP/h.txt" || fail "no CSP"
grep -qi '^server: nginx' "$TMP/h.txt" || fail "not through nginx"

step "a static file: hashed name, a year's cache"
css=$(grep -o '/static/shenbao/css/site\.[0-9a-f]*\.css' "$TMP/portal.html" | head -1)
[ -n "$css" ] || fail "no hashed stylesheet in the page"
"${C[@]}" -D "$TMP/s.txt" -o /dev/null "$HTTPS$css"
grep -qi '^cache-control:.*immutable' "$TMP/s.txt" || { cat "$TMP/s.txt"; fail "static cache headers"; }

step "a forged X-Forwarded-For does not reach the audit log"
"${C[@]}" -c "$TMP/jar" -b "$TMP/jar" -o "$TMP/login.html" "$HTTPS/accounts/login/"
token=$(grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' "$TMP/login.html" | head -1 | sed 's/.*value="//; s/"$//')
[ -n "$token" ] || fail "no CSRF token on the login page"
code=$("${C[@]}" -c "$TMP/jar" -b "$TMP/jar" -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 203.0.113.77" \
  -H "Referer: https://$HOST/accounts/login/" --data-urlencode "csrfmiddlewaretoken=$token" \
  --data-urlencode "username=try-deploy-nobody" --data-urlencode "password=wrong" "$HTTPS/accounts/login/")
[ "$code" = 200 ] || fail "failed login answered $code"
ips=$(cd "$ROOT" && set -a && . "$TMP/etc/env" && set +a && "$TMP/bin/shenbao" shell -c \
  "from shenbao.core.models import AuditEvent as E; print('IPS', sorted({str(e.ip) for e in E.objects.filter(actor_name='try-deploy-nobody')}))" \
  2>/dev/null | grep '^IPS')
[ "$ips" = "IPS ['127.0.0.1']" ] || fail "audit log has $ips (expected nginx's view of the client, 127.0.0.1)"

step "a 40 MB body is refused by nginx"
code=$(head -c 40000000 /dev/zero | "${C[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
  --data-binary @- "$HTTPS/accounts/login/" || true)
[ "$code" = 413 ] || fail "40 MB body answered $code"

as_platform() {  # a command with the units' settings and umask (as an operator runs it: sudo -u shenbao …)
  (cd "$ROOT" && umask 0077 && set -a && . "$TMP/etc/env" && set +a && "$TMP/bin/shenbao" "$@")
}
if "$TMP/bin/shenbao" help backup >/dev/null 2>&1; then
  step "backup (§9): shenbao backup DIR, shenbao restore DIR --verify-only, files 0600 in 0700"
  as_platform backup "$TMP/backups/try" >"$TMP/backup.log" 2>&1 || { cat "$TMP/backup.log"; fail "shenbao backup"; }
  as_platform restore "$TMP/backups/try" --verify-only >>"$TMP/backup.log" 2>&1 \
    || { cat "$TMP/backup.log"; fail "shenbao restore --verify-only"; }
  loose=$(find "$TMP/backups/try" \( -type f ! -perm 0600 \) -o \( -type d ! -perm 0700 \))
  [ -z "$loose" ] || fail "backup files readable by others: $loose"
else
  step "no 'shenbao backup' command in this version"
fi

if [ "${#PIDS[@]}" -gt 1 ]; then
  step "the task worker is running"
  kill -0 "${PIDS[1]}" 2>/dev/null || { cat "$TMP/worker.log"; fail "shenbao worker exited"; }
fi
echo "try-deploy: OK"
