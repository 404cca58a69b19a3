"""A real long job: funder staff remind every unit with an unfinished draft of a call. Started from a
button on the call management page, run by the task worker, its progress polled on /jobs/<id>/; one mail
per unit."""

from __future__ import annotations

import subprocess

import pytest
from django.core import mail as django_mail

from shenbao.applications import services
from shenbao.core.models import AuditEvent, Job
from shenbao.orgs.models import Role
from tests import tasks_support
from tests.journey_support import filled_draft, reopen, unit

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def scene(load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _a, a_clerk, _ = unit(make_org, make_user, name="柳州市甲学会", category="city_society", parent=call.issuer,
                         prefix="rem_a")
    _b, b_clerk, _ = unit(make_org, make_user, name="柳州市乙学会", category="city_society", parent=call.issuer,
                         prefix="rem_b")
    _c, c_clerk, _ = unit(make_org, make_user, name="柳州市丙学会", category="city_society", parent=call.issuer,
                         prefix="rem_c")
    filled_draft(a_clerk, call, "2026-2")
    services.create_draft(user=b_clerk, project_type=call.types.get(code="2026-1"))
    done = filled_draft(c_clerk, call, "2026-2")
    services.submit(user=c_clerk, application=done)  # c has nothing unfinished
    staff = make_user("rem_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    return call, staff, a_clerk


def test_manage_page_has_the_button(client, scene):
    call, staff, _ = scene
    client.force_login(staff)
    html = client.get("/manage/calls/").content.decode()
    assert f'action="/apply/calls/{call.code}/remind-drafts/"' in html and "提醒未提交的单位" in html


def test_reminders_one_mail_per_unit_with_a_draft(client, scene, django_capture_on_commit_callbacks):
    call, staff, _ = scene
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/apply/calls/{call.code}/remind-drafts/")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.state, job.done, job.total, job.owner) == ("done", 2, 2, staff)
    assert job.message == "已提醒 2 个单位"
    assert sorted(m.to[0] for m in django_mail.outbox) == ["rem_a@example.cn", "rem_b@example.cn"]
    assert all(call.title in m.subject for m in django_mail.outbox)
    assert AuditEvent.objects.filter(action="call.remind_drafts", object_id=str(call.pk)).count() == 1
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "已完成" in page and "已提醒 2 个单位" in page


def test_only_the_issuers_staff_may_remind(client, scene):
    call, _staff, clerk = scene
    client.force_login(clerk)
    response = client.post(f"/apply/calls/{call.code}/remind-drafts/")
    assert response.status_code == 403 and "的业务人员可以提醒申报单位" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_reminders_run_in_a_real_worker_through_the_database_queue(client, scene, db_queue, tmp_path):
    # the job and its mails go through the database queue: nothing is sent until a worker runs
    call, staff, _ = scene
    django_mail.outbox.clear()  # the scene's own notifications (sent at once, before the queue was set)
    client.force_login(staff)
    client.post(f"/apply/calls/{call.code}/remind-drafts/")
    job = Job.objects.get()
    assert job.state == "queued" and django_mail.outbox == []
    progress = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert progress["state"] == "queued" and progress["percent"] == 0
    run = subprocess.run(tasks_support.worker_command("--batch"), env=tasks_support.worker_env(
        tmp_path, SHENBAO_EMAIL_BACKEND="file"), capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    progress = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert (progress["state"], progress["done"], progress["total"], progress["percent"]) == ("done", 2, 2, 100)
    # Django's file backend names a file by the second and the connection's id(): two mails sent in one second
    # may share a file, so the messages are counted, not the files
    text = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert text.count("MIME-Version: 1.0") == 2
    assert "rem_a@example.cn" in text and "rem_b@example.cn" in text
