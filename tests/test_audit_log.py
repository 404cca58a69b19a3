"""The audit log as 等保 level 3 asks: where each event came from, refusals and downloads recorded, a diff
rather than two copies, a hash chain that `shenbao audit-verify` checks, and no way to delete an event."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from shenbao.core import audit
from shenbao.core.models import AuditEvent, AuditEventRefused
from shenbao.core.verify import verify
from shenbao.orgs.models import Role

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py
UA = "Mozilla/5.0 (X11; Linux x86_64) ShenbaoTest/1.0"


@pytest.fixture
def lz(make_org):
    return make_org("柳州市科学技术协会", "city_association", code=None)


@pytest.fixture
def reviewer(lz, make_user):
    return make_user("lz_home", lz, roles=(Role.HOME_REVIEWER,))


# --- where every event comes from ---------------------------------------------------------------------


def test_workflow_transitions_and_logins_carry_client_ip_and_user_agent(client, lz, reviewer, make_org):  # R-S30
    pending = make_org("柳州市待审学会", "city_society", lz, status="pending")
    client.post("/accounts/login/", {"username": "lz_home", "password": "Shenbao#2026"},
                REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=UA)
    login = AuditEvent.objects.get(action="account.login")
    assert (login.ip, login.user_agent) == ("203.0.113.7", UA)
    r = client.post(f"/accounts/registrations/{pending.pk}/decide/", {"action": "approve"},
                    REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=UA)
    assert r.status_code == 302
    event = AuditEvent.objects.get(action="registration.approve")  # written by core.workflow.Workflow.perform
    assert (event.ip, event.user_agent, event.actor_name) == ("203.0.113.7", UA, "lz_home")


def test_the_address_behind_a_trusted_proxy_is_the_clients(client, settings, reviewer):  # R-S30
    settings.SHENBAO_TRUSTED_PROXIES = ["10.0.0.1"]
    client.force_login(reviewer)
    client.get("/accounts/system/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4",
               HTTP_USER_AGENT=UA)
    event = AuditEvent.objects.get(action="access.denied")
    assert event.ip == "198.51.100.4"


# --- refusals and downloads ------------------------------------------------------------------------------


def test_refused_pages_are_audited_with_the_reason(client, reviewer):  # R-S31
    client.force_login(reviewer)
    r = client.get("/accounts/system/", REMOTE_ADDR="203.0.113.8", HTTP_USER_AGENT=UA)
    assert r.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor_name == "lz_home" and "只有系统管理员可以" in event.note
    assert event.after == {"method": "GET", "path": "/accounts/system/", "status": 403}
    assert (event.ip, event.user_agent) == ("203.0.113.8", UA)


def test_api_refusals_are_audited(client, reviewer):  # R-S31
    client.force_login(reviewer)
    r = client.get("/api/v1/applications/eligible")
    assert r.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.note == r.json()["detail"] and event.after["path"] == "/api/v1/applications/eligible"


def test_a_refusal_hidden_as_not_found_is_audited(client, load_call, make_org, make_user):  # R-S31
    from tests.journey_support import reopen, unit

    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市甲学会", category="city_society",
                             parent=call.issuer, prefix="a")
    _other, stranger, _ = unit(make_org, make_user, name="柳州市乙学会", category="city_society",
                               parent=call.issuer, prefix="b")
    from shenbao.applications import services

    app = services.create_draft(user=clerk, project_type=call.types.get(code="2026-2"), track=None)
    client.force_login(stranger)
    assert client.get(f"/apply/{app.pk}/").status_code == 404
    assert client.get(f"/api/v1/applications/{app.pk}").status_code == 404
    events = list(AuditEvent.objects.filter(action="access.denied").order_by("seq"))
    assert [(e.actor_name, e.object_id, e.after["status"]) for e in events] == [
        ("b_clerk", str(app.pk), 404), ("b_clerk", str(app.pk), 404)]
    assert "只能查看本单位的申报" in events[0].note


def test_call_yaml_export_and_blank_forms_are_audited(client, load_call, make_user):  # R-S32
    call = load_call("liuzhou2026")
    funder = make_user("lz_funder", call.issuer, roles=(Role.FUNDER_STAFF,))
    client.force_login(funder)
    r = client.get(f"/manage/calls/{call.code}/export/", HTTP_USER_AGENT=UA)
    assert r.status_code == 200
    event = AuditEvent.objects.get(action="file.download")
    assert event.actor_name == "lz_funder" and event.object_id == str(call.pk)
    assert event.after["file"] == call.source_name and event.user_agent == UA
    client.logout()
    ptype = call.types.filter(form_code__gt="").first()
    r = client.get(f"/calls/{call.code}/types/{ptype.code}/blank-form/", {"format": "docx"})
    assert r.status_code == 200
    blank = AuditEvent.objects.filter(action="file.download").order_by("-seq").first()
    assert blank.actor_name == "" and blank.after["file"].endswith(".docx")


# --- a diff, capped -----------------------------------------------------------------------------------


def test_events_store_only_what_changed(db):  # R-S33
    before = {"status": "draft", "data": {"title": "甲", "budget": 10, "text": "长" * 5000}, "version": 3}
    after = {"status": "draft", "data": {"title": "乙", "budget": 10, "text": "长" * 5000}, "version": 4,
             "errors": 0}
    event = audit.record(action="t.save", before=before, after=after)
    event.refresh_from_db()
    assert event.before == {"data": {"title": "甲"}, "version": 3}
    assert event.after == {"data": {"title": "乙"}, "version": 4, "errors": 0}


def test_a_huge_change_is_capped_with_a_note(db):  # R-S33
    huge = {"title": "题目", "text": "字" * (audit.MAX_SIDE_BYTES * 2)}
    event = audit.record(action="t.save", before={"title": ""}, after=huge)
    event.refresh_from_db()
    assert event.after["title"] == "题目"
    assert "超出审计记录上限" in event.after["text"] and len(str(event.after)) < audit.MAX_SIDE_BYTES
    assert "只保存了部分内容" in event.note


# --- the hash chain --------------------------------------------------------------------------------------


def _events(n: int) -> list[AuditEvent]:
    return [audit.record(action="t.event", after={"n": i}, note=f"第{i}个", ip="192.0.2.1", user_agent=UA)
            for i in range(n)]


def test_events_are_chained(db):  # R-S34
    events = _events(3)
    assert events[0].prev_hash == "" or events[0].seq > 1
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert [e.seq for e in events] == [events[0].seq, events[0].seq + 1, events[0].seq + 2]
    verdict = verify()
    assert verdict.ok and verdict.count == AuditEvent.objects.count()
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert f"共 {AuditEvent.objects.count()} 条事件" in out.getvalue() and out.getvalue().startswith("OK")


def test_an_event_costs_two_statements_and_the_database_moves_the_chain_head(db):  # R-S34
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from shenbao.core import audit
    from shenbao.core.models import AuditChainHead

    _events(1)
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        event = audit.record(action="test.two_statements", note="一")
    assert len(ctx.captured_queries) == 2, [q["sql"] for q in ctx.captured_queries]  # lock + read, insert
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (event.seq, event.hash)  # moved by the trigger (migration core/0006)
    after = audit.record(action="test.two_statements", note="二")
    assert after.prev_hash == event.hash and after.seq == event.seq + 1 and verify().ok


def test_audit_verify_names_an_event_edited_in_the_database(db):  # R-S34
    events = _events(4)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET note = %s WHERE id = %s", ["改过的", events[2].pk])
    with pytest.raises(CommandError) as exc:
        call_command("audit_verify")
    assert f"事件 #{events[2].pk}" in str(exc.value) and "被修改" in str(exc.value)


def test_audit_verify_sees_a_deleted_event(db):  # R-S34
    events = _events(4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    verdict = verify()
    assert not verdict.ok and verdict.event_id == events[2].pk and "删除" in verdict.reason
    with connection.cursor() as cursor:  # the last one gone: the chain head knows
        cursor.execute("DELETE FROM core_auditevent WHERE id >= %s", [events[1].pk])
    verdict = verify()
    assert not verdict.ok and "最后的事件被删除" in verdict.reason


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_linear():  # R-S34
    """Writers in parallel transactions (each also changing a row, as services do) still make one chain."""
    import threading

    from django.db import connections, transaction

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(8):
                with transaction.atomic():
                    audit.record(action="t.parallel", after={"writer": n, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 33))
    verdict = verify()
    assert verdict.ok and verdict.count == 32


@pytest.mark.django_db(transaction=True)
def test_events_written_before_the_chain_are_chained_by_the_migration():  # R-S34
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0003_jobs")])
    Old = executor.loader.project_state([("core", "0003_jobs")]).apps.get_model("core", "AuditEvent")
    for i in range(3):
        Old.objects.create(action="old.event", actor_name="旧", note=f"旧事件{i}", after={"i": i}, ip="192.0.2.3")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3] and events[1].prev_hash == events[0].hash
    assert verify().ok and verify().count == 3
    audit.record(action="t.after_migration")  # new events continue the chain
    assert verify().ok and verify().count == 4


# --- kept -----------------------------------------------------------------------------------------------


def test_no_code_path_deletes_or_changes_an_event(db):  # R-S35
    event = _events(1)[0]
    with pytest.raises(AuditEventRefused):
        event.delete()
    with pytest.raises(AuditEventRefused):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditEventRefused):
        AuditEvent.objects.filter(pk=event.pk).update(note="x")
    event.note = "x"
    with pytest.raises(AuditEventRefused):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).note == "第0个" and verify().ok


# --- Django admin ------------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    from shenbao.orgs.models import User

    return User.objects.create_superuser("root", "root@example.cn", "Shenbao#2026", must_change_password=False)


def test_django_admin_is_off_unless_switched_on(client, settings, superuser):  # R-S37
    client.force_login(superuser)
    settings.SHENBAO_DJANGO_ADMIN = False
    assert client.get("/django-admin/").status_code == 404
    assert client.get("/django-admin/login/").status_code == 404
    assert client.get("/django-admin/orgs/category/").status_code == 404
    settings.SHENBAO_DJANGO_ADMIN = True
    assert client.get("/django-admin/").status_code == 200


def test_changes_in_django_admin_are_in_the_audit_log(client, settings, superuser, catalogue):  # R-S37
    settings.SHENBAO_DJANGO_ADMIN = True
    from shenbao.orgs.models import Category

    journal = Category.objects.get(code="journal")
    client.force_login(superuser)
    form = {"code": journal.code, "name": "期刊（改）", "name_en": journal.name_en, "parent": "",
            "level": journal.level, "order": journal.order, "applicant": "on", "_save": "1"}
    r = client.post(f"/django-admin/orgs/category/{journal.pk}/change/", form, REMOTE_ADDR="192.0.2.9",
                    HTTP_USER_AGENT=UA)
    assert r.status_code == 302, r.content.decode()[:2000]
    event = AuditEvent.objects.get(action="admin.change")
    assert event.actor_name == "root" and event.object_id == str(journal.pk)
    assert event.before == {"name": "科技期刊（编辑部）"} and event.after == {"name": "期刊（改）"}
    assert (event.ip, event.user_agent) == ("192.0.2.9", UA)
    r = client.post("/django-admin/orgs/category/add/", {**form, "code": "new_cat", "name": "新类别"})
    assert r.status_code == 302
    added = AuditEvent.objects.get(action="admin.add")
    assert added.after["code"] == "new_cat" and added.before is None
    new = Category.objects.get(code="new_cat")
    r = client.post(f"/django-admin/orgs/category/{new.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not Category.objects.filter(code="new_cat").exists()
    deleted = AuditEvent.objects.get(action="admin.delete")
    assert deleted.before["code"] == "new_cat" and deleted.object_id == str(new.pk)


def test_a_superuser_does_not_pass_the_separation_of_duties(client, superuser, load_call):  # R-S37
    client.force_login(superuser)
    for url in ("/accounts/system/", "/accounts/security/", "/accounts/audit/", "/manage/calls/",
                "/accounts/registrations/", "/apply/offers/", "/apply/endorse/", "/apply/received/"):
        assert client.get(url).status_code == 403, url
    assert client.get("/api/v1/applications/eligible").status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor=superuser).count() == 9


# --- the auditor's page: filter, page, export -------------------------------------------------------------


@pytest.fixture
def auditor(make_user):
    return make_user("auditor", roles=(Role.AUDIT_ADMIN,))


@pytest.fixture
def logged(db):
    """Events from two addresses, one with a phone number in it."""
    for i in range(60):
        audit.record(action="t.bulk", actor_name="批量", note=f"第{i}条", ip="192.0.2.10")
    audit.record(action="org.update", actor_name="sysadmin", ip="198.51.100.20",
                 before={"contact_phone": "13812345678"}, after={"contact_phone": "13987654321"},
                 note="联系电话改为 13987654321")


def test_the_auditor_filters_by_ip_actor_action_and_time_and_pages(client, auditor, logged):  # R-S38
    client.force_login(auditor)
    page = client.get("/accounts/audit/", {"ip": "198.51.100.20"}).content.decode()
    assert "org.update" in page and "t.bulk" not in page
    assert "13987654321" not in page and "139****4321" in page  # personal data masked (core/privacy.py)
    page = client.get("/accounts/audit/", {"ip": "192.0.2."}).content.decode()
    assert "t.bulk" in page and "org.update" not in page and "1 / 2" in page  # 60 events, 50 a page
    assert "第0条" in client.get("/accounts/audit/", {"ip": "192.0.2.", "page": 2}).content.decode()
    page = client.get("/accounts/audit/", {"actor": "sysadmin", "action": "org."}).content.decode()
    assert "org.update" in page and "t.bulk" not in page
    today = timezone.localdate()
    page = client.get("/accounts/audit/", {"since": today - dt.timedelta(days=2),
                                           "until": today - dt.timedelta(days=1)}).content.decode()
    assert "org.update" not in page and "t.bulk" not in page
    page = client.get("/accounts/audit/", {"since": today, "until": today, "action": "org."}).content.decode()
    assert "org.update" in page
    r = client.get("/accounts/audit/", {"since": today, "until": today - dt.timedelta(days=1)})
    assert r.status_code == 400 and "截止日期不能早于起始日期" in r.content.decode()
    r = client.get("/accounts/audit/", {"ip": "<script>"})
    assert r.status_code == 400 and "IP 地址只能包含" in r.content.decode()


def test_every_read_of_the_log_is_audited(client, auditor, logged):  # R-S38
    client.force_login(auditor)
    client.get("/accounts/audit/", {"actor": "sysadmin"}, HTTP_USER_AGENT=UA)
    read = AuditEvent.objects.filter(action="audit.read").get()
    assert read.actor_name == "auditor" and read.after["filters"] == {"actor": "sysadmin"}
    assert read.after["events"] == 1 and read.user_agent == UA


def test_the_auditor_exports_the_filtered_log_as_xlsx_and_csv(client, auditor, logged):  # R-S38
    from openpyxl import load_workbook

    client.force_login(auditor)
    r = client.get("/accounts/audit/export.xlsx", {"ip": "198.51.100.20"})
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) == 2
    assert rows[1][3] == "org.update" and rows[1][10] == "198.51.100.20"
    assert "13987654321" not in str(rows[1]) and "139****4321" in rows[1][9]
    r = client.get("/accounts/audit/export.csv", {"action": "t.bulk"})
    text = r.content.decode("utf-8-sig")
    assert r.status_code == 200 and len(text.strip().splitlines()) == 61 and "org.update" not in text
    exports = list(AuditEvent.objects.filter(action="audit.export").order_by("seq"))
    assert [(e.after["format"], e.after["events"]) for e in exports] == [("xlsx", 1), ("csv", 60)]
    assert not AuditEvent.objects.filter(action="file.download").exists()  # one event per export
    client.force_login(AuditEvent.objects.get(action="audit.export", after__format="csv").actor)
    assert client.get("/accounts/audit/export.pdf").status_code == 400


def test_only_the_auditor_exports_the_log(client, make_user, logged):  # R-S38
    sysadmin = make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,))
    client.force_login(sysadmin)
    r = client.get("/accounts/audit/export.csv")
    assert r.status_code == 403 and "查看审计日志由安全审计员负责" in r.content.decode()


def test_the_auditor_verifies_the_chain_from_the_page(client, auditor, logged):  # R-S34 R-S38
    client.force_login(auditor)
    page = client.get("/accounts/audit/verify/", follow=True).content.decode()
    assert "OK：审计日志完整" in page
    victim = AuditEvent.objects.get(action="org.update")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor_name = %s WHERE id = %s", ["别人", victim.pk])
    page = client.get("/accounts/audit/verify/", follow=True).content.decode()
    assert f"断链：第一处在事件 #{victim.pk}" in page
    checks = list(AuditEvent.objects.filter(action="audit.verify").order_by("seq"))
    assert [c.after["ok"] for c in checks] == [True, False] and checks[1].after["broken_at"] == victim.pk
