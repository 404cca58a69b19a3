"""shenbao demo — migrate, load the five calls and demo data, serve on 127.0.0.1:8000 with one task worker
beside the server (mail and long jobs run there).

It serves as production does: `shenbao serve`'s gunicorn (collected static files, debug off), the worker a
child process stopped with the server. Only with SHENBAO_DEBUG=1 does it use Django's development server.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Prepare the demo (migrate, five calls, demo organisations and users) and start the server."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare only, do not start the server")
        parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (see shenbao serve)")

    def handle(self, *args, addrport="127.0.0.1:8000", no_serve=False, workers=None, **options):
        from shenbao.demo import data as demo

        call_command("migrate", verbosity=0, interactive=False)
        if real := demo.non_demo_accounts():
            raise CommandError(
                f"拒绝运行演示：数据库 {settings.DATABASES['default']['NAME']} 中已有非演示数据"
                f"（{len(real)} 个非演示账户，如 {', '.join(real[:3])}）。演示会加入公开密码的账户，"
                "只能在空数据库或演示数据库上运行；请换一个数据目录（SHENBAO_DATA_DIR）或数据库"
                "（SHENBAO_DATABASE_URL）。 / Refusing to run the demo: this database holds non-demo data.")
        call_command("load_call", str(settings.CALLS_DIR), publish=True, stdout=self.stdout)
        logins = demo.ensure_demo_data()
        practice = demo.ensure_practice_calls()
        samples = demo.ensure_sample_applications()
        pool = demo.ensure_demo_experts()
        url = f"http://{addrport}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"申报平台 Shenbao: {url}"))
        self.stdout.write(f"数据库: {settings.DATABASES['default']['NAME']}")
        self.stdout.write(f"演练通知（截止时间在30天后，可走完申报流程）：{', '.join(practice)}")
        for line in samples:
            self.stdout.write(f"示例申报：{line}")
        if pool:
            self.stdout.write(f"柳州市科协评审专家库：{'、'.join(pool)}（expert 登录后先接受保密承诺并完成回避申报）")
        self.stdout.write("演示账户（用户名 / 密码 / 角色）：")
        for username, password, role in logins:
            self.stdout.write(f"  {username:<16} {password:<16} {role}")
        self.stdout.write("三个管理员（sysadmin、secadmin、auditor）登录时还须输入动态验证码：把上面的密钥加入验证器应用，"
                          "或运行 `.venv/bin/shenbao demo-otp sysadmin` 显示当前验证码（仅限演示账户）。")
        self.stdout.write("")
        if no_serve:
            return
        from shenbao.core.management.commands import serve

        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        worker = start_worker(self.stdout)
        # SIGTERM (a service manager, `kill`) ends the demo like Ctrl-C: the worker is stopped with it
        # (gunicorn's master installs its own handler, which ends run_gunicorn the same way)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            if settings.DEBUG:
                call_command("runserver", addrport, use_reloader=False)
            else:
                serve.run_gunicorn(serve.gunicorn_options(
                    bind=addrport, workers=workers or serve.default_workers(), timeout=60, access_log=False))
        finally:
            stop_worker(worker)


def start_worker(stdout):
    """One `shenbao worker` beside the server (none with SHENBAO_TASKS_BACKEND=immediate)."""
    if settings.SHENBAO_TASKS_BACKEND == "immediate":
        return None
    proc = subprocess.Popen([sys.executable, "-m", "shenbao", "worker", "--verbosity", "0"])
    stdout.write(f"任务处理进程（shenbao worker）已启动，进程号 {proc.pid}")
    return proc


def stop_worker(proc) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()  # the worker finishes its current task, then exits
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
