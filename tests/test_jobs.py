"""Background jobs: progress visible to the person who started them (page, polling partial, API), nobody
else; mail sent by the task worker through the database queue."""

from __future__ import annotations

import subprocess

import pytest
from django.core import mail as django_mail
from django.db import transaction
from django.utils import translation

from shenbao.core import jobs, mail
from shenbao.core.models import AuditEvent, Job
from shenbao.orgs.models import Role
from tests import tasks_support

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def owner(make_user):
    return make_user("job_owner", email="owner@example.cn")


def _start(task, user, **kwargs):
    with transaction.atomic():
        return jobs.start(task, user=user, label="测试任务", **kwargs)


def test_job_runs_with_progress_and_each_effect_once(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tasks_support.counted_steps, owner, steps=3, pause=0)
    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.percent, job.attempts) == ("done", 3, 3, 100, 1)
    assert job.task_id and job.finished_at and job.message == "step 3"
    assert AuditEvent.objects.filter(action="test.step").count() == 3
    assert AuditEvent.objects.filter(action="test.finished").count() == 1
    # Run again (as after a lost worker, once the job had ended): nothing happens twice.
    tasks_support.counted_steps.call(job_id=job.pk, steps=3, pause=0)
    assert AuditEvent.objects.filter(action="test.step").count() == 3


def test_refused_job_shows_its_reason_and_a_crash_a_generic_one_in_the_starters_language(
        owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refused = _start(tasks_support.refuses, owner, message="没有可发送的单位")
        with translation.override("en"):
            crashed = _start(tasks_support.crashes, owner)
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert (refused.state, refused.error, refused.done) == ("failed", "没有可发送的单位", 1)
    assert crashed.state == "failed" and crashed.language == "en"
    assert crashed.error == f"The task failed (no. {crashed.pk}); it has been logged, please contact the system administrator"
    assert "boom" not in crashed.error


def test_job_page_polls_while_running_and_stops_when_done(client, owner, make_user):
    job = Job.objects.create(owner=owner, label="导出申报汇总", state="running", done=3, total=12,
                             message="已导出 3 份")
    client.force_login(owner)
    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "导出申报汇总" in html and 'hx-trigger="every 1s"' in html and f'hx-get="/jobs/{job.pk}/"' in html
    assert 'value="25"' in html and "3 / 12" in html and "已导出 3 份" in html
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    partial = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div class="job-progress"')
    assert "<script" not in partial.content.decode()
    Job.objects.filter(pk=job.pk).update(state="done", done=12)
    done = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and 'value="100"' in done and "已完成" in done


def test_only_the_starter_and_the_system_administrator_see_a_job(client, owner, make_user):
    # R-S22
    job = Job.objects.create(owner=owner, label="导出", state="running")
    other = make_user("job_other")
    sysadmin = make_user("job_sysadmin", roles=(Role.SYSTEM_ADMIN,))
    client.force_login(other)
    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 403 and "只有发起该任务的人可以查看其进度和结果" in page.content.decode()
    api = client.get(f"/api/v1/jobs/{job.pk}")
    assert api.status_code == 403 and api.json() == {"detail": "只有发起该任务的人可以查看其进度和结果"}
    client.force_login(sysadmin)
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
    client.force_login(other)
    assert client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).status_code == 286  # stops polling
    client.logout()
    assert client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).status_code == 286
    assert client.get(f"/api/v1/jobs/{job.pk}").status_code == 401
    assert client.get(f"/jobs/{job.pk}/").status_code == 302


