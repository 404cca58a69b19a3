"""Serving as production does: `shenbao serve`/`shenbao demo` run gunicorn with collected, hashed static
files and one task worker beside; `check --deploy` is silent with SHENBAO_HTTPS=1; persistent database
connections; Redis for cache and sessions; everything written is private to the platform's account."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import get_commands

from shenbao.core.management.commands import serve

SRC = Path(settings.BASE_DIR).parent


def shenbao_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh installation on its own SQLite data dir (no inherited SHENBAO_*)."""
    # a fresh installation's environment: no SHENBAO_* and none of the test harness's Django switches (the
    # browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE, which `check --deploy` rightly reports)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHENBAO_") and k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PYTHONPATH=str(SRC), SHENBAO_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def shenbao(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shenbao", *args], env=shenbao_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=300, check=False)


def settings_of(tmp_path: Path, *names: str, **env: str) -> dict[str, str]:
    code = "from django.conf import settings as s\n" + "".join(
        f"print('@@', {n!r}, repr(s.{n}), sep='\\t')\n" for n in names)
    out = shenbao(tmp_path, "shell", "-c", code, **env)
    assert out.returncode == 0, out.stderr
    return dict(line.split("\t")[1:] for line in out.stdout.splitlines() if line.startswith("@@\t"))


# --- HTTPS, check --deploy ----------------------------------------------------------------------------


def test_check_deploy_is_silent_with_https(tmp_path):
    # R-S5
    out = shenbao(tmp_path, "check", "--deploy", "--fail-level", "WARNING", SHENBAO_HTTPS="1",
                  SHENBAO_ALLOWED_HOSTS="shenbao.example.org")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
    assert "WARNING" not in out.stdout + out.stderr and "security.W" not in out.stdout + out.stderr
    without = shenbao(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert without.returncode != 0 and "security.W004" in without.stderr  # the test can fail


def test_https_settings_and_the_proxy_ssl_header_only_with_a_trusted_proxy(tmp_path):
    # R-S5: X-Forwarded-Proto is believed only when a proxy is configured to send it
    names = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
             "SECURE_PROXY_SSL_HEADER")
    direct = settings_of(tmp_path, *names, SHENBAO_HTTPS="1")
    assert direct["SECURE_SSL_REDIRECT"] == "True" and int(direct["SECURE_HSTS_SECONDS"]) >= 31536000
    assert direct["SESSION_COOKIE_SECURE"] == direct["CSRF_COOKIE_SECURE"] == "True"
    assert direct["SECURE_PROXY_SSL_HEADER"] == "None"
    proxied = settings_of(tmp_path, *names, SHENBAO_HTTPS="1", SHENBAO_TRUSTED_PROXY="127.0.0.1")
    assert proxied["SECURE_PROXY_SSL_HEADER"] == "('HTTP_X_FORWARDED_PROTO', 'https')"


# --- database connections, Redis ----------------------------------------------------------------------


def test_database_connections_persist_with_health_checks(tmp_path):
    for url in ("", "postgres://u@127.0.0.1:5432/x"):
        db = settings_of(tmp_path, "DATABASES['default']['CONN_MAX_AGE']",
                         "DATABASES['default']['CONN_HEALTH_CHECKS']",
                         **({"SHENBAO_DATABASE_URL": url} if url else {}))
        assert int(db["DATABASES['default']['CONN_MAX_AGE']"]) >= 60
        assert db["DATABASES['default']['CONN_HEALTH_CHECKS']"] == "True"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def test_redis_holds_cache_and_sessions_when_configured(tmp_path):
    without = settings_of(tmp_path, "SESSION_ENGINE", "CACHES['default']['BACKEND']")
    assert without["SESSION_ENGINE"] == "'shenbao.core.sessions'"  # the database store, renewed once a minute
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    url = "redis://127.0.0.1:6379/1"
    code = (
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from django.conf import settings; from django.core.cache import cache\n"
        "from importlib import import_module\n"
        "store = import_module(settings.SESSION_ENGINE).SessionStore(); store['x'] = 1; store.create()\n"
        "import redis; r = redis.Redis.from_url(settings.CACHES['default']['LOCATION'])\n"
        "print(settings.SESSION_ENGINE, any(store.session_key in k.decode() for k in r.keys('*')))\n"
        "store.delete()\n"
    )
    out = shenbao(tmp_path, "shell", "-c", code, SHENBAO_REDIS_URL=url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].split() == ["shenbao.core.sessions_cached", "True"]


# --- file modes ---------------------------------------------------------------------------------------


