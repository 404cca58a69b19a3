"""A call without 公示 (常德 2022: review.public_notice false — the notice names none): once the funder has
confirmed the result (R-V1), the award list is published at once, projects are created and every applicant
is told; the call's funder-level review (R-V3) is the screening's."""

from __future__ import annotations

import pytest
from django.core import mail as django_mail

from shenbao.core.decisions import NotAllowed
from shenbao.orgs.models import Role
from shenbao.projects.models import Project
from shenbao.review import notice as svc
from shenbao.review.models import Decision, PublicNotice
from tests.test_review_notice import confirm, decide, make_applications

pytestmark = pytest.mark.django_db


@pytest.fixture
def changde(load_call, make_org, make_user):
    call = load_call("changde2022")
    assert call.document.review.public_notice is False
    staff = make_user("cd_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    apps = make_applications(call, make_org, make_user, [("2-3", "科普进社区"), ("2-3", "学会能力提升"),
                                                         ("2-4", "科技咨询服务")])
    decide(apps[0], "proposed", amount=30000, rank=1)
    decide(apps[1], "not_selected", rank=2)
    decide(apps[2], "proposed", amount=20000, rank=1)
    return call, staff, apps


def test_the_award_list_without_notice_after_the_confirmation(changde, django_capture_on_commit_callbacks):
    # R-V1: confirmed by the funder, then published (常德 2022 announces no 公示)
    call, staff, _apps = changde
    with pytest.raises(NotAllowed, match="尚未确认"):
        svc.publish_award_list(actor=staff, call=call)
    assert not PublicNotice.objects.filter(call=call).exists() and not Project.objects.exists()
    with pytest.raises(NotAllowed, match="本通知不进行公示"):
        svc.publish_notice(actor=staff, call=call)
    confirm(call, staff)
    with django_capture_on_commit_callbacks(execute=True):
        notice, _job = svc.publish_award_list(actor=staff, call=call)
    assert notice.state == PublicNotice.State.AWARDED and notice.period_days == 0
    assert svc.period_text(notice) == "本通知不进行公示"
    assert sorted(Decision.objects.filter(application__call=call).values_list("state", flat=True)) == [
        "awarded", "awarded", "not_selected"]
    projects = Project.objects.filter(call=call).order_by("amount")
    assert [(p.title, p.amount) for p in projects] == [("科技咨询服务", 20000), ("科普进社区", 30000)]
    assert len(django_mail.outbox) == 3  # every applicant told, the unselected one too
    # a double click publishes once
    again, no_job = svc.publish_award_list(actor=staff, call=call)
    assert again.pk == notice.pk and no_job is None and Project.objects.filter(call=call).count() == 2


def test_a_call_with_notice_cannot_skip_it(load_call, make_org, make_user):
    call = load_call("liuzhou2026")
    staff = make_user("lz_staff2", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    with pytest.raises(NotAllowed, match="须先公示"):
        svc.publish_award_list(actor=staff, call=call)


def test_the_staff_page_offers_the_award_list_at_once(client, changde, django_capture_on_commit_callbacks):
    call, staff, _apps = changde
    confirm(call, staff)
    client.force_login(staff)
    page = client.get(f"/review/calls/{call.code}/notice/").content.decode()
    assert 'id="no-notice"' in page and "发布立项名单并通知申报单位" in page and "发布公示" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/review/calls/{call.code}/notice/")
    assert response.status_code == 302
    assert PublicNotice.objects.get(call=call).state == PublicNotice.State.AWARDED
    assert Project.objects.filter(call=call).count() == 2


def test_the_page_queues_the_award_list_and_shows_the_job(client, changde, django_capture_on_commit_callbacks):
    # the request answers the checks at once and queues the publishing; the job's page shows the result
    from shenbao.core.models import Job

    call, staff, _apps = changde
    client.force_login(staff)
    response = client.post(f"/review/calls/{call.code}/notice/", follow=True)
    assert "评审结果尚未确认" in response.content.decode() and not Job.objects.exists()
    confirm(call, staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/review/calls/{call.code}/notice/")
    job = Job.objects.get(task_path=svc.award_list_job.module_path)
    assert response["Location"] == job.get_absolute_url() and job.state == "done" and job.owner == staff
    notify = Job.objects.get(task_path=svc.notify_decisions.module_path)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "立项名单已发布，正在通知各申报单位" in page and notify.get_absolute_url() in page
    # a second click finds the list published: the call's page, nothing published twice
    again = client.post(f"/review/calls/{call.code}/notice/")
    assert again.status_code == 200 and 'id="no-notice"' not in again.content.decode()
    assert Project.objects.filter(call=call).count() == 2 and Job.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_double_click_queues_one_job_and_the_worker_publishes_once(client, changde, db_queue, tmp_path):
    import subprocess

    from shenbao.core.models import AuditEvent, Job
    from tests import tasks_support

    call, staff, _apps = changde
    confirm(call, staff)
    client.force_login(staff)
    first = client.post(f"/review/calls/{call.code}/notice/")
    second = client.post(f"/review/calls/{call.code}/notice/")
    job = Job.objects.get()
    assert first["Location"] == second["Location"] == job.get_absolute_url() and job.state == "queued"
    assert not PublicNotice.objects.exists() and not Project.objects.exists()
    run = subprocess.run(tasks_support.worker_command("--batch"), env=tasks_support.worker_env(
        tmp_path, SHENBAO_EMAIL_BACKEND="file"), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    job.refresh_from_db()
    assert job.state == "done", job.error
    notice = PublicNotice.objects.get(call=call)
    assert notice.state == PublicNotice.State.AWARDED and Project.objects.filter(call=call).count() == 2
    assert AuditEvent.objects.filter(action="notice.publish").count() == 1
    assert AuditEvent.objects.filter(action="decision.award").count() == 2
    notify = Job.objects.exclude(pk=job.pk).get()
    assert job.result_url == notify.get_absolute_url() and notify.owner == staff
    # the same job run again (its worker died after publishing) publishes nothing twice
    Job.objects.filter(pk=job.pk).update(state="running")
    svc.award_list_job.call(job_id=job.pk, call_id=call.pk)
    job.refresh_from_db()
    assert job.state == "done" and job.message == "立项名单已发布"
    assert Job.objects.count() == 2 and AuditEvent.objects.filter(action="decision.award").count() == 2
