"""shenbao serve — the production server: gunicorn with the platform's WSGI application.

Static files are collected first (hashed, compressed: WhiteNoise serves them from STATIC_ROOT), debug mode is
refused, and the workers are forked from a master that holds no database connection. `runserver` remains the
development server (debug mode, code reloading); it is never the way to serve users.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def default_workers() -> int:
    """SHENBAO_WORKERS, else gunicorn's rule of thumb: 2 × the CPUs this process may use, plus one."""
    if env := os.environ.get("SHENBAO_WORKERS"):
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return 2 * cpus + 1


def gunicorn_options(*, bind: str, workers: int, timeout: int, access_log: bool) -> dict:
    return {
        "bind": [b.strip() for b in bind.split(",") if b.strip()],
        "workers": workers,
        "worker_class": "sync",
        "timeout": timeout,          # a PDF of a long form takes seconds, never a minute
        "graceful_timeout": 30,
        "max_requests": 2000,        # a worker is renewed now and then: memory never creeps
        "max_requests_jitter": 200,
        "limit_request_line": 8190,
        "forwarded_allow_ips": ",".join(settings.SHENBAO_TRUSTED_PROXIES) or "127.0.0.1",
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "proc_name": "shenbao",
        # no gunicornc control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) is shared by every
        # gunicorn of the account, and nothing here needs run-time control beyond signals
        "control_socket_disable": True,
    }


def run_gunicorn(options: dict) -> None:
    """Run gunicorn in this process until it is stopped (SIGTERM/SIGINT end it with SystemExit)."""
    from django.core.cache import caches
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from shenbao.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self):
            return application

    # the workers are forked: none may inherit the master's database or cache connection
    connections.close_all()
    caches.close_all()
    Server().run()


class Command(BaseCommand):
    help = "Serve the platform with gunicorn (production server; runserver is for development only)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("SHENBAO_BIND", "127.0.0.1:8000"),
                            help="address:port (comma separated for several); default 127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=None,
                            help="gunicorn worker processes (default SHENBAO_WORKERS or 2 × CPUs + 1)")
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--access-log", action="store_true", help="log every request to stdout")
        parser.add_argument("--no-collectstatic", action="store_true",
                            help="static files were collected already (e.g. at installation)")

    def handle(self, *args, bind, workers, timeout, access_log, no_collectstatic, **options):
        if settings.DEBUG:
            raise CommandError("shenbao serve does not run in debug mode (SHENBAO_DEBUG): for development use "
                               "`shenbao runserver`.")
        if not no_collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        run_gunicorn(gunicorn_options(bind=bind, workers=workers or default_workers(), timeout=timeout,
                                      access_log=access_log))
