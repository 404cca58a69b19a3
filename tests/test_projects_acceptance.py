"""Issue 9, items 6–8: spot checks with recovery (R-P5), acceptance against the evidence collected and the
type's minimums (R-P7, R-C4), its deadline on the official calendar, the funder's result, deferral (R-P8)
barring the unit's next application (R-E5), and the closed project's dossier — on the real calls."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shenbao.applications import eligibility
from shenbao.core import calendar as workcal
from shenbao.core.audit import history
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import Job
from shenbao.projects import acceptance as acc
from shenbao.projects import activities
from shenbao.projects.models import Acceptance, Deferral, Project, SignIn, SpotCheck, SpotCheckItem
from shenbao.projects.services import record_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing", "media")]

TODAY = dt.date.today


def _pdf(name="材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")


def _png(name="p.png", color=(200, 30, 30)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


@pytest.fixture
def unit_of(make_org, make_user):
    """A unit with a clerk and a head, and the funder's staff and leader for the call."""
    staff = {}

    def _make(call, *, name="广西验收测试学会", prefix="a", category="province_society"):
        org = make_org(name, category)
        clerk = make_user(f"{prefix}_clerk", org=org, roles=("applicant_clerk",), email=f"{prefix}@example.cn")
        if call.issuer_id not in staff:
            staff[call.issuer_id] = (
                make_user(f"staff{call.issuer_id}", org=call.issuer, roles=("funder_staff",)),
                make_user(f"leader{call.issuer_id}", org=call.issuer, roles=("funder_leader",)))
        return org, clerk, *staff[call.issuer_id]

    return _make


def _project(call, org, type_code, track_code=None, title="测试项目", amount=15000):
    ptype = call.types.get(code=type_code)
    track = ptype.tracks.get(code=track_code) if track_code else None
    return record_project(applicant=org, title=title, year=call.year, call=call, project_type=ptype, track=track,
                          amount=amount, awarded_on=TODAY() - dt.timedelta(days=90), code=f"T-{ptype.code}-{org.pk}")


def _held(clerk, project, *, title, day, people=0, countries=(), task=-1, international=False, speakers=1):
    """An event held on `day` with `people` sign-ins (the sheet the public page fills; past events are
    entered as rows, the sign-in page being closed once the event is over)."""
    ev, _w = activities.register_event(
        user=clerk, project=project, title=title, starts_on=day, ends_on=day, place="南宁市科技馆",
        expected_participants=max(people, 1),
        speakers=[{"name": f"专家{i}", "organisation": "广西大学", "topic": "报告"} for i in range(speakers)],
        international=international, countries=list(countries), task=task)
    SignIn.objects.bulk_create([
        SignIn(event=ev, name=f"参会者{i}", organisation="某单位", phone=f"138{ev.pk:04d}{i:04d}",
               country=(countries[i % len(countries)] if countries else "")) for i in range(people)])
    return ev


def _rule(checks, task_index, key):
    task = next(t for t in checks if t.index == task_index)
    return next(r for r in task.rules if r.key == key)


# --- the deadline: 10 working days after the event, across National Day (R-P7) ------------------------------


def test_ten_working_days_after_the_event_across_national_day(load_call, unit_of):
    # R-P7: 广西 2023-3 “在该项活动结束后10个工作日内…提交验收材料”, on the official calendar. An event ending
    # Thursday 2023-09-28 is followed by the Mid-Autumn and National Day holiday (29 Sep – 6 Oct) and the
    # weekend days worked in lieu (Sat 7 and Sun 8 Oct): working days 1–10 are 7, 8, 9, 10, 11, 12, 13, 16,
    # 17, 18 October.
    call = load_call("guangxi2023")
    org, clerk, _staff, _leader = unit_of(call)
    project = _project(call, org, "2023-3", "annual_service", title="广西科学年会服务")
    ev = _held(clerk, project, title="广西科学年会分会场", day=dt.date(2023, 9, 28), people=60)
    when = acc.due(project)
    assert when.working_days == 10
    assert when.date == dt.date(2023, 10, 18)
    assert when.per_event == [(ev, dt.date(2023, 10, 18))]
    # not the naive count of weekdays (which ignores the holiday and the days in lieu)
    naive, d = 0, ev.ends_on
    while naive < 10:
        d += dt.timedelta(days=1)
        naive += d.weekday() < 5
    assert d != when.date
    assert not workcal.is_workday(dt.date(2023, 10, 2)) and workcal.is_workday(dt.date(2023, 10, 7))
    # a later event moves the project's deadline to its own
    late = _held(clerk, project, title="第二场活动", day=dt.date(2023, 10, 20), people=55)
    assert acc.due(project).date == workcal.add_working_days(late.ends_on, 10) == dt.date(2023, 11, 3)
    # a call with a fixed date keeps it (广西 2023-1: 12月10日前)
    other = _project(call, org, "2023-1", title="学会能力提升")
    assert acc.due(other).date == dt.date(2023, 12, 10)