def test_api_reports_progress_and_the_result_file(client, owner, make_user, media,
                                                 django_capture_on_commit_callbacks):
    # R-S22: the result is downloaded by the starter only, as an attachment, and the download is audited
    with django_capture_on_commit_callbacks(execute=True):
        job = _start(tasks_support.makes_file, owner, text="汇总")
    client.force_login(owner)
    body = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["state"] == "done" and body["percent"] == 100 and body["state_label"] == "已完成"
    assert body["result_url"] == f"/jobs/{job.pk}/file/" and body["result_name"] == "结果.txt"
    download = client.get(body["result_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == "汇总".encode()
    assert download["Content-Disposition"].startswith("attachment;")
    downloads = AuditEvent.objects.filter(action="file.download", object_type="core.job", object_id=str(job.pk))
    assert downloads.count() == 1 and downloads.get().after["file"] == "结果.txt"
    client.force_login(make_user("job_stranger"))
    refused = client.get(body["result_url"])
    assert refused.status_code == 403 and "只有发起该任务的人" in refused.content.decode()
    denied = AuditEvent.objects.filter(action="access.denied", object_type="core.job", object_id=str(job.pk))
    assert denied.count() == 1 and "只有发起该任务的人" in denied.get().note


def test_mail_is_queued_with_its_transaction(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            mail.send(subject="提醒", body="请提交", to=["a@example.cn"])
        with transaction.atomic():
            mail.send(subject="不发", body="回滚", to=["b@example.cn"])
            transaction.set_rollback(True)
    assert [m.subject for m in django_mail.outbox] == ["提醒"]


@pytest.mark.django_db(transaction=True)
def test_mail_goes_through_the_database_queue_and_a_worker(db_queue, tmp_path):
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        mail.send(subject="【申报】提醒", body="请尽快提交申报书。", to=["clerk@example.cn"])
    row = DBTaskResult.objects.get()
    assert row.status == "READY" and row.task_path == "shenbao.core.mail.send_mail"
    assert django_mail.outbox == []
    run = subprocess.run(tasks_support.worker_command("--batch"), env=tasks_support.worker_env(
        tmp_path, SHENBAO_EMAIL_BACKEND="file"), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL" and len(row.worker_ids) == 1
    sent = list((tmp_path / "mail").iterdir())
    assert len(sent) == 1 and "clerk@example.cn" in sent[0].read_text()


def _redis_url() -> str | None:
    return tasks_support.redis_url()


@pytest.mark.django_db(transaction=True)
def test_mail_through_redis_with_the_rq_backend(tmp_path):
    """SHENBAO_TASKS_BACKEND=rq: the mail task goes to Redis and `shenbao worker` (rqworker) sends it."""
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis at SHENBAO_TEST_REDIS_URL")
    import redis
    from rq import Queue

    Queue("default", connection=redis.Redis.from_url(url)).empty()  # leftovers of an interrupted run
    env = tasks_support.worker_env(tmp_path, SHENBAO_TASKS_BACKEND="rq", SHENBAO_REDIS_URL=url,
                                   SHENBAO_EMAIL_BACKEND="file")
    import sys

    enqueue = subprocess.run([sys.executable, "-m", "shenbao", "shell", "-c", (
        "from django.db import transaction\nfrom shenbao.core import mail\n"
        "with transaction.atomic():\n    mail.send(subject='经由 Redis', body='RQ', to=['rq@example.cn'])\n")],
        env=env, capture_output=True, text=True, timeout=60)
    assert enqueue.returncode == 0, enqueue.stderr
    assert redis.Redis.from_url(url).llen("rq:queue:default") == 1
    run = subprocess.run(tasks_support.worker_command("--batch"), env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    sent = list((tmp_path / "mail").iterdir())
    assert len(sent) == 1 and "rq@example.cn" in sent[0].read_text()


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_task_cannot_even_start_ends_failed(db_queue, owner, tmp_path):
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        job = jobs.start(tasks_support.counted_steps, user=owner, label="坏参数", steps=1, pause=0)
    # a task row whose arguments the task does not take (e.g. queued by an older version of the code)
    DBTaskResult.objects.filter(id=job.task_id).update(args_kwargs={"args": [], "kwargs": {"job": job.pk}})
    run = subprocess.run(tasks_support.worker_command("--batch"), env=tasks_support.worker_env(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("任务出错")


def test_the_daily_job_forgets_effect_records_past_their_retention(db, settings,
                                                                  django_capture_on_commit_callbacks):
    """# R-S87: `jobs.once` records are pruned by `shenbao daily` once older than the retention, audited."""
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    from shenbao.core.models import TaskEffect

    settings.SHENBAO_TASK_EFFECT_RETENTION_DAYS = 30
    now = timezone.now()
    for key, age in [("old:1", 31), ("old:2", 400), ("recent", 29), ("fresh", 0)]:
        with transaction.atomic():
            assert jobs.once(key)
        TaskEffect.objects.filter(key=key).update(at=now - dt.timedelta(days=age))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("daily", stdout=out)
    assert "core.prune_task_effects" in out.getvalue()
    kept = set(TaskEffect.objects.values_list("key", flat=True))
    assert {"recent", "fresh"} <= kept and not kept & {"old:1", "old:2"}
    assert f"daily:core.prune_task_effects:{timezone.localdate().isoformat()}" in kept  # today's key stays
    event = AuditEvent.objects.get(action="task_effect.prune")
    assert event.actor_name == "daily" and event.before == {"count": 2} and "保留 30 天" in event.note
    # nothing older left: a second run deletes nothing and writes no event
    from shenbao.core import daily

    assert daily.prune_task_effects.call() == 0
    assert AuditEvent.objects.filter(action="task_effect.prune").count() == 1


def test_every_mail_goes_through_the_send_mail_task():
    """No module sends mail itself: only shenbao/core/mail.py touches django.core.mail."""
    import re
    from pathlib import Path

    import shenbao

    root = Path(shenbao.__file__).parent
    direct = re.compile(r"django\.core\.mail|django\.core import mail|\bsend_mass_mail\(|\bmail_admins\(|"
                        r"\bmail_managers\(|\.send_messages\(")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.relative_to(root).as_posix() not in ("core/mail.py", "settings.py")
                 and direct.search(p.read_text("utf-8"))]
    assert offenders == []
