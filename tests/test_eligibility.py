"""Eligibility (applications.eligibility.check): each rule on the notice that states it."""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from shenbao.applications.eligibility import check, eligible_offers, names_match
from shenbao.applications.models import Application
from shenbao.applications.similarity import similarity
from shenbao.calls import services as call_services
from shenbao.projects import services as project_services
from shenbao.projects.models import Project
from tests.conftest import CALLS

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def apply(call, org, code: str, status: str = Application.Status.SUBMITTED, title: str = "") -> Application:
    return Application.objects.create(call=call, project_type=call.types.get(code=code), applicant=org,
                                      status=status, title=title or f"{org.name}的申报")


# --- R-E3: at most N applications per unit per call ----------------------------------------------------


def test_liuzhou_warns_on_a_units_third_application(load_call, make_org):
    # R-E3: “同一单位申报项目原则上不超过2个” is a soft limit: the third is not refused, the clerk is warned
    call = load_call("liuzhou2026")
    limit = call.document.max_applications_per_unit
    assert (limit, call.document.per_unit_limit) == (2, "soft")
    society = make_org("柳州市机械工程学会", "city_society", parent=call.issuer)
    when = at(2026, 3, 20, 10, 0)

    first = apply(call, society, "2026-1", status=Application.Status.DRAFT)
    # a draft does not count: the clerk may still start and submit
    assert check(org=society, call=call, project_type="2026-1", at=when, application=first).ok
    first.status = Application.Status.SUBMITTED
    first.save()
    second = apply(call, society, "2026-2", status=Application.Status.DRAFT)
    # submitting the second: one other submitted + this one = 2, within the maximum  # R-E3
    assert check(org=society, call=call, project_type="2026-2", at=when, application=second).ok
    second.status = Application.Status.SUBMITTED
    second.save()
    apply(call, society, "2026-3", status=Application.Status.DISCARDED)  # drafts given up do not count

    third = apply(call, society, "2026-3", status=Application.Status.DRAFT)
    verdict = check(org=society, call=call, project_type="2026-3", at=when, application=third)  # R-E3
    assert verdict.ok and verdict.codes == []
    assert [n.code for n in verdict.notes] == ["quota_per_unit"]
    assert verdict.notes[0].message == (f"贵单位本通知已提交2项申报，通知要求每个单位原则上不超过{limit}项："
                                        "再提交的申报须经主办方同意方可受理")
    # the same warning on the 可申报项目 page, before any draft exists
    assert [n.code for n in check(org=society, call=call, project_type="2026-2", at=when).notes] == ["quota_per_unit"]
    # another unit is not affected
    other = make_org("柳州市电子学会", "city_society", parent=call.issuer)
    assert check(org=other, call=call, project_type="2026-3", at=when).ok


def test_changde_refuses_a_units_fourth_application(load_call, make_org):
    call = load_call("changde2022")
    assert call.document.max_applications_per_unit == 3
    society = make_org("常德市农学会", "city_society", parent=call.issuer)
    when = at(2022, 3, 20, 9, 0)
    for code in ("2-3", "2-4", "2-5"):
        draft = apply(call, society, code, status=Application.Status.DRAFT)
        assert check(org=society, call=call, project_type=code, at=when, application=draft).ok, code  # R-E3
        draft.status = Application.Status.SUBMITTED
        draft.save()
    fourth = apply(call, society, "2-7", status=Application.Status.DRAFT)
    verdict = check(org=society, call=call, project_type="2-7", at=when, application=fourth)  # R-E3
    assert verdict.codes == ["quota_per_unit"]
    assert verdict.reasons[0].message == "贵单位本通知已提交3项申报，每个单位最多3项"
    # a returned application (退回修改) is still the unit's application to this call
    returned = Application.objects.get(applicant=society, project_type__code="2-3")
    returned.status = Application.Status.RETURNED
    returned.revision_deadline = at(2022, 4, 8, 17, 0)
    returned.save()
    assert "quota_per_unit" in check(org=society, call=call, project_type="2-7", at=when).codes
    # and it may be submitted again after the call's deadline, until its own new deadline  # R-E7
    assert check(org=society, call=call, project_type="2-3", at=at(2022, 4, 8, 16, 59), application=returned).ok
    late = check(org=society, call=call, project_type="2-3", at=at(2022, 4, 8, 17, 0), application=returned)
    assert late.codes == ["deadline"] and late.reasons[0].message == "退回修改后的提交已于2022年4月8日17:00截止"


