"""The audit log as 等保 level 3 asks: where each event came from, refusals and downloads recorded, a diff
rather than two copies, a hash chain that `shenbao audit-verify` checks, and no way to delete an event."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

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
