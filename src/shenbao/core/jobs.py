"""Long jobs run by a task worker, with progress the person who started them can watch.

Tasks use Django's tasks API (the django-tasks backport: `from django_tasks import task`, as on Django 6);
the backend is chosen by SHENBAO_TASKS_BACKEND (settings.py). A *job* is a task with a `core.Job` row: who
started it, a label, its state, done/total, a message, a result (a file or a link) and an error in the
starter's language. The starter follows it on `/jobs/<id>/` (a progress bar that polls) or
`GET /api/v1/jobs/{id}`; nobody else may, except the system administrator.

Writing a job (e.g. an XLSX export):

    from django_tasks import task
    from shenbao.core import jobs

    @task()
    @jobs.tracked                      # the task receives the Job instead of job_id
    def export_call(job, *, call_id: int) -> None:
        rows = [...]
        for i, row in enumerate(rows, 1):
            ...                                            # the work
            jobs.report(job, i, len(rows), _("已导出 %(n)d 份") % {"n": i})
        jobs.finish(job, file=ContentFile(data, name="申报汇总.xlsx"))   # or url=..., or nothing

    # in a service or view (inside the transaction that decides it, if any):
    job = jobs.start(export_call, user=request.user, label=_("导出申报汇总"), call_id=call.pk)
    return redirect(job)                # /jobs/<id>/

Rules for a job's body:
- Arguments are JSON (ids, strings), never model instances.
- A worker may die in the middle (killed, machine lost): the task then runs again from the start on
  another worker (`shenbao worker` re-queues tasks whose worker stopped beating: core/worker.py, and on RQ
  core/worker_rq.py). Make each effect
  idempotent: do it in a transaction together with `jobs.once(key)` and skip it when `once` says False.
  Mail sent with `shenbao.core.mail.send` inside that transaction is queued with it.
- `raise jobs.JobError(_("…"))` stops the job with that message for the user; any other exception stops it
  with a generic message (the traceback stays in the task result and the worker's log).
- Messages are translated in the starter's language (the body runs under it).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.core.models import Job, TaskEffect

log = logging.getLogger(__name__)


class JobError(Exception):
    """Stops a job with a message the starter reads (already in their language: the body runs under it)."""

    def __init__(self, message: str):
        self.message = str(message)
        super().__init__(self.message)


# --- enqueueing --------------------------------------------------------------------------------------

def _queue_is_this_database(task) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue(task, *args, **kwargs) -> Callable[[], None] | None:
    """Queue `task` so that it runs only if the current transaction commits.

    With the database backend the queue row is written inside the current transaction (it commits or
    rolls back with the change that asked for it: nothing is lost between the commit and the enqueue);
    with the others the task is enqueued on commit. Returns nothing; the task's result id is not needed
    (jobs keep theirs on the Job row)."""
    if _queue_is_this_database(task):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs), robust=False)
    return None


def start(task, *, user, label: str, **kwargs) -> Job:
    """Create a Job for the current user and queue `task(job_id=…, **kwargs)` (a task decorated with
    `tracked`). Returns the Job; redirect the user to it (`job.get_absolute_url()`)."""
    with transaction.atomic():
        job = Job.objects.create(
            owner=user if getattr(user, "is_authenticated", False) else None,
            label=str(label)[:200], task_path=task.module_path,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )

        def _go():
            result = task.enqueue(job_id=job.pk, **kwargs)
            job.task_id = str(result.id)[:64]
            Job.objects.filter(pk=job.pk, task_id="").update(task_id=job.task_id)

        if _queue_is_this_database(task):
            _go()
        else:
            transaction.on_commit(_go)
    return job


# --- inside a task -----------------------------------------------------------------------------------

def tracked(func):
    """Decorate a job's body `func(job, **kwargs)` (put it under `@task()`): the task is called with
    `job_id=…`; it marks the Job running, done or failed, and skips a job that already finished (a task
    run again after its worker died once the job had ended)."""

    @functools.wraps(func)
    def wrapper(job_id: int, **kwargs):
        job = _begin(job_id)
        if job is None:
            return None
        with translation.override(job.language):
            try:
                value = func(job, **kwargs)
            except JobError as e:
                _end(job, Job.State.FAILED, error=e.message)
                raise
            except Exception:
                _end(job, Job.State.FAILED, error=_("任务出错（编号 %(id)s），已记录，请联系系统管理员")
                     % {"id": job.pk})
                raise
            _end(job, Job.State.DONE)
        return value

    return wrapper


def _begin(job_id: int) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        job.state = Job.State.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or timezone.now()
        job.error = ""
        job.save(update_fields=["state", "attempts", "started_at", "error", "updated_at"])
    return job


def _end(job: Job, state: str, *, error: str = "") -> None:
    now = timezone.now()
    fields = {"state": state, "finished_at": now, "updated_at": now}
    if error:
        fields["error"] = error
    if state == Job.State.DONE and job.total:
        fields["done"] = job.total
    # Only a job still running ends here (finish() may have ended it already).
    Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(**fields)
    job.refresh_from_db()


def report(job: Job, done: int, total: int | None = None, message: str = "") -> None:
    """Progress: `done` of `total` steps, and a short message (shown under the bar). Written at once,
    outside the task's transactions, so the page polling it sees it."""
    job.done = max(0, int(done))
    if total is not None:
        job.total = max(0, int(total))
    job.message = str(message)[:300]
    Job.objects.filter(pk=job.pk).update(done=job.done, total=job.total, message=job.message,
                                         updated_at=timezone.now())


