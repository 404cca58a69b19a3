"""A deadline rush over HTTP: C clerks submit N own-approved drafts at once through the real server.

    .venv/bin/python bench/bench_rush.py [--apps 500] [--clients 20] [--time-limit 600]
    SHENBAO_DATABASE_URL=postgres://… .venv/bin/python bench/bench_rush.py   (a database it may fill)

Prepares a throw-away data dir (SQLite unless SHENBAO_DATABASE_URL says otherwise), loads the catalogue and
the calls, reopens 湖南 2024 (its deadline moved ahead, as the tests do) and creates N 省级学会 units, each
with a clerk, a head and one complete draft of 1-1 (高端学术活动) whose own approval (理事会, the head's
commitment) is done. It then starts the server (`shenbao runserver --noreload`, threaded, 127.0.0.1 on a
free port), logs every clerk in over HTTP, opens each draft's page for its CSRF token and version, and has
C clients post all N drafts to the submit endpoint a browser uses (POST /apply/<pk>/submit/) at once.

Printed per configuration: submissions tried, succeeded, failed by reason ("database is locked" when the
response or the server log of that request says so), snapshots recorded in the database, p50 / p95 / max
latency of the submit request, throughput. On SQLite it runs twice on the same prepared database: the
configured options (WAL, busy timeout, IMMEDIATE transactions) and Django's stock set-up
(SHENBAO_SQLITE_STOCK=1, see settings.py), side by side. Each run is bounded (--time-limit seconds of
logins and submissions); the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import itertools
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import ROOT, setup_django

LOCKED = "database is locked"
CALL = "hunan-2024-kjcx"  # its 1-1 asks for own approval (R-E8); 省级学会 submit directly
TYPE, TRACK, MEETING = "1-1", "high_end_event", "理事会"
LOGIN_CLIENTS = 4  # Argon2 verification takes ~100 MB each; logins are preparation, not the measure


# --- preparation (in this process, through the services, as the tests do) ---------------------------------


@dataclass
class Prepared:
    db_path: Path | None  # the SQLite file, None on PostgreSQL
    users: list[tuple[str, int]]  # (clerk user name, application pk)
    password: str


def prepare(data_dir: str, n: int) -> Prepared:
    setup_django(data_dir)
    sys.path.insert(0, str(ROOT))
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from tests.conftest import credit_code
    from tests.journey_support import PASSWORD, approve_own, filled_draft, reopen, unit

    from shenbao.calls import services as calls
    from shenbao.calls.models import Call
    from shenbao.orgs.models import Category, Organisation, RoleAssignment, User

    calls.load_directory(directory=Path(settings.CALLS_DIR), publish=True)
    call = reopen(Call.objects.get(code=CALL))
    hashed = make_password(PASSWORD)  # the server's hasher (Argon2), computed once for every account
    stamp = int(time.time()) % 10**8 * 1000  # fresh names and credit codes, also in a database used before
    serial = itertools.count(stamp)

    def make_org(name, category, parent=None, **fields):
        return Organisation.objects.create(name=name, category=Category.objects.get(code=category), parent=parent,
                                           credit_code=credit_code(next(serial)), **fields)

    def make_user(username, org=None, roles=(), **fields):
        user = User.objects.create(username=username, password=hashed, organisation=org,
                                   must_change_password=False, **fields)
        for role in roles:
            RoleAssignment.objects.create(user=user, role=role, organisation=org)
        return user

    users: list[tuple[str, int]] = []
    t0 = time.perf_counter()
    for i in range(n):
        prefix = f"rush{stamp + i}"
        _org, clerk, head = unit(make_org, make_user, name=f"湖南省冲刺测试学会{stamp + i}",
                                 category="province_society", parent=call.issuer, prefix=prefix)
        app = filled_draft(clerk, call, TYPE, TRACK)
        approve_own(app, clerk, head, kind=MEETING)
        users.append((clerk.username, app.pk))
    print(f"prepared {n} units, clerks and own-approved drafts of {call.code} {TYPE} in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    db = settings.DATABASES["default"]
    connections.close_all()  # the server gets the database to itself (and SQLite folds its WAL back in)
    sqlite = db["ENGINE"].endswith("sqlite3")
    return Prepared(db_path=Path(db["NAME"]) if sqlite else None, users=users, password=PASSWORD)


def stock_copy(prepared: Prepared, data_dir: str) -> Path:
    """The prepared SQLite file in another data dir, back in the rollback journal: WAL is a property of the
    file, so a stock run on the WAL file would still have it."""
    target = Path(data_dir) / prepared.db_path.name
    shutil.copyfile(prepared.db_path, target)
    con = sqlite3.connect(target)
    mode = con.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    con.close()
    assert mode == "delete", mode
    return target


def recorded(db_path: Path | None, app_ids: list[int]) -> int:
    """Snapshots (submitted versions) in the database for these applications: through the ORM on
    PostgreSQL, from the run's own SQLite file otherwise (this process is connected to the first one only)."""
    from shenbao.applications.models import Snapshot

    if db_path is None:
        return Snapshot.objects.filter(application_id__in=app_ids).count()
    assert Snapshot._meta.db_table == "applications_snapshot"
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT COUNT(*) FROM applications_snapshot WHERE application_id IN "
                           "(SELECT value FROM json_each(?))", (json.dumps(app_ids),)).fetchone()[0]
    finally:
        con.close()