def test_submission_after_the_deadline_is_recorded_late(load_call, unit_of):
    # R-P7: the deadline is frozen with the submission and a late one is marked
    call = load_call("guangxi2023")
    org, clerk, _staff, _leader = unit_of(call)
    project = _project(call, org, "2023-3", "annual_service", title="年会服务")
    _held(clerk, project, title="年会分会场", day=dt.date(2023, 9, 28), people=60)
    _ready(clerk, project, photos=True)
    row = acc.submit_acceptance(user=clerk, project=project)
    assert row.status == "submitted" and row.due_on == dt.date(2023, 10, 18) and row.late is True


# --- minimums explained (R-P7, R-C4) ----------------------------------------------------------------------


def test_participants_and_naming_explained_for_guangxi_2026_1(load_call, unit_of):
    # R-P7, R-C4: 广西 2026-1 “区内举办1场…50人及以上…须冠‘八桂科技讲坛’名称”
    call = load_call("guangxi2026")
    org, clerk, _staff, _leader = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    lecture = next(i for i, t in enumerate(activities.tasks(project)) if "八桂科技讲坛" in t.naming)
    day = TODAY() - dt.timedelta(days=3)
    _held(clerk, project, title="人工智能学术报告会", day=day, people=80, task=lecture)  # not named
    _held(clerk, project, title="“八桂科技讲坛”新材料论坛", day=day, people=40, task=lecture)  # too few
    checks = acc.minimums(project)
    people = _rule(checks, lecture, "participants")
    # the big one is not named: it counts for nothing, and the named one has 40
    assert not people.ok and people.have == 40 and "只计冠“八桂科技讲坛”名称的活动" in people.explanation
    assert "50" in people.label
    naming = _rule(checks, lecture, "naming")
    assert naming.ok  # one named event, one needed
    events = _rule(checks, lecture, "events")
    assert not events.ok and events.have == 0
    assert "人工智能学术报告会" in events.explanation and "未冠“八桂科技讲坛”" in events.explanation
    assert "40" in events.explanation and "不足 50" in events.explanation
    # a named event of 52 signed in satisfies the task
    _held(clerk, project, title="“八桂科技讲坛”智能制造报告会", day=day, people=52, task=lecture)
    checks = acc.minimums(project)
    assert _rule(checks, lecture, "events").ok and _rule(checks, lecture, "participants").ok
    assert next(t for t in checks if t.index == lecture).ok


def test_countries_explained_for_an_international_event(load_call, unit_of):
    # R-P7, R-C4: 广西 2026-3 international track — countries ≥ 3 (China one of them, HK/Macao/Taiwan not
    # separately) and ≥ 100 participants, from the sign-in sheet
    call = load_call("guangxi2026")
    org, clerk, _staff, _leader = unit_of(call)
    project = _project(call, org, "2026-3", "international", title="国际学术会议")
    day = TODAY() - dt.timedelta(days=2)
    _held(clerk, project, title="东盟国际学术会议", day=day, people=120, international=True,
          countries=["中国", "中国香港", "越南"])
    checks = acc.minimums(project)
    task = next(t for t in checks if any(r.key == "countries_incl_china" for r in t.rules))
    countries = next(r for r in task.rules if r.key == "countries_incl_china")
    assert not countries.ok and countries.have == 2
    assert "港澳台不单独计" in countries.explanation
    assert next(r for r in task.rules if r.key == "participants").ok
    _held(clerk, project, title="东盟国际学术会议（第二场）", day=day, people=110, international=True,
          countries=["中国", "越南", "泰国", "老挝"])
    checks = acc.minimums(project)
    task = next(t for t in checks if t.index == task.index)
    assert next(r for r in task.rules if r.key == "countries_incl_china").have == 4
    assert task.ok


