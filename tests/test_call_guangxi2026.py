"""广西科协 2026 “提质增效” (桂科协学发〔2026〕12号, seeds/001): the call file against the notice text.

Every expected value below is read off the notice, not computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shenbao.calls.models import Track
from shenbao.core.expressions import compile_expression
from tests.conftest import org_context

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TYPE_CODES = ["2026-1", "2026-2", "2026-3", "2026-4", "2026-5", "2026-6", "2026-7"]


@pytest.fixture
def call(load_call):
    return load_call("guangxi2026")


@pytest.fixture
def doc(call):
    return call.document


# --- the call -----------------------------------------------------------------------------------------


def test_header_issuer_dates_and_submission(call, doc):
    # R-C1
    assert call.code == "guangxi-2026-tzzx"
    assert call.status == "published"
    assert call.document_number == "桂科协学发〔2026〕12号"
    assert call.issuer.name == "广西壮族自治区科学技术协会"
    assert call.issuer.category.code == "province_association"
    assert doc.issuer.short_name == "自治区科协"
    assert call.published_on == dt.date(2026, 4, 8)
    # R-E7: “项目申报截止时间为2026年4月22日” (date only → end of that day, Asia/Shanghai)
    assert call.deadline.astimezone(SHANGHAI) == dt.datetime(2026, 4, 22, 23, 59, 59, tzinfo=SHANGHAI)
    sub = doc.submission
    online = next(c for c in sub.channels if c.kind == "online")
    post = next(c for c in sub.channels if c.kind == "post")
    assert online.target == "http://www.gxkjgzz.org.cn/"
    assert "项目申报用户注册" in online.note
    assert post.target == "南宁市青秀区古城路31号自治区科协学会部（联络部）201室（邮编：530022）"
    assert sub.paper_copies == 1  # 纸质盖章版一份
    assert sub.stamped and sub.upload_stamped_scan  # R-F4: 打印纸质并签字盖章，上传至申报系统
    assert sub.electronic_equals_paper
    assert doc.contacts[0].postcode == "530022"


def test_seven_types_and_their_tracks(call):
    # R-C2, R-C3
    assert list(call.types.values_list("code", flat=True)) == TYPE_CODES
    assert list(call.types.values_list("name", flat=True)) == [
        "“八桂科技讲坛”学术交流项目", "全国学会入桂项目", "国际与跨区域科技交流合作活动项目",
        "园区（企业）科协提能发展项目", "科技期刊示范与水平提升项目", "博士创新站试点建设赋能项目", "海智计划项目",
    ]
    tracks = {t.code: list(t.tracks.values_list("name", flat=True)) for t in call.types.all()}
    assert tracks == {
        "2026-1": ["“八桂科技讲坛”学术交流", "学术交流服务与策划"],
        "2026-2": ["开展全国学会入桂活动", "全国学会入桂系列活动服务与策划"],
        "2026-3": ["国际科技交流合作项目", "跨区域科技交流合作项目"],
        "2026-4": ["赋能园区（企业）科协及有关基层科协组织品牌活动", "创新赛事品牌建设", "园区科协组织建设与赋能服务"],
        "2026-5": ["科技期刊交流活动项目", "科技期刊示范与水平提升项目"],
        "2026-6": [],
        "2026-7": [],
    }


# (type, track, quota kind, n, funding kind, yuan each) — 二、立项数量及经费额度 of each type
TRACK_MONEY = [
    ("2026-1", "lecture", "at_most", 20, "cap", 15000),  # 20 个，不超过 1.5 万元/个
    ("2026-1", "service", "at_most", 1, "cap", 40000),  # 1 个，不超过 4 万元/个
    ("2026-2", "national_society", "at_most", 11, "cap", 20000),
    ("2026-2", "service", "at_most", 1, "cap", 30000),
    ("2026-4", "brand", "at_most", 12, "fixed", 20000),  # 12 个，2 万元/个
    ("2026-4", "competition", "at_most", 1, "cap", 50000),
    ("2026-4", "park_building", "at_most", 2, "cap", 30000),
    ("2026-5", "exchange", "at_most", 1, "fixed", 40000),  # 1 个，4 万元
    ("2026-5", "demonstration", "at_most", 2, "fixed", 25000),  # 2 个，2.5 万元
]


@pytest.mark.parametrize(("code", "track_code", "qkind", "n", "fkind", "yuan"), TRACK_MONEY)
def test_track_quota_and_funding(call, doc, code, track_code, qkind, n, fkind, yuan):
    # R-C3: a track carries its own quota and cap; R-V2: counts are plans (概览表 “立项数量 ≤”)
    tr = doc.project_type(code).track(track_code)
    assert (tr.quota.kind, tr.quota.n) == (qkind, n)
    assert tr.funding.kind == fkind
    assert tr.funding.cap == yuan
    row = Track.objects.get(project_type__call=call, project_type__code=code, code=track_code)
    assert row.cap == yuan


def test_types_without_tracks_quota_and_funding(call, doc):
    # R-C2: 2026-3 约5个、每个不超过4万元; 2026-6 40个、1万元/个; 2026-7 约4个、每个不超过3万元
    t3, t6, t7 = doc.project_type("2026-3"), doc.project_type("2026-6"), doc.project_type("2026-7")
    assert (t3.quota.kind, t3.quota.n, t3.funding.kind, t3.funding.max) == ("about", 5, "cap", 40000)
    assert (t6.quota.kind, t6.quota.n, t6.funding.kind, t6.funding.amount) == ("at_most", 40, "fixed", 10000)
    assert (t7.quota.kind, t7.quota.n, t7.funding.kind, t7.funding.max) == ("about", 4, "cap", 30000)
    caps = dict(call.types.values_list("code", "cap"))
    assert caps["2026-3"] == 40000 and caps["2026-6"] == 10000 and caps["2026-7"] == 30000
    # the tracks of 2026-3 share the type's cap
    assert set(Track.objects.filter(project_type__code="2026-3", project_type__call=call)
               .values_list("cap", flat=True)) == {40000}


# 概览表: 金额（万元） and 立项数量 ≤ per type
OVERVIEW = {"2026-1": (30, 20), "2026-2": (25, 12), "2026-3": (20, 5), "2026-4": (35, 15),
            "2026-5": (9, 3), "2026-6": (40, 40), "2026-7": (12, 4)}


def test_type_totals_match_the_overview_table(doc):
    # R-C2: the planned totals of the overview table are kept with each type
    for code, (wan, count) in OVERVIEW.items():
        t = doc.project_type(code)
        assert t.funding.total == wan * 10000, code
        assert t.quota.n == count, code
    # where the notice is consistent, its tracks add up to the table (2026-1 is not: 20×1.5万+4万 = 34万)
    for code in ("2026-2", "2026-4", "2026-5"):
        t = doc.project_type(code)
        assert sum(tr.quota.n for tr in t.tracks) == OVERVIEW[code][1]
        assert sum(tr.quota.n * tr.funding.cap for tr in t.tracks) == OVERVIEW[code][0] * 10000


def test_contacts_per_type(doc):
    # R-C1: 项目联系人 and 联系电话 (0771-) of the overview table
    expected = {"2026-1": ("雷佩儒", "0771-2630981"), "2026-2": ("岑秋蕴", "0771-2630981"),
                "2026-3": ("梁艳梅", "0771-2630626"), "2026-4": ("林永露", "0771-2631288"),
                "2026-5": ("米如雪", "0771-2630981"), "2026-6": ("姚方明", "0771-2851488"),
                "2026-7": ("梁艳梅", "0771-2630626")}
    got = {t.code: (t.contacts[0].name, t.contacts[0].phone) for t in doc.project_types}
    assert got == expected


# --- eligibility --------------------------------------------------------------------------------------


def test_eligible_categories_per_type(doc):
    # R-E1
    cats = {t.code: {c for g in doc.effective(t, "eligibility").groups for c in g.categories}
            for t in doc.project_types}
    four = {"city_association", "province_society", "enterprise_association", "university_association"}
    assert cats == {
        "2026-1": four | {"group_member"},
        "2026-2": four | {"group_member", "doctoral_station_host"},
        "2026-3": four,
        "2026-4": four,
        "2026-5": {"province_society", "journal"},
        "2026-6": {"doctoral_station_host"},
        "2026-7": four,
    }


def society_rule(doc):
    groups = doc.effective(doc.project_type("2026-1"), "eligibility").groups
    return next(g for g in groups if g.categories == ["province_society"])


@pytest.mark.parametrize(
    ("label", "attrs", "max_", "rating", "eligible"),
    [
        ("3A now", {"society_grade": 3}, {"society_grade": 3}, {}, True),
        ("5A", {"society_grade": 5}, {"society_grade": 5}, {}, True),
        ("once 3A, now 2A", {"society_grade": 2}, {"society_grade": 3}, {}, True),
        ("2A with 2025 rating B", {"society_grade": 2}, {"society_grade": 2}, {"2025": "B"}, True),
        ("ungraded with 2025 rating A", {}, {}, {"2025": "A"}, True),
        ("2A with 2025 rating C", {"society_grade": 2}, {"society_grade": 2}, {"2025": "C"}, False),
        ("2A rated A only in 2024", {"society_grade": 2}, {"society_grade": 2}, {"2024": "A"}, False),
        ("ungraded, unrated", {}, {}, {}, False),
    ],
)
def test_society_grade_or_rating_condition(doc, label, attrs, max_, rating, eligible):
    # R-E2: 3A级（含曾获3A级）及以上等级学会或2025年度学会综合能力评价等级为A、B的学会
    rule = society_rule(doc)
    ctx = org_context(doc, category="province_society", max_=max_, yearly_rating=rating, **attrs)
    assert compile_expression(rule.when).holds(ctx) is eligible, label
    assert rule.unmet == "限3A级（含曾获3A级）及以上等级学会或2025年度学会综合能力评价等级为A、B的学会"


def test_other_applicants_of_2026_1_are_unconditional(doc):
    # R-E2 applies to societies only: 团体会员、园区（企业）科协、高校科协、市科协 need no grade
    groups = doc.effective(doc.project_type("2026-1"), "eligibility").groups
    assert [g.when for g in groups if g.categories != ["province_society"]] == [None] * 4


def test_journal_and_station_conditions(doc):
    # R-E1: 自治区科协主管主办的科技期刊; 已获批试点建设的博士创新站建站单位
    journal = next(g for g in doc.effective(doc.project_type("2026-5"), "eligibility").groups
                   if g.categories == ["journal"])
    cond = compile_expression(journal.when)
    assert cond.holds(org_context(doc, category="journal", supervised_journal=True))
    assert not cond.holds(org_context(doc, category="journal"))
    station = doc.effective(doc.project_type("2026-6"), "eligibility").groups[0]
    cond = compile_expression(station.when)
    assert cond.holds(org_context(doc, category="doctoral_station_host", station_pilot=True))
    assert not cond.holds(org_context(doc, category="doctoral_station_host"))
    assert station.unmet == "限已获批试点建设的博士创新站建站单位"


def test_joint_applications_and_exclusions(doc):
    for t in doc.project_types:
        joint = doc.effective(t, "joint")
        # R-E4: 不在所列申报主体范围的，可联合申报，联合申报单位数量不超过2个
        assert joint.allowed and joint.outsiders_only and joint.max_units == 2
        ex = doc.effective(t, "exclusions")
        # R-E5: 无故未完成历年项目不得申报；已提出延期验收的须待验收完成
        assert ex.unfinished is True
        assert ex.note.startswith("无故未完成历年“提质增效”项目的单位不得申报本项目。")
        assert ex.pending_deferral is True
    assert doc.programme == "广西科协“提质增效”项目"


def test_home_or_university_opinion_for_2026_4_only(doc):
    # R-E9, R-F3: 附表4 属地市科协或高校科协意见
    routing = {t.code: doc.effective(t, "routing") for t in doc.project_types}
    assert [r.by for r in routing.pop("2026-4")] == ["home_or_university_association"]
    assert all(not r for r in routing.values())
    opinion = doc.form_of("2026-4").field("opinion_home")
    assert opinion.label == "属地市科协或高校科协意见"
    assert (opinion.kind, opinion.by, opinion.signer, opinion.stamp) == (
        "opinion", "home_or_university_association", "单位负责人签字", True)


# --- tasks and naming ---------------------------------------------------------------------------------


def test_naming_rules_and_minimums(doc):
    # R-C4: naming (“八桂科技讲坛”, “专家助企赋能”, “全国学会入桂行”) and measurable minimums
    lecture = doc.project_type("2026-1").track("lecture").tasks
    assert lecture[0].naming == ["八桂科技讲坛"]
    assert lecture[0].minimums == {"events": Decimal(1), "participants": Decimal(50)}
    assert "不能通过项目验收" in lecture[0].text
    assert lecture[1].naming == ["专家助企赋能"]
    national = doc.project_type("2026-2").track("national_society").tasks
    assert [t.naming for t in national] == [["全国学会入桂行"], ["专家助企赋能"]]
    assert all("不能通过验收" in t.text for t in national)
    intl = doc.project_type("2026-3").track("international").tasks[0]
    assert intl.minimums == {"events": 1, "countries_incl_china": 3, "participants": 100}
    assert "不含港澳台" in intl.text
    assert doc.project_type("2026-3").track("cross_regional").tasks[0].minimums["participants"] == 100
    competition = doc.project_type("2026-4").track("competition")
    assert competition.tasks[0].minimums == {"events": 1, "student_teams": 20}
    demonstration = doc.project_type("2026-5").track("demonstration")
    assert demonstration.tasks[0].minimums == {"events": 1, "journals": 10}
    assert doc.project_type("2026-6").tasks[0].minimums == {"events": 2}
    # every type but 2026-3 and 2026-5 has a task named “专家助企赋能”
    named = {t.code for t in doc.project_types
             for task in [*t.tasks, *(task for tr in t.tracks for task in tr.tasks)]
             if "专家助企赋能" in task.naming}
    assert named == {"2026-1", "2026-2", "2026-4", "2026-6", "2026-7"}


# --- forms --------------------------------------------------------------------------------------------


def test_form_1_fields_as_printed(call, doc):
    # R-F1: 附表1 “八桂科技讲坛”学术交流项目申报表
    form = doc.form_of("2026-1")
    assert (form.label, form.title, form.fill_date) == ("附表1", "“八桂科技讲坛”学术交流项目申报表", True)
    assert [f.label for f in form.all_fields()] == [
        "项目名称", "申报类型", "项目承担单位", "联系地址", "项目负责人", "项目联系人", "计划完成时间",
        "项目目标、预期成果", "项目实施方案", "经费预算和配套经费来源", "项目承担单位意见",
    ]
    assert form.field("track").options_from == "tracks" and form.field("track").help == "（请在□勾处选）"
    assert form.field("project_lead").parts == ["name", "position", "phone"]
    assert form.field("project_contact").parts == ["name", "position", "phone", "wechat"]
    opinion = form.field("opinion_unit")
    assert (opinion.by, opinion.signer, opinion.stamp_label) == ("applicant", "单位负责人签名", "单位盖章")
    # the notice prints no character limits on any form
    assert all(f.max_chars is None for fm in doc.forms for f in fm.all_fields())
    assert [f.label for f in call.document.forms] == [f"附表{i}" for i in range(1, 8)]


def test_form_2_plan_may_be_attached(doc):
    form = doc.form_of("2026-2")
    plan = form.field("plan")
    assert plan.may_attach and plan.help == "（可另附）"
    assert form.field("capability").label == "实施项目的能力和基础"
    assert form.field("opinion_unit").label == "承担单位意见"


def test_form_3_international_facts_and_checks(doc):
    # R-F2: international project facts (organisers, dates, total and foreign participants by nationality)
    form = doc.form_of("2026-3")
    assert form.title == "国际或跨区域科技交流合作项目申报表"
    labels = [f.label for f in form.all_fields()]
    assert labels[6:11] == ["项目基本情况", "项目主办、承办单位", "项目开展时间", "项目总人数", "外方人员国籍及人数"]
    assert "计划完成时间" not in labels
    checks = [compile_expression(c.expr) for c in form.checks]

    def passes(track_code, total, nationalities):
        ctx = {"form": {"total_participants": total,
                        "foreign_participants": {"rows": [{"nationality": n, "count": 5} for n in nationalities],
                                                 "total": {"count": 5 * len(nationalities)}}},
               "type": {"code": "2026-3", "cap": 40000}, "track": {"code": track_code, "cap": 40000},
               "call": {"code": "guangxi-2026-tzzx", "year": 2026}}
        return all(c.holds(ctx) for c in checks)

    # R-C4: ≥100 participants; “3个或3个以上国家和地区（不含港澳台）” with China counting as one: two foreign
    # nationalities besides China make three; 香港/澳门/台湾 do not count
    assert passes("international", 120, ["泰国", "越南", "老挝"])
    assert passes("international", 120, ["泰国", "越南"])
    assert not passes("international", 120, ["泰国", "泰国"])
    assert not passes("international", 120, ["泰国"])
    assert not passes("international", 150, ["香港", "泰国"])
    assert not passes("international", 99, ["泰国", "越南", "老挝"])
    assert passes("international", 150, ["香港", "越南", "泰国"])  # 越南、泰国 and China
    assert not passes("international", 150, ["台湾", "澳门", "中国"])
    assert passes("cross_regional", 100, [])
    assert not passes("cross_regional", 60, [])


def test_form_4_and_6_opinion_blocks(doc):
    # R-F3: several opinion blocks (home/university association, leading doctor, host unit)
    f4 = [(f.label, f.by, f.signer, f.stamp_label) for f in doc.form_of("2026-4").all_fields()
          if f.kind == "opinion"]
    assert f4 == [("属地市科协或高校科协意见", "home_or_university_association", "单位负责人签字", "承担单位盖章"),
                  ("承担单位意见", "applicant", "单位负责人签字", "承担单位盖章")]
    f6 = doc.form_of("2026-6")
    opinions = [(f.label, f.by, f.signer, f.stamp) for f in f6.all_fields() if f.kind == "opinion"]
    assert opinions == [("领衔博士意见", "leading_doctor", "签字", False),
                        ("建站单位意见", "host_unit", "单位负责人签字", True)]
    assert f6.field("leading_doctor").parts == ["name", "position", "phone"]
    assert not any(f.key == "track" for f in f6.all_fields())  # 附表6 has no 申报类型


def test_form_5_journal_people(doc):
    form = doc.form_of("2026-5")
    assert [f.label for f in form.all_fields()][-3:] == ["科技期刊主编", "科技期刊联系人", "单位网址及期刊网址"]
    assert form.field("chief_editor").parts == ["name", "phone"]
    assert form.field("address").label == "单位地址"


def test_form_7_funding_form_with_member_and_expense_tables(doc):
    # R-F2: member table, expenditure table with a total; 备注：项目资助不超过 3 万元
    # R-C6: “附表7“海智计划项目资助申报表”随活动成果提交” — the results form, not an application form
    t7 = doc.project_type("2026-7")
    assert doc.form_of("2026-7") is None and t7.post_funding.results_form == "F7"
    form = doc.results_form_for(t7)
    assert (form.label, form.title) == ("附表7", "海智计划项目资助申报表")
    assert [(f.label, f.kind) for f in form.cover] == [("申报单位（盖章）", "text"), ("填表日期", "date")]
    assert [s.title for s in form.sections] == [
        "", "一、项目完成指标", "二、项目组织实施情况、工作总结", "三、项目负责人及项目组成员", "四、项目经费支出列表"]
    members = form.field("members")
    assert [c.label for c in members.columns] == ["姓名", "职务/职称", "工作单位", "在本项目中承担的主要工作", "联系电话"]
    accounts = form.field("final_accounts")
    assert accounts.label == "经费决算表"
    assert [(c.label, c.kind, c.unit) for c in accounts.columns] == [
        ("支出内容明细", "text", "yuan"), ("金额（万元）", "money", "wan")]
    assert accounts.fixed_first_column == ["1", "2", "3"]
    assert [(t.column, t.label) for t in accounts.totals] == [("amount", "合计")]
    assert form.note == "备注：项目资助不超过 3 万元。"
    assert doc.project_type("2026-7").funding.cap == 30000


# --- post-funding, acceptance, post-award -------------------------------------------------------------


def test_2026_7_is_post_funded(call, doc):
    # R-C6: 后资助 — work by 2026-10-31, results by 2026-11-10, experts evaluate, funding granted selectively
    t = doc.project_type("2026-7")
    assert t.kind == "post_funded"
    assert call.types.get(code="2026-7").kind == "post_funded"
    assert [x.kind for x in doc.project_types].count("post_funded") == 1
    assert (t.post_funding.work_done_by, t.post_funding.results_due) == (dt.date(2026, 10, 31), dt.date(2026, 11, 10))
    assert "择优给予经费资助" in t.post_funding.note
    assert doc.effective(t, "post_award").disbursement.mode == "after_evaluation"
    assert doc.effective(t, "acceptance").due.date == dt.date(2026, 11, 10)
    assert [m.name for m in doc.effective(t, "acceptance").materials][:2] == ["海智计划项目资助申报表", "经费使用情况报告"]


def test_acceptance_materials(doc):
    # R-P7: completion 2026年11月; materials per type; R-P9: news to the funder's site and account
    t1 = doc.project_type("2026-1")
    acc = doc.effective(t1, "acceptance")
    assert doc.effective(t1, "completion_by") == dt.date(2026, 11, 30)
    assert [m.name for m in acc.materials][:2] == ["广西壮族自治区科学技术协会项目验收表", "经费决算报告"]
    assert next(m for m in acc.materials if m.code == "news").note == "投稿邮箱：gxkxzb@126.com"
    # 2026-4: two materials owed only by projects of one track each
    acc4 = doc.effective(doc.project_type("2026-4"), "acceptance")
    by_track = {m.code: m.tracks for m in acc4.materials if m.tracks}
    assert by_track == {"case_study": ["brand"], "founding_documents": ["park_building"]}
    assert acc4.due.date == dt.date(2026, 11, 30)
    acc6 = doc.effective(doc.project_type("2026-6"), "acceptance")
    assert "case_study" in {m.code for m in acc6.materials}
    assert doc.effective(doc.project_type("2026-3"), "post_award").news == ["自治区科协网站", "自治区科协公众号"]


def test_post_award_rules(doc):
    pa = doc.effective(doc.project_type("2026-1"), "post_award")
    assert pa.contract == "contract"  # R-P1: 签订自治区科协项目合同书后拨付
    # R-P3: 不可用于固定资产购买、对外投资、捐款赞助、奖励支出
    assert set(pa.spending.forbidden) == {"fixed_assets", "investment", "donation", "sponsorship", "rewards"}
    assert "提交变更申请" in pa.change_requests  # R-P4
    # R-P6: 学术论坛报自治区科协和民政厅备案；国际性会议报自治区科协和外事办报批
    assert [(f.authorities, f.approval) for f in pa.filings] == [
        (["自治区科协", "自治区民政厅"], False), (["自治区科协", "自治区外事办"], True)]
    assert doc.review.public_notice  # R-V1: 自治区科协牵头组织评审并公示


def test_cited_management_rules(doc):
    # 申报要求4: 认同并能遵守《广西壮族自治区科学技术协会项目管理办法》
    assert [a.title for a in doc.annexes] == ["广西壮族自治区科学技术协会项目管理办法"]


# --- faithfulness (issue 7, item 12) -----------------------------------------------------------------------


def test_only_guangxi_units_may_apply(call, doc, make_org):
    # R-E1: the notice is addressed to “各自治区级学会（协会、研究会）、团体会员，各市科协，高校科协、园区（企业）科协，
    # 广西博士创新站建站单位”: a province society of another province does not pass for being a province society
    from shenbao.applications.eligibility import check
    from tests.journey_support import reopen

    call = reopen(call)
    assert doc.defaults.eligibility.within_issuer is True
    nanning = make_org("南宁市科学技术协会", "city_association", parent=call.issuer)
    ours = make_org("广西机械工程学会", "province_society", parent=call.issuer,
                    attrs=[{"key": "society_grade", "value": 3}])
    hunan = make_org("湖南省科学技术协会", "province_association")
    theirs = make_org("湖南省机械工程学会", "province_society", parent=hunan, attrs=[{"key": "society_grade", "value": 3}])
    for code in ("2026-1", "2026-2", "2026-3", "2026-4"):
        assert check(org=ours, call=call, project_type=code).ok, code
        refused = check(org=theirs, call=call, project_type=code)
        assert refused.codes == ["category"] and refused.reasons[0].detail["rule"] == "within_issuer", code
        assert refused.reasons[0].message == "本通知限自治区科协所属单位申报，贵单位未登记在自治区科协之下"
    assert check(org=nanning, call=call, project_type="2026-3").ok


def test_international_minimum_counts_china_as_one(doc):
    # R-C4: “与会者须来自3个或3个以上国家和地区（不含港澳台）” — China counts as one of the three
    task = next(k for tr in doc.project_type("2026-3").tracks for k in tr.tasks if "国家和地区" in k.text)
    assert "3个或3个以上国家和地区（不含港澳台）" in task.text
    assert task.minimums == {"events": 1, "countries_incl_china": 3, "participants": 100}
    assert doc.form_of("2026-3").checks[1].message == "国际科技交流合作项目与会者须来自3个或3个以上国家和地区（不含港澳台）"
