"""公示, objections and the award list (issue 8 items 8 and 10): the confirmed proposed list published for the
call's period on the official calendar, objections by anyone during it, their handling by staff, the award
list after it (Decisions awarded, projects created, every applicant told), the list as PDF and DOCX.
The proposed Decisions are created directly here (the optimiser's output); the applications are written in
bulk (the stage only reads them)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from shenbao.applications.models import Application, Snapshot
from shenbao.core import calendar
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role
from shenbao.projects.models import Project
from shenbao.review import notice as svc
from shenbao.review.models import Confirmation, Decision, Objection, PublicNotice

pytestmark = pytest.mark.django_db
D = dt.date


def make_applications(call, make_org, make_user, specs, *, category="city_society", parent=None):
    """Submitted applications of `call`: one unit (with a clerk who has an e-mail) per (type code, title)."""
    apps = []
    for i, (type_code, title) in enumerate(specs):
        org = make_org(f"{call.code}测试单位{i}", category, parent=parent or call.issuer)
        make_user(f"{call.code}_clerk{i}", org=org, roles=(Role.APPLICANT_CLERK,), email=f"c{i}@{call.code}.example.cn")
        ptype = call.types.get(code=type_code)
        app = Application.objects.create(call=call, project_type=ptype, applicant=org, title=title,
                                         status="submitted", number=f"{call.year}-{type_code}-{i + 1:03d}",
                                         submitted_at=timezone.now())
        snap = Snapshot.objects.create(application=app, number=1, draft_version=1, fingerprint=f"{app.pk:064x}",
                                       submitted_at=app.submitted_at, values={"values": {}})
        Application.objects.filter(pk=app.pk).update(current_snapshot=snap)
        app.refresh_from_db()
        apps.append(app)
    return apps


def decide(app, state, *, amount=None, rank=None, score="80.0"):
    return Decision.objects.create(application=app, state=state, amount=amount, rank=rank, score=score)


def confirm(call, user, party=Confirmation.Party.FUNDER):
    return Confirmation.objects.create(call=call, party=party, by=user, at=timezone.now())


@pytest.fixture(autouse=True)
def _calendar_knows_this_and_next_year():
    """Pages publish from today: a run late in a year the calendar package does not know the next of (or in
    a later year) would be refused; the Holiday table gets a day of those years, as the administrator does."""
    for year in (timezone.localdate().year, timezone.localdate().year + 1):
        if not calendar.Calendar().knows(year):
            calendar.set_days(actor=None, days=[calendar.Day(D(year, 1, 1), False, "元旦")])


@pytest.fixture
def scene(load_call, make_org, make_user):
    call = load_call("liuzhou2026")
    staff = make_user("lz_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    other = make_user("lz_leader", org=call.issuer, roles=(Role.FUNDER_LEADER,))
    codes = [t.code for t in call.types.order_by("order")]
    apps = make_applications(call, make_org, make_user, [
        (codes[0], "社区科普大讲堂"), (codes[0], "青少年科学营"), (codes[1], "工业设计沙龙"),
        (codes[1], "老年人防诈骗科普"), (codes[0], "机器人进校园")])
    decisions = [decide(apps[0], "proposed", amount=20000, rank=1), decide(apps[1], "proposed", amount=15000, rank=2),
                 decide(apps[2], "proposed", amount=10000, rank=1), decide(apps[3], "not_selected", rank=2),
                 decide(apps[4], "not_selected", rank=3)]
    return call, staff, other, apps, decisions


def test_publishing_needs_the_confirmation(scene, make_user):
    # R-V1: the 公示 follows the funder's confirmation of the review result
    call, staff, _other, _apps, _d = scene
    with pytest.raises(NotAllowed) as e:
        svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30))
    assert "评审结果尚未确认" in e.value.reason and "主办方尚未确认评审结果" in e.value.reason
    assert not PublicNotice.objects.exists()
    clerk = Application.objects.filter(call=call).first().applicant.users.first()
    confirm(call, staff)
    with pytest.raises(NotAllowed) as e:
        svc.publish_notice(actor=clerk, call=call, on=D(2026, 9, 30))
    assert "业务人员" in e.value.reason


def test_finance_confirmation_where_the_call_asks(load_call, make_org, make_user):
    # R-V1 (湖南 2024): the provincial finance department confirms too
    call = load_call("hunan2024")
    staff = make_user("hn_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    fin = make_user("hn_fin", org=call.issuer, roles=(Role.FINANCE,))
    code = call.types.order_by("order").first().code
    (app,) = make_applications(call, make_org, make_user, [(code, "湖南测试项目")], category="province_society")
    decide(app, "proposed", amount=50000)
    confirm(call, staff)
    with pytest.raises(NotAllowed) as e:
        svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30))
    assert "财务部门尚未确认评审结果" in e.value.reason and "主办方" not in e.value.reason
    confirm(call, fin, Confirmation.Party.FINANCE)
    assert svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30)).entries[0]["title"] == "湖南测试项目"


def test_notice_over_national_day_then_objection_blocks_the_award_until_handled(
        scene, django_capture_on_commit_callbacks):
    call, staff, _other, apps, _decisions = scene
    confirm(call, staff)
    assert call.document.review.notice_period.days == 5 and call.document.review.notice_period.working_days
    notice = svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30), text="公示期内接受异议。")
    # 5 working days from Wed 30 Sep 2026 (国庆节 1–7 Oct off, Sat 10 Oct worked): 30 Sep, 8, 9, 10, 12 Oct
    assert (notice.starts_on, notice.ends_on) == (D(2026, 9, 30), D(2026, 10, 12))
    assert D(2026, 10, 10).weekday() == 5  # the Saturday in the period, worked by the official arrangement
    assert [e["title"] for e in notice.entries] == ["社区科普大讲堂", "青少年科学营", "工业设计沙龙"]
    assert svc.period_text(notice) == "2026-09-30 至 2026-10-12（5个工作日）"
    assert AuditEvent.objects.filter(action="notice.publish", object_id=str(notice.pk)).exists()
    # a double click publishes once
    assert svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30)).pk == notice.pk
    assert PublicNotice.objects.count() == 1

    # anyone objects during the period; bad input is refused with a reason per field, nothing stored
    with pytest.raises(ValidationError) as e:
        svc.file_objection(notice=notice, name="", contact="abc", text="太短", on=D(2026, 10, 9))
    assert set(e.value.message_dict) == {"name", "contact", "text"}
    with pytest.raises(ValidationError) as e:
        svc.file_objection(notice=notice, name="张三", contact="13800000000", text="该项目与往年项目内容重复，请核实。",
                           application_id=apps[3].pk, on=D(2026, 10, 9))
    assert e.value.message_dict == {"application": ["所选项目不在本次公示名单中"]}
    assert not Objection.objects.exists()
    obj = svc.file_objection(notice=notice, name="张三", contact="13800000000",
                             text="该项目与往年已立项项目内容重复，请核实。", application_id=apps[1].pk, on=D(2026, 10, 12))
    again = svc.file_objection(notice=notice, name="张三", contact="13800000000",
                               text="该项目与往年已立项项目内容重复，请核实。", application_id=apps[1].pk, on=D(2026, 10, 12))
    assert again.pk == obj.pk and Objection.objects.count() == 1
    with pytest.raises(NotAllowed) as e:  # the day after the period
        svc.file_objection(notice=notice, name="李四", contact="li@example.cn", text="对名单有异议，请复核评审过程。",
                           on=D(2026, 10, 13))
    assert "公示期已于2026-10-12结束" in e.value.reason

    # the award list: not within the period, not with an objection open
    with pytest.raises(NotAllowed) as e:
        svc.publish_award(actor=staff, notice=notice, on=D(2026, 10, 12))
    assert "公示期至2026-10-12（含）尚未结束" in e.value.reason
    with pytest.raises(NotAllowed) as e:
        svc.publish_award(actor=staff, notice=notice, on=D(2026, 10, 13))
    assert e.value.reason == "尚有1条异议未处理，处理完毕后才能发布立项名单"
    assert Decision.objects.filter(state="awarded").count() == 0 and not Project.objects.exists()

    # staff handle it (audited); a handling text is required
    with pytest.raises(ValidationError):
        svc.handle_objection(actor=staff, objection=obj, upheld=False, handling="")
    svc.handle_objection(actor=staff, objection=obj, upheld=False, handling="经核实，项目内容与往年项目不同，异议不成立。")
    obj.refresh_from_db()
    assert (obj.state, obj.handled_by) == ("dismissed", staff)
    assert AuditEvent.objects.filter(action="objection.dismiss", object_id=str(obj.pk), actor=staff).exists()

    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notice, job = svc.publish_award(actor=staff, notice=notice, on=D(2026, 10, 13))
    assert notice.state == "awarded" and notice.awarded_by == staff
    assert sorted(Decision.objects.filter(state="awarded").values_list("application_id", flat=True)) == \
        sorted(a.pk for a in apps[:3])
    # projects from the awarded applications
    projects = {p.application_id: p for p in Project.objects.all()}
    assert set(projects) == {a.pk for a in apps[:3]}
    p = projects[apps[0].pk]
    assert (p.call, p.project_type, p.applicant, p.funder, p.title, p.year, p.programme, p.amount, p.awarded_on,
            p.kind, p.code) == (call, apps[0].project_type, apps[0].applicant, call.issuer, "社区科普大讲堂", call.year,
                                call.programme_code, 20000, D(2026, 10, 13), "standard", apps[0].number)
    # every applicant of a decided application told (the job ran), awarded or not
    job.refresh_from_db()
    assert job.state == "done"
    to = sorted(m.to[0] for m in django_mail.outbox)
    assert to == sorted(f"c{i}@{call.code}.example.cn" for i in range(5))
    by = {m.to[0]: m for m in django_mail.outbox}
    assert "已立项" in by[f"c0@{call.code}.example.cn"].subject and "20000 元" in by[f"c0@{call.code}.example.cn"].body
    assert "未入选" in by[f"c3@{call.code}.example.cn"].subject
    # a second click changes nothing
    again, job2 = svc.publish_award(actor=staff, notice=notice, on=D(2026, 10, 14))
    assert job2 is None and Project.objects.count() == 3


def test_an_upheld_objection_withdraws_the_application(scene, django_capture_on_commit_callbacks):
    call, staff, _other, apps, _d = scene
    confirm(call, staff)
    notice = svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30))
    obj = svc.file_objection(notice=notice, name="王五", contact="wang@example.cn",
                             text="该单位申报材料中的活动照片为往年活动照片。", application_id=apps[2].pk, on=D(2026, 10, 8))
    svc.handle_objection(actor=staff, objection=obj, upheld=True, withdraw=True, handling="经核实情况属实，撤销拟立项。")
    assert Decision.objects.get(application=apps[2]).state == "withdrawn"
    with django_capture_on_commit_callbacks(execute=True):
        svc.publish_award(actor=staff, notice=notice, on=D(2026, 10, 13))
    assert not Project.objects.filter(application=apps[2]).exists() and Project.objects.count() == 2
    assert any("未立项" in m.subject and m.to == [f"c2@{call.code}.example.cn"] for m in django_mail.outbox)


def test_a_period_into_an_unknown_year_is_refused_until_the_table_has_it(scene):
    call, staff, _other, _apps, _d = scene
    confirm(call, staff)
    last = calendar.known_years()[-1]  # the package's last year, or a later one the table has
    with pytest.raises(NotAllowed) as e:
        svc.publish_notice(actor=staff, call=call, on=D(last, 12, 29))
    assert f"{last + 1}年的法定节假日安排尚未录入" in e.value.reason and "不能计算公示期" in e.value.reason
    assert not PublicNotice.objects.exists()
    calendar.set_days(actor=None, days=[calendar.Day(D(last + 1, 1, 1), False, "元旦")])
    notice = svc.publish_notice(actor=staff, call=call, on=D(last, 12, 29))
    days = [D(last, 12, 29) + dt.timedelta(days=i) for i in range((notice.ends_on - D(last, 12, 29)).days + 1)]
    assert sum(calendar.is_workday(d) for d in days) == 5 and calendar.is_workday(notice.ends_on)
    assert notice.ends_on.year == last + 1  # 29–31 December hold at most 3 working days


def _live(notice):
    """Move a notice's period around today (pages read the real date)."""
    today = timezone.localdate()
    PublicNotice.objects.filter(pk=notice.pk).update(starts_on=today - dt.timedelta(days=1),
                                                     ends_on=today + dt.timedelta(days=3))
    notice.refresh_from_db()
    return notice