def test_events_at_least_two_and_declared_student_teams(load_call, unit_of):
    # R-P7, R-C4: 柳州 2026-1 “党旗领航·科创强柳—学会专家走基层”活动不少于2场; 广西 2026-4 competition: student
    # teams ≥ 20, which the platform cannot count — the unit declares it, with proof
    call = load_call("liuzhou2026")
    org, clerk, _staff, _leader = unit_of(call, name="柳州验收测试学会", category="city_society", prefix="lz")
    project = _project(call, org, "2026-1", title="学会改革与发展")
    i = next(i for i, t in enumerate(activities.tasks(project)) if t.naming)
    day = TODAY() - dt.timedelta(days=5)
    _held(clerk, project, title="党旗领航·科创强柳—学会专家走基层（鹿寨）", day=day, people=30, task=i)
    rule = _rule(acc.minimums(project), i, "events")
    assert not rule.ok and "1 场，须 2 场" in rule.explanation
    _held(clerk, project, title="党旗领航·科创强柳—学会专家走基层（融安）", day=day, people=25, task=i)
    assert _rule(acc.minimums(project), i, "events").ok
    # an event registered for a later day does not count yet
    _held(clerk, project, title="党旗领航·科创强柳—学会专家走基层（三江）", day=TODAY() + dt.timedelta(days=9), task=i)
    assert "尚未举办" in _rule(acc.minimums(project), i, "events").explanation

    gx = load_call("guangxi2026")
    org2, clerk2, _s, _l = unit_of(gx, name="广西竞赛学会", prefix="cm")
    comp = _project(gx, org2, "2026-4", "competition", title="大学生竞赛")
    j = next(j for j, t in enumerate(activities.tasks(comp)) if "student_teams" in t.minimums)
    teams = _rule(acc.minimums(comp), j, "student_teams")
    assert not teams.ok and "尚未填报" in teams.explanation and teams.source == "declared"
    key = acc.declared_key(j, "student_teams")
    assert key in [k for k, _l, _t in acc.declared_fields(comp)]
    acc.save_acceptance(user=clerk2, project=comp, declared={key: "18"})
    teams = _rule(acc.minimums(comp, acc.acceptance_of(comp).declared), j, "student_teams")
    assert not teams.ok and "18" in teams.explanation and "20" in teams.explanation
    acc.save_acceptance(user=clerk2, project=comp, declared={key: "22"})
    assert _rule(acc.minimums(comp, acc.acceptance_of(comp).declared), j, "student_teams").ok
    with pytest.raises(acc.Refused):
        acc.save_acceptance(user=clerk2, project=comp, declared={key: "二十"})
    assert acc.acceptance_of(comp).declared == {key: 22}  # nothing changed


# --- the checklist: evidence attached automatically (R-P7) ---------------------------------------------------


def test_checklist_attaches_photos_signins_and_news(load_call, unit_of):
    # R-P7: 广西 2023-3's materials — sign-in sheet and news attached from the project's records, photos of
    # each kind (2 each, at most 20) from the uploaded photos, the other materials uploaded by the unit
    call = load_call("guangxi2023")
    org, clerk, _staff, _leader = unit_of(call)
    project = _project(call, org, "2023-3", "annual_service")
    ev = _held(clerk, project, title="年会分会场", day=TODAY() - dt.timedelta(days=1), people=3)
    items = {i.code: i for i in acc.checklist(project, None)}
    assert items["sign_in"].ok and "3 人" in items["sign_in"].auto[0]
    assert not items["photos"].ok and "相片不足" in items["photos"].explanation
    assert not items["news"].ok and items["acceptance_form"].ok and items["acceptance_form"].generated
    assert items["proceedings"].ok  # not required
    for kind, _n in activities.photo_rules(project).kinds:
        for k in range(2):
            activities.upload_photo(user=clerk, event=ev, kind=kind, upload=_png(color=(k * 40, len(kind), 9)))
    activities.add_news(user=clerk, project=project, title="年会分会场举行", outlet="广西科协网站",
                        url="https://www.gxast.org.cn/news/1", published_on=TODAY(), event=ev, screenshot=_png("截图.png"))
    items = {i.code: i for i in acc.checklist(project, None)}
    assert items["photos"].ok and items["news"].ok
    with pytest.raises(acc.Refused) as refused:
        acc.submit_acceptance(user=clerk, project=project)
    assert "会议通知" in refused.value.message and "专家课件" in refused.value.message
    assert acc.acceptance_of(project) is None  # nothing was kept of the refused submission


# --- the funder's result: passed, rectify by a date, failed ---------------------------------------------------


def _ready(clerk, project, photos=False):
    """Upload a file for each required material the records do not supply (and photos as files too)."""
    kinds = ("upload", "accounts", "news") + (("photos",) if photos else ())
    for m in acc.materials(project):
        if m.required and acc._kind_of(m) in kinds:
            acc.upload_material(user=clerk, project=project, code=m.code, upload=_pdf(f"{m.code}.pdf"))


