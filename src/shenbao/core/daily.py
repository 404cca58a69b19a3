"""Daily tasks: work the platform does once a day (reminders before a deadline …), queued by `shenbao daily`.

Each stage registers its daily tasks when the app is ready:

    from shenbao.core import daily
    daily.register("review.scoring_reminders", send_scoring_reminders)   # a django-tasks task, no arguments
                                                                          # but `day` (ISO date)

`shenbao daily` (run by a systemd timer, docs/deploy.md §7) queues every registered task for today; the
task worker runs them. Running it again the same day queues nothing more (one `jobs.once` key per task and
day), so the timer may fire more than once, on several machines.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from shenbao.core import jobs

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
