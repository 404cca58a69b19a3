"""The heartbeat lease of core/worker.py on the RQ queue (SHENBAO_TASKS_BACKEND=rq), with RQ's own mechanisms.

RQ keeps a running job in the queue's StartedJobRegistry with an expiry that the worker pushes forward while
the job runs (its heartbeat); a worker that died (SIGKILL, OOM, a machine lost) stops pushing, and the
registry's cleanup, run by every worker when it starts and then periodically, finds the expired job, calls
its failure callback with `AbandonedJobError` and, if the job has retries left (`Retry`), queues it again.
Out of the box the expiry is 90 s, the cleanup runs every 10 minutes (an idle worker blocks 6 minutes
between checks) and django-tasks-rq enqueues without `Retry`, so a lost task ends failed. Here:

- `Worker` (settings.RQ `WORKER_CLASS`): heartbeat TTL = SHENBAO_TASKS_LEASE, heartbeat every lease/4,
  registry cleanup every lease/2, as the database queue's `shenbao worker` does; it also closes the
  database connections before forking the work horse (the callbacks below use them in the worker).
- `Queue` (settings.RQ `QUEUE_CLASS`): every django-tasks job is enqueued with
  `Retry(max=SHENBAO_TASKS_MAX_ATTEMPTS - 1)` and with `failed` as its failure callback.
- `failed`: a lost worker (`AbandonedJobError`) puts the Job back to queued, or ends it failed when its
  attempts are used up; a task that raised is not run again (as on the database queue: only lost workers
  are) and ends as django-tasks-rq ends it.

Tasks therefore run at least once; `jobs.once` makes their effects happen once (R-S89).
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.db import connections, transaction
from django_rq.queues import DjangoRQ
from rq import Worker as RQWorker
from rq.callbacks import Callback
from rq.exceptions import AbandonedJobError
from rq.job import Retry

log = logging.getLogger(__name__)


def lost(job) -> None:
    """The worker running `job` died: its Job shows it is queued again, or failed if no attempt is left."""
    from shenbao.core import worker

    again = job.should_retry
    with transaction.atomic():
        worker._job_lost(str(job.id), failed=not again)
    log.warning("task %s: its worker died; %s", job.id, "queued again" if again else "failed (attempts used up)")


def failed(job, connection, exc_type, exc_value, traceback) -> None:
    """The failure callback of every django-tasks job on the RQ queue (set by `Queue.create_job`)."""
    from django_tasks_rq.backend import failed_callback

    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        lost(job)
        if job.should_retry:
            return  # RQ queues it again: the task has not finished
    else:
        job.retries_left = 0  # a task that raised runs once, as on the database queue
    failed_callback(job, connection, exc_type, exc_value, traceback)


class Queue(DjangoRQ):
    def create_job(self, *args, retry: Retry | None = None, on_failure=None, **kwargs):
        from django_tasks_rq.backend import failed_callback

        if isinstance(on_failure, Callback) and on_failure.func is failed_callback:  # a django-tasks task
            on_failure = Callback(failed, on_failure.timeout)
            attempts = settings.SHENBAO_TASKS_MAX_ATTEMPTS
            if retry is None and attempts > 1:
                retry = Retry(max=attempts - 1)
        return super().create_job(*args, retry=retry, on_failure=on_failure, **kwargs)


class Worker(RQWorker):
    def __init__(self, *args, **kwargs):
        self.lease = float(settings.SHENBAO_TASKS_LEASE)
        kwargs.setdefault("job_monitoring_interval", max(1, int(self.lease // 4)))
        kwargs.setdefault("maintenance_interval", max(1, int(self.lease // 2)))
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # an idle worker wakes up for the periodic cleanup instead of blocking for minutes
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        return max(math.ceil(self.lease), self.job_monitoring_interval + 1)

    def fork_work_horse(self, job, queue):
        connections.close_all()  # the horse must not share this process's database connections
        super().fork_work_horse(job, queue)

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
        # Only the work horse died (e.g. the OOM killer): RQ retries the job or fails it (without a callback)
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        lost(job)
