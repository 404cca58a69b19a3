"""A clerk's whole flow over HTTP against the production server: C clients, each flow a fresh unit's clerk.

    .venv/bin/python bench/bench_flow.py [--flows 200] [--clients 20] [--workers 2]
    SHENBAO_DATABASE_URL=postgres://… .venv/bin/python bench/bench_flow.py   (a database it may fill)

Prepares a throw-away data dir (SQLite unless SHENBAO_DATABASE_URL says otherwise), loads the catalogue and
the calls, reopens 柳州 2026 (deadline a month ahead, as the tests do) and creates N 市级学会 units under 柳州市科协,
each with a clerk (Argon2 password, as in production). It then starts `shenbao serve` (gunicorn, `--workers`
2 by default, 127.0.0.1 on a free port) with SHENBAO_BENCH_QUERY_HEADER=1 (each response says how many SQL
statements it ran) and has C clients run N flows, each one clerk's whole flow as a browser does it:

  login      GET the login page, POST user name and password
  eligible   GET /apply/offers/ (可申报项目: every open call's types with the unit's verdicts)
  new        POST /apply/new/ (a draft of 2026-2)
  form       GET the draft's form
  save       POST the whole form filled in (保存)
  submit     POST /apply/<pk>/submit/
  page       GET the application page
  dashboard  GET /apply/ (the unit's applications)

Printed: flows per second (complete flows / wall time), and per step p50 / p95 latency and SQL statements
(median and max over the flows). Failed steps are counted and the first reasons shown.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchlib import ROOT, setup_django

CALL, TYPE = "liuzhou-2026-kcfn", "2026-2"
STEPS = ["login", "eligible", "new", "form", "save", "submit", "page", "dashboard"]


def prepare(data_dir: str, n: int) -> tuple[list[tuple[str, dict]], int, str]:
    """N units with a clerk each; returns [(user name, form POST)], the project type's pk, the password."""
    setup_django(data_dir)
    sys.path.insert(0, str(ROOT))
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from django.utils import timezone
    from tests.conftest import credit_code
    from tests.journey_support import PASSWORD, post_form, reopen

    from shenbao.applications.samples import sample_values
    from shenbao.calls import services as calls
    from shenbao.calls.models import Call
    from shenbao.orgs.models import Category, Organisation, Role, RoleAssignment, User

    calls.load_directory(directory=Path(settings.CALLS_DIR), publish=True)
    call = reopen(Call.objects.get(code=CALL))
    ptype = call.types.get(code=TYPE)
    form = call.document.form_for(ptype.document)
    hashed = make_password(PASSWORD)
    stamp = int(time.time()) % 10**8 * 1000
    serial = itertools.count(stamp)
    category = Category.objects.get(code="city_society")
    flows = []
    t0 = time.perf_counter()
    for i in range(n):
        name = f"柳州市流程测试学会{stamp + i}"
        org = Organisation.objects.create(name=name, category=category, parent=call.issuer,
                                          credit_code=credit_code(next(serial)), status="active")
        user = User.objects.create(username=f"flow{stamp + i}", password=hashed, organisation=org,
                                   must_change_password=False, display_name="经办人", email=f"flow{stamp + i}@example.org")
        RoleAssignment.objects.create(user=user, role=Role.APPLICANT_CLERK, organisation=org)
        values = sample_values(form=form, type_doc=ptype.document, org_name=name, track=None,
                               today=timezone.localdate())
        flows.append((user.username, post_form(values)))
    print(f"prepared {n} units and clerks under {call.issuer} in {time.perf_counter() - t0:.0f} s", flush=True)
    connections.close_all()
    return flows, ptype.pk, PASSWORD


