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