# --- R-E4: joint applications ----------------------------------------------------------------------------


def test_liuzhou_joint_application_with_a_third_unit_is_refused(load_call, make_org):
    call = load_call("liuzhou2026")
    joint = call.document.effective(call.document.project_types[1], "joint")
    assert joint.max_units == 2 and joint.outsiders_only
    when = at(2026, 3, 20, 10, 0)
    lead = make_org("柳州市计算机学会", "city_society", parent=call.issuer)
    # 如不在所列申报主体范围的，可联合进行项目申报: an enterprise outside the categories may take part
    company = make_org("柳州某某科技有限公司", "enterprise")
    second = make_org("柳州某某机械有限公司", "enterprise")

    assert check(org=lead, call=call, project_type="2026-2", at=when, participants=[company]).ok  # R-E4
    verdict = check(org=lead, call=call, project_type="2026-2", at=when, participants=[company, second])
    assert verdict.codes == ["joint"]  # R-E4
    assert verdict.reasons[0].message == "联合申报单位数量不超过2个，本申报共3个单位（含牵头单位）"

    # the outsider cannot apply on its own; it is told how it may take part
    alone = check(org=company, call=call, project_type="2026-2", at=when)
    assert "category" in alone.codes
    assert alone.reasons[0].detail.get("joint_possible") is True
    assert "联合申报" in alone.reasons[0].message


def test_changde_joint_partners_must_be_applicant_units_and_have_no_maximum(load_call, make_org):
    call = load_call("changde2022")
    joint = call.document.effective(call.document.project_types[0], "joint")
    assert joint.max_units is None and not joint.outsiders_only
    when = at(2022, 3, 20, 9, 0)
    lead = make_org("常德市医学会", "city_society", parent=call.issuer)
    partners = [make_org(f"常德市第{i}学会", "city_society", parent=call.issuer) for i in range(1, 4)]
    # 两个以上单位联合申报: no maximum, every unit an applicant unit
    assert check(org=lead, call=call, project_type="2-4", at=when, participants=partners).ok  # R-E4
    company = make_org("常德某某有限公司", "enterprise", parent=call.issuer)
    verdict = check(org=lead, call=call, project_type="2-4", at=when, participants=[partners[0], company])
    assert verdict.codes == ["joint"]  # R-E4
    assert "常德某某有限公司" in verdict.reasons[0].message
    # and the lead may not name itself
    assert "joint" in check(org=lead, call=call, project_type="2-4", at=when, participants=[lead]).codes


# --- R-E1 / R-E2: categories and attribute conditions -----------------------------------------------------