def test_pages_public_list_call_page_objection_form_and_staff_page(client, scene, settings):
    call, staff, _other, apps, _d = scene
    confirm(call, staff)
    client.force_login(staff)
    page = client.get(f"/review/calls/{call.code}/notice/").content.decode()
    assert "发布公示" in page and "社区科普大讲堂" in page
    r = client.post(f"/review/calls/{call.code}/notice/", {"title": "", "text": "欢迎监督"})
    assert r.status_code == 302
    notice = _live(PublicNotice.objects.get())
    client.logout()
    # the public sees it without logging in: the list, the call page with the period, the notice
    listing = client.get("/review/notices/").content.decode()
    assert notice.title in listing and "公示中" in listing
    call_page = client.get(f"/calls/{call.code}/").content.decode()
    assert 'id="public-notice"' in call_page and svc.period_text(notice) in call_page
    detail = client.get(f"/review/notices/{notice.pk}/").content.decode()
    assert "提出异议" in detail and "工业设计沙龙" in detail and "老年人防诈骗科普" not in detail
    # the objection form: checked, then stored; rate limited per address
    r = client.post(f"/review/notices/{notice.pk}/", {"name": "赵六", "contact": "不告诉你", "text": "有异议"})
    assert r.status_code == 400 and "联系方式应为电话号码或电子邮箱" in r.content.decode()
    r = client.post(f"/review/notices/{notice.pk}/", {"name": "赵六", "contact": "0772-1234567",
                                                      "text": "该项目承办单位并未实际参与，请核实。",
                                                      "application": str(apps[0].pk)})
    assert r.status_code == 302 and Objection.objects.get().application_id == apps[0].pk
    settings.SHENBAO_OBJECTION_RATE = (2, 3600)
    r = client.post(f"/review/notices/{notice.pk}/", {"name": "赵六", "contact": "0772-1234567", "text": "再次提出异议内容"})
    assert r.status_code == 429 and Objection.objects.count() == 1
    # staff see it, the award button is refused with the reason, handling is recorded on the page
    client.force_login(staff)
    page = client.get(f"/review/calls/{call.code}/notice/").content.decode()
    assert "0772-1234567" in page and "尚未结束" in page
    r = client.post(f"/review/objections/{Objection.objects.get().pk}/handle/",
                    {"outcome": "dismissed", "handling": "经核实，承办单位实际参与，异议不成立。"})
    assert r.status_code == 302 and Objection.objects.get().state == "dismissed"
    r = client.post(f"/review/notices/{notice.pk}/award/")
    assert r.status_code == 302 and PublicNotice.objects.get().state == "open"  # the period has not ended
    # someone else may not handle or award
    clerk = apps[0].applicant.users.first()
    client.force_login(clerk)
    assert client.get(f"/review/calls/{call.code}/notice/").status_code == 403
    assert client.post(f"/review/notices/{notice.pk}/award/").status_code == 403


