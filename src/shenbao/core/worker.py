"""Workers that die are noticed: a lease on every running task of the database queue.

django-tasks-db claims a task by marking it RUNNING with the worker's id and never looks at it again: a
worker killed in the middle (SIGKILL, OOM, a machine lost) leaves its task RUNNING for ever. So each
`shenbao worker` keeps a `core.TaskWorker` row and beats it every lease/4 seconds from a thread; a RUNNING
task whose last worker has not beaten for SHENBAO_TASKS_LEASE seconds is put back to READY (its Job back to
queued) by the next worker that starts and by every worker periodically. A task whose workers died
SHENBAO_TASKS_MAX_ATTEMPTS times is marked failed instead (a task that kills its worker must not kill them
all in turn). Tasks therefore run at least once; `jobs.once` makes their effects happen once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shenbao.core.models import Job, TaskWorker

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    from django.utils.crypto import get_random_string

    return f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}"[:64]


def beat(worker_id: str) -> None:
    now = timezone.now()
    updated = TaskWorker.objects.filter(worker_id=worker_id).update(beat_at=now)
    if not updated:
        TaskWorker.objects.create(worker_id=worker_id, host=socket.gethostname()[:200], pid=os.getpid(),
                                  beat_at=now)


def requeue_lost(*, lease: float | None = None, max_attempts: int | None = None) -> list[str]:
    """Put back to READY every RUNNING task whose worker stopped beating more than `lease` seconds ago;
    fail those whose workers died `max_attempts` times. Returns the ids handled."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    lease = settings.SHENBAO_TASKS_LEASE if lease is None else lease
    max_attempts = settings.SHENBAO_TASKS_MAX_ATTEMPTS if max_attempts is None else max_attempts
    cutoff = timezone.now() - dt.timedelta(seconds=lease)
    alive = set(TaskWorker.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))
    handled = []
    for row in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        last = row.worker_ids[-1] if row.worker_ids else ""
        if last in alive or (row.started_at and row.started_at >= cutoff):
            continue
        with exclusive_transaction(DBTaskResult.objects.db):
            # Still the same claim? (another worker may have re-queued or finished it meanwhile)
            current = DBTaskResult.objects.select_for_update().filter(
                pk=row.pk, status="RUNNING").first()
            if current is None or current.worker_ids != row.worker_ids:
                continue
            if len(current.worker_ids) >= max_attempts:
                current.status = "FAILED"
                current.finished_at = timezone.now()
                current.exception_class_path = "shenbao.core.worker.WorkerLost"
                current.traceback = f"worker {last} lost {len(current.worker_ids)} times"
                current.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
                _job_lost(str(current.pk), failed=True)
                log.warning("task %s failed: its workers died %d times", current.pk, len(current.worker_ids))
            else:
                current.status = "READY"
                current.started_at = None
                current.save(update_fields=["status", "started_at"])
                _job_lost(str(current.pk), failed=False)
                log.warning("task %s re-queued: worker %s stopped beating", current.pk, last)
            handled.append(str(current.pk))
    TaskWorker.objects.filter(beat_at__lt=timezone.now() - dt.timedelta(seconds=lease * 10)).delete()
    return handled


def _job_lost(task_id: str, *, failed: bool) -> None:
    for job in Job.objects.select_for_update().filter(task_id=task_id, state=Job.State.RUNNING):
        with translation.override(job.language):
            if failed:
                job.state = Job.State.FAILED
                job.error = _("处理任务的进程多次中断，任务已停止，请联系系统管理员")
                job.finished_at = timezone.now()
            else:
                job.state = Job.State.QUEUED
                job.message = _("处理任务的进程中断，任务已重新排队，将从头继续")
        job.save()


class Heart(threading.Thread):
    """Beats `worker_id` every lease/4 seconds and re-queues lost tasks every lease/2 seconds."""

    def __init__(self, worker_id: str, lease: float | None = None):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.lease = settings.SHENBAO_TASKS_LEASE if lease is None else lease
        self.stopping = threading.Event()

    def run(self) -> None:
        ticks = 0
        try:
            while not self.stopping.wait(self.lease / 4):
                ticks += 1
                try:
                    close_old_connections()
                    beat(self.worker_id)
                    if ticks % 2 == 0:
                        requeue_lost(lease=self.lease)
                except Exception:
                    log.exception("heartbeat of %s failed", self.worker_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


def leave(worker_id: str) -> None:
    with transaction.atomic():
        TaskWorker.objects.filter(worker_id=worker_id).delete()
