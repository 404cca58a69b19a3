"""The applicant's pages: 可申报项目, the form with save, autosave and the conflict message, submit once,
print, scan upload, own approval, the endorsement and funder pages — through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from shenbao.applications import printing, services
from shenbao.applications.models import Application, LimitAcceptance, Snapshot
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, post_form, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]



@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def people(call, make_org, make_user):
    org, clerk, head = unit(make_org, make_user, name="柳州市页面学会", category="city_society", parent=call.issuer,
                            prefix="pg")
    return org, clerk, head


def login(client, user):
    client.force_login(user)
    return client


def test_offers_list_what_the_unit_may_apply_for_with_reasons(client, call, people):
    _org, clerk, _head = people
    page = login(client, clerk).get(reverse("applications:offers")).content.decode()
    section = page[page.index(f'data-call="{call.code}"'):]
    # a city society may apply for 2026-1/2/3 but not for 2026-4 (doctoral stations) or 2026-5
    for code in ("2026-1", "2026-2", "2026-3"):
        block = section[section.index(f'data-type="{code}"'):]
        assert "可以申报" in block[:block.index("</div>", block.index("verdict"))]
    block = section[section.index('data-type="2026-5"'):]
    assert "不能申报" in block and 'data-code="category"' in block and "企业（园区）科协" in block


def test_start_fill_with_an_error_then_correct_and_submit(client, call, people):
    _org, clerk, _head = people
    login(client, clerk)
    r = client.post(reverse("applications:create"), {"project_type": call.types.get(code="2026-2").pk})
    app = Application.objects.get(applicant__name="柳州市页面学会")
    assert r.status_code == 302 and r["Location"] == reverse("applications:edit", args=[app.pk])
    page = client.get(r["Location"]).content.decode()
    assert 'name="f-project_name"' in page and 'name="version" value="1"' in page
    from tests.journey_support import values_for

    good = values_for(app)
    bad = {**good, "project_contact": {**good["project_contact"], "phone": "12345"}}
    r = client.post(reverse("applications:edit", args=[app.pk]), {**post_form(bad), "version": "1", "action": "save"})
    page = r.content.decode()
    assert r.status_code == 200 and "12345" in page  # what was typed is kept
    assert re.search(r'id="err-project_contact-phone"[^>]*>.*?电话', page, re.S)  # the message beside the field
    app.refresh_from_db()
    r = client.post(reverse("applications:edit", args=[app.pk]),
                    {**post_form(good), "version": str(app.version), "action": "submit"})
    assert r.status_code == 302 and r["Location"] == reverse("applications:detail", args=[app.pk])
    app.refresh_from_db()
    assert app.status == "submitted"
    detail = client.get(r["Location"]).content.decode()
    assert app.current_snapshot.fingerprint in detail and "下载打印版（PDF）" in detail


def test_a_double_click_submits_once(client, call, people):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    login(client, clerk)
    url = reverse("applications:submit", args=[app.pk])
    first = client.post(url, {"version": app.version})
    second = client.post(url, {"version": app.version})
    assert first.status_code == second.status_code == 302
    assert Snapshot.objects.filter(application=app).count() == 1
    assert AuditEvent.objects.filter(object_id=str(app.pk), action__startswith="application.submit").count() == 1
    messages = [str(m) for m in second.wsgi_request._messages]
    assert any("没有重复提交" in m for m in messages)


def test_conflicting_save_tells_the_later_clerk_and_keeps_their_text(client, call, people, make_user):
    org, clerk, _head = people
    other = make_user("pg_clerk2", org=org, roles=(Role.APPLICANT_CLERK,))
    app = filled_draft(clerk, call, "2026-2")
    loaded = app.version
    services.save_draft(user=clerk, application=app, values={**app.data, "goals": "甲写的目标"}, expected_version=loaded)
    login(client, other)
    mine = {**app.data, "goals": "乙刚刚输入的一大段目标"}
    r = client.post(reverse("applications:edit", args=[app.pk]),
                    {**post_form(mine), "version": str(loaded), "action": "save"})
    page = r.content.decode()
    assert r.status_code == 409
    assert page.count('id="conflict"') == 1 and "pg_clerk" in page and "甲写的目标" in page
    assert "乙刚刚输入的一大段目标" in page  # the typed text is still in the form
    assert f'name="version" value="{loaded + 1}"' in page
    app.refresh_from_db()
    assert app.data["goals"] == "甲写的目标"
    # autosave of the stale page is refused too (409) and says why
    r = client.post(reverse("applications:autosave", args=[app.pk]),
                    {**post_form(mine), "version": str(loaded), "autosave": "1"})
    assert r.status_code == 409 and "已保存了此申报的新内容" in r.json()["message"]
    # the clerk, told, saves from the page they were shown: their text wins, knowingly
    r = client.post(reverse("applications:edit", args=[app.pk]),
                    {**post_form(mine), "version": str(loaded + 1), "action": "save"})
    assert r.status_code == 302
    app.refresh_from_db()
    assert app.data["goals"] == "乙刚刚输入的一大段目标"


def test_autosave_returns_the_new_version(client, call, people):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    login(client, clerk)
    r = client.post(reverse("applications:autosave", args=[app.pk]),
                    {**post_form({**app.data, "plan": "自动保存的方案"}), "version": str(app.version)})
    assert r.status_code == 200 and r.json()["version"] == app.version + 1 and r.json()["changed"]
    app.refresh_from_db()
    assert app.data["plan"] == "自动保存的方案"
    assert AuditEvent.objects.filter(object_id=str(app.pk), action="application.autosave").count() == 1


def test_print_and_upload_the_print_as_the_scan(client, call, people):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    snap = services.submit(user=clerk, application=app).snapshot
    login(client, clerk)
    pdf = client.get(reverse("applications:print_pdf", args=[app.pk, snap.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == printing.pdf(snap)
    docx = client.get(reverse("applications:print_docx", args=[app.pk, snap.number]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post(reverse("applications:upload_scan", args=[app.pk]),
                    {"scan": SimpleUploadedFile("盖章版.pdf", pdf.content, "application/pdf")}, follow=True)
    page = r.content.decode()
    # the QR proves the version; the stamp waits for the funder (issue 7 item 4)
    assert "版本一致" in page and 'id="scan-status" data-state="matched"' in page and "盖章待主办方确认" in page
    assert "已核验（第" not in page


def test_funder_confirms_or_returns_the_stamp_on_the_page(client, call, people, make_user):
    _org, clerk, _head = people
    staff = make_user("lz_stamp_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    app = filled_draft(clerk, call, "2026-2")
    snap = services.submit(user=clerk, application=app).snapshot
    from django.core.files.uploadedfile import SimpleUploadedFile

    scan = services.upload_scan(user=clerk, application=app,
                                upload=SimpleUploadedFile("s.pdf", printing.pdf(snap))).scan
    login(client, clerk)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "确认盖章" not in page  # the clerk has no decision form
    r = client.post(reverse("applications:decide_scan", args=[scan.pk]), {"decision": "confirm"}, follow=True)
    scan.refresh_from_db()
    assert scan.state == "matched"
    login(client, staff)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "确认盖章" in page and "退回扫描件" in page
    r = client.post(reverse("applications:decide_scan", args=[scan.pk]), {"decision": "return", "reason": ""},
                    follow=True)
    assert "请写明退回扫描件的理由" in r.content.decode()
    r = client.post(reverse("applications:decide_scan", args=[scan.pk]), {"decision": "confirm"}, follow=True)
    page = r.content.decode()
    scan.refresh_from_db()
    assert scan.state == "confirmed" and 'data-state="confirmed"' in page and "已核验（第 1 版）" in page


def test_someone_elses_application_is_not_shown(client, call, people, make_org, make_user):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    _o, stranger, _ = unit(make_org, make_user, name="柳州市陌生学会", category="city_society", parent=call.issuer,
                           prefix="st", head=False)
    login(client, stranger)
    assert client.get(reverse("applications:detail", args=[app.pk])).status_code == 404
    assert client.post(reverse("applications:submit", args=[app.pk])).status_code == 404


def test_own_approval_page_records_the_meeting_and_the_head_accepts(client, load_call, make_org, make_user):
    # R-E8
    changde = reopen(load_call("changde2022"))
    _org, clerk, head = unit(make_org, make_user, name="常德市页面学会", category="city_society", parent=changde.issuer,
                            prefix="cdp")
    app = services.create_draft(user=clerk, project_type=changde.types.get(code="1"))
    login(client, clerk)
    url = reverse("applications:approval", args=[app.pk])
    page = client.get(url).content.decode()
    assert "经____会议研究审议" in page
    client.post(url, {"action": "meeting", "meeting_kind": "单位会议", "meeting_name": "理事会第二次",
                      "meeting_date": "2020-01-02"})
    client.logout()
    login(client, head)
    page = client.get(url).content.decode()
    assert "经理事会第二次会议研究审议" in page and 'id="accept-btn"' in page
    page = client.post(url, {"action": "accept"}, follow=True).content.decode()
    assert "cdp_head" in re.findall(r'id="accepted">([^<]*)', page)[0]
    assert services.own_approval_problems(app) == []


def test_home_association_endorses_on_the_application_page(client, load_call, make_org, make_user):
    # R-E9
    guangxi = reopen(load_call("guangxi2026"))
    city = make_org("柳州市科学技术协会", "city_association", parent=guangxi.issuer, code=None)
    reviewer = make_user("home_pg", org=city, roles=(Role.HOME_REVIEWER,))
    staff = make_user("gx_pg", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    _org, clerk, _head = unit(make_org, make_user, name="柳州页面园区科协", category="enterprise_association",
                              parent=city, prefix="pk")
    app = filled_draft(clerk, guangxi, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    login(client, reviewer)
    queue = client.get(reverse("applications:endorse")).content.decode()
    assert f'data-app="{app.pk}"' in queue
    client.post(reverse("applications:endorse_one", args=[app.pk]), {"decision": "endorse", "opinion": "同意推荐。"})
    app.refresh_from_db()
    assert app.status == "submitted"
    client.logout()
    login(client, staff)
    received = client.get(reverse("applications:received")).content.decode()
    assert f'data-app="{app.pk}"' in received and "同意推荐。" in received
    detail = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "同意推荐。" in detail and "柳州市科学技术协会" in detail  # the funder sees the endorsement


def test_funder_returns_for_revision_and_the_applicant_sees_the_reason(client, call, people, make_user):
    _org, clerk, _head = people
    staff = make_user("lz_pg_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    login(client, staff)
    client.post(reverse("applications:return", args=[app.pk]),
                {"reason": "请补充项目实施方案的时间安排", "new_deadline": "2099-01-01T17:00"})
    app.refresh_from_db()
    assert app.status == "returned"
    assert app.revision_deadline.isoformat() == "2099-01-01T09:00:00+00:00"  # 17:00 Beijing time
    client.logout()
    login(client, clerk)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert 'id="return-reason"' in page and "请补充项目实施方案的时间安排" in page and "2099-01-01 17:00" in page


def test_dashboard_shows_status_next_step_and_deadline(client, call, people):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    login(client, clerk)
    page = client.get(reverse("applications:mine")).content.decode()
    row = page[page.index(f'data-app="{app.pk}"'):]
    assert "草稿" in row and "填写完整后提交" in row and "申报截止" in row
    services.submit(user=clerk, application=app)
    page = client.get(reverse("applications:mine")).content.decode()
    row = page[page.index(f'data-app="{app.pk}"'):]
    assert "已提交" in row and "打印申报表，签字盖章后上传扫描件" in row


def test_check_shows_every_missing_field_without_saving(client, call, people):
    _org, clerk, _head = people
    app = services.create_draft(user=clerk, project_type=call.types.get(code="2026-2"))
    login(client, clerk)
    plain = client.get(reverse("applications:edit", args=[app.pk])).content.decode()
    checked = client.get(reverse("applications:edit", args=[app.pk]) + "?check=1").content.decode()
    assert 'id="err-project_name"' not in plain  # a draft is not told off for what it has not filled yet
    assert 'id="err-project_name"' in checked and 'id="err-goals"' in checked
    app.refresh_from_db()
    assert app.version == 1


def test_edit_page_counts_down_to_the_deadline(client, call, people):
    # the clerk who must submit before 17:00 sees the time left beside the form, in Beijing time (R-E7)
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    page = login(client, clerk).get(f"/apply/{app.pk}/edit/").content.decode()
    assert "data-countdown" in page and "距截止" in page
    assert f'data-deadline="{timezone.localtime(call.deadline).isoformat()}"' in page
    assert re.search(r"calls/countdown\.(?:[0-9a-f]{12}\.)?js", page)  # hashed name when collected


# --- R-E3: limits before work (issue 7, item 2) ---------------------------------------------------------------


def _usage_line(page: str, call) -> str:
    section = page[page.index(f'data-call="{call.code}"'):]
    line = section[section.index('class="usage'):]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line[line.index(">") + 1:line.index("</p>")])).strip()


def test_offers_show_the_units_usage_before_any_work(client, call, people, django_assert_max_num_queries):
    # R-E3 柳州: “同一单位申报项目原则上不超过2个” — 已用 1/2 项，另有草稿 1 份, per call
    _org, clerk, _head = people
    services.submit(user=clerk, application=filled_draft(clerk, call, "2026-1"))
    filled_draft(clerk, call, "2026-2")
    login(client, clerk)
    with django_assert_max_num_queries(40):  # batched: the counts come from one read of the unit's applications
        page = client.get(reverse("applications:offers")).content.decode()
    line = _usage_line(page, call)
    assert "每单位原则上不超过 2 项：已用 1/2 项，另有草稿 1 份" in line
    assert "现有草稿已足以用完剩余名额" in line


def test_offers_count_no_query_per_type(client, call, people, load_call):
    # the 可申报项目 page reads the unit's applications once, whatever the number of types and calls
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _org, clerk, _head = people
    login(client, clerk)
    with CaptureQueriesContext(connection) as one_call:
        client.get(reverse("applications:offers"))
    reopen(load_call("guangxi2026"))  # 7 more types
    with CaptureQueriesContext(connection) as two_calls:
        client.get(reverse("applications:offers"))
    assert len(two_calls.captured_queries) - len(one_call.captured_queries) <= 2, [
        q["sql"][:120] for q in two_calls.captured_queries]


def test_a_soft_limit_warns_and_the_funder_accepts_more_with_a_reason(client, call, people, make_user):
    # R-E3 柳州 “原则上不超过2个”: the third is warned about, submitted, and the funder may accept it with a reason
    _org, clerk, _head = people
    for code in ("2026-1", "2026-2"):
        services.submit(user=clerk, application=filled_draft(clerk, call, code))
    login(client, clerk)
    page = client.get(reverse("applications:offers")).content.decode()
    assert "名额已用完：再提交的申报须经主办方同意方可受理" in _usage_line(page, call)
    block = page[page.index('data-type="2026-3"'):]
    assert "通知要求每个单位原则上不超过2项：再提交的申报须经主办方同意方可受理" in block
    assert "开始申报" in block[:block.index("</form>")]
    third = filled_draft(clerk, call, "2026-3")
    services.submit(user=clerk, application=third)
    page = client.get(reverse("applications:detail", args=[third.pk])).content.decode()
    assert 'id="limit"' in page and "待主办方决定是否同意超额受理" in page and 'id="accept-over-limit"' not in page
    # the clerk cannot accept it
    r = client.post(reverse("applications:accept_over_limit", args=[third.pk]), {"reason": "我们很需要"})
    assert r.status_code == 400 and not LimitAcceptance.objects.filter(application=third).exists()
    funder = make_user("lz_funder_limit", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    login(client, funder)
    page = client.get(reverse("applications:detail", args=[third.pk])).content.decode()
    assert "这是本单位报送本通知的第 3 项申报；通知要求每个单位原则上不超过 2 项。" in page
    assert 'id="accept-over-limit"' in page
    r = client.post(reverse("applications:accept_over_limit", args=[third.pk]), {"reason": " 太短 "})
    assert r.status_code == 400 and "请写明同意超额受理的理由（不少于4个字）" in r.content.decode()
    assert "太短" in r.content.decode()  # the typed text is kept
    r = client.post(reverse("applications:accept_over_limit", args=[third.pk]), {"reason": "该学会承担市重点任务，经研究同意受理"})
    assert r.status_code == 302
    event = AuditEvent.objects.filter(action="application.over_limit_accepted").get()
    assert event.note == "该学会承担市重点任务，经研究同意受理" and event.after["accepted"] is True
    page = client.get(reverse("applications:detail", args=[third.pk])).content.decode()
    assert 'id="limit-accepted"' in page and "该学会承担市重点任务，经研究同意受理" in page
    r = client.post(reverse("applications:accept_over_limit", args=[third.pk]), {"reason": "再同意一次看看"})
    assert r.status_code == 400 and "已同意超额受理" in r.content.decode()
    assert AuditEvent.objects.filter(action="application.over_limit_accepted").count() == 1


def test_a_hard_limit_refuses_the_start_and_marks_old_drafts(client, call, people):
    # R-E3 “最多不超过2个”: once two are sent on, a new draft is refused with the reason, and a draft started
    # before is marked on 我的申报 as no longer submittable, with why
    from tests.test_portal import variant

    hard = reopen(variant(call, code="lz-hard-pages", mutate=lambda d: d.update(per_unit_limit="hard")))
    _org, clerk, _head = people
    early = filled_draft(clerk, hard, "2026-3")
    for code in ("2026-1", "2026-2"):
        services.submit(user=clerk, application=filled_draft(clerk, hard, code))
    login(client, clerk)
    page = client.get(reverse("applications:offers")).content.decode()
    assert "每单位最多 2 项：已用 2/2 项，另有草稿 1 份 名额已用完，不能再开始新的申报。" in _usage_line(page, hard)
    r = client.post(reverse("applications:create"), {"project_type": hard.types.get(code="2026-4").pk})
    assert r.status_code == 403 and "贵单位本通知已提交2项申报，每个单位最多2项" in r.content.decode()
    assert not Application.objects.filter(call=hard, project_type__code="2026-4").exists()
    page = client.get(reverse("applications:mine")).content.decode()
    row = page[page.index(f'data-app="{early.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "已不能提交" in row and "贵单位本通知已提交2项申报，每个单位最多2项" in row
    # an application within the limit is not marked
    other = Application.objects.filter(call=hard, project_type__code="2026-1").get()
    row = page[page.index(f'data-app="{other.pk}"'):]
    assert "已不能提交" not in row[:row.index("</tr>")]