def test_guangxi2026_1_refuses_a_society_without_3a_and_accepts_one_that_held_3a(load_call, make_org):
    call = load_call("guangxi2026")
    when = at(2026, 4, 15, 10, 0)
    group = call.document.project_types[0].eligibility.groups[0]
    plain = make_org("广西某某学会", "province_society", parent=call.issuer,
                     attrs=[{"key": "society_grade", "value": 2, "valid_from": dt.date(2020, 1, 1)}])
    verdict = check(org=plain, call=call, project_type="2026-1", at=when)  # R-E2
    assert verdict.codes == ["condition"]
    assert verdict.reasons[0].message == group.unmet

    # 含曾获3A级: 3A from 2017 to 2021, 2A since — still eligible
    former = make_org("广西机械工程学会", "province_society", parent=call.issuer, attrs=[
        {"key": "society_grade", "value": 3, "valid_from": dt.date(2017, 1, 1), "valid_to": dt.date(2021, 12, 31)},
        {"key": "society_grade", "value": 2, "valid_from": dt.date(2022, 1, 1)},
    ])
    assert check(org=former, call=call, project_type="2026-1", at=when).ok  # R-E2
    # or a 2025 rating of A or B
    rated = make_org("广西电子学会", "province_society", parent=call.issuer,
                     attrs=[{"key": "rating", "value": "B", "year": 2025}])
    assert check(org=rated, call=call, project_type="2026-1", at=when).ok  # R-E2
    # a grade granted after the check's day does not count yet
    later = make_org("广西化工学会", "province_society", parent=call.issuer,
                     attrs=[{"key": "society_grade", "value": 3, "valid_from": dt.date(2026, 5, 1)}])
    assert "condition" in check(org=later, call=call, project_type="2026-1", at=when).codes


def test_liuzhou_category_reason_and_issuer_tree(load_call, make_org):  # R-E1
    call = load_call("liuzhou2026")
    when = at(2026, 3, 20, 10, 0)
    university = make_org("广西科技大学科协", "university_association", parent=call.issuer)
    verdict = check(org=university, call=call, project_type="2026-1", at=when)
    assert verdict.codes == ["category"]
    assert verdict.reasons[0].message.startswith("本类型限柳州市科协所属学会（协会）申报，贵单位类别为高校科协")
    # a society outside 柳州 (under another association) may not apply to 柳州's call
    elsewhere = make_org("桂林某某学会", "city_society", parent=make_org("桂林市科协", "city_association"))
    outside = check(org=elsewhere, call=call, project_type="2026-1", at=when)
    assert [r.detail.get("rule") for r in outside.reasons] == ["within_issuer"]


def test_offers_list_every_open_type_with_its_verdict(load_call, make_org):
    call = load_call("liuzhou2026")
    load_call("changde2022")  # closed long ago: not offered
    university = make_org("柳州职业技术学院科协", "university_association", parent=call.issuer)
    offers = eligible_offers(org=university, at=at(2026, 3, 20, 10, 0))
    assert [(o.call.code, o.project_type.code) for o in offers] == [
        ("liuzhou-2026-kcfn", c) for c in ("2026-1", "2026-2", "2026-3", "2026-4", "2026-5")]
    ok = {o.project_type.code for o in offers if o.verdict.ok}
    assert ok == {"2026-2", "2026-3"}  # the types whose 申报单位 include 高校科协
    same = check(org=university, call=call, project_type="2026-4", at=at(2026, 3, 20, 10, 0))
    assert next(o for o in offers if o.project_type.code == "2026-4").verdict.reasons == same.reasons
    only = eligible_offers(org=university, at=at(2026, 3, 20, 10, 0), only_eligible=True)
    assert {o.project_type.code for o in only} == ok


# --- R-E5: unfinished projects and pending acceptance deferrals -----------------------------------------