def test_results_passed_rectify_failed(load_call, unit_of, django_capture_on_commit_callbacks):
    call = load_call("guangxi2026")
    org, clerk, staff, leader = unit_of(call)
    p1 = _project(call, org, "2026-1", "lecture", title="项目一")
    _ready(clerk, p1)
    acc.submit_acceptance(user=clerk, project=p1)
    with pytest.raises(NotAllowed):  # the unit does not decide its own acceptance
        acc.decide_acceptance(user=clerk, acceptance=acc.acceptance_of(p1), result="pass")
    row = acc.acceptance_of(p1)
    assert row.status == "submitted" and row.submissions == 1 and row.snapshot["tasks"]
    # rectify needs a reason and a date in the future; nothing changes otherwise
    with pytest.raises(acc.Refused):
        acc.decide_acceptance(user=staff, acceptance=row, result="rectify", note="补充签到表")
    with pytest.raises(acc.Refused):
        acc.decide_acceptance(user=staff, acceptance=row, result="rectify", note="补充签到表",
                              rectify_by=TODAY() - dt.timedelta(days=1))
    assert acc.acceptance_of(p1).status == "submitted"
    by = TODAY() + dt.timedelta(days=20)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes once the decision commits
        row = acc.decide_acceptance(user=staff, acceptance=row, result="rectify", note="补充签到表", rectify_by=by)
    assert row.status == "rectify" and row.rectify_by == by
    told = [m for m in mail.outbox if clerk.email in m.to]  # the unit is told, with the date
    assert len(told) == 1 and "限期整改" in told[0].subject and by.isoformat() in told[0].body
    assert acc.due(p1).date == by  # the rectified materials are due by the funder's date
    with pytest.raises(NotAllowed):  # a decided one is not decided again until resubmitted
        acc.decide_acceptance(user=staff, acceptance=row, result="pass")
    acc.upload_material(user=clerk, project=p1, code="evidence", upload=_pdf("补充签到表.pdf"))
    row = acc.submit_acceptance(user=clerk, project=p1)
    assert row.status == "submitted" and row.submissions == 2
    row = acc.decide_acceptance(user=leader, acceptance=row, result="pass", note="材料齐全")
    p1.refresh_from_db()
    assert row.status == "passed" and p1.status == Project.Status.COMPLETED and p1.completed_on == TODAY()
    actions = [e.action for e in history(row)]
    assert actions.count("project_acceptance.submit") == 2 and "project_acceptance.pass" in actions
    assert "project_acceptance.rectify" in actions
    with pytest.raises(NotAllowed):  # closed: no more materials
        acc.upload_material(user=clerk, project=p1, code="evidence", upload=_pdf())

    p2 = _project(call, org, "2026-1", "lecture", title="项目二")
    _ready(clerk, p2)
    row = acc.submit_acceptance(user=clerk, project=p2)
    with pytest.raises(acc.Refused):
        acc.decide_acceptance(user=staff, acceptance=row, result="fail")  # a reason is required
    row = acc.decide_acceptance(user=staff, acceptance=row, result="fail", note="未举办冠名活动")
    p2.refresh_from_db()
    assert row.status == "failed" and p2.status == Project.Status.UNFINISHED and "未举办冠名活动" in p2.status_reason


# --- deferral bars the next application (R-P8, R-E5) --------------------------------------------------------


def test_deferral_bars_the_units_next_application(load_call, unit_of):
    # R-P8, R-E5: 广西 2026 “已申请延期验收的…须完成验收后方可申报”: a 2023 project of the same programme (gx_tzzx)
    # whose acceptance is deferred bars the unit's 2026 application until the acceptance is passed
    old_call, new_call = load_call("guangxi2023"), load_call("guangxi2026")
    assert old_call.issuer_id == new_call.issuer_id
    org, clerk, staff, _leader = unit_of(old_call)
    project = _project(old_call, org, "2023-3", "annual_service", title="2023年会服务")

    def codes():
        return eligibility.check(org=org, call=new_call, project_type="2026-1", track="lecture").codes

    assert "deferral" not in codes()
    with pytest.raises(acc.Refused):  # the date must be later than today and the current deadline
        acc.request_deferral(user=clerk, project=project, until=TODAY(), reason="不可抗力")
    d = acc.request_deferral(user=clerk, project=project, until=TODAY() + dt.timedelta(days=60),
                             reason="受台风影响，活动推迟")
    assert "deferral" not in codes()  # a request alone does not bar
    with pytest.raises(NotAllowed):
        acc.decide_deferral(user=clerk, deferral=d, approve=True)
    d = acc.decide_deferral(user=staff, deferral=d, approve=True, note="同意")
    project.refresh_from_db()
    assert d.status == "approved" and project.status == Project.Status.DEFERRED
    assert project.deferred_until == TODAY() + dt.timedelta(days=60)
    assert acc.due(project).date == project.deferred_until
    verdict = eligibility.check(org=org, call=new_call, project_type="2026-1", track="lecture")
    assert "deferral" in verdict.codes and "延期验收" in verdict.message
    # the deferred acceptance done, the bar is cleared
    _held(clerk, project, title="年会分会场", day=TODAY() - dt.timedelta(days=1), people=60)
    _ready(clerk, project)
    for kind, _n in activities.photo_rules(project).kinds:
        ev = project.events.first()
        for k in range(2):
            activities.upload_photo(user=clerk, event=ev, kind=kind, upload=_png(color=(k * 50, len(kind), 3)))
    row = acc.submit_acceptance(user=clerk, project=project)
    acc.decide_acceptance(user=staff, acceptance=row, result="pass")
    project.refresh_from_db()
    d.refresh_from_db()
    assert project.status == Project.Status.COMPLETED and d.status == Deferral.Status.CLEARED
    assert "deferral" not in codes()


