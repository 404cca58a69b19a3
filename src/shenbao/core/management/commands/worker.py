"""shenbao worker — run the background tasks (mail, long jobs) of the configured queue.

With SHENBAO_TASKS_BACKEND=db (the default) this is django-tasks-db's `db_worker` with a heartbeat: tasks of
a worker that died are queued again (core/worker.py). Start as many as you like, on as many machines as
share the PostgreSQL database. With SHENBAO_TASKS_BACKEND=rq it runs `rqworker` on the Redis queue, with the
same lease on RQ's own heartbeat and retries (core/worker_rq.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.management.commands import db_worker

from shenbao.core import worker


class Command(db_worker.Command):
    help = "Run a task worker (database queue with lost-worker recovery, or RQ with SHENBAO_TASKS_BACKEND=rq)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(reload=False, worker_id=None)
        for action in parser._actions:  # db_worker checks --backend is a database one; not so with rq
            if action.dest == "backend_name" and settings.SHENBAO_TASKS_BACKEND != "db":
                action.type = str

    def handle(self, *args, **options):
        backend = settings.SHENBAO_TASKS_BACKEND
        if backend == "rq":
            # django-tasks-rq's Job class runs the Task objects; --batch drains the queue and exits (burst).
            call_command("rqworker", *options["queue_name"].split(","), job_class="django_tasks_rq.Job",
                         burst=options["batch"], with_scheduler=not options["batch"])
            return
        if backend != "db":
            raise CommandError("SHENBAO_TASKS_BACKEND=immediate runs tasks in the request: there is no queue to work on")
        worker_id = options.get("worker_id") or worker.new_worker_id()
        options["worker_id"] = worker_id
        worker.beat(worker_id)
        lost = worker.requeue_lost()
        if lost and options.get("verbosity", 1):
            self.stdout.write(f"re-queued {len(lost)} task(s) of lost workers")
        heart = worker.Heart(worker_id)
        heart.start()
        try:
            super().handle(*args, **options)
        finally:
            heart.stop()
            worker.leave(worker_id)
