"""Scoring by experts (issue 8 item 5): the type's rubric from the call's data (criteria, ranges, weights, a
comment of at least N 汉字), draft and submit, staff's 退回重评 with a reason, only the assigned expert, blind
review hiding the applicant's identity in the page and the PDF, the score sheets as PDF with a signature line,
daily reminders before the scoring deadline and refusal after it, the XLSX of scores per expert and criterion."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import yaml
from django.core import mail as django_mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from shenbao.applications.models import Application, Snapshot
from shenbao.applications.samples import PERSON, sample_values
from shenbao.calls import services as call_services
from shenbao.core.decisions import NotAllowed
from shenbao.core.expressions import hanzi_count
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role, RoleAssignment
from shenbao.review import scoring
from shenbao.review.models import Assignment, Expert, ScoreSheet
from shenbao.review.scoring_pdf import sheets_pdf
from tests.conftest import CALL_FILES, CALLS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]

UNIT = "柳州市评分测试学会"
# 30 汉字 exactly, with letters, digits and punctuation that do not count
COMMENT_30 = "该项目紧扣地方产业需求，实施方案具体可行，预期效益明显，建议予立项。OK 2026!"
RUBRIC = {"comment_min_hanzi": 10, "criteria": [
    {"key": "innovation", "name": "创新性", "max": 30, "weight": 2},
    {"key": "feasibility", "name": "可行性", "min": 5, "max": 40, "weight": 0.5},
    {"key": "benefit", "name": "预期效益", "max": 30}]}


def variant(name: str, suffix: str, **review) -> object:
    """A copy of a real call's document with review fields changed (its own code), loaded and published."""
    data = yaml.safe_load((CALLS / CALL_FILES[name]).read_text("utf-8"))
    data["code"] = f"{data['code']}-{suffix}"
    data["title"] = f"{data['title']}（{suffix}）"
    data["review"] = {**data.get("review", {}), **review}
    return call_services.load_call(text=yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                   filename=f"{suffix}.yaml", publish=True).call


def submitted(call, org, type_code: str = "2026-1", n: int = 1, *, with_file: bool = False) -> Application:
    """A submitted application of `type_code` with the form filled by the sample filler (frozen version);
    `with_file`: an uploaded attachment the version names under `plan_file`."""
    ptype = call.types.get(code=type_code)
    form = call.document.form_for(ptype.document)
    track = ptype.document.tracks[0].code if ptype.document.tracks else None
    values = sample_values(form=form, type_doc=ptype.document, org_name=org.name, track=track,
                          today=timezone.localdate())
    title = next((values[f.key] for f in form.all_fields() if f.title), "") or ""
    now = timezone.now()
    number = f"{call.year}-{type_code[-1]}-{n:04d}"
    app = Application.objects.create(call=call, project_type=ptype, applicant=org, title=title, number=number,
                                     status="submitted", submitted_at=now, data=values)
    if with_file:
        from django.core.files.base import ContentFile

        from shenbao.applications.models import Attachment

        row = Attachment(application=app, field_key="plan", original_name="方案.pdf", kind="pdf",
                         content_type="application/pdf", size=4, sha256="a" * 64)
        row.file.save("x.pdf", ContentFile(b"%PDF"), save=True)
        values = {**values, "plan_file": {"document_id": row.pk, "name": "方案.pdf", "sha256": "a" * 64}}
    snap = Snapshot.objects.create(application=app, number=1, draft_version=1, fingerprint=f"{app.pk:064x}",
                                   submitted_at=now, values={"values": values, "title": title,
                                                             "application_number": number, "participants": []})
    app.current_snapshot = snap
    app.save(update_fields=["current_snapshot"])
    return app


@pytest.fixture
def org_maker(make_org):
    def _make(call, name=UNIT):
        return make_org(name, "city_society", parent=call.issuer)
    return _make


@pytest.fixture
def expert_maker(make_user):
    def _make(call, username: str, *, ready: bool = True, **fields):
        user = make_user(username, email=f"{username}@gxu.example.cn", display_name=fields.get("name", username))
        RoleAssignment.objects.create(user=user, role=Role.EXPERT, organisation=call.issuer)
        now = timezone.now()
        return Expert.objects.create(
            funder=call.issuer, user=user, name=fields.pop("name", f"专家{username}"),
            organisation_name=fields.pop("organisation_name", "广西大学"), phone=fields.pop("phone", ""),
            email=fields.pop("email", f"{username}@gxu.example.cn"),
            pledge_accepted_at=now if ready else None, conflicts_declared_at=now if ready else None, **fields)
    return _make