def test_the_clerk_sees_the_decision(client, scene, django_capture_on_commit_callbacks):
    call, staff, _other, apps, _d = scene
    clerk0, clerk3 = apps[0].applicant.users.first(), apps[3].applicant.users.first()
    client.force_login(clerk0)
    assert 'id="decision"' not in client.get(f"/apply/{apps[0].pk}/").content.decode()  # nothing before the 公示
    confirm(call, staff)
    notice = svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30))
    page = client.get(f"/apply/{apps[0].pk}/").content.decode()
    assert "拟立项（公示中）" in page and "2026-10-12" in page
    client.force_login(clerk3)
    assert 'data-decision="' not in client.get("/apply/").content.decode()  # 未入选 is told with the award list
    with django_capture_on_commit_callbacks(execute=True):
        svc.publish_award(actor=staff, notice=notice, on=D(2026, 10, 13))
    assert 'data-decision="not_selected"' in client.get("/apply/").content.decode()
    client.force_login(clerk0)
    mine = client.get("/apply/").content.decode()
    assert 'data-decision="awarded"' in mine and "资助 20000 元" in mine
    page = client.get(f"/apply/{apps[0].pk}/").content.decode()
    assert 'id="decision"' in page and "已立项" in page


def test_the_list_as_pdf_and_docx(client, scene):
    from docx import Document
    from pypdf import PdfReader

    call, staff, _other, _apps, _d = scene
    confirm(call, staff)
    notice = svc.publish_notice(actor=staff, call=call, on=D(2026, 9, 30))
    r = client.get(f"/review/notices/{notice.pk}/list.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "社区科普大讲堂" in text and "2026-10-12" in text
    r = client.get(f"/review/notices/{notice.pk}/list.docx")
    doc = Document(io.BytesIO(r.content))
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells][:4] == ["序号", "申报编号", "项目类型", "项目名称"]
    assert [row.cells[3].text for row in table.rows[1:]] == ["社区科普大讲堂", "青少年科学营", "工业设计沙龙"]
    assert any(notice.title in p.text for p in doc.paragraphs)


