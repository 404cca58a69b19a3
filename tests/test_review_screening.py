"""形式审查 (issue 8 item 1): the funder's queue per call and type with automatic checks; accept, return for
revision (the clerk resubmits a new version, screened again) or reject (the application stays); batch
actions; 常德 2022's two levels (学会部初审, 领导审核) by two different people (R-V3); permissions; the API;
a queue page costs the same number of queries for 5 applications as for 30."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shenbao.applications import services
from shenbao.applications.models import Application, Snapshot
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Category, Organisation, Role
from shenbao.review import screening
from shenbao.review.models import Screening
from tests.conftest import credit_code
from tests.journey_support import approve_own, filled_draft, reopen, unit, values_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def staff(call, make_user):
    return make_user("lz_screen", org=call.issuer, roles=(Role.FUNDER_STAFF,))


@pytest.fixture
def clerk_unit(call, make_org, make_user):
    return unit(make_org, make_user, name="柳州市审查学会", category="city_society", parent=call.issuer, prefix="scr")


@pytest.fixture
def submitted(call, clerk_unit):
    _org, clerk, _head = clerk_unit
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    return app


def _row(app) -> Screening:
    return Screening.objects.select_related("application").get(application=app)


def _checks(row) -> dict:
    return {c["key"]: c for c in row.checks}


def test_return_resubmit_then_accept(client, call, staff, clerk_unit, submitted):
    _org, clerk, _head = clerk_unit
    client.force_login(staff)
    page = client.get(reverse("review:screening_queue", args=[call.code]))
    assert page.status_code == 200
    row = _row(submitted)
    assert row.state == "pending" and row.snapshot_id == submitted.current_snapshot_id
    assert f'data-app="{submitted.pk}"' in page.content.decode()
    # the funder's application page leads to its screening
    page = client.get(reverse("applications:detail", args=[submitted.pk])).content.decode()
    assert reverse("review:screening_detail", args=[call.code, submitted.pk]) in page

    # a return needs a reason and a deadline in the future: refused, nothing changed
    url = reverse("review:screening_act", args=[call.code, submitted.pk, "return"])
    r = client.post(url, {"reason": "", "new_deadline": "2030-01-01T17:00"}, follow=True)
    assert "请写明退回修改的理由" in r.content.decode()
    past = timezone.localtime(timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(url, {"reason": "预算表未列明配套经费来源", "new_deadline": past}, follow=True)
    assert "新的截止时间须晚于现在" in r.content.decode()
    assert _row(submitted).state == "pending" and Application.objects.get(pk=submitted.pk).status == "submitted"

    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT17:00")
    client.post(url, {"reason": "预算表未列明配套经费来源", "new_deadline": deadline})
    app = Application.objects.get(pk=submitted.pk)
    assert _row(app).state == "returned" and app.status == "returned"  # through applications.services
    assert app.return_reason == "预算表未列明配套经费来源" and app.revision_deadline > timezone.now()
    assert AuditEvent.objects.filter(action="screening.return", object_id=str(_row(app).pk)).exists()
    assert AuditEvent.objects.filter(action="application.return_for_revision", object_id=str(app.pk)).exists()

    # the clerk reads the result and its reason on the application page
    client.force_login(clerk)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert 'id="screening-result"' in page and 'data-screening="returned"' in page
    assert "预算表未列明配套经费来源" in page

    # the clerk edits and resubmits: a new version, and the screening is pending again for it
    values = values_for(app, overrides={"project_name": "学术交流（修改后）"})
    services.save_draft(user=clerk, application=app, values=values, expected_version=app.version)
    app.refresh_from_db()
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    assert app.status == "submitted" and app.current_snapshot.number == 2
    client.force_login(staff)
    client.get(reverse("review:screening_queue", args=[call.code]))
    row = _row(app)
    assert row.state == "pending" and row.snapshot_id == app.current_snapshot_id and row.reason == ""
    assert AuditEvent.objects.filter(action="screening.resubmitted", object_id=str(row.pk)).exists()

    r = client.post(reverse("review:screening_act", args=[call.code, app.pk, "accept"]), follow=True)
    assert _row(app).state == "accepted" and _row(app).decided_by == staff
    # a second click changes nothing and says why
    r = client.post(reverse("review:screening_act", args=[call.code, app.pk, "accept"]), follow=True)
    assert "无需重复操作" in r.content.decode()
    assert AuditEvent.objects.filter(action="screening.accept", object_id=str(row.pk)).count() == 1
    client.force_login(clerk)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert 'data-screening="accepted"' in page and '<span class="muted small" id="screening-version">第 2 版</span>' in page


@pytest.fixture
def changde(load_call):
    return reopen(load_call("changde2022"))


PARTY = [{"key": "has_party_branch", "value": True}, {"key": "has_activity_venue", "value": True}]


def _changde_submitted(changde, make_org, make_user, prefix: str):
    """A 常德 2022 type 1 (学会党的建设) application of a society with a party branch and a venue (R-C9)."""
    org, clerk, head = unit(make_org, make_user, name=f"常德市{prefix}学会", category="city_society",
                            parent=changde.issuer, prefix=prefix, attrs=PARTY)
    app = filled_draft(clerk, changde, "1", overrides={"budget_total": 15000, "own_funds": 10000, "city_funds": 5000})
    approve_own(app, clerk, head, name="2022年第一次理事会")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    return org, app


def test_changde_two_levels_by_two_people(client, changde, make_org, make_user):
    # R-V3: 常德 2022 学会部初审 then 领导审核, each by a different person
    _org, app = _changde_submitted(changde, make_org, make_user, "cds")
    dept = make_user("cd_dept", org=changde.issuer, roles=(Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    leader = make_user("cd_leader", org=changde.issuer, roles=(Role.FUNDER_LEADER,))
    plain_staff = make_user("cd_staff2", org=changde.issuer, roles=(Role.FUNDER_STAFF,))

    client.force_login(dept)
    page = client.get(reverse("review:screening_queue", args=[changde.code])).content.decode()
    assert "学会部初审 → 领导审核" in page
    row = _row(app)
    # a leader cannot skip the 初审
    with pytest.raises(NotAllowed, match="业务人员可以进行学会部初审"):
        screening.accept(user=leader, screening=row)
    detail = client.get(reverse("review:screening_detail", args=[changde.code, app.pk])).content.decode()
    assert "学会部初审通过" in detail
    client.post(reverse("review:screening_act", args=[changde.code, app.pk, "accept"]), {"opinion": "材料齐全"})
    row = _row(app)
    assert row.state == "department_passed" and row.department_by == dept and row.decided_by is None

    # the same person (who also holds the leader role) is refused, with the reason
    r = client.post(reverse("review:screening_act", args=[changde.code, app.pk, "accept"]), follow=True)
    assert "学会部初审与领导审核须由不同的人进行" in r.content.decode()
    assert _row(app).state == "department_passed"
    # department staff without the leader role cannot decide the second level
    with pytest.raises(NotAllowed, match="领导"):
        screening.accept(user=plain_staff, screening=_row(app))
    # another person, a leader: accepted
    client.force_login(leader)
    client.post(reverse("review:screening_act", args=[changde.code, app.pk, "accept"]))
    row = _row(app)
    assert row.state == "accepted" and row.department_by == dept and row.decided_by == leader
    actions = list(AuditEvent.objects.filter(object_type="review.screening", object_id=str(row.pk))
                   .values_list("action", "actor_name"))
    assert ("screening.pass_department", "cd_dept") in actions and ("screening.accept", "cd_leader") in actions


def test_checks_flag_an_incomplete_version_and_stale_eligibility(client, call, staff, clerk_unit, submitted):
    org, _clerk, _head = clerk_unit
    # an application whose submitted version lacks the form's required answers (made directly, as an import
    # or an older form could leave it)
    now = timezone.now()
    bad = Application.objects.create(call=call, project_type=call.types.get(code="2026-2"), applicant=org,
                                     title="缺项申报", status="submitted", number="2026-2-0999", submitted_at=now)
    snap = Snapshot.objects.create(application=bad, number=1, draft_version=1, fingerprint="b" * 64, submitted_at=now,
                                   values={"title": "缺项申报", "values": {"project_name": "缺项申报"}})
    Application.objects.filter(pk=bad.pk).update(current_snapshot=snap)

    client.force_login(staff)
    page = client.get(reverse("review:screening_detail", args=[call.code, bad.pk])).content.decode()
    checks = _checks(_row(bad))
    assert checks["complete"]["status"] == "failed" and "申报表不完整" in checks["complete"]["text"]
    assert 'data-check="complete" data-status="failed"' in page
    good = client.get(reverse("review:screening_detail", args=[call.code, submitted.pk]))
    assert good.status_code == 200
    checks = _checks(_row(submitted))
    assert checks["complete"]["status"] == "passed"
    assert checks["eligibility"]["status"] == "passed"
    assert checks["stamp"]["status"] == "na"  # 柳州 does not ask for an uploaded stamped scan
    assert checks["repeat"]["status"] == "na"  # no repeat window in 柳州's notice

    # after submission the unit was barred by the funder: the re-check flags it (R-E10 re-checked now)
    from shenbao.projects.models import Bar

    Bar.objects.create(organisation=org, funder=call.issuer, reason="项目转包", starts_on=timezone.localdate(),
                       ends_on=timezone.localdate() + dt.timedelta(days=365))
    client.get(reverse("review:screening_detail", args=[call.code, submitted.pk]))
    checks = _checks(_row(submitted))
    assert checks["eligibility"]["status"] == "failed" and "项目转包" in checks["eligibility"]["text"]
    # the queue shows the stored result: the failed checks per row
    page = client.get(reverse("review:screening_queue", args=[call.code])).content.decode()
    assert 'data-failed="eligibility"' in page and 'data-failed="complete"' in page


def test_conditions_and_preferences_of_changde(changde, make_org, make_user):
    # R-C9: 常德 type 1's conditions re-checked now (a party branch, a venue); 2-3's preference shown
    org, app = _changde_submitted(changde, make_org, make_user, "cdc")
    checks = {c["key"]: c for c in screening.run_checks(app)}
    assert checks["conditions"]["status"] == "passed"
    assert "✓ 申报条件：已成立学会党支部" in checks["conditions"]["text"]
    assert checks["preferences"]["status"] == "na" and checks["eligibility"]["status"] == "passed"
    org.attributes.filter(key="has_party_branch").update(value=False)  # the branch was dissolved since
    checks = {c["key"]: c for c in screening.run_checks(app)}
    assert checks["conditions"]["status"] == "failed"
    assert "✗ 申报条件：已成立学会党支部" in checks["conditions"]["text"]
    assert "✓ 申报条件：有相对稳定的办公及党员活动场所" in checks["conditions"]["text"]
    Application.objects.filter(pk=app.pk).update(project_type=changde.types.get(code="2-3"))
    app = Application.objects.select_related("call", "project_type", "applicant", "current_snapshot").get(pk=app.pk)
    checks = {c["key"]: c for c in screening.run_checks(app)}
    assert checks["preferences"]["status"] == "info" and "协议书" in checks["preferences"]["text"]
    assert checks["conditions"]["status"] == "na"


def _generate(call, n: int, *, prefix: str = "G") -> list[Application]:
    """n submitted applications written in bulk (the queue only reads them)."""
    category = Category.objects.get(code="city_society")
    orgs = Organisation.objects.bulk_create([
        Organisation(name=f"柳州市{prefix}学会{i:03d}", category=category, parent=call.issuer, credit_code=credit_code(),
                     status="active") for i in range(min(n, 10))])
    types = list(call.types.order_by("order"))
    now = timezone.now()
    apps = Application.objects.bulk_create([
        Application(call=call, project_type=types[i % len(types)], applicant=orgs[i % len(orgs)],
                    title=f"{prefix}项目{i:04d}", status="submitted", number=f"{prefix}-{i:04d}",
                    submitted_at=now - dt.timedelta(minutes=i)) for i in range(n)])
    snaps = Snapshot.objects.bulk_create([
        Snapshot(application=a, number=1, draft_version=1, values={"title": a.title, "values": {}},
                 fingerprint=f"{a.pk:064x}", submitted_at=a.submitted_at) for a in apps])
    for a, s in zip(apps, snaps, strict=True):
        a.current_snapshot = s
    Application.objects.bulk_update(apps, ["current_snapshot"])
    return apps


def test_batch_accept_and_reject_each_audited(client, call, staff):
    apps = _generate(call, 4)
    client.force_login(staff)
    client.get(reverse("review:screening_queue", args=[call.code]))
    # the queue per type: the tab of one type lists its applications only
    ptype = apps[1].project_type_id
    page = client.get(reverse("review:screening_queue", args=[call.code]), {"type": ptype}).content.decode()
    assert page.count('<tr data-app="') == sum(1 for a in apps if a.project_type_id == ptype) >= 1
    assert f'data-app="{apps[1].pk}"' in page
    url = reverse("review:screening_batch", args=[call.code])
    # rejecting many needs one reason
    r = client.post(url, {"action": "reject", "ids": [apps[0].pk]}, follow=True)
    assert "请写明不予受理的理由" in r.content.decode() and _row(apps[0]).state == "pending"
    client.post(url, {"action": "accept", "ids": [a.pk for a in apps[:3]]})
    assert [_row(a).state for a in apps] == ["accepted", "accepted", "accepted", "pending"]
    assert set(screening.accepted(call)) == set(apps[:3])  # what expert review takes on
    for a in apps[:3]:
        assert AuditEvent.objects.filter(action="screening.accept", object_id=str(_row(a).pk)).count() == 1
    # a row already accepted is refused with its reason, the others done
    r = client.post(url, {"action": "reject", "ids": [apps[2].pk, apps[3].pk], "reason": "不在本通知支持范围"},
                    follow=True)
    assert _row(apps[3]).state == "rejected" and _row(apps[2]).state == "accepted"
    assert "G-0002：" in r.content.decode()


def test_reject_keeps_the_application(client, call, staff, clerk_unit, submitted):
    _org, clerk, _head = clerk_unit
    client.force_login(staff)
    url = reverse("review:screening_act", args=[call.code, submitted.pk, "reject"])
    r = client.post(url, {"reason": "否"}, follow=True)
    assert "不少于4个字" in r.content.decode() and _row(submitted).state == "pending"
    client.post(url, {"reason": "申报单位不属于市级学会"})
    row = _row(submitted)
    assert row.state == "rejected" and row.reason == "申报单位不属于市级学会"
    app = Application.objects.get(pk=submitted.pk)
    assert app.status == "submitted" and app.snapshots.count() == 1 and app.current_snapshot_id == row.snapshot_id
    client.force_login(clerk)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert 'data-screening="rejected"' in page and "不予受理理由" in page and "申报单位不属于市级学会" in page


def test_an_applicant_or_another_funder_cannot_screen(client, call, staff, clerk_unit, submitted, load_call,
                                                     make_user):
    _org, clerk, _head = clerk_unit
    guangxi = load_call("guangxi2026")
    other = make_user("gx_screen", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    for user in (clerk, other):
        client.force_login(user)
        assert client.get(reverse("review:screening_queue", args=[call.code])).status_code == 404
        assert client.get(reverse("review:screening_detail", args=[call.code, submitted.pk])).status_code == 404
        assert client.post(reverse("review:screening_act", args=[call.code, submitted.pk, "accept"])).status_code == 404
        r = client.post(f"/api/v1/review/screening/{call.code}/{submitted.pk}/accept", "{}",
                        content_type="application/json")
        assert r.status_code == 403 and "业务人员或领导" in r.json()["detail"]
    client.force_login(clerk)
    assert client.get(reverse("review:screening")).status_code == 403
    assert not Screening.objects.filter(state="accepted").exists()
    with pytest.raises(NotAllowed):
        screening.open_queue(user=clerk, call=call)
    # the funder's desk and work bench lead to the queue
    client.force_login(staff)
    desk = client.get(reverse("applications:received"), {"call": call.code}).content.decode()
    assert reverse("review:screening_queue", args=[call.code]) in desk
    assert reverse("review:screening") in client.get(reverse("orgs:home")).content.decode()
    index = client.get(reverse("review:screening")).content.decode()
    assert f'data-call="{call.code}"' in index


def test_api_queue_detail_and_actions(client, call, staff, submitted):
    client.force_login(staff)
    r = client.get(f"/api/v1/review/screening/{call.code}")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["items"][0]["number"] == submitted.number
    assert body["items"][0]["state"] == "pending" and body["levels"] == ["形式审查"]
    r = client.get(f"/api/v1/review/screening/{call.code}/{submitted.pk}")
    checks = {c["key"]: c["status"] for c in r.json()["checks"]}
    assert checks["complete"] == "passed" and checks["stamp"] == "na"
    r = client.post(f"/api/v1/review/screening/{call.code}/{submitted.pk}/reject", json.dumps({"reason": "否"}),
                    content_type="application/json")
    assert r.status_code == 403 and "不少于4个字" in r.json()["detail"]
    r = client.post(f"/api/v1/review/screening/{call.code}/{submitted.pk}/accept",
                    json.dumps({"opinion": "材料齐全"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "accepted" and r.json()["decided_by"] == "lz_screen"
    more = _generate(call, 2, prefix="API")
    r = client.post(f"/api/v1/review/screening/{call.code}/batch",
                    json.dumps({"action": "accept", "application_ids": [a.pk for a in more] + [submitted.pk]}),
                    content_type="application/json")
    assert r.status_code == 200
    assert sorted(r.json()["done"]) == sorted(a.pk for a in more)
    assert list(r.json()["refused"]) == [str(submitted.pk)]
    assert client.get("/api/v1/review/screening/calls").json()[0]["counts"]["accepted"] == 3
    assert "/api/v1/review/screening/{code}/batch" in client.get("/api/v1/openapi.json").json()["paths"]


def test_queue_page_queries_do_not_grow(client, call, staff, django_assert_max_num_queries):
    """The same number of queries for a page of 5 applications as for 30, on first opening (the rows made
    in bulk, one audit event) and after."""
    url = reverse("review:screening_queue", args=[call.code])
    client.force_login(staff)
    counts = {}
    for n, prefix in ((5, "Q"), (30, "R")):
        Screening.objects.all().delete()  # test data only: each size opens a fresh queue
        Application.objects.filter(number__startswith="Q-").update(status="discarded")
        _generate(call, n, prefix=prefix)
        with CaptureQueriesContext(connection) as first:
            r = client.get(url, {"q": f"{prefix}-"})
        assert r.content.decode().count('<tr data-app="') == n
        with django_assert_max_num_queries(16), CaptureQueriesContext(connection) as again:
            r = client.get(url, {"q": f"{prefix}-"})
        assert r.content.decode().count('<tr data-app="') == n
        counts[n] = (len(first.captured_queries), len(again.captured_queries))
    assert counts[5] == counts[30], counts
    assert counts[5][0] <= 24, counts


def test_repeat_flag_names_the_most_similar_past_project(load_call, make_org):
    # R-E6 as a screening check: 湖南 2024 forbids repeating content funded in the past 2 years
    from shenbao.projects.models import Project

    hunan = load_call("hunan2024")
    org = make_org("湖南省重复学会", "province_society", parent=hunan.issuer)
    year = hunan.document.year
    Project.objects.create(applicant=org, funder=hunan.issuer, title="湘江流域科普志愿服务体系建设", year=year - 1,
                           programme=hunan.document.programme_code or "kjcx")
    Project.objects.create(applicant=org, funder=hunan.issuer, title="企业技术创新人才培训", year=year - 1,
                           programme=hunan.document.programme_code or "kjcx")
    now = timezone.now()

    def application(title: str) -> Application:
        app = Application.objects.create(call=hunan, project_type=hunan.types.order_by("order").first(), applicant=org,
                                         title=title, status="submitted", number=f"H-{title[:4]}", submitted_at=now)
        snap = Snapshot.objects.create(application=app, number=1, draft_version=1, fingerprint="c" * 64,
                                       submitted_at=now, values={"title": title, "values": {}})
        Application.objects.filter(pk=app.pk).update(current_snapshot=snap)
        return Application.objects.select_related("call", "project_type", "applicant", "current_snapshot").get(pk=app.pk)

    repeat = {c["key"]: c for c in screening.run_checks(application("湘江流域科普志愿服务体系建设"))}["repeat"]
    assert repeat["status"] == "failed" and "《湘江流域科普志愿服务体系建设》" in repeat["text"]
    assert repeat["detail"]["score"] == 1.0
    other = {c["key"]: c for c in screening.run_checks(application("企业技术创新人才培训基地建设"))}["repeat"]
    assert other["status"] == "failed" and "《企业技术创新人才培训》" in other["text"]
    fresh = {c["key"]: c for c in screening.run_checks(application("乡村振兴农业专家服务"))}["repeat"]
    assert fresh["status"] == "passed" and "最相似的既往项目" in fresh["text"]
    assert fresh["detail"]["score"] < float(hunan.document.effective(
        hunan.types.order_by("order").first().document, "exclusions").repeat_similarity)


def test_checks_of_a_whole_queue_run_as_a_background_job(client, call, staff, django_capture_on_commit_callbacks):
    apps = _generate(call, 3)
    client.force_login(staff)
    client.get(reverse("review:screening_queue", args=[call.code]))
    assert not Screening.objects.filter(checked_at__isnull=False).exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("review:screening_check", args=[call.code]))
    assert r.status_code == 302 and "/jobs/" in r["Location"]
    from shenbao.core.models import Job

    job = Job.objects.get()
    assert job.state == "done" and job.done == job.total == 3
    for a in apps:  # generated versions hold no answers: each flagged incomplete
        assert _checks(_row(a))["complete"]["status"] == "failed"
    page = client.get(reverse("review:screening_queue", args=[call.code])).content.decode()
    assert page.count('data-failed="complete"') == 3


def test_changde_leader_returns_after_the_first_level_and_the_new_version_starts_over(client, changde, make_org,
                                                                                      make_user):
    # R-V3: at 领导审核 the leader may return for revision; the resubmitted version goes through 初审 again
    _org, app = _changde_submitted(changde, make_org, make_user, "cdr")
    dept = make_user("cdr_dept", org=changde.issuer, roles=(Role.FUNDER_STAFF,))
    leader = make_user("cdr_leader", org=changde.issuer, roles=(Role.FUNDER_LEADER,))
    row = screening.screening_of(user=dept, application=app)
    screening.accept(user=dept, screening=row)
    client.force_login(leader)
    deadline = (timezone.now() + dt.timedelta(days=3)).isoformat()
    r = client.post(f"/api/v1/review/screening/{changde.code}/{app.pk}/return",
                    json.dumps({"reason": "请补充党员活动场所证明", "new_deadline": deadline}),
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "returned", r.content
    app.refresh_from_db()
    assert app.status == "returned" and app.return_reason == "请补充党员活动场所证明" and app.returned_by == leader
    row = _row(app)
    assert row.department_by == dept and row.decided_by == leader
    clerk = app.applicant.users.get(username="cdr_clerk")
    services.submit(user=clerk, application=app)
    row = screening.screening_of(user=dept, application=app)
    assert row.state == "pending" and row.department_by is None and row.snapshot.number == 2
    assert screening.actions_for(dept, row)["accept"]  # the 初审 again
    assert not screening.actions_for(leader, row)["accept"]


def test_stamp_check_where_the_call_asks_for_a_stamped_scan(load_call, make_org):
    # 广西 2026 asks for the stamped scan online (submission.upload_stamped_scan): confirmed or not
    from shenbao.applications.models import Scan

    guangxi = load_call("guangxi2026")
    assert guangxi.document.submission.upload_stamped_scan
    org = make_org("广西盖章学会", "province_society", parent=guangxi.issuer)
    now = timezone.now()
    app = Application.objects.create(call=guangxi, project_type=guangxi.types.order_by("order").first(), applicant=org,
                                     title="盖章检查", status="submitted", number="GX-1", submitted_at=now)
    snap = Snapshot.objects.create(application=app, number=1, draft_version=1, fingerprint="d" * 64, submitted_at=now,
                                   values={"title": "盖章检查", "values": {}})
    Application.objects.filter(pk=app.pk).update(current_snapshot=snap)
    app = Application.objects.select_related("call", "project_type", "applicant", "current_snapshot").get(pk=app.pk)

    def stamp():
        return {c["key"]: c for c in screening.run_checks(app)}["stamp"]

    assert stamp()["status"] == "failed" and "尚未上传第 1 版的盖章扫描件" in stamp()["text"]
    scan = Scan.objects.create(application=app, snapshot=snap, file="scans/x.pdf", content_type="application/pdf",
                               size=1, sha256="0" * 64, state="matched", verified=True)
    assert stamp()["status"] == "failed" and "盖章未确认" in stamp()["text"]
    Scan.objects.filter(pk=scan.pk).update(state="confirmed")
    assert stamp()["status"] == "passed" and "已核验" in stamp()["text"]


# --- the work bench: 待形式审查 (applications/selectors.py TODO_HOOKS, filled by review/apps.py) -----------------


def _bench(client, user) -> dict[str, tuple[int, str]]:
    """The work bench's to-do items as the page shows them: key → (count, link)."""
    import re

    client.force_login(user)
    page = client.get(reverse("orgs:home")).content.decode()
    return {k: (int(n), url) for k, url, n in
            re.findall(r'data-todo="(\w+)"><a href="([^"]*)"[^>]*>[^<]*<strong class="count[^"]*">(\d+)<', page)}


