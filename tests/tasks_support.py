"""Tasks used by the tests of the task worker (importable by a `shenbao worker` subprocess: the repository
root is on its PYTHONPATH)."""

from __future__ import annotations

import time

from django.db import transaction
from django_tasks import task

from shenbao.core import audit, jobs


@task()
@jobs.tracked
def counted_steps(job, *, steps: int, pause: float) -> int:
    """`steps` steps of `pause` seconds; each step's effect (an audit event) and the closing one happen once
    however many times the task runs."""
    for i in range(steps):
        with transaction.atomic():
            if jobs.once(f"test-step:{job.pk}:{i}"):
                audit.record(action="test.step", note=f"{job.pk}:{i}")
        jobs.report(job, i + 1, steps, f"step {i + 1}")
        time.sleep(pause)
    with transaction.atomic():
        if jobs.once(f"test-finished:{job.pk}"):
            audit.record(action="test.finished", note=str(job.pk))
    return steps


@task()
@jobs.tracked
def refuses(job, *, message: str) -> None:
    jobs.report(job, 1, 3, "first")
    raise jobs.JobError(message)


@task()
@jobs.tracked
def crashes(job) -> None:
    raise ZeroDivisionError("boom")


@task()
@jobs.tracked
def makes_file(job, *, text: str) -> None:
    from django.core.files.base import ContentFile

    jobs.report(job, 1, 1, "written")
    jobs.finish(job, file=ContentFile(text.encode(), name="结果.txt"))


# --- a real `shenbao worker` in a subprocess, against the test database ---------------------------------

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database (pytest-django's name for it) as a SHENBAO_DATABASE_URL."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(data_dir, **extra) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({
        "SHENBAO_DATABASE_URL": database_url(),
        "SHENBAO_DATA_DIR": str(data_dir),
        "SHENBAO_TASKS_BACKEND": "db",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "DJANGO_SETTINGS_MODULE": "shenbao.settings",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def worker_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "shenbao", "worker", "--no-startup-delay", "--interval", "0.2", *args]


def redis_url(db: int | None = None) -> str | None:
    """The tests' Redis (SHENBAO_TEST_REDIS_URL, default database 2), another database number if asked;
    None when no Redis answers."""
    import os

    import redis

    url = os.environ.get("SHENBAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
    if db is not None:
        url = url.rsplit("/", 1)[0] + f"/{db}" if url.count("/") > 2 else f"{url}/{db}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, and theirs (from /proc)."""
    import os

    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