def test_guangxi_refuses_unfinished_project_and_uncleared_deferral(load_call, make_org):
    earlier = load_call("guangxi2023")
    call = load_call("guangxi2026")
    liuzhou = load_call("liuzhou2026")
    when = at(2026, 4, 15, 10, 0)
    grade = [{"key": "society_grade", "value": 3, "valid_from": dt.date(2019, 1, 1)}]

    left = make_org("广西林学会", "province_society", parent=call.issuer, attrs=grade)
    project_services.record_project(applicant=left, call=earlier, project_type=earlier.types.get(code="2023-3"),
                                    title="八桂科技讲坛——林业碳汇专题", year=2023,
                                    status=Project.Status.UNFINISHED, status_reason="无故未开展活动")
    verdict = check(org=left, call=call, project_type="2026-1", at=when)  # R-E5
    assert verdict.codes == ["unfinished"]
    assert "《八桂科技讲坛——林业碳汇专题》" in verdict.reasons[0].message
    assert "“提质增效”项目" in verdict.reasons[0].message

    deferred = make_org("广西水利学会", "province_society", parent=call.issuer, attrs=grade)
    project = project_services.record_project(applicant=deferred, programme=earlier.programme_code,
                                              funder=earlier.issuer, title="水利科普进校园", year=2025)
    project_services.set_status(project=project, status=Project.Status.DEFERRED, reason="因故延期",
                                deferred_until=dt.date(2026, 6, 30))
    verdict = check(org=deferred, call=call, project_type="2026-1", at=when)  # R-E5
    assert verdict.codes == ["deferral"]
    assert verdict.reasons[0].message == "贵单位2025年度项目《水利科普进校园》已申请延期验收，完成验收后方可申报"
    project_services.set_status(project=project, status=Project.Status.COMPLETED, completed_on=dt.date(2026, 4, 10))
    assert check(org=deferred, call=call, project_type="2026-1", at=when).ok  # R-E5: acceptance done

    # another funder's deferral, and a project stopped for a stated cause, are not held against the unit
    other = make_org("广西土木建筑学会", "province_society", parent=call.issuer, attrs=grade)
    p = project_services.record_project(applicant=other, call=liuzhou, title="龙城科创大讲堂", year=2026)
    project_services.set_status(project=p, status=Project.Status.DEFERRED)
    project_services.record_project(applicant=other, call=earlier, title="院士专家行", year=2023,
                                    status=Project.Status.TERMINATED, status_reason="疫情停办，经批准终止")
    assert check(org=other, call=call, project_type="2026-1", at=when).ok


# --- R-C7: commissioned items ----------------------------------------------------------------------------


def test_hunan_commissioned_items_accept_only_the_named_unit(load_call, make_org):
    call = load_call("hunan2024")
    when = at(2024, 6, 1, 10, 0)
    named = make_org("湖南省企业科协联合会", "enterprise_association", parent=call.issuer)
    other = make_org("湖南省机械工程学会", "province_society", parent=call.issuer)
    assert check(org=named, call=call, project_type="2-1", at=when).ok  # R-C7
    verdict = check(org=other, call=call, project_type="2-1", at=when)  # R-C7
    assert verdict.codes == ["named_only"]
    assert verdict.reasons[0].message == "本项目为定向委托项目，仅限湖南省企业科协联合会申报"
    # the named unit, registered under its full name, matches the notice's short form
    hengyang = make_org("衡阳市科学技术协会", "city_association", parent=call.issuer)
    assert check(org=hengyang, call=call, project_type="1-3", at=when).ok  # R-C7
    changsha = make_org("长沙市科学技术协会", "city_association", parent=call.issuer)
    assert check(org=changsha, call=call, project_type="1-3", at=when).codes == ["named_only"]
    assert names_match(hengyang, "衡阳市科协") and not names_match(changsha, "衡阳市科协")


def test_hunan_alliance_items_accept_the_lead_unit_identified_by_its_role(load_call, make_org):
    # R-C7: 申报主体：联盟牵头单位 of two named alliances — the notice names a role, not a unit
    call = load_call("hunan2024")
    when = at(2024, 6, 1, 10, 0)
    lead = make_org("湖南省中小企业服务中心", "alliance_lead", parent=call.issuer,
                    attrs=[{"key": "leads_alliance", "value": "检验检测科技创新联盟"}])
    other_lead = make_org("湖南省人工智能产业联盟秘书处", "alliance_lead", parent=call.issuer,
                          attrs=[{"key": "leads_alliance", "value": "人工智能产业联盟"}])
    assert check(org=lead, call=call, project_type="1-2", at=when).ok
    verdict = check(org=other_lead, call=call, project_type="1-2", at=when)
    assert verdict.codes == ["named_only"]
    assert "专精特新科技创新联盟牵头单位、检验检测科技创新联盟牵头单位" in verdict.reasons[0].message


