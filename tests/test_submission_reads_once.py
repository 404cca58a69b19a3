"""The submit step reads and writes each thing once (issue 6): the page hands the id to the service, which reads
the row once, locked, and hides what the user may not see; `perform(locked=True)` checks, saves the status with
the submit's own fields in one UPDATE and audits as any transition; the number counter is one upsert and still
skips a number already taken; the notice is one task queued by the request, whose recipients (one query) the
worker reads; the mail task records itself in one INSERT.
These prove that the checks, refusals, audit events and mails around those paths are those of before."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shenbao.applications import notify, services
from shenbao.applications.models import Application, NumberCounter, Snapshot
from shenbao.applications.workflow import APPLICATION
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent, TaskEffect
from shenbao.orgs.models import Role
from tests.journey_support import approve_own, filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def lz(call, make_org, make_user):
    org, clerk, head = unit(make_org, make_user, name="柳州市一读学会", category="city_society",
                            parent=call.issuer, prefix="once")
    return org, clerk, head


# --- the page: the id to the service, the same answers ----------------------------------------------------------


def test_submit_page_hides_an_application_of_another_unit(client, call, lz, make_org, make_user):  # R-S31
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    _other, stranger, _ = unit(make_org, make_user, name="柳州市旁观学会", category="city_society",
                               parent=call.issuer, prefix="peek")
    client.force_login(stranger)
    r = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version})
    assert r.status_code == 404
    app.refresh_from_db()
    assert app.status == "draft" and not app.number and not Snapshot.objects.filter(application=app).exists()
    denied = AuditEvent.objects.get(action="access.denied")
    assert (denied.actor_name, denied.object_id, denied.after["status"]) == ("peek_clerk", str(app.pk), 404)
    assert "只能查看本单位的申报" in denied.note
    assert client.post(reverse("applications:submit", args=[app.pk + 1000])).status_code == 404


def test_submit_page_refusal_shows_the_form_and_changes_nothing(client, call, lz):
    _org, clerk, _head = lz
    app = services.create_draft(user=clerk, project_type=call.types.get(code="2026-2"))  # nothing filled in
    client.force_login(clerk)
    r = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version})
    assert r.status_code == 400 and "未能提交" in r.content.decode()
    app.refresh_from_db()
    assert app.status == "draft" and not app.number
    assert not NumberCounter.objects.exists()  # refused before a number is drawn
    assert not AuditEvent.objects.filter(action__startswith="application.submit").exists()


def test_submit_page_then_the_same_click_again(client, call, lz):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    client.force_login(clerk)
    first = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version}, follow=True)
    assert "申报编号 2026-2-0001" in first.content.decode()
    again = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version}, follow=True)
    assert "没有重复提交" in again.content.decode()
    assert Snapshot.objects.filter(application=app).count() == 1
    event = AuditEvent.objects.get(action="application.submit")
    assert event.before == {"status": "draft"}
    assert event.after["status"] == "submitted" and event.after["number"] == "2026-2-0001"
    assert event.after["snapshot"] == 1 and event.actor_name == "once_clerk"


# --- perform(locked=True) ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_perform_locked_needs_the_callers_transaction(call, lz):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    with pytest.raises(RuntimeError):
        APPLICATION.perform(user=clerk, obj=Application.objects.get(pk=app.pk), action="discard", locked=True)
    app.refresh_from_db()
    assert app.status == "draft" and not AuditEvent.objects.filter(action="application.discard").exists()


def test_perform_locked_refuses_before_writing(call, lz, make_org, make_user):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    _other, stranger, _ = unit(make_org, make_user, name="柳州市他人学会", category="city_society",
                               parent=call.issuer, prefix="other")
    events = AuditEvent.objects.count()
    with pytest.raises(NotAllowed), transaction.atomic():
        row = services._lock(app)
        row.title = "不应写入"
        APPLICATION.perform(user=stranger, obj=row, action="discard", locked=True, update_fields=["title"])
    app.refresh_from_db()
    assert app.status == "draft" and app.title != "不应写入" and AuditEvent.objects.count() == events


def test_perform_locked_saves_in_one_update_audits_and_notifies_on_commit(call, lz,
                                                                           django_capture_on_commit_callbacks):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    heard = []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row = services._lock(app)
        row.title = "新的名称"
        with CaptureQueriesContext(connection) as ctx:
            out = APPLICATION.perform(user=clerk, obj=row, action="discard", locked=True, update_fields=["title"],
                                      notify=lambda obj, t: heard.append((obj.pk, t.action, obj.status)),
                                      extra_after={"why": "test"})
        assert heard == []  # not before the commit
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "applications_application"')]
    assert len(updates) == 1 and '"status"' in updates[0] and '"title"' in updates[0]
    assert not any(q["sql"].startswith('SELECT "applications_application"') for q in ctx.captured_queries)
    assert out is row and heard == [(app.pk, "discard", "discarded")]
    app.refresh_from_db()
    assert app.status == "discarded" and app.title == "新的名称"
    event = AuditEvent.objects.get(action="application.discard")
    assert event.before == {"status": "draft"} and event.after == {"status": "discarded", "why": "test"}


def test_perform_without_lock_still_reads_the_row_again(call, lz):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    stale = Application.objects.get(pk=app.pk)
    Application.objects.filter(pk=app.pk).update(title="别处改过")
    out = APPLICATION.perform(user=clerk, obj=stale, action="discard")
    assert out is not stale and out.title == "别处改过" and stale.status == "discarded"


# --- the number: one upsert, a taken number skipped -------------------------------------------------------------


def test_a_number_already_taken_is_skipped(call, lz, make_org, make_user):
    _org, clerk, _head = lz
    first = filled_draft(clerk, call, "2026-2")
    Application.objects.filter(pk=first.pk).update(number="2026-2-0001")  # e.g. given under an earlier pattern
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    assert app.number == "2026-2-0002"
    assert NumberCounter.objects.get(call=call, scope="2026-2").last == 2


def test_numbers_without_insert_returning(call, lz, monkeypatch):
    """SQLite before 3.35 cannot return from an upsert: the counter is then created, incremented and read
    in three statements, with the same numbers."""
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite before 3.35 lacks INSERT … RETURNING")
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    _org, clerk, _head = lz
    numbers = []
    for _ in range(2):
        app = filled_draft(clerk, call, "2026-2")
        with transaction.atomic():
            numbers.append(services.allocate_number(services._lock(app)))
    assert numbers == ["2026-2-0001", "2026-2-0002"]
    assert NumberCounter.objects.get(call=call, scope="2026-2").last == 2


# --- the notice and its mail ------------------------------------------------------------------------------------


def test_the_submit_notice_goes_to_the_funder_and_the_unit(call, lz, make_org, make_user, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    _org, clerk, head = lz
    head.email = "head@once.example"
    head.save()
    make_user("funder_a", org=call.issuer, roles=(Role.FUNDER_STAFF,), email="staff@funder.example")
    make_user("funder_b", org=call.issuer, roles=(Role.FUNDER_LEADER,), email="leader@funder.example")
    make_user("funder_c", org=call.issuer, roles=(Role.FUNDER_STAFF,), email="gone@funder.example", is_active=False)
    elsewhere = make_org("柳州市别的学会", "city_society", parent=call.issuer)
    make_user("else_clerk", org=elsewhere, roles=(Role.APPLICANT_CLERK,), email="else@example.cn")
    app = filled_draft(clerk, call, "2026-2")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(user=clerk, application=app)
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == ["head@once.example", "once@example.cn", "staff@funder.example"]
    assert mailoutbox[0].subject.startswith("【申报】")


def test_recipients_of_several_targets_in_one_query(call, lz, django_assert_num_queries):
    org, _clerk, head = lz
    head.email = "head@once.example"
    head.save()
    targets = [(call.issuer_id, (Role.FUNDER_STAFF,)), (org.pk, (Role.APPLICANT_CLERK, Role.UNIT_HEAD)), (None, ())]
    with django_assert_num_queries(1):
        assert notify._recipients(targets) == ["head@once.example", "once@example.cn"]
    assert notify._addresses(None, (Role.APPLICANT_CLERK,)) == []
    assert notify._addresses(org.pk, (Role.UNIT_HEAD,)) == ["head@once.example"]


def test_a_role_elsewhere_does_not_make_a_recipient_here(call, lz, make_org, make_user):
    # one assignment must name both the role and the unit (or be a role without unit held by a member of it)
    from shenbao.orgs.models import RoleAssignment

    org, _clerk, _head = lz
    other = make_org("柳州市别处学会", "city_society", parent=call.issuer)
    elsewhere = make_user("elsewhere_clerk", org=other, roles=(Role.APPLICANT_CLERK,), email="elsewhere@example.cn")
    RoleAssignment.objects.create(user=elsewhere, role=Role.HOME_REVIEWER, organisation=org)  # another role here
    clerks = (Role.APPLICANT_CLERK, Role.UNIT_HEAD)
    assert "elsewhere@example.cn" not in notify._addresses(org.pk, clerks)
    assert "elsewhere@example.cn" in notify._addresses(other.pk, clerks)
    assert "elsewhere@example.cn" in notify._addresses(org.pk, (Role.HOME_REVIEWER,))
    member = make_user("member_clerk", org=org, email="member@example.cn")
    RoleAssignment.objects.create(user=member, role=Role.APPLICANT_CLERK, organisation=None)  # of its own unit
    assert "member@example.cn" in notify._addresses(org.pk, clerks)
    assert "member@example.cn" not in notify._addresses(other.pk, clerks)


@pytest.mark.django_db(transaction=True)
def test_the_mail_task_sends_once_per_task_run(mailoutbox):
    from shenbao.core.mail import send_mail

    context = SimpleNamespace(task_result=SimpleNamespace(id="run-1"))
    assert send_mail.call(context, subject="s", body="b", to=["a@example.cn"]) == 1
    assert send_mail.call(context, subject="s", body="b", to=["a@example.cn"]) == 0  # run again: recorded
    assert len(mailoutbox) == 1 and TaskEffect.objects.filter(key="mail:run-1").count() == 1
    with transaction.atomic():  # inside a transaction (a savepoint keeps it usable when the key races)
        assert send_mail.call(SimpleNamespace(task_result=SimpleNamespace(id="run-2")), subject="s", body="b",
                              to=["a@example.cn"]) == 1
        assert AuditEvent.objects.count() >= 0  # the transaction is still usable
    assert TaskEffect.objects.filter(key="mail:run-2").exists() and len(mailoutbox) == 2


# --- the notice: queued by the request, its recipients read by the worker -------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_submit_queues_one_notice_and_the_worker_sends_it_once(call, lz, make_user, db_queue, mailoutbox,
                                                                   tmp_path):
    import subprocess

    from django_tasks_db.models import DBTaskResult

    from tests import tasks_support

    _org, clerk, head = lz
    head.email = "head@once.example"
    head.save()
    make_user("q_funder", org=call.issuer, roles=(Role.FUNDER_STAFF,), email="staff@funder.example")
    app = filled_draft(clerk, call, "2026-2")
    with CaptureQueriesContext(connection) as ctx:
        services.submit(user=clerk, application=app)
    # after the commit only the queue row: no recipients query, no mail in the request
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert "dbtaskresult" in sqls[-1] and sqls[-1].startswith("INSERT")
    assert not any(sql.startswith('SELECT "orgs_user"."email"') for sql in sqls)
    row = DBTaskResult.objects.get()
    assert row.status == "READY" and row.task_path == "shenbao.applications.notify.notice"
    kwargs = row.args_kwargs["kwargs"]
    assert kwargs["subject"].startswith("【申报】") and "已提交" in kwargs["body"]  # the status when it committed
    assert kwargs["targets"] == [[call.issuer_id, ["funder_staff"]],
                                 [app.applicant_id, ["applicant_clerk", "unit_head"]]]
    assert mailoutbox == []
    run = subprocess.run(tasks_support.worker_command("--batch"), env=tasks_support.worker_env(
        tmp_path, SHENBAO_EMAIL_BACKEND="file"), capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL"
    text = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert text.count("MIME-Version: 1.0") == 1
    assert all(a in text for a in ("head@once.example", "once@example.cn", "staff@funder.example"))
    assert TaskEffect.objects.filter(key=f"mail:{row.id}").exists()


@pytest.mark.django_db(transaction=True)
def test_the_notice_task_reads_its_recipients_when_it_runs_and_sends_once(call, lz, make_user, mailoutbox):
    org, _clerk, head = lz
    head.email = "head@once.example"
    head.save()
    context = SimpleNamespace(task_result=SimpleNamespace(id="notice-1"))
    targets = [[call.issuer_id, ["funder_staff"]], [org.pk, ["applicant_clerk", "unit_head"]]]
    make_user("late_funder", org=call.issuer, roles=(Role.FUNDER_STAFF,), email="late@funder.example")
    assert notify.notice.call(context, subject="s", body="b", targets=targets) == 1
    assert sorted(mailoutbox[0].to) == ["head@once.example", "late@funder.example", "once@example.cn"]
    assert notify.notice.call(context, subject="s", body="b", targets=targets) == 0  # run again: recorded
    assert len(mailoutbox) == 1
    # nobody with an address: nothing sent, nothing recorded
    assert notify.notice.call(SimpleNamespace(task_result=SimpleNamespace(id="notice-2")), subject="s", body="b",
                              targets=[[org.pk, ["expert"]]]) == 0
    assert len(mailoutbox) == 1 and not TaskEffect.objects.filter(key="mail:notice-2").exists()


def test_a_notice_for_no_organisation_queues_nothing(call, lz, mailoutbox, django_capture_on_commit_callbacks):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    with CaptureQueriesContext(connection) as ctx:
        notify._send("s", "b", [(None, (Role.HOME_REVIEWER,))])
    assert ctx.captured_queries == [] and mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notify.transition(app, SimpleNamespace(action="withdraw", label="撤回"))
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["once@example.cn"]


# --- the own approval: with the locked row on SQLite, read after the lock on PostgreSQL ------------------------


def test_a_type_without_the_own_approval_rule_reads_and_freezes_none(call, lz):  # R-E8
    from django.utils import timezone

    from shenbao.applications.models import OwnApproval

    _org, clerk, head = lz
    app = filled_draft(clerk, call, "2026-2")  # 柳州 2026-2 asks for no own approval
    # a row recorded under a rule the call no longer has (a call may be reloaded while in use): not asked for,
    # so neither read (on PostgreSQL it would be a statement of its own) nor frozen
    OwnApproval.objects.create(application=app, meeting_kind="理事会", meeting_name="第二次理事会",
                               meeting_date=timezone.localdate(), commitment="经第二次理事会会议研究审议",
                               recorded_by=clerk, recorded_at=timezone.now(), accepted_by=head,
                               accepted_at=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        snap = services.submit(user=clerk, application=app).snapshot
    assert snap.values["own_approval"] is None and "_meeting" not in snap.values["values"]
    alone = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "applications_ownapproval"')]
    assert alone == []


def test_a_type_with_the_rule_freezes_the_approval_read_under_the_lock(load_call, make_org, make_user):  # R-E8
    changde = reopen(load_call("changde2022"))
    _org, clerk, head = unit(make_org, make_user, name="常德市冻结审议学会", category="city_society",
                             parent=changde.issuer, prefix="cdfz",
                             attrs=[{"key": "has_party_branch", "value": True},
                                    {"key": "has_activity_venue", "value": True}])
    app = filled_draft(clerk, changde, "1", overrides={"budget_total": 15000, "own_funds": 10000, "city_funds": 5000})
    approve_own(app, clerk, head, name="2022年第三次理事会")
    with CaptureQueriesContext(connection) as ctx:
        snap = services.submit(user=clerk, application=app).snapshot
    approval = snap.values["own_approval"]
    assert approval["meeting_name"] == "2022年第三次理事会" and approval["accepted_by"] == head.username
    assert snap.values["values"]["_meeting"] == "2022年第三次理事会"
    alone = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "applications_ownapproval"')]
    # SQLite: one snapshot per transaction, so joined into the locking SELECT; PostgreSQL: read after the lock
    assert len(alone) == (0 if connection.vendor == "sqlite" else 1)


def test_the_submit_without_an_own_approval_freezes_none(call, lz):
    _org, clerk, _head = lz
    app = filled_draft(clerk, call, "2026-2")
    snap = services.submit(user=clerk, application=app).snapshot
    assert snap.values["own_approval"] is None and "_meeting" not in snap.values["values"]
