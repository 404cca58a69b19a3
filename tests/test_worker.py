"""A task worker killed in the middle of a task: another worker picks the task up again and it finishes
once (each of its effects recorded exactly once). Real `shenbao worker` processes against the test
database (SQLite or PostgreSQL, whichever the suite runs on)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from django.db import transaction

from shenbao.core import jobs
from shenbao.core.models import AuditEvent, Job, TaskWorker
from tests import tasks_support

LEASE = 2  # seconds: a worker that has not beaten for this long is dead


def _wait(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job(pk):
    return Job.objects.get(pk=pk)


@pytest.mark.django_db(transaction=True)
def test_killed_worker_task_is_picked_up_again_and_finishes_once(db_queue, make_user, tmp_path):
    # R-S89 (the database queue)
    from django_tasks_db.models import DBTaskResult

    owner = make_user("crash_owner")
    with transaction.atomic():
        job = jobs.start(tasks_support.counted_steps, user=owner, label="六步任务", steps=6, pause=0.6)
    env = tasks_support.worker_env(tmp_path, SHENBAO_TASKS_LEASE=LEASE)
    first = subprocess.Popen(tasks_support.worker_command(), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    second = None
    try:
        # In the middle: two steps done, four to go.
        _wait(lambda: _job(job.pk).done >= 2, 90, "the first worker's second step")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = _job(job.pk)
        assert killed_at.state == "running" and 2 <= killed_at.done < 6
        assert AuditEvent.objects.filter(action="test.finished").count() == 0
        row = DBTaskResult.objects.get(id=job.task_id)
        assert row.status == "RUNNING" and len(row.worker_ids) == 1  # django-tasks-db alone would stop here

        second = subprocess.Popen(tasks_support.worker_command(), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        _wait(lambda: _job(job.pk).finished, 90, "the job to finish on the second worker")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)

    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.attempts) == ("done", 6, 6, 2)
    row = DBTaskResult.objects.get(id=job.task_id)
    assert row.status == "SUCCESSFUL" and row.return_value == 6
    assert len(row.worker_ids) == 2 and row.worker_ids[0] != row.worker_ids[1]
    # every effect once, however many times the steps ran
    steps = list(AuditEvent.objects.filter(action="test.step").values_list("note", flat=True))
    assert sorted(steps) == [f"{job.pk}:{i}" for i in range(6)]
    assert AuditEvent.objects.filter(action="test.finished").count() == 1
    # the worker that stopped cleanly left; the killed one's row stays until it is long dead
    assert not TaskWorker.objects.filter(worker_id=row.worker_ids[1]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_workers_keep_dying_fails_instead_of_looping(db_queue, make_user, settings):
    from django_tasks_db.models import DBTaskResult

    from shenbao.core import worker

    owner = make_user("loop_owner")
    with transaction.atomic():
        job = jobs.start(tasks_support.counted_steps, user=owner, label="总是中断", steps=1, pause=0)
    row = DBTaskResult.objects.get(id=job.task_id)
    for n in range(1, 4):
        row.claim(f"dead-{n}")
        Job.objects.filter(pk=job.pk).update(state="running")
        handled = worker.requeue_lost(lease=0, max_attempts=3)
        assert handled == [str(row.pk)]
        row.refresh_from_db()
        assert row.status == ("READY" if n < 3 else "FAILED")
    job.refresh_from_db()
    assert job.state == "failed" and "多次中断" in job.error


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_one_queue_and_run_each_task_once(db_queue, make_user, tmp_path):
    from django_tasks_db.models import DBTaskResult

    owner = make_user("shared_owner")
    with transaction.atomic():
        started = [jobs.start(tasks_support.counted_steps, user=owner, label=f"任务{i}", steps=1, pause=0.4)
                   for i in range(8)]
    env = tasks_support.worker_env(tmp_path)
    workers = [subprocess.Popen(tasks_support.worker_command(), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        _wait(lambda: Job.objects.filter(state="done").count() == 8, 120, "eight jobs done")
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    assert all(_job(j.pk).attempts == 1 for j in started)
    rows = DBTaskResult.objects.filter(id__in=[j.task_id for j in started])
    assert all(r.status == "SUCCESSFUL" and len(r.worker_ids) == 1 for r in rows)
    assert AuditEvent.objects.filter(action="test.finished").count() == 8


# --- the same on the RQ queue (SHENBAO_TASKS_BACKEND=rq, Redis) -------------------------------------------

RQ_LEASE = 3


def _rq_env(tmp_path, attempts: int = 3):
    """A Redis database of its own (the mail test uses SHENBAO_TEST_REDIS_URL's), emptied."""
    import redis

    url = tasks_support.redis_url(db=3)
    if url is None:
        pytest.skip("no Redis at SHENBAO_TEST_REDIS_URL (default redis://127.0.0.1:6379): the RQ queue cannot "
                    "be tried here")
    redis.Redis.from_url(url).flushdb()
    return url, tasks_support.worker_env(tmp_path, SHENBAO_TASKS_BACKEND="rq", SHENBAO_REDIS_URL=url,
                                         SHENBAO_TASKS_LEASE=RQ_LEASE, SHENBAO_TASKS_MAX_ATTEMPTS=attempts)


def _rq_start(env, owner, call: str) -> Job:
    """jobs.start(…) in a process configured for RQ (this one runs tasks at once)."""
    import sys

    run = subprocess.run([sys.executable, "-m", "shenbao", "shell", "-c", (
        "from django.db import transaction\nfrom shenbao.core import jobs\nfrom shenbao.orgs.models import User\n"
        "from tests import tasks_support\n"
        f"with transaction.atomic():\n    job = jobs.start({call}, user=User.objects.get(pk={owner.pk}), "
        "label='RQ')\nprint(job.pk)\n")], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return _job(int(run.stdout.split()[-1]))


def _rq_job(url, task_id):
    import redis
    from rq.job import Job as RQJob

    return RQJob.fetch(task_id, connection=redis.Redis.from_url(url))


def _stop(proc) -> None:
    if proc is None or proc.poll() is not None:
        return
    left = tasks_support.descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.django_db(transaction=True)
def test_on_rq_a_killed_worker_task_is_picked_up_again_and_finishes_once(make_user, tmp_path):
    """# R-S89: the worker and its work horse are killed (a machine lost) in the middle of a task: once the
    lease has passed without a heartbeat, the next worker queues it again (RQ's StartedJobRegistry cleanup and
    Retry) and it finishes, each effect once."""
    url, env = _rq_env(tmp_path)
    owner = make_user("rq_crash_owner")
    job = _rq_start(env, owner, "tasks_support.counted_steps, steps=6, pause=0.6")
    assert job.task_id and _rq_job(url, job.task_id).retries_left == 2  # SHENBAO_TASKS_MAX_ATTEMPTS - 1
    first = subprocess.Popen(tasks_support.worker_command(), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    second = None
    try:
        _wait(lambda: _job(job.pk).done >= 2, 90, "the first worker's second step")
        horse_and_scheduler = tasks_support.descendants(first.pid)
        assert horse_and_scheduler
        for pid in [first.pid, *horse_and_scheduler]:  # the worker first: nobody sees its horse die
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = _job(job.pk)
        assert killed_at.state == "running" and 2 <= killed_at.done < 6
        assert _rq_job(url, job.task_id).get_status() == "started"  # RQ alone would leave it so for 90 s
        assert AuditEvent.objects.filter(action="test.finished").count() == 0

        second = subprocess.Popen(tasks_support.worker_command(), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        _wait(lambda: _job(job.pk).finished, 90, "the job to finish on the second worker")
    finally:
        if first.poll() is None:
            first.kill()
        _stop(second)

    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.attempts) == ("done", 6, 6, 2)
    rq_job = _rq_job(url, job.task_id)
    assert rq_job.get_status() == "finished" and rq_job.retries_left == 1 and rq_job.return_value() == 6
    steps = list(AuditEvent.objects.filter(action="test.step").values_list("note", flat=True))
    assert sorted(steps) == [f"{job.pk}:{i}" for i in range(6)]
    assert AuditEvent.objects.filter(action="test.finished").count() == 1


@pytest.mark.parametrize("attempts", [3, 1])
@pytest.mark.django_db(transaction=True)
def test_on_rq_a_killed_work_horse_is_run_again_or_fails_when_attempts_are_used_up(make_user, tmp_path,
                                                                                  attempts):
    """# R-S89: only the work horse dies (the OOM killer): its worker queues the task again at once, or ends
    it failed (with the reason, not running for ever) when no attempt is left."""
    url, env = _rq_env(tmp_path, attempts=attempts)
    job = _rq_start(env, make_user("rq_horse_owner"), "tasks_support.counted_steps, steps=3, pause=0.6")
    worker = subprocess.Popen(tasks_support.worker_command(), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _job(job.pk).done >= 1, 90, "the first step")
        horses = [pid for pid in tasks_support.descendants(worker.pid)
                  if os.getpgid(pid) == pid]  # the horse has its own process group (the scheduler does not)
        assert len(horses) == 1
        os.kill(horses[0], signal.SIGKILL)
        _wait(lambda: _job(job.pk).finished, 90, "the job to end")
    finally:
        _stop(worker)
    job.refresh_from_db()
    if attempts > 1:
        assert (job.state, job.done, job.attempts) == ("done", 3, 2)
        assert AuditEvent.objects.filter(action="test.finished").count() == 1
    else:
        assert (job.state, job.attempts) == ("failed", 1) and "多次中断" in job.error
        assert _rq_job(url, job.task_id).get_status() == "failed"


@pytest.mark.django_db(transaction=True)
def test_on_rq_a_task_that_raises_runs_once(make_user, tmp_path):
    """# R-S89: the retries are for lost workers only: a task that raised ends failed, as on the database
    queue, and is not run again."""
    url, env = _rq_env(tmp_path)
    job = _rq_start(env, make_user("rq_fail_owner"), "tasks_support.crashes")
    run = subprocess.run(tasks_support.worker_command("--batch"), env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("failed", 1) and job.error.startswith("任务出错")
    rq_job = _rq_job(url, job.task_id)
    assert rq_job.get_status() == "failed" and not rq_job.retries_left