# --- R-E6: no repeat of content funded in the past two years ---------------------------------------------

FUNDED_TITLE = "衡阳市“科创中国”试点城市建设"
FUNDED_CONTENT = ("继续支持衡阳市高质量推进“科创中国”试点城市建设。将更多科技创新资源集成引入湖南，“智慧赋能”重点产业，"
                  "提升科技创新能力，服务我省地方经济社会高质量发展。")
REPEAT_TITLE = "2024年衡阳市“科创中国”试点城市建设项目"
REPEAT_CONTENT = ("进一步推进衡阳市“科创中国”试点城市高质量建设，把更多科技创新资源集成引入衡阳，以“智慧赋能”助力重点产业，"
                  "提升科技创新能力，服务地方经济社会高质量发展。")
OTHER_TITLE = "湖南省机械工程学会高端学术年会"
OTHER_CONTENT = ("举办跨学科、跨行业、前瞻性、创新性高端学术活动，承接全国学会举办的全国性学术会议，把学术交流嵌入产业链"
                 "创新链，推动优质学会资源引入汇聚。")


def test_similarity_of_chinese_text():
    assert similarity(FUNDED_TITLE + FUNDED_CONTENT, FUNDED_TITLE + FUNDED_CONTENT) == pytest.approx(1.0)
    assert similarity("2023年学术年会", "2024年学术年会") == pytest.approx(1.0)  # years are not content
    rewrite = similarity(FUNDED_TITLE + FUNDED_CONTENT, REPEAT_TITLE + REPEAT_CONTENT)
    unrelated = similarity(FUNDED_TITLE + FUNDED_CONTENT, OTHER_TITLE + OTHER_CONTENT)
    assert unrelated < 0.3 < 0.6 < rewrite < 1.0
    assert similarity("", "学术年会") == 0.0


def test_hunan_detects_repeated_content_and_shows_the_project(load_call, make_org):
    call = load_call("hunan2024")
    excl = call.document.effective(call.document.project_types[0], "exclusions")
    when = at(2024, 6, 1, 10, 0)
    unit = make_org("湖南省企业科协联合会", "enterprise_association", parent=call.issuer)
    funded = project_services.record_project(applicant=unit, programme=call.programme_code, funder=call.issuer,
                                             title=FUNDED_TITLE, content=FUNDED_CONTENT, year=2023)
    verdict = check(org=unit, call=call, project_type="1-1", at=when, title=REPEAT_TITLE,
                    content=REPEAT_CONTENT)  # R-E6
    assert verdict.codes == ["repeat"]
    reason = verdict.reasons[0]
    assert reason.detail["project_id"] == funded.pk
    assert reason.detail["score"] >= float(excl.repeat_similarity)
    assert reason.message == (f"与2023年已获支持的项目《{FUNDED_TITLE}》内容重复"
                              f"（相似度{round(reason.detail['score'] * 100)}%）")
    # different content passes
    assert check(org=unit, call=call, project_type="1-1", at=when, title=OTHER_TITLE, content=OTHER_CONTENT).ok
    # a commissioned item may repeat: it passes, and the match is still shown as a note  # R-E6
    exempt = check(org=unit, call=call, project_type="2-1", at=when, title=REPEAT_TITLE, content=REPEAT_CONTENT)
    assert exempt.ok
    assert exempt.notes[0].detail["project_id"] == funded.pk and exempt.notes[0].detail["exempt"] == "commissioned"