def test_the_data_dir_and_the_sqlite_file_are_private(tmp_path):
    # R-S7: created under the shell's umask 022, still 0700 / 0600
    (tmp_path / "data").mkdir(mode=0o755)
    old = os.umask(0o022)
    try:
        out = shenbao(tmp_path, "migrate", "-v0")
    finally:
        os.umask(old)
    assert out.returncode == 0, out.stderr
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.iterdir() if p.is_file()]
    assert any(p.name == "shenbao.sqlite3" for p in files) and any(p.name == "secret_key" for p in files)
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_media_files_and_folders_are_private(media):
    # R-S7
    from django.core.files.storage import default_storage

    name = default_storage.save("scans/2026/a/b.pdf", ContentFile(b"%PDF-1.4 test"))
    path = Path(default_storage.path(name))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, Path(media) / "scans"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


# --- the production server ------------------------------------------------------------------------------


def test_serve_refuses_debug_mode_and_takes_workers_from_the_environment(tmp_path, monkeypatch):
    out = shenbao(tmp_path, "serve", "--no-collectstatic", SHENBAO_DEBUG="1")
    assert out.returncode != 0 and "runserver" in out.stderr
    monkeypatch.setenv("SHENBAO_WORKERS", "3")
    assert serve.default_workers() == 3
    monkeypatch.delenv("SHENBAO_WORKERS")
    assert serve.default_workers() == 2 * len(os.sched_getaffinity(0)) + 1
    options = serve.gunicorn_options(bind="127.0.0.1:9", workers=2, timeout=60, access_log=False)
    assert options["bind"] == ["127.0.0.1:9"] and options["workers"] == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> dict[int, str]:
    """{pid: command line} of the processes whose parent is `pid`."""
    out = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return out


def get(url: str, **headers: str):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)


@pytest.mark.slow
def test_the_demo_serves_with_gunicorn_and_a_task_worker_and_stops_both(tmp_path):
    port = free_port()
    log = open(tmp_path / "demo.log", "w+")
    demo = subprocess.Popen([sys.executable, "-m", "shenbao", "demo", "--addrport", f"127.0.0.1:{port}",
                             "--workers", "2"], env=shenbao_env(tmp_path), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                page = get(base + "/")
                break
            except OSError:
                assert demo.poll() is None and time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
                time.sleep(1)
        assert page.headers["Server"] == "gunicorn"
        html = page.read().decode()
        css = re.search(r'/static/shenbao/css/site\.[0-9a-f]{12}\.css', html)
        assert css, "static files are served under their hashed names"
        static = get(base + css.group(0), **{"Accept-Encoding": "gzip"})
        assert "immutable" in static.headers["Cache-Control"] and static.headers["Content-Encoding"] == "gzip"
        missing = urllib.request.Request(base + "/no-such-page/")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(missing, timeout=30)
        assert err.value.code == 404 and b"Traceback" not in err.value.read()  # DEBUG is off
        kids = children(demo.pid)
        workers = [p for p, cmd in kids.items() if " worker" in cmd]
        assert len(workers) == (1 if "worker" in get_commands() else 0), kids
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
        log.close()
    time.sleep(1)
    assert children(demo.pid) == {}
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "(Z)" in Path(f"/proc/{pid}/stat").read_text()


def test_rq_jobs_are_not_stopped_after_rqs_180_seconds(tmp_path):
    # a bulk export runs longer than RQ's default job timeout; the database queue has none
    code = "import django_rq; q = django_rq.get_queue('default'); print('@@', q._default_timeout)"
    out = shenbao(tmp_path, "shell", "-c", code, SHENBAO_TASKS_BACKEND="rq")
    assert out.returncode == 0, out.stderr
    assert "@@ 14400" in out.stdout
    out = shenbao(tmp_path, "shell", "-c", code, SHENBAO_TASKS_BACKEND="rq", SHENBAO_TASKS_RQ_TIMEOUT="600")
    assert "@@ 600" in out.stdout


def test_postgresql_connections_keep_the_orms_join_order(tmp_path):
    # the application page's 12-17 LEFT JOINs were planned for 6-20 ms each time on PostgreSQL (settings.py)
    db = settings_of(tmp_path, "DATABASES['default']['OPTIONS']",
                     SHENBAO_DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert "-c join_collapse_limit=1" in db["DATABASES['default']['OPTIONS']"]
    db = settings_of(tmp_path, "DATABASES['default']['OPTIONS']", SHENBAO_PG_JOIN_COLLAPSE_LIMIT="8",
                     SHENBAO_DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert "-c join_collapse_limit=8" in db["DATABASES['default']['OPTIONS']"]
    sqlite = settings_of(tmp_path, "DATABASES['default']['OPTIONS']")
    assert "join_collapse_limit" not in sqlite["DATABASES['default']['OPTIONS']"]
