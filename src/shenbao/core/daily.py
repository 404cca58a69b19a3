"""Daily tasks: work the platform does once a day (reminders before a deadline …), queued by `shenbao daily`.

Each stage registers its daily tasks when the app is ready:

    from shenbao.core import daily
    daily.register("review.scoring_reminders", send_scoring_reminders)   # a django-tasks task, no arguments
                                                                          # but `day` (ISO date)

`shenbao daily` (run by a systemd timer, docs/deploy.md §7) queues every registered task for today; the
task worker runs them. Running it again the same day queues nothing more (one `jobs.once` key per task and
day), so the timer may fire more than once, on several machines.

Core's own daily task, `core.prune_task_effects`, forgets the `jobs.once` records (core.TaskEffect) older
than SHENBAO_TASK_EFFECT_RETENTION_DAYS (R-S87): a task is re-run within minutes of its worker's death, and
a daily key matters on its own day only, so older records protect nothing and would grow for ever.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task as django_task

from shenbao.core import audit, jobs
from shenbao.core.models import TaskEffect

DAILY: dict[str, object] = {}


def register(name: str, task) -> None:
    DAILY[name] = task


def queue_today(day=None) -> list[str]:
    """Queue each registered daily task once for `day` (today, local time); the names queued."""
    day = day or timezone.localdate()
    queued = []
    for name, task in sorted(DAILY.items()):
        with transaction.atomic():
            if jobs.once(f"daily:{name}:{day.isoformat()}"):
                jobs.enqueue(task, day=day.isoformat())
                queued.append(name)
    return queued


@django_task()
def prune_task_effects(day: str | None = None) -> int:
    """Daily: delete the `jobs.once` records older than SHENBAO_TASK_EFFECT_RETENTION_DAYS (counted back from
    now), audited with the count and the cutoff; returns the number deleted. Harmless when run again."""
    days = settings.SHENBAO_TASK_EFFECT_RETENTION_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    with transaction.atomic():
        deleted, _ = TaskEffect.objects.filter(at__lt=cutoff).delete()
        if deleted:
            audit.record(action="task_effect.prune", actor_name="daily",
                         before={"count": deleted}, after={"count": 0},
                         note=f"删除 {cutoff.isoformat(timespec='seconds')} 之前的任务效果记录"
                              f"（保留 {days} 天）")
    return deleted