# --- spot checks with recovery (R-P5) -------------------------------------------------------------------------


def _paid(project, staff, make_user, tmp_path):
    """With the contracts stage installed: the contract generated, signed (QR read from the scan),
    countersigned, and the award paid, so that a recovery has money to take back. Returns the module."""
    try:
        from shenbao.projects import contracts
        from tests.projects_support import scan_of
    except ImportError:
        return None
    finance = make_user(f"fin{project.pk}", org=project.funder, roles=("finance",))
    contract = contracts.generate_contract(actor=staff, project=project)
    result = contracts.upload_scan(user=make_user(f"cl{project.pk}", org=project.applicant, roles=("applicant_clerk",)),
                                   contract=contract, upload=scan_of(contracts.contract_pdf(contract), tmp_path))
    contracts.countersign(user=staff, contract=result.contract)
    m = project.milestones.filter(cancelled=False).order_by("order").first()
    contracts.record_payment(actor=finance, project=project, amount=m.amount, on=TODAY(), milestone=m)
    return contracts


def test_spot_check_sample_recorded_with_recovery(load_call, unit_of, make_user, tmp_path):
    # R-P5: a random sample of the call's ongoing projects with its seed and population recorded (the same seed
    # draws the same sample), a targeted one with a reason; findings and a recovery of funds with its reason
    call = load_call("liuzhou2026")
    org, clerk, staff, _leader = unit_of(call, name="柳州抽查学会", category="city_society", prefix="sc")
    projects = [_project(call, org, "2026-1", title=f"项目{i}", amount=20000) for i in range(6)]
    projects[5].status = Project.Status.COMPLETED
    projects[5].save()
    with pytest.raises(NotAllowed):
        acc.draw_spot_check(user=clerk, call=call, mode="random", size=2)
    with pytest.raises(acc.Refused):
        acc.draw_spot_check(user=staff, call=call, mode="random", size=9)
    check = acc.draw_spot_check(user=staff, call=call, mode="random", size=3, seed="2026-抽查-1")
    sample = sorted(check.items.values_list("project_id", flat=True))
    assert check.population == [p.pk for p in projects[:5]]  # ongoing projects only
    assert len(sample) == 3 and set(sample) <= set(check.population)
    assert acc.draw_sample(check.population, 3, "2026-抽查-1") == sample  # repeatable from the record
    drawn = history(check).get(action="project.spot_check_drawn")
    assert drawn.after["seed"] == "2026-抽查-1" and drawn.after["sample"] == sample
    other = acc.draw_spot_check(user=staff, call=call, mode="random", size=3)
    assert other.seed  # a seed made and kept when none was given
    with pytest.raises(acc.Refused):
        acc.draw_spot_check(user=staff, call=call, mode="targeted", project_ids=[projects[0].pk])  # no reason
    targeted = acc.draw_spot_check(user=staff, call=call, mode="targeted", project_ids=[projects[1].pk],
                                   reason="群众举报")
    assert list(targeted.items.values_list("project_id", flat=True)) == [projects[1].pk]

    item = check.items.first()
    ledger = _paid(item.project, staff, make_user, tmp_path)  # the money stage, when installed, pays it first
    with pytest.raises(acc.Refused):  # a recovery needs its reason
        acc.record_finding(user=staff, item=item, findings="列支与项目无关的餐费", consequence="recovery",
                           recovery_amount=3000)
    with pytest.raises(acc.Refused):  # and never more than the award
        acc.record_finding(user=staff, item=item, findings="列支与项目无关的餐费", consequence="recovery",
                           recovery_amount=30000, recovery_reason="违规列支")
    item = acc.record_finding(user=staff, item=item, findings="列支与项目无关的餐费3000元", consequence="recovery",
                              recovery_amount=3000, recovery_reason="违规列支餐费")
    assert item.recovery_amount == 3000 and item.recovery_reason == "违规列支餐费" and item.recorded_at
    if ledger is not None:  # entered in the money ledger too (contracts.record_recovery)
        assert item.recovery_payment_id and ledger.ledger(item.project).recovered == 3000
    event = history(item.project).get(action="project.spot_check_finding")
    assert event.after["recovery_amount"] == 3000 and event.after["recovery_reason"] == "违规列支餐费"
    with pytest.raises(acc.Refused):  # recorded once
        acc.record_finding(user=staff, item=item, findings="again", consequence="none")
    for rest in check.items.filter(recorded_at__isnull=True):
        acc.record_finding(user=staff, item=rest, findings="材料齐全", consequence="none")
    assert SpotCheck.objects.get(pk=check.pk).status == "closed"
    assert SpotCheckItem.objects.filter(consequence="recovery").count() == 1


