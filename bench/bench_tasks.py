"""Throughput of the task queue: N mails queued (as a service would, one transaction each), then drained
by W `shenbao worker --batch` processes; and how long a dead worker's task waits before it runs again.

    .venv/bin/python bench/bench_tasks.py [--mails 200] [--workers 1 2]
    SHENBAO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/DB .venv/bin/python bench/bench_tasks.py

Prints, per worker count: enqueue time per mail (ms), drain time, tasks/s. On PostgreSQL use a database of
its own (the queue table is emptied). Mail goes to the file backend in the temporary data dir.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchlib import ROOT, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="sb-bench-tasks-")
    os.environ["SHENBAO_TASKS_BACKEND"] = "db"
    os.environ["SHENBAO_EMAIL_BACKEND"] = "file"
    setup_django(data)
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from shenbao.core import mail

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SHENBAO_DATA_DIR=data)
    if connection.vendor == "sqlite":
        env["SHENBAO_DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    print(f"database: {connection.vendor}; {args.mails} mails")
    for workers in args.workers:
        DBTaskResult.objects.all().delete()
        start = time.perf_counter()
        for i in range(args.mails):
            with transaction.atomic():
                mail.send(subject=f"提醒 {i}", body="请尽快提交。", to=[f"u{i}@example.cn"])
        enqueue = time.perf_counter() - start
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "shenbao", "worker", "--batch", "--no-startup-delay",
                                   "--interval", "0", "--verbosity", "0"], env=env) for _ in range(workers)]
        for p in procs:
            p.wait()
        drain = time.perf_counter() - start
        done = DBTaskResult.objects.filter(status="SUCCESSFUL").count()
        print(f"workers={workers}: enqueue {enqueue / args.mails * 1000:.1f} ms/mail; drained {done} in "
              f"{drain:.1f} s (incl. ~start-up) = {done / drain:.1f} tasks/s")


if __name__ == "__main__":
    main()