def test_hunan_repeat_window_and_application_text(load_call, make_org):
    call = load_call("hunan2024")
    when = at(2024, 6, 1, 10, 0)
    unit = make_org("湖南省农学会", "province_society", parent=call.issuer)
    # funded in 2021: more than two years before 2024, no longer a repeat  # R-E6
    project_services.record_project(applicant=unit, programme=call.programme_code, funder=call.issuer,
                                    title=FUNDED_TITLE, content=FUNDED_CONTENT, year=2021)
    assert check(org=unit, call=call, project_type="1-1", at=when, title=REPEAT_TITLE, content=REPEAT_CONTENT).ok
    # another funder's support is not this plan's 重复申报
    project_services.record_project(applicant=unit, programme="cs_xhnl", title=FUNDED_TITLE,
                                    funder=make_org("长沙市科协", "city_association"), content=FUNDED_CONTENT,
                                    year=2023)
    assert check(org=unit, call=call, project_type="1-1", at=when, title=REPEAT_TITLE, content=REPEAT_CONTENT).ok
    # in 2022 it is; the application's own title is used when none is given
    project_services.record_project(applicant=unit, programme=call.programme_code, funder=call.issuer,
                                    title=FUNDED_TITLE, content=FUNDED_CONTENT, year=2022)
    draft = apply(call, unit, "1-1", status=Application.Status.DRAFT, title=REPEAT_TITLE)
    assert check(org=unit, call=call, project_type="1-1", at=when, application=draft,
                 content=REPEAT_CONTENT).codes == ["repeat"]


# --- R-E10: bars -----------------------------------------------------------------------------------------


def test_hunan_barred_unit_is_refused_until_the_bar_ends(load_call, make_org):
    call = load_call("hunan2024")
    years = call.document.defaults.exclusions.ban_years
    unit = make_org("湖南省某某研究会", "province_society", parent=call.issuer)
    bar = project_services.bar_unit(organisation=unit, funder=call.issuer, reason="项目转包", kind="subcontracting",
                                    starts_on=dt.date(2024, 6, 1), years=years)
    assert bar.ends_on == dt.date(2027, 5, 31)
    verdict = check(org=unit, call=call, project_type="1-1", at=at(2024, 6, 10, 9, 0))  # R-E10
    assert verdict.codes == ["barred"]
    assert verdict.reasons[0].message == "贵单位因项目转包被取消申报资格至2027年5月31日"
    # on the last barred day still refused; the day after, the bar no longer speaks (the deadline does)
    assert "barred" in check(org=unit, call=call, project_type="1-1", at=at(2027, 5, 31, 23, 0)).codes
    assert "barred" not in check(org=unit, call=call, project_type="1-1", at=at(2027, 6, 1, 0, 0)).codes
    # another funder's bar does not reach this call; a platform-wide one does
    elsewhere = make_org("湖南省某某协会", "province_society", parent=call.issuer)
    project_services.bar_unit(organisation=elsewhere, funder=make_org("长沙市科协", "city_association"),
                              reason="弄虚作假", starts_on=dt.date(2024, 1, 1), years=3)
    assert check(org=elsewhere, call=call, project_type="1-1", at=at(2024, 6, 10, 9, 0)).ok
    project_services.bar_unit(organisation=elsewhere, reason="弄虚作假", starts_on=dt.date(2024, 1, 1), years=3)
    assert check(org=elsewhere, call=call, project_type="1-1", at=at(2024, 6, 10, 9, 0)).codes == ["barred"]


# --- R-E7: the deadline, whatever the server's zone -------------------------------------------------------