def test_work_bench_counts_what_waits_for_screening(client, call, staff, clerk_unit, load_call, make_user):
    """The funder's staff see 待形式审查 N (submitted, not yet screened: with no row yet, pending, or a row on an
    older version), linked to the call's queue; a rejection or an acceptance leaves it; others see nothing."""
    _org, clerk, _head = clerk_unit
    apps = _generate(call, 4)
    queue = reverse("review:screening_queue", args=[call.code])
    assert _bench(client, staff)["to_screen"] == (4, f"{queue}?state=pending")  # before the queue was ever opened
    screening.open_queue(user=staff, call=call)
    assert _bench(client, staff)["to_screen"] == (4, f"{queue}?state=pending")
    screening.accept(user=staff, screening=_row(apps[0]))
    screening.reject(user=staff, screening=_row(apps[1]), reason="不在本通知支持范围")
    assert _bench(client, staff)["to_screen"][0] == 2
    # a new version of the accepted one waits again (the queue puts it back to pending when opened)
    snap = Snapshot.objects.create(application=apps[0], number=2, draft_version=2, values={"title": "v2", "values": {}},
                                   fingerprint="e" * 64, submitted_at=timezone.now())
    Application.objects.filter(pk=apps[0].pk).update(current_snapshot=snap)
    assert _bench(client, staff)["to_screen"][0] == 3
    client.get(queue)
    assert screening.queue_counts(call)["pending"] == 3 == _bench(client, staff)["to_screen"][0]
    # waiting in two calls of the funder: the link is the list of calls
    from shenbao.calls.models import Call

    other = Call.objects.get(pk=call.pk)
    other.pk, other.code = None, "lz-bench-copy"
    other.save()
    Application.objects.filter(pk=apps[2].pk).update(call=other)
    assert _bench(client, staff)["to_screen"] == (3, reverse("review:screening"))
    # not the screeners: the unit's clerk, a leader of a one-level call's funder (who decides nothing here),
    # another funder's staff (its own calls only: none waiting)
    leader = make_user("lz_bench_leader", org=call.issuer, roles=(Role.FUNDER_LEADER,))
    guangxi = load_call("guangxi2026")
    other_staff = make_user("gx_bench", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    assert not {k for k in _bench(client, clerk) if k.startswith("to_screen")}
    assert not {k for k in _bench(client, leader) if k.startswith("to_screen")}
    assert "to_accept" in _bench(client, leader)  # the leader's work bench is there, without screening
    assert _bench(client, other_staff)["to_screen"] == (0, reverse("review:screening"))


def test_work_bench_shows_the_two_levels(client, changde, make_org, make_user):
    # R-V3: 初审 by the department's staff, then 审核 by a leader who did not make the 初审
    _org, app = _changde_submitted(changde, make_org, make_user, "cdb")
    dept = make_user("cdb_dept", org=changde.issuer, roles=(Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    leader = make_user("cdb_leader", org=changde.issuer, roles=(Role.FUNDER_LEADER,))
    queue = reverse("review:screening_queue", args=[changde.code])
    mine = _bench(client, dept)
    assert mine["to_screen_first"] == (1, f"{queue}?state=pending") and "to_screen" not in mine
    assert mine["to_screen_second"][0] == 0
    theirs = _bench(client, leader)
    assert theirs["to_screen_second"][0] == 0 and "to_screen_first" not in theirs and "to_screen" not in theirs
    screening.accept(user=dept, screening=screening.screening_of(user=dept, application=app))  # 初审通过
    assert _row(app).state == "department_passed"
    assert _bench(client, leader)["to_screen_second"] == (1, f"{queue}?state=department_passed")
    mine = _bench(client, dept)  # the one who made the 初审 may not make the 审核: nothing waits for them
    assert mine["to_screen_first"][0] == 0 and mine["to_screen_second"][0] == 0
    screening.accept(user=leader, screening=_row(app))
    assert _bench(client, leader)["to_screen_second"][0] == 0


def test_work_bench_screening_counts_take_two_queries(call, staff, clerk_unit, monkeypatch):
    """The counts cost two queries (the funder's calls, the counts by call) whatever the number of calls and
    applications; none for a user who may not screen."""
    from shenbao.applications import selectors

    _org, clerk, _head = clerk_unit

    def queries(user) -> int:
        selectors.todo(user)  # the user's roles read once
        with CaptureQueriesContext(connection) as q:
            selectors.todo(user)
        return len(q.captured_queries)

    apps = _generate(call, 3, prefix="A")
    few = queries(staff)
    _generate(call, 25, prefix="B")
    screening.open_queue(user=staff, call=call)
    screening.accept(user=staff, screening=_row(apps[0]))
    assert {t.key: t.count for t in selectors.todo(staff)}["to_screen"] == 27
    assert queries(staff) == few
    clerk_queries = queries(clerk)
    monkeypatch.setattr(selectors, "TODO_HOOKS", [])
    assert queries(staff) == few - 2 and queries(clerk) == clerk_queries