# --- closure: the dossier ZIP and the closed-project report ----------------------------------------------------


def test_dossier_zip_contains_every_document(load_call, unit_of, client, django_capture_on_commit_callbacks,
                                             make_user, tmp_path):
    call = load_call("guangxi2023")
    org, clerk, staff, _leader = unit_of(call)
    project = _project(call, org, "2023-3", "annual_service", title="年会服务（档案）")
    ev = _held(clerk, project, title="年会分会场", day=TODAY() - dt.timedelta(days=1), people=4)
    for kind, _n in activities.photo_rules(project).kinds:
        for k in range(2):
            activities.upload_photo(user=clerk, event=ev, kind=kind, upload=_png(color=(k * 60, len(kind), 7)))
    activities.add_news(user=clerk, project=project, title="年会分会场举行", outlet="广西科协网站",
                        url="https://www.gxast.org.cn/news/2", published_on=TODAY(), event=ev, screenshot=_png("截图.png"))
    money = _paid(project, staff, make_user, tmp_path)  # with the contracts stage: contract, scan, payment
    if money is not None:  # the final accounts entered on the platform supply that material and the 验收表
        money.set_final_accounts(actor=clerk, project=project, lines=[
            {"category": "meeting", "item": "会议费", "amount": 9000}, {"category": "travel", "amount": 3000}])
        assert [ln.actual for ln in acc.evidence(project).final_accounts if ln.actual] == [9000, 3000]
        form = zipfile.ZipFile(io.BytesIO(acc.acceptance_form_docx(project))).read("word/document.xml").decode()
        assert "经费决算（与预算逐项比较）" in form and "9,000" in form
    _ready(clerk, project)
    check = acc.draw_spot_check(user=staff, call=call, mode="targeted", project_ids=[project.pk], reason="例行")
    acc.record_finding(user=staff, item=check.items.get(), findings="按计划实施", consequence="none")
    with pytest.raises(NotAllowed):  # not closed yet
        acc.start_dossier(user=staff, project=project)
    row = acc.submit_acceptance(user=clerk, project=project)
    acc.decide_acceptance(user=staff, acceptance=row, result="pass")
    project.refresh_from_db()

    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):  # the job runs once its request commits
        response = client.post(reverse("projects:dossier", args=[project.pk]))
    job = Job.objects.get(owner=staff)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.total and job.done == job.total
    with job.result_file.open("rb") as fh:
        names = zipfile.ZipFile(io.BytesIO(fh.read())).namelist()
    expected_materials = [m.code for m in acc.materials(project) if m.required and acc._kind_of(m) == "upload"]
    assert "目录.txt" in names and "09-验收/验收表.pdf" in names and "09-验收/核验结果.json" in names
    assert any(n.endswith("签到表.xlsx") for n in names)
    assert sum("/相片/" in n for n in names) == ev.photos.count() == 8
    assert any(n.startswith("06-新闻/") for n in names) and "08-抽查/抽查记录.txt" in names
    for code in expected_materials:
        assert any(n.startswith(f"09-验收/材料/{code}-") for n in names), code
    if money is not None:  # the contract, its signed scan and the payments
        assert "02-合同/合同.pdf" in names and "03-经费/拨付与追回.csv" in names
        assert any(n.startswith("02-合同/签章扫描件.") for n in names)
    # the funder's closed-project report lists it
    page = client.get(reverse("projects:closed_report")).content.decode()
    assert "年会服务（档案）" in page and "验收通过" in page