@pytest.fixture
def process_zone():
    """Set the process zone (TZ + tzset) and Django's TIME_ZONE; restore both afterwards."""
    saved = os.environ.get("TZ")
    overrides = []

    def _set(zone: str):
        os.environ["TZ"] = zone
        time.tzset()
        o = override_settings(TIME_ZONE=zone)
        o.enable()
        overrides.append(o)

    yield _set
    for o in reversed(overrides):
        o.disable()
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_liuzhou_deadline_is_17_00_in_shanghai_whatever_the_server_zone(zone, process_zone, load_call, make_org):
    process_zone(zone)
    assert time.strftime("%Z") in ({"UTC"} if zone == "UTC" else {"CST"})
    call = load_call("liuzhou2026")
    society = make_org("柳州市化工学会", "city_society", parent=call.issuer)
    utc = dt.UTC
    # 16:59:59 in Shanghai is 08:59:59 UTC: however the instant is written, it is accepted  # R-E7
    for moment in (at(2026, 3, 31, 16, 59, 59), dt.datetime(2026, 3, 31, 8, 59, 59, tzinfo=utc),
                   dt.datetime(2026, 3, 31, 16, 59, 59)):  # naive: a Shanghai wall-clock time
        assert check(org=society, call=call, project_type="2026-1", at=moment).ok, moment
    for moment in (at(2026, 3, 31, 17, 0, 0), dt.datetime(2026, 3, 31, 9, 0, 0, tzinfo=utc)):
        verdict = check(org=society, call=call, project_type="2026-1", at=moment)  # R-E7
        assert verdict.codes == ["deadline"]
        assert verdict.reasons[0].message == "申报已于2026年3月31日17:00截止"
    # the open list no longer offers it one second after the deadline
    assert eligible_offers(org=society, at=at(2026, 3, 31, 16, 59, 59))
    assert not eligible_offers(org=society, at=at(2026, 3, 31, 17, 0, 0))


def test_not_open_before_opens_at(catalogue, make_org):
    text = (CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8").replace(
        "deadline: 2026-03-31T17:00:00+08:00", "opens_at: 2026-03-01T09:00:00+08:00\ndeadline: 2026-03-31T17:00:00+08:00")
    call = call_services.load_call(text=text, filename="liuzhou-opens.yaml", publish=True).call
    society = make_org("柳州市汽车工程学会", "city_society", parent=call.issuer)
    verdict = check(org=society, call=call, project_type="2026-1", at=at(2026, 3, 1, 8, 59, 59))  # R-E7
    assert verdict.codes == ["not_open"]
    assert verdict.reasons[0].message == "申报将于2026年3月1日09:00开始"
    assert check(org=society, call=call, project_type="2026-1", at=at(2026, 3, 1, 9, 0)).ok


# --- R-C9: 常德's conditions ------------------------------------------------------------------------------


def test_changde_conditions_party_branch_and_founded_this_year(load_call, make_org):
    call = load_call("changde2022")
    when = at(2022, 3, 20, 9, 0)
    bare = make_org("常德市园艺学会", "city_society", parent=call.issuer)
    verdict = check(org=bare, call=call, project_type="1", at=when)  # R-C9
    assert verdict.codes == ["condition", "condition"]
    assert [r.message for r in verdict.reasons] == [c.message for c in call.document.project_types[0]
                                                    .eligibility.conditions]
    branch = make_org("常德市护理学会", "city_society", parent=call.issuer, attrs=[
        {"key": "has_party_branch", "value": True, "valid_from": dt.date(2019, 7, 1)},
        {"key": "has_activity_venue", "value": True, "valid_from": dt.date(2019, 7, 1)},
    ])
    assert check(org=branch, call=call, project_type="1", at=when).ok  # R-C9

    new = make_org("常德市人工智能学会", "city_society", parent=call.issuer,
                   attrs=[{"key": "founded_on", "value": "2022-01-18", "valid_from": dt.date(2022, 1, 18)}])
    assert check(org=new, call=call, project_type="2-1", at=when).ok  # R-C9: 本年度新成立
    old = make_org("常德市老年学会", "city_society", parent=call.issuer,
                   attrs=[{"key": "founded_on", "value": "2015-05-04", "valid_from": dt.date(2015, 5, 4)}])
    verdict = check(org=old, call=call, project_type="2-1", at=when)  # R-C9
    assert verdict.codes == ["condition"]
    assert verdict.reasons[0].message == "申报主体须为本年度新成立的市级学会"