# --- the server --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`shenbao serve` (gunicorn) on 127.0.0.1 with the query-count header, its output in a log file."""

    def __init__(self, data_dir: str, workers: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(data_dir) / "server.log"
        env = {**os.environ, "SHENBAO_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT / "src"),
               "SHENBAO_BENCH_QUERY_HEADER": "1"}
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shenbao.cli", "serve", "--bind", f"127.0.0.1:{self.port}", "--workers",
             str(workers), "--no-collectstatic"], cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.base}/accounts/login/", timeout=5).read()  # noqa: S310
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("the server did not start in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


# --- one flow (urllib with a cookie jar, as a browser) ------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, url: str, data: dict | None = None) -> tuple[int, str, str, int]:
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    request = urllib.request.Request(url, data=body)  # noqa: S310 (always http://127.0.0.1:<port>/…)
    try:
        with opener.open(request, timeout=120) as resp:
            return (resp.status, resp.headers.get("Location", ""), resp.read().decode("utf-8", "replace"),
                    int(resp.headers.get("X-Shenbao-Queries", "-1")))
    except urllib.error.HTTPError as exc:
        return (exc.code, exc.headers.get("Location", ""), exc.read().decode("utf-8", "replace"),
                int(exc.headers.get("X-Shenbao-Queries", "-1")))


def _token(html: str) -> str:
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return m.group(1) if m else ""


class Failed(Exception):
    pass


def flow(base: str, username: str, form: dict, ptype: int, password: str, record) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         _NoRedirect)

    def step(name, url, data=None, expect=(200,)):
        t0 = time.perf_counter()
        status, where, html, queries = fetch(opener, base + url, data)
        record(name, time.perf_counter() - t0, queries)
        if status not in expect:
            raise Failed(f"{name}: HTTP {status} {where}")
        return where, html

    t0 = time.perf_counter()
    _s, _l, html, q0 = fetch(opener, f"{base}/accounts/login/")
    status, where, _b, q1 = fetch(opener, f"{base}/accounts/login/",
                                  {"username": username, "password": password, "csrfmiddlewaretoken": _token(html)})
    record("login", time.perf_counter() - t0, q0 + q1)
    if status != 302 or "/login/" in where:
        raise Failed(f"login: HTTP {status}")
    _w, html = step("eligible", "/apply/offers/")
    token = _token(html)
    where, _h = step("new", "/apply/new/", {"project_type": ptype, "csrfmiddlewaretoken": token}, expect=(302,))
    m = re.search(r"/apply/(\d+)/edit/", where)
    if not m:
        raise Failed(f"new: went to {where}")
    pk = int(m.group(1))
    _w, html = step("form", f"/apply/{pk}/edit/")
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    token = _token(html)
    where, html = step("save", f"/apply/{pk}/edit/", {**form, "version": version, "action": "save",
                                                      "csrfmiddlewaretoken": token}, expect=(200, 302))
    saved = int(version) + 1
    where, _h = step("submit", f"/apply/{pk}/submit/", {"version": saved, "csrfmiddlewaretoken": token},
                     expect=(302,))
    if not where.rstrip("/").endswith(f"/apply/{pk}"):
        raise Failed(f"submit: went to {where}")
    step("page", f"/apply/{pk}/")
    step("dashboard", "/apply/")


def run(data_dir: str, flows: list[tuple[str, dict]], ptype: int, password: str, *, clients: int,
        workers: int) -> None:
    times: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)
    failures: list[str] = []
    lock = threading.Lock()

    def record(name, seconds, count):
        with lock:
            times[name].append(seconds)
            queries[name].append(count)

    server = Server(data_dir, workers)
    try:
        server.wait_ready()
        print(f"server: shenbao serve, {workers} gunicorn workers on {server.base}; {len(flows)} flows, "
              f"{clients} clients …", flush=True)
        queue = iter(flows)
        done = 0

        def client():
            nonlocal done
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                try:
                    flow(server.base, item[0], item[1], ptype, password, record)
                    with lock:
                        done += 1
                except (Failed, OSError, AttributeError) as exc:
                    with lock:
                        failures.append(str(exc))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            for _ in range(clients):
                pool.submit(client)
        wall = time.perf_counter() - t0
    finally:
        server.stop()

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    print()
    print(f"flows completed: {done} / {len(flows)} in {wall:.1f} s = {done / wall:.2f} flows/s "
          f"({clients} clients, {workers} workers)")
    print(f"{'step':<10} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'max q':>6}")
    for name in STEPS:
        if times[name]:
            qs = [q for q in queries[name] if q >= 0]
            print(f"{name:<10} {pct(times[name], 50) * 1000:>8.0f} {pct(times[name], 95) * 1000:>8.0f} "
                  f"{statistics.median(qs) if qs else -1:>8.0f} {max(qs) if qs else -1:>6}")
    if failures:
        print(f"failed flows: {len(failures)}; first: {failures[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="shenbao-bench-flow-")
    db = os.environ.get("SHENBAO_DATABASE_URL", "")
    print(f"database: {'PostgreSQL' if db.startswith('postgres') else 'SQLite'}; data dir {data_dir}")
    flows, ptype, password = prepare(data_dir, args.flows)
    run(data_dir, flows, ptype, password, clients=args.clients, workers=args.workers)


if __name__ == "__main__":
    main()
