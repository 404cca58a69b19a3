"""shenbao daily — queue today's daily tasks (reminders …) for the task worker; harmless when run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from shenbao.core import daily


class Command(BaseCommand):
    help = "Queue today's daily tasks (each once a day) for the task worker."

    def handle(self, *args, **options):
        queued = daily.queue_today()
        if options.get("verbosity", 1):
            names = ", ".join(queued) if queued else "nothing (already queued today)"
            self.stdout.write(f"queued: {names}")