def test_acceptance_form_pdf_and_docx(load_call, unit_of, client):
    call = load_call("guangxi2026")
    org, clerk, _staff, _leader = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    client.force_login(clerk)
    pdf = client.get(reverse("projects:acceptance_form", args=[project.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    docx = client.get(reverse("projects:acceptance_form", args=[project.pk, "docx"]))
    assert docx.status_code == 200 and zipfile.ZipFile(io.BytesIO(docx.content)).namelist()
    text = zipfile.ZipFile(io.BytesIO(docx.content)).read("word/document.xml").decode()
    assert "广西壮族自治区科学技术协会项目验收表" in text and "八桂科技讲坛" in text


# --- pages and API -----------------------------------------------------------------------------------------


def test_acceptance_page_and_api(load_call, unit_of, client, make_user):
    call = load_call("guangxi2026")
    org, clerk, staff, _leader = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    stranger = make_user("stranger", org=org, roles=())
    client.force_login(stranger)
    assert client.get(reverse("projects:acceptance", args=[project.pk])).status_code == 404
    client.force_login(clerk)
    page = client.get(reverse("projects:acceptance", args=[project.pk])).content.decode()
    assert "八桂科技讲坛" in page and "2026-11-30" in page
    response = client.post(reverse("projects:acceptance_upload", args=[project.pk]),
                           {"code": "evidence", "file": _pdf("佐证.pdf")})
    assert response.status_code == 302
    api = client.get(f"/api/v1/projects/{project.pk}/acceptance")
    assert api.status_code == 200
    body = api.json()
    assert body["status"] == "draft" and body["due"] == "2026-11-30"
    assert any(m["code"] == "evidence" and m["ok"] for m in body["materials"])
    assert client.post(f"/api/v1/projects/{project.pk}/acceptance/decide", {"result": "pass"},
                       content_type="application/json").status_code == 403
    _ready(clerk, project)
    assert client.post(f"/api/v1/projects/{project.pk}/acceptance/submit").status_code == 200
    client.force_login(staff)
    page = client.get(reverse("projects:acceptance", args=[project.pk])).content.decode()
    assert "提交时的核验结果（第 1 次提交" in page and 'id="decide-form"' in page
    r = client.post(f"/api/v1/projects/{project.pk}/acceptance/decide", {"result": "rectify", "note": "补材料"},
                    content_type="application/json")
    assert r.status_code == 400 and "整改期限" in r.json()["detail"]
    r = client.post(f"/api/v1/projects/{project.pk}/acceptance/decide", {"result": "pass", "note": "通过"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "passed"
    assert Acceptance.objects.get(project=project).status == "passed"


def test_spot_check_and_desk_pages(load_call, unit_of, client):
    # R-P5 in the pages: the funder draws a random sample (seed shown), records a recovery; the desk lists a
    # submitted acceptance and a deferral request; the unit is refused the funder's pages
    call = load_call("liuzhou2026")
    org, clerk, staff, _leader = unit_of(call, name="柳州页面学会", category="city_society", prefix="pg")
    projects = [_project(call, org, "2026-1", title=f"页面项目{i}", amount=20000) for i in range(3)]
    client.force_login(clerk)
    assert client.get(reverse("projects:spot_checks")).status_code == 403
    assert client.get(reverse("projects:acceptances")).status_code == 403
    acc.request_deferral(user=clerk, project=projects[2], until=TODAY() + dt.timedelta(days=400), reason="场地未落实")
    client.force_login(staff)
    assert "项目验收与抽查" in client.get(reverse("orgs:home")).content.decode()
    listing = client.get(reverse("projects:spot_checks")).content.decode()
    assert "随机抽取" in listing and "页面项目0" in listing  # the ongoing projects offered for a targeted check
    assert "通知规定项目实施中接受抽查" in listing and "追回已拨付经费" in listing  # 柳州 2026: spot_checks, recovery
    response = client.post(reverse("projects:spot_checks"), {"call": call.pk, "mode": "random", "size": "2",
                                                            "seed": "页面种子"})
    check = SpotCheck.objects.get(call=call)
    assert response.status_code == 302 and response["Location"] == reverse("projects:spot_check", args=[check.pk])
    page = client.get(response["Location"]).content.decode()
    assert "页面种子" in page and check.items.count() == 2
    item = check.items.first()
    r = client.post(reverse("projects:spot_check_finding", args=[item.pk]),
                    {"findings": "发票不合规", "consequence": "recovery", "recovery_amount": "abc"}, follow=True)
    assert "追回经费须填写追回金额" in r.content.decode()
    by = TODAY() + dt.timedelta(days=30)
    client.post(reverse("projects:spot_check_finding", args=[item.pk]),
                {"findings": "发票不合规", "consequence": "rectify", "rectify_by": by.isoformat()})
    item.refresh_from_db()
    assert item.consequence == "rectify" and item.rectify_by == by and item.recovery_amount is None
    api = client.get(f"/api/v1/projects/spot-checks/{check.pk}").json()
    assert api["seed"] == "页面种子" and any(i["consequence"] == "rectify" for i in api["items"])
    desk = client.get(reverse("projects:acceptances")).content.decode()
    assert "场地未落实" in desk and "页面项目2" in desk


def test_dossier_of_a_project_from_an_application(load_call, make_org, make_user, unit_of):
    # the dossier starts with the submitted application's printed form (and its attachments), then the
    # acceptance: 柳州 2026-2 from a submitted application
    from shenbao.applications import services as app_services
    from tests.journey_support import filled_draft, reopen, unit

    call = reopen(load_call("liuzhou2026"))
    org, clerk, _head = unit(make_org, make_user, name="柳州市档案学会", category="city_society",
                             parent=call.issuer, prefix="dz")
    staff = make_user("dz_staff", org=call.issuer, roles=("funder_staff",))
    app = filled_draft(clerk, call, "2026-2")
    app_services.submit(user=clerk, application=app)
    app.refresh_from_db()
    project = record_project(applicant=org, title=app.title or "龙城科创大讲堂", year=call.year, call=call,
                             project_type=app.project_type, amount=15000, application=app, code=app.number)
    _ready(clerk, project)
    row = acc.submit_acceptance(user=clerk, project=project)
    acc.decide_acceptance(user=staff, acceptance=row, result="pass")
    project.refresh_from_db()
    names = zipfile.ZipFile(io.BytesIO(acc.build_dossier_zip(project))).namelist()
    assert "01-申报书/申报书.pdf" in names and "09-验收/验收表.pdf" in names
    assert sum(n.startswith("09-验收/材料/") for n in names) == project.acceptance.files.count() >= 2
    manifest = zipfile.ZipFile(io.BytesIO(acc.build_dossier_zip(project))).read("目录.txt").decode()
    assert "01-申报书/申报书.pdf" in manifest and "缺失" not in manifest


def test_deferral_closure_and_openapi_through_the_api(load_call, unit_of, client, django_capture_on_commit_callbacks):
    # R-P8 through the API: asked by the unit, approved by the funder (403 for the unit); the closed project
    # listed and its dossier built as a job; the OpenAPI document lists the endpoints
    call = load_call("guangxi2026")
    org, clerk, staff, _leader = unit_of(call)
    project = _project(call, org, "2026-1", "lecture", title="接口项目")
    client.force_login(clerk)
    until = (TODAY() + dt.timedelta(days=200)).isoformat()
    r = client.post(f"/api/v1/projects/{project.pk}/deferrals", {"until": until, "reason": ""},
                    content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = client.post(f"/api/v1/projects/{project.pk}/deferrals", {"until": until, "reason": "场馆维修"},
                    content_type="application/json")
    assert r.status_code == 201
    d = r.json()["id"]
    assert client.post(f"/api/v1/projects/deferrals/{d}/decide", {"approve": True},
                       content_type="application/json").status_code == 403
    client.force_login(staff)
    r = client.post(f"/api/v1/projects/deferrals/{d}/decide", {"approve": True, "note": "同意"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    project.refresh_from_db()
    assert project.status == "deferred"
    assert client.post(f"/api/v1/projects/{project.pk}/dossier").status_code == 403  # not closed
    client.force_login(clerk)
    _ready(clerk, project)
    assert client.post(f"/api/v1/projects/{project.pk}/acceptance/submit").status_code == 200
    client.force_login(staff)
    client.post(f"/api/v1/projects/{project.pk}/acceptance/decide", {"result": "fail", "note": "未开展活动"},
                content_type="application/json")
    closed = client.get("/api/v1/projects/closed").json()
    assert [(c["title"], c["status"], c["result"]) for c in closed] == [("接口项目", "unfinished", "验收不通过")]
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/api/v1/projects/{project.pk}/dossier")
    assert r.status_code == 202
    assert client.get(r.json()["url"]).json()["state"] == "done"
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/projects/{pk}/acceptance", "/api/v1/projects/spot-checks",
            "/api/v1/projects/{pk}/deferrals", "/api/v1/projects/closed"} <= set(paths)


def test_photos_without_kinds_need_any_photo(load_call, unit_of):
    # R-P7: 常德 2022 2-6 asks 活动照片或影像资料记录 (no kinds): one photo of the event meets it; 广西 2023-3's
    # 相片 names four kinds, two each (the other test)
    call = load_call("changde2022")
    org, clerk, _staff, _leader = unit_of(call, name="常德科普学会", category="city_society", prefix="cd")
    project = _project(call, org, "2-6", title="科普活动", amount=10000)
    ev = _held(clerk, project, title="全国科普日活动", day=TODAY() - dt.timedelta(days=1), people=30)
    photos = next(i for i in acc.checklist(project, None) if i.code == "photos")
    assert not photos.ok
    kind = activities.photo_rules(project).kinds[0][0]
    activities.upload_photo(user=clerk, event=ev, kind=kind, upload=_png())
    photos = next(i for i in acc.checklist(project, None) if i.code == "photos")
    assert photos.ok and "共 1 张" in photos.auto[0]