@pytest.fixture
def scene(load_call, org_maker, expert_maker, make_user):
    call = load_call("liuzhou2026")
    app = submitted(call, org_maker(call))
    expert = expert_maker(call, "wang", name="王评审", phone="13800001111")
    staff = make_user("sc_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    a = Assignment.objects.create(application=app, expert=expert)
    return call, app, expert, a, staff


# --- the rubric, the comment, ranges and weights ----------------------------------------------------


def test_rubric_comes_from_the_type_then_the_call_then_the_default(load_call):
    call = load_call("liuzhou2026")
    ptype = call.types.get(code="2026-2").document
    assert call.document.rubric_for(ptype).criteria[0].key == "overall"  # the notices give none: the default
    own = variant("liuzhou2026", "rubric", rubric=RUBRIC)
    assert [c.key for c in own.document.rubric_for(own.types.get(code="2026-2").document).criteria] == \
        ["innovation", "feasibility", "benefit"]


def test_too_short_comment_refused_with_the_count(scene):
    _call, app, expert, a, _staff = scene
    need = scoring.rubric_of(app).comment_min_hanzi
    short = COMMENT_30[:-12]  # drops 汉字 and the ASCII that does not count
    assert hanzi_count(short) < need
    result = scoring.submit(user=expert.user, assignment=a, values={"overall": "80"}, comment=short)
    assert not result.ok
    assert result.errors["comment"] == (f"评审意见须不少于 {need} 个汉字，目前只有 {hanzi_count(short)} 个汉字"
                                        "（字母、数字和标点不计）")
    sheet = ScoreSheet.objects.get(assignment=a)
    assert sheet.state == "draft" and sheet.submitted_at is None and sheet.total is None  # nothing submitted
    # letters, digits and punctuation do not make up for missing 汉字
    padded = short + "abcdefghij0123456789，。！" * 5
    assert not scoring.submit(user=expert.user, assignment=a, values={"overall": "80"}, comment=padded).ok
    assert hanzi_count(COMMENT_30) == need
    result = scoring.submit(user=expert.user, assignment=a, values={"overall": "80"}, comment=COMMENT_30)
    assert result.ok and result.sheet.state == "submitted" and result.sheet.total == Decimal("80.00")


def test_ranges_and_missing_values_refused_and_typed_values_kept(scene, client):
    _call, _app, expert, a, _staff = scene
    r = scoring.submit(user=expert.user, assignment=a, values={"overall": "101"}, comment=COMMENT_30)
    assert r.errors == {"overall": "“综合评价”的得分须在 0–100 分 之间（您填的是 101）"}
    r = scoring.submit(user=expert.user, assignment=a, values={"overall": "-1"}, comment=COMMENT_30)
    assert "0–100 分" in r.errors["overall"]
    r = scoring.submit(user=expert.user, assignment=a, values={}, comment=COMMENT_30)
    assert r.errors["overall"].startswith("请填写“综合评价”的得分")
    r = scoring.submit(user=expert.user, assignment=a, values={"overall": "八十"}, comment=COMMENT_30)
    assert "须为数字" in r.errors["overall"]
    r = scoring.save_draft(user=expert.user, assignment=a, values={"overall": "88.888"}, comment="")
    assert "两位小数" in r.errors["overall"]
    # a draft may leave values blank
    assert scoring.save_draft(user=expert.user, assignment=a, values={"overall": ""}, comment="初步意见").ok
    assert ScoreSheet.objects.get(assignment=a).comment == "初步意见"
    # on the page: what was typed is kept, the error beside it, nothing saved
    client.force_login(expert.user)
    url = reverse("review:scoring_score", args=[a.pk])
    page = client.post(url, {"c-overall": "150", "comment": "我写的意见还很短", "action": "submit"})
    html = page.content.decode()
    assert page.status_code == 400 and 'value="150"' in html and "我写的意见还很短" in html
    assert "0–100 分" in html and "评审意见须不少于 30 个汉字，目前只有 8 个汉字" in html
    assert ScoreSheet.objects.get(assignment=a).comment == "初步意见"


def test_weights_make_the_total(load_call, org_maker, expert_maker):
    call = variant("liuzhou2026", "weights", rubric=RUBRIC)
    app = submitted(call, org_maker(call))
    expert = expert_maker(call, "li")
    a = Assignment.objects.create(application=app, expert=expert)
    typed = {"innovation": "25.5", "feasibility": "33", "benefit": "20"}
    r = scoring.submit(user=expert.user, assignment=a, values=typed, comment="创新突出方案可行效益良好建议资助")
    assert r.ok, r.errors
    weights = {c["key"]: Decimal(str(c.get("weight", 1))) for c in RUBRIC["criteria"]}
    assert r.sheet.total == sum(Decimal(v) * weights[k] for k, v in typed.items())
    # the criterion's own minimum (可行性 from 5)
    b = Assignment.objects.create(application=app, expert=expert_maker(call, "zhao"))
    r = scoring.submit(user=b.expert.user, assignment=b, values={**typed, "feasibility": "4"},
                       comment="创新突出方案可行效益良好建议资助")
    assert r.errors == {"feasibility": "“可行性”的得分须在 5–40 分 之间（您填的是 4）"}


# --- who may score -----------------------------------------------------------------------------------


def test_only_the_assigned_expert_scores(scene, expert_maker, client):
    call, _app, _expert, a, staff = scene
    other = expert_maker(call, "other")
    with pytest.raises(NotAllowed, match="只有分配到该项目的评审专家可以评分"):
        scoring.save_draft(user=other.user, assignment=a, values={"overall": "60"}, comment="")
    with pytest.raises(NotAllowed):
        scoring.submit(user=staff, assignment=a, values={"overall": "60"}, comment=COMMENT_30)
    client.force_login(other.user)
    assert client.get(reverse("review:scoring_score", args=[a.pk])).status_code == 403
    assert client.get(reverse("review:scoring_application", args=[a.pk])).status_code == 403
    assert client.get(reverse("review:scoring_application_pdf", args=[a.pk])).status_code == 403
    r = client.put(f"/api/v1/review/scoring/assignments/{a.pk}/sheet", {"values": {"overall": "60"}},
                   content_type="application/json")
    assert r.status_code == 403 and "只有分配到该项目的评审专家" in r.json()["detail"]
    assert not ScoreSheet.objects.filter(assignment=a).exists()


def test_a_removed_assignment_cannot_be_submitted(scene):
    _call, _app, expert, a, staff = scene
    assert scoring.save_draft(user=expert.user, assignment=a, values={"overall": "70"}, comment=COMMENT_30).ok
    Assignment.objects.filter(pk=a.pk).update(removed_at=timezone.now(), removed_by=staff, removed_reason="回避")
    a.refresh_from_db()
    with pytest.raises(NotAllowed, match="已不再分配给您"):
        scoring.submit(user=expert.user, assignment=a, values={"overall": "70"}, comment=COMMENT_30)
    assert ScoreSheet.objects.get(assignment=a).state == "draft"


def test_expert_sees_nothing_before_pledge_and_conflicts(load_call, org_maker, expert_maker, client):
    call = load_call("liuzhou2026")
    app = submitted(call, org_maker(call))
    expert = expert_maker(call, "new", ready=False)
    a = Assignment.objects.create(application=app, expert=expert)
    client.force_login(expert.user)
    assert client.get(reverse("review:mine"))["Location"] == reverse("review:pledge")  # the experts' gate first
    r = client.get(reverse("review:scoring_score", args=[a.pk]))
    assert r.status_code == 403 and "请先阅读并接受保密承诺" in r.content.decode() and app.number not in r.content.decode()
    assert client.get(reverse("review:scoring_application", args=[a.pk])).status_code == 403
    Expert.objects.filter(pk=expert.pk).update(pledge_accepted_at=timezone.now())
    r = client.get(reverse("review:scoring_application", args=[a.pk]))
    assert r.status_code == 403 and "请先完成回避申报" in r.content.decode()


def test_draft_submit_reopen_submit_audited_and_double_submit_harmless(scene, client):
    _call, _app, expert, a, staff = scene
    client.force_login(expert.user)
    url = reverse("review:scoring_score", args=[a.pk])
    r = client.post(url, {"c-overall": "75", "comment": "草稿", "action": "save"}, follow=True)
    assert "已保存草稿" in r.content.decode() and ScoreSheet.objects.get(assignment=a).state == "draft"
    r = client.post(url, {"c-overall": "82", "comment": COMMENT_30, "action": "submit"}, follow=True)
    sheet = ScoreSheet.objects.get(assignment=a)
    assert sheet.state == "submitted" and sheet.total == Decimal("82.00") and "评分已提交" in r.content.decode()
    # a second submit (double click) changes nothing
    r = client.post(url, {"c-overall": "10", "comment": COMMENT_30, "action": "submit"}, follow=True)
    sheet.refresh_from_db()
    assert sheet.total == Decimal("82.00") and "无需重复提交" in r.content.decode()
    with pytest.raises(NotAllowed, match="评分表已提交"):
        scoring.save_draft(user=expert.user, assignment=a, values={"overall": "10"}, comment="")
    # staff reopen with a reason (none: refused), the expert sees it and submits again
    with pytest.raises(NotAllowed, match="理由"):
        scoring.reopen(user=staff, sheet=sheet, reason=" ")
    with pytest.raises(NotAllowed):
        scoring.reopen(user=expert.user, sheet=sheet, reason="自己退回")
    client.force_login(staff)
    client.post(reverse("review:scoring_reopen", args=[sheet.pk]), {"reason": "评审意见与分数不符，请复核"})
    sheet.refresh_from_db()
    assert sheet.state == "reopened" and sheet.reopen_reason == "评审意见与分数不符，请复核"
    client.force_login(expert.user)
    assert "评审意见与分数不符，请复核" in client.get(url).content.decode()
    assert scoring.submit(user=expert.user, assignment=a, values={"overall": "78"}, comment=COMMENT_30).ok
    sheet.refresh_from_db()
    assert sheet.state == "submitted" and sheet.total == Decimal("78.00")
    actions = list(AuditEvent.objects.filter(object_id=str(sheet.pk), action__startswith="score_sheet.")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["score_sheet.save", "score_sheet.submit", "score_sheet.reopen", "score_sheet.submit"]


def test_api_save_and_submit(scene, client):
    _call, _app, expert, a, _staff = scene
    client.force_login(expert.user)
    base = f"/api/v1/review/scoring/assignments/{a.pk}/sheet"
    tasks = client.get("/api/v1/review/scoring/assignments").json()
    assert [t["assignment"] for t in tasks] == [a.pk] and tasks[0]["sheet"]["state"] == "none"
    assert client.get(base).json()["rubric"][0]["key"] == "overall"
    r = client.post(base + "/submit", {"values": {"overall": "90"}, "comment": "太短"}, content_type="application/json")
    assert r.status_code == 400 and "评审意见须不少于 30 个汉字" in r.json()["errors"]["comment"]
    r = client.post(base + "/submit", {"values": {"overall": 90}, "comment": COMMENT_30},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "submitted" and Decimal(r.json()["total"]) == 90


# --- deadline and reminders ---------------------------------------------------------------------------


def test_scoring_refused_after_the_deadline(load_call, org_maker, expert_maker):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    call = variant("liuzhou2026", "late", scoring_deadline=yesterday.isoformat())
    app = submitted(call, org_maker(call))
    expert = expert_maker(call, "late")
    a = Assignment.objects.create(application=app, expert=expert)
    with pytest.raises(NotAllowed, match=f"评审截止日期（{yesterday.isoformat()}）已过"):
        scoring.submit(user=expert.user, assignment=a, values={"overall": "80"}, comment=COMMENT_30)
    # the deadline day itself still counts
    today = variant("liuzhou2026", "today", scoring_deadline=timezone.localdate().isoformat())
    b = Assignment.objects.create(application=submitted(today, org_maker(today, "柳州市当天学会")), expert=expert)
    assert scoring.submit(user=expert.user, assignment=b, values={"overall": "80"}, comment=COMMENT_30).ok


def test_reminders_only_for_unsubmitted_sheets_and_only_before_the_deadline(
        load_call, org_maker, expert_maker, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    deadline = today + dt.timedelta(days=3)
    call = variant("liuzhou2026", "remind", scoring_deadline=deadline.isoformat())
    app = submitted(call, org_maker(call))
    drafting, done, idle = (expert_maker(call, n) for n in ("drafting", "done", "idle"))
    a1, a2, _a3 = (Assignment.objects.create(application=app, expert=e) for e in (drafting, done, idle))
    scoring.save_draft(user=drafting.user, assignment=a1, values={"overall": "60"}, comment="")
    assert scoring.submit(user=done.user, assignment=a2, values={"overall": "60"}, comment=COMMENT_30).ok
    # an expert removed from the application is not reminded of it
    gone = expert_maker(call, "gone")
    Assignment.objects.create(application=app, expert=gone, removed_at=timezone.now())
    # a call without a deadline reminds nobody
    plain = load_call("liuzhou2026")
    Assignment.objects.create(application=submitted(plain, org_maker(plain, "柳州市无期限学会")),
                              expert=expert_maker(plain, "nodeadline"))
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = scoring.send_scoring_reminders.call(day=today.isoformat())
    assert sent == 2
    assert sorted(m.to[0] for m in django_mail.outbox) == sorted([drafting.email, idle.email])
    assert all("未提交的评分表" in m.subject and deadline.isoformat() in m.body for m in django_mail.outbox)
    # the same day again: nothing more
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring.send_scoring_reminders.call(day=today.isoformat()) == 0
    assert len(django_mail.outbox) == 2
    # the deadline day still reminds; the day after it does not
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring.send_scoring_reminders.call(day=deadline.isoformat()) == 2
        assert scoring.send_scoring_reminders.call(day=(deadline + dt.timedelta(days=1)).isoformat()) == 0
    assert len(django_mail.outbox) == 4


def test_daily_command_queues_each_task_once_a_day(scene, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("daily", stdout=out)
    assert "review.scoring_reminders" in out.getvalue()
    out = io.StringIO()
    call_command("daily", stdout=out)
    assert "already queued today" in out.getvalue()


# --- blind review -------------------------------------------------------------------------------------


def _identity(app) -> list[str]:
    values = app.current_snapshot.values["values"]
    assert values["applicant_unit"] == UNIT and values["president"]["name"] == PERSON["name"]
    return [UNIT, PERSON["name"], PERSON["phone"], PERSON["mobile"], PERSON["wechat"], "office@example.cn"]


def test_blind_review_hides_identity_in_the_page_and_the_pdf(load_call, org_maker, expert_maker, client):
    call = variant("liuzhou2026", "blind", blind=True)
    app = submitted(call, org_maker(call))
    expert = expert_maker(call, "blind")
    a = Assignment.objects.create(application=app, expert=expert)
    secrets = [s for s in _identity(app) if s]
    client.force_login(expert.user)
    page = client.get(reverse("review:scoring_application", args=[a.pk])).content.decode()
    assert "盲审" in page and "（已隐去）" in page
    assert "组织专家深入企业开展技术服务" in page  # the project's content stays readable
    for s in secrets:
        assert s not in page, s
    for url in (reverse("review:mine"), reverse("review:scoring_score", args=[a.pk])):
        html = client.get(url).content.decode()
        assert UNIT not in html and PERSON["name"] not in html
    r = client.get(reverse("review:scoring_application_pdf", args=[a.pk]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "学会改革与发展项目申报表" in text and "组织专家深入企业开展技术服务" in text
    for s in secrets:
        assert s not in text, s
    # the same application without blind review shows who applied (the control)
    open_call = load_call("liuzhou2026")
    other = submitted(open_call, org_maker(open_call, "柳州市公开评审学会"))
    b = Assignment.objects.create(application=other, expert=expert_maker(open_call, "open"))
    client.force_login(b.expert.user)
    page = client.get(reverse("review:scoring_application", args=[b.pk])).content.decode()
    assert "柳州市公开评审学会" in page and PERSON["name"] in page
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(reverse("review:scoring_application_pdf", args=[b.pk])).content)).pages)
    assert "柳州市公开评审学会" in text and PERSON["name"] in text


# --- printing and export ------------------------------------------------------------------------------


def test_an_experts_sheets_in_one_pdf_with_signature_line(load_call, org_maker, expert_maker, client):
    call = variant("liuzhou2026", "print", rubric=RUBRIC)
    expert = expert_maker(call, "printer", name="陈评审")
    apps = [submitted(call, org_maker(call, f"柳州市打印学会{i}"), n=i) for i in (1, 2)]
    for i, app in enumerate(apps):
        a = Assignment.objects.create(application=app, expert=expert)
        assert scoring.submit(user=expert.user, assignment=a, comment="创新突出方案可行效益良好建议资助",
                              values={"innovation": str(20 + i), "feasibility": "30", "benefit": "25"}).ok
    client.force_login(expert.user)
    r = client.get(reverse("review:scoring_my_pdf"))
    reader = PdfReader(io.BytesIO(r.content))
    assert len(reader.pages) == 2
    text = "".join(p.extract_text() for p in reader.pages)
    for c in RUBRIC["criteria"]:
        assert c["name"] in text
    for sheet in ScoreSheet.objects.filter(assignment__expert=expert):
        assert f"\n{sheet.total.normalize():f}\n" in text and sheet.assignment.application.number in text
    assert text.count("专家签名") == 2 and "日期" in text and "陈评审" in text
    direct = sheets_pdf(expert, list(ScoreSheet.objects.filter(assignment__expert=expert)))
    assert len(PdfReader(io.BytesIO(direct)).pages) == 2


def test_export_scores_per_expert_and_criterion(load_call, org_maker, expert_maker, make_user, client):
    call = variant("liuzhou2026", "export", rubric=RUBRIC)
    app = submitted(call, org_maker(call))
    e1 = expert_maker(call, "x1", name="甲专家", phone="13911112222")
    e2 = expert_maker(call, "x2", name="乙专家", phone="13933334444")
    a1 = Assignment.objects.create(application=app, expert=e1)
    Assignment.objects.create(application=app, expert=e2)
    typed = {"innovation": "28", "feasibility": "35", "benefit": "22"}
    assert scoring.submit(user=e1.user, assignment=a1, values=typed, comment="创新突出方案可行效益良好建议资助").ok
    staff = make_user("x_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    client.force_login(staff)
    r = client.get(reverse("review:scoring_xlsx", args=[call.code, app.project_type.code]))
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    names = [c["name"] for c in RUBRIC["criteria"]]
    assert rows[0][:6] == ("申报编号", "项目名称", "申报单位", "评审专家", "专家单位", "专家手机")
    assert [h.split("（")[0] for h in rows[0][6:6 + len(names)]] == names
    assert rows[0][6 + len(names):] == ("总分", "评审意见", "状态", "提交时间")
    by_expert = {row[3]: row for row in rows[1:]}
    assert set(by_expert) == {"甲专家", "乙专家"}
    first = by_expert["甲专家"]
    assert first[5] == "139****2222" and "13911112222" not in str(rows)
    assert first[6:9] == tuple(float(typed[c["key"]]) for c in RUBRIC["criteria"])
    assert Decimal(str(first[9])) == ScoreSheet.objects.get(assignment=a1).total and first[11] == "已提交"
    assert by_expert["乙专家"][9] is None and by_expert["乙专家"][11] == "未开始"
    # the staff page lists both and links the export; an expert may not export
    page = client.get(reverse("review:scoring_call", args=[call.code])).content.decode()
    assert "甲专家" in page and "乙专家" in page and "导出评分（XLSX）" in page
    listing = client.get(reverse("review:scoring_calls")).content.decode()
    assert reverse("review:scoring_call", args=[call.code]) in listing
    client.force_login(e1.user)
    assert client.get(reverse("review:scoring_xlsx", args=[call.code, app.project_type.code])).status_code == 403


def test_the_bench_reads_a_fixed_number_of_queries(load_call, org_maker, expert_maker, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = variant("liuzhou2026", "bench", blind=True)
    expert = expert_maker(call, "busy")
    client.force_login(expert.user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("review:mine")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        Assignment.objects.create(application=submitted(call, org_maker(call, f"柳州市工作量学会{i}"), n=i + 1),
                                  expert=expert)
    few = count()
    for i in range(2, 8):
        Assignment.objects.create(application=submitted(call, org_maker(call, f"柳州市工作量学会{i}"), n=i + 1),
                                  expert=expert)
    page = client.get(reverse("review:mine")).content.decode()
    assert page.count("data-assignment=") == 8 and "柳州市工作量学会" not in page  # blind: no unit names
    assert count() == few


def test_attachments_of_the_version_for_its_expert_but_not_in_blind_review(load_call, expert_maker, client,
                                                                           org_maker):
    from shenbao.applications.models import Attachment

    call = load_call("liuzhou2026")
    app = submitted(call, org_maker(call), with_file=True)
    row = Attachment.objects.get(application=app)
    expert = expert_maker(call, "reader")
    a = Assignment.objects.create(application=app, expert=expert)
    loose = Attachment.objects.create(application=app, field_key="plan", file=row.file.name, kind="pdf",
                                      content_type="application/pdf", size=4, sha256="b" * 64)
    client.force_login(expert.user)
    r = client.get(reverse("review:scoring_attachment", args=[a.pk, row.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF"
    # a file the submitted version does not name is not handed out
    assert client.get(reverse("review:scoring_attachment", args=[a.pk, loose.pk])).status_code == 404
    client.force_login(expert_maker(call, "nosy").user)
    assert client.get(reverse("review:scoring_attachment", args=[a.pk, row.pk])).status_code == 403
    blind_call = variant("liuzhou2026", "blindfiles", blind=True)
    b_app = submitted(blind_call, org_maker(blind_call, "柳州市盲审附件学会"), with_file=True)
    b_row = Attachment.objects.get(application=b_app)
    b = Assignment.objects.create(application=b_app, expert=expert_maker(blind_call, "blindfiles"))
    client.force_login(b.expert.user)
    r = client.get(reverse("review:scoring_attachment", args=[b.pk, b_row.pk]))
    assert r.status_code == 403 and "盲审" in r.content.decode()


def test_redaction_follows_the_form_template_data():
    """Blind review decides what to hide from the form's fields, never from a call's code: person, phone,
    mobile and e-mail kinds and columns, fields and columns that say `identity: true`, opinion signers; the
    applicant's name and every hidden value wherever else they appear, phones and e-mails in free text."""
    from shenbao.calls.schema import FormTemplate
    from shenbao.forms.redaction import HIDDEN, MARK, redact

    form = FormTemplate.model_validate({"code": "T", "title": "测试表", "sections": [{"title": "一", "fields": [
        {"key": "name", "label": "项目名称", "kind": "text", "title": True},
        {"key": "unit", "label": "申报单位", "kind": "text"},
        {"key": "support", "label": "支撑单位", "kind": "text", "identity": True},
        {"key": "lead", "label": "负责人", "kind": "person", "parts": ["name", "mobile", "email"]},
        {"key": "tel", "label": "办公电话", "kind": "phone"},
        {"key": "budget", "label": "经费", "kind": "money"},
        {"key": "team", "label": "成员", "kind": "table", "columns": [
            {"key": "who", "label": "姓名", "identity": True}, {"key": "role", "label": "分工"},
            {"key": "cell", "label": "手机", "kind": "mobile"}]},
        {"key": "plan", "label": "实施方案", "kind": "long_text"},
        {"key": "ok", "label": "单位意见", "kind": "opinion", "by": "applicant", "signer": "负责人签名"},
    ]}]})
    values = {
        "name": "智慧农业科普行", "unit": "柳州市盲审学会", "support": "广西某大学", "tel": "0772-1234567",
        "lead": {"name": "李明", "mobile": "13912345678", "email": "liming@example.cn"}, "budget": 30000,
        "team": [{"who": "王芳", "role": "由李明统筹，王芳执行", "cell": "13700001111"}],
        "plan": "柳州市盲审学会联合广西某大学，由李明牵头，联系电话13912345678，邮箱liming@example.cn，另联系0771-7654321。",
        "ok": {"text": "同意。柳州市盲审学会", "signer": "赵六", "date": "2026-03-01"},
    }
    out = redact(form, values, names=["柳州市盲审学会"])
    assert out["name"] == "智慧农业科普行" and out["budget"] == 30000  # content stays
    assert out["unit"] == MARK and out["support"] == HIDDEN and out["tel"] == HIDDEN
    assert out["lead"] == {"name": HIDDEN, "mobile": HIDDEN, "email": HIDDEN}
    assert out["team"] == [{"who": HIDDEN, "role": f"由{MARK}统筹，{MARK}执行", "cell": HIDDEN}]
    assert out["ok"] == {"text": f"同意。{MARK}", "signer": HIDDEN, "date": "2026-03-01"}
    text = out["plan"]
    for secret in ("柳州市盲审学会", "广西某大学", "李明", "13912345678", "liming@example.cn", "0771-7654321"):
        assert secret not in text, secret
    assert text.startswith(MARK) and "牵头" in text
    # the same values without the identity flags: the supporting unit and the team names stay
    plain = FormTemplate.model_validate(
        form.model_dump(mode="json") | {"sections": [{"title": "一", "fields": [
            {**f.model_dump(mode="json", exclude_defaults=True), "identity": False} if f.key == "support" else
            f.model_dump(mode="json", exclude_defaults=True) for f in form.sections[0].fields]}]})
    assert redact(plain, values, names=[])["support"] == "广西某大学"