def test_api_public_list_objection_handling_award(client, scene, django_capture_on_commit_callbacks):
    call, staff, other, _apps, _d = scene
    confirm(call, staff)
    client.force_login(staff)
    r = client.post(f"/api/v1/review/calls/{call.code}/notice", {"text": "接受监督"}, content_type="application/json")
    assert r.status_code == 201
    notice = _live(PublicNotice.objects.get(pk=r.json()["id"]))
    client.logout()
    r = client.get("/api/v1/review/notices")
    assert r.status_code == 200 and r.json()[0]["phase"] == "open" and len(r.json()[0]["entries"]) == 3
    r = client.post(f"/api/v1/review/notices/{notice.pk}/objections",
                    {"name": "钱七", "contact": "qian@example", "text": "短"}, content_type="application/json")
    assert r.status_code == 422 and "联系方式" in r.json()["detail"]
    r = client.post(f"/api/v1/review/notices/{notice.pk}/objections",
                    {"name": "钱七", "contact": "qian@example.cn", "text": "评审专家与申报单位存在利益关系。"},
                    content_type="application/json")
    assert r.status_code == 201
    oid = r.json()["id"]
    assert client.get(f"/api/v1/review/notices/{notice.pk}/objections").status_code == 401
    client.force_login(other)  # the leader reads, but does not handle
    assert client.get(f"/api/v1/review/notices/{notice.pk}/objections").json()[0]["contact"] == "qian@example.cn"
    r = client.post(f"/api/v1/review/objections/{oid}/handling", {"outcome": "dismissed", "handling": "经核实无利益关系。"},
                    content_type="application/json")
    assert r.status_code == 403
    client.force_login(staff)
    r = client.post(f"/api/v1/review/notices/{notice.pk}/award", content_type="application/json")
    assert r.status_code == 403 and "尚未结束" in r.json()["detail"]
    r = client.post(f"/api/v1/review/objections/{oid}/handling", {"outcome": "dismissed", "handling": "经核实无利益关系。"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "dismissed"
    PublicNotice.objects.filter(pk=notice.pk).update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/api/v1/review/notices/{notice.pk}/award", content_type="application/json")
    assert r.status_code == 200 and r.json()["notice"]["phase"] == "awarded" and r.json()["job"]
    assert len(r.json()["notice"]["awarded"]) == 3 and Project.objects.count() == 3
    assert "/review/notices" in client.get("/api/v1/openapi.json").content.decode()


def test_the_award_button_queues_a_job_that_publishes_once(client, scene, db_queue):
    # the request answers the checks and queues the publishing; a second click gets the same job; the job,
    # run by the worker (here its task called as the worker calls it), awards and starts the notifying job
    from shenbao.core.models import Job

    call, staff, _other, _apps, _d = scene
    confirm(call, staff)
    notice = svc.publish_notice(actor=staff, call=call)
    client.force_login(staff)
    r = client.post(f"/review/notices/{notice.pk}/award/")
    assert r.status_code == 302 and r["Location"] == f"/review/calls/{call.code}/notice/"  # the period is open
    assert not Job.objects.exists()
    PublicNotice.objects.filter(pk=notice.pk).update(starts_on=timezone.localdate() - dt.timedelta(days=9),
                                                     ends_on=timezone.localdate() - dt.timedelta(days=1))
    first = client.post(f"/review/notices/{notice.pk}/award/")
    second = client.post(f"/review/notices/{notice.pk}/award/")
    job = Job.objects.get()
    assert first["Location"] == second["Location"] == job.get_absolute_url() and job.state == "queued"
    assert PublicNotice.objects.get().state == "open" and not Project.objects.exists()
    svc.award_job.call(job_id=job.pk, notice_id=notice.pk)
    job.refresh_from_db()
    notify = Job.objects.exclude(pk=job.pk).get()
    assert job.state == "done" and job.result_url == notify.get_absolute_url() and notify.state == "queued"
    assert PublicNotice.objects.get().state == "awarded" and Project.objects.filter(call=call).count() == 3
    assert AuditEvent.objects.filter(action="notice.award").count() == 1
    page = client.get(job.get_absolute_url()).content.decode()
    assert "立项名单已发布，正在通知各申报单位" in page
    # clicked again after: the page, nothing twice
    r = client.post(f"/review/notices/{notice.pk}/award/")
    assert r["Location"] == f"/review/calls/{call.code}/notice/" and Job.objects.count() == 2