def finish(job: Job, *, file: File | None = None, url: str = "", name: str = "", message: str = "") -> None:
    """The job's result: a file (saved under media/jobs/, downloaded by the starter only) or a link, and a
    closing message. The job ends as done when its body returns."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if file is not None:
            locked.result_file.save(name or file.name or f"job-{job.pk}", file, save=False)
            locked.result_name = (name or file.name or "")[:200]
        if url:
            if not (url.startswith("/") and not url.startswith("//")) and not url.startswith("https://"):
                raise ValueError("a job's result link is a path on this site or an https:// address")
            locked.result_url = url[:300]
            locked.result_name = (name or locked.result_name)[:200]
        if message:
            locked.message = str(message)[:300]
        locked.save()
    job.refresh_from_db()


def once(key: str) -> bool:
    """Record the effect `key` (e.g. f"reminder:{job.pk}:{org.pk}"); True the first time, False if it was
    recorded before. Call it inside the transaction that makes the effect: if that rolls back, so does the
    record, and a task run again after a crash does each effect once."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("jobs.once() must be called inside the transaction that makes the effect")
    try:
        with transaction.atomic():
            TaskEffect.objects.create(key=key[:200])
    except IntegrityError:
        return False
    return True


def job_of_failed_task(sender, task_result, **kwargs) -> None:
    """A job whose task failed before its body could say so (the task could not be imported, its arguments
    did not fit…) ends failed instead of staying queued for ever (connected in core/apps.py)."""
    from django_tasks import TaskResultStatus

    if task_result.status != TaskResultStatus.FAILED:
        return
    for job in Job.objects.filter(task_id=str(task_result.id)).exclude(
            state__in=[Job.State.DONE, Job.State.FAILED]):
        with translation.override(job.language):
            job.error = _("任务出错（编号 %(id)s），已记录，请联系系统管理员") % {"id": job.pk}
        job.state = Job.State.FAILED
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error", "finished_at", "updated_at"])


# --- who may see a job -------------------------------------------------------------------------------

# Predicates `user -> bool` naming who oversees every job (the system administrator); core knows no roles,
# orgs fills this at start-up (orgs/apps.py).
OVERSEERS: list[Callable] = []


def can_view(user, job: Job) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if job.owner_id == user.pk:
        return ALLOW
    if any(check(user) for check in OVERSEERS):
        return ALLOW
    return deny(_("只有发起该任务的人可以查看其进度和结果"))