# --- the server -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`shenbao runserver` (threaded WSGI) on 127.0.0.1, its output in a log file."""

    def __init__(self, data_dir: str, *, stock: bool):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(data_dir) / "server.log"
        env = {**os.environ, "SHENBAO_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT / "src")}
        env.pop("SHENBAO_SQLITE_STOCK", None)
        if stock:
            env["SHENBAO_SQLITE_STOCK"] = "1"
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shenbao.cli", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    def locked_paths(self) -> tuple[set[str], int]:
        """Paths of requests whose server error (django.request's 'Internal Server Error: <path>' and its
        traceback) mentions 'database is locked', and how many such errors the log holds."""
        paths, count, current = set(), 0, None
        for line in self.log.read_text("utf-8", "replace").splitlines():
            if m := re.match(r"Internal Server Error: (\S+)", line):
                current = m.group(1)
            elif line.startswith("["):  # the next request line of django.server ends a traceback
                current = None
            if current and LOCKED in line:
                paths.add(current)
                count += 1
                current = None
        return paths, count


# --- the clients (urllib, a cookie jar per clerk, as a browser) ---------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer (where it points tells success from conflict)


@dataclass
class Clerk:
    username: str
    app_id: int
    opener: urllib.request.OpenerDirector = field(repr=False)
    token: str = ""
    version: str = ""


def fetch(opener, url: str, data: dict | None = None, timeout: float = 60) -> tuple[int, str, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        request = urllib.request.Request(url, data=body)  # noqa: S310 (always http://127.0.0.1:<port>/…)
        with opener.open(request, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Location", ""), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", ""), exc.read().decode("utf-8", "replace")


def _token(html: str) -> str:
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return m.group(1) if m else ""


def log_in(base: str, username: str, app_id: int, password: str) -> Clerk:
    """Log in (the login page's CSRF token, then the form), then open the draft's page and read its submit
    form (the new CSRF token and the draft's version). A few tries: this is preparation, not the measure."""
    problem = ""
    for _attempt in range(5):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                             _NoRedirect)
        try:
            _s, _l, html = fetch(opener, f"{base}/accounts/login/")
            status, where, _b = fetch(opener, f"{base}/accounts/login/", {
                "username": username, "password": password, "csrfmiddlewaretoken": _token(html)})
            if status != 302 or "/login/" in where:
                problem = f"login: HTTP {status}"
                continue
            status, _l, html = fetch(opener, f"{base}/apply/{app_id}/")
            form = re.search(rf'action="/apply/{app_id}/submit/".*?</form>', html, re.S)
            version = re.search(r'name="version" value="(\d+)"', form.group(0)) if form else None
            if status != 200 or not version:
                problem = f"draft page: HTTP {status}{'' if form else ', no submit form'}"
                continue
            return Clerk(username, app_id, opener, _token(form.group(0)), version.group(1))
        except OSError as exc:
            problem = f"login: {exc}"
    raise RuntimeError(f"{username} could not get ready ({problem})")


@dataclass
class Outcome:
    status: int
    seconds: float
    reason: str  # "ok" or why not


def submit(base: str, clerk: Clerk) -> Outcome:
    url = f"{base}/apply/{clerk.app_id}/submit/"
    t0 = time.perf_counter()
    try:
        status, where, body = fetch(clerk.opener, url, {"csrfmiddlewaretoken": clerk.token, "version": clerk.version})
    except OSError as exc:
        return Outcome(0, time.perf_counter() - t0, f"no answer ({type(exc).__name__})")
    seconds = time.perf_counter() - t0
    if status == 302 and where.rstrip("/").endswith(f"/apply/{clerk.app_id}"):
        return Outcome(status, seconds, "ok")
    if status == 302 and "/edit/" in where:
        return Outcome(status, seconds, "conflict (sent back to the form)")
    if LOCKED in body:
        return Outcome(status, seconds, f"HTTP {status}: {LOCKED}")
    return Outcome(status, seconds, f"HTTP {status}")


# --- one run ----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    tried: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    not_ready: int = 0
    timed_out: int = 0
    wall: float = 0.0
    snapshots: int = 0
    locked_in_log: int = 0


def run(label: str, prepared: Prepared, data_dir: str, db_path: Path | None, *, stock: bool, clients: int,
        time_limit: float) -> Result:
    result = Result(label)
    done: list[tuple[int, Outcome]] = []  # (application pk, outcome)
    deadline = time.monotonic() + time_limit
    server = Server(data_dir, stock=stock)
    try:
        server.wait_ready()
        print(f"[{label}] server on {server.base}; logging {len(prepared.users)} clerks in …", flush=True)

        def ready(item):
            if time.monotonic() > deadline:
                return None
            try:
                return log_in(server.base, *item, prepared.password)
            except RuntimeError as exc:
                print(f"[{label}] {exc}", flush=True)
                return None

        with ThreadPoolExecutor(LOGIN_CLIENTS) as pool:
            clerks = list(pool.map(ready, prepared.users))
        ready_clerks = [c for c in clerks if c is not None]
        result.not_ready = len(clerks) - len(ready_clerks)
        print(f"[{label}] {len(ready_clerks)} clerks ready; {clients} clients submit …", flush=True)

        queue = iter(ready_clerks)
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    clerk = next(queue, None)
                if clerk is None:
                    return
                if time.monotonic() > deadline:
                    with lock:
                        result.timed_out += 1
                    continue
                outcome = submit(server.base, clerk)
                with lock:
                    done.append((clerk.app_id, outcome))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result.wall = time.perf_counter() - t0
    finally:
        server.stop()
    locked_paths, result.locked_in_log = server.locked_paths()
    for app_id, o in done:
        if o.reason != "ok" and f"/apply/{app_id}/submit/" in locked_paths:
            o.reason = f"HTTP {o.status}: {LOCKED}"
    result.outcomes = [o for _pk, o in done]
    result.tried = len(done)
    result.snapshots = recorded(db_path, [pk for _u, pk in prepared.users])
    return result


# --- report ----------------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report(results: list[Result], apps: int, clients: int, db: str) -> None:
    print()
    print(f"Shenbao deadline rush · {db} · {apps} drafts · {clients} concurrent clients · HTTP submit on "
          f"runserver (threaded)")
    reasons = sorted({o.reason for r in results for o in r.outcomes} - {"ok"})
    rows: list[tuple[str, list[str]]] = [("", [r.label for r in results])]

    def add(label, fn):
        rows.append((label, [fn(r) for r in results]))

    def ms(r, p):
        times = [o.seconds * 1000 for o in r.outcomes]
        return f"{pct(times, p):.0f} ms" if times else "-"

    add("clerks not logged in (failed or time limit)", lambda r: str(r.not_ready))
    add("submissions tried", lambda r: str(r.tried))
    add("  succeeded (302 to the application)", lambda r: str(sum(o.reason == "ok" for o in r.outcomes)))
    add("  failed", lambda r: str(sum(o.reason != "ok" for o in r.outcomes)))
    for reason in reasons:
        add(f"    {reason}", lambda r, reason=reason: str(sum(o.reason == reason for o in r.outcomes)))
    add("not tried (time limit)", lambda r: str(r.timed_out))
    add("snapshots recorded in the database", lambda r: str(r.snapshots))
    add("'database is locked' in the server log", lambda r: str(r.locked_in_log))
    add("latency p50", lambda r: ms(r, 50))
    add("latency p95", lambda r: ms(r, 95))
    add("latency max", lambda r: ms(r, 100))
    add("wall time of the rush", lambda r: f"{r.wall:.1f} s")
    add("throughput (recorded / s)", lambda r: f"{r.snapshots / r.wall:.1f}" if r.wall else "-")
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(row[1][i]) for row in rows) + 3 for i in range(len(results))]
    for label, cells in rows:
        print(f"{label:<{width}}" + "".join(f"{c:>{w}}" for c, w in zip(cells, cols, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=500, help="drafts (one unit and clerk each)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent submitting clients")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds per run (logins and submits)")
    parser.add_argument("--configured-only", action="store_true", help="SQLite: skip the stock run")
    args = parser.parse_args()
    os.environ.pop("SHENBAO_SQLITE_STOCK", None)  # the preparation always uses the configured options
    with tempfile.TemporaryDirectory(prefix="sb-bench-rush-") as tmp, \
            tempfile.TemporaryDirectory(prefix="sb-bench-rush-stock-") as tmp_stock:
        prepared = prepare(tmp, args.apps)
        common = {"clients": args.clients, "time_limit": args.time_limit}
        if prepared.db_path is None:
            results = [run("PostgreSQL", prepared, tmp, None, stock=False, **common)]
            db = "postgresql"
        else:
            stock_db = None if args.configured_only else stock_copy(prepared, tmp_stock)
            results = [run("configured", prepared, tmp, prepared.db_path, stock=False, **common)]
            if stock_db:
                results.append(run("stock", prepared, tmp_stock, stock_db, stock=True, **common))
            db = "sqlite"
        report(results, args.apps, args.clients, db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
