"""广西科协 2023 “提质增效” (桂科协学发〔2023〕16号, seeds/002): the call file against the notice text.

Every expected value below is read off the notice (its body, 附件1 and 附表1–10), not computed by the code
under test. CEL rules are evaluated on contexts built here: organisations made in the database (their
`org` context comes from the eligibility selector), and small `project` / `form` maps.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from shenbao.calls.models import ProjectType, Track
from shenbao.core.expressions import compile_expression
from shenbao.orgs.models import Category
from shenbao.orgs.selectors import eligibility_context

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TYPE_CODES = [f"2023-{i}" for i in range(1, 11)]

# 附件1 自治区科协“提质增效”项目联系人总表: code → (type, 项目金额 in 万元, 项目数量, contact, phone, mobile)
OVERVIEW = {
    "2023-1": ("学会能力提升示范", 40, ("exactly", 10), "古蓉芬", "0771-2613542", "13097717436"),
    "2023-2": ("党建强会计划", 20, ("exactly", 10), "李绿叶", "0771-2630981", "18277100716"),
    "2023-3": ("“八桂科技讲坛”学术交流", 70, ("range", 30, 40), "荣泽玥", "0771-2630981", "18275885836"),
    "2023-4": ("全国学会入桂", 20, ("range", 5, 8), "杜静", "0771-2636119", "13878189364"),
    "2023-5": ("企业（园区）科协建设", 10, ("range", 7, 8), "林永露", "0771-2631288", "13347600203"),
    "2023-6": ("海智计划工作站建设", 8, ("range", 3, 4), "谢业宁", "0771-2630981", "15277714319"),
    "2023-7": ("科技创新协同组织建设", 10, ("range", 8, 10), "雷佩儒", "0771-2630981", "15578306891"),
    "2023-8": ("科技期刊示范与水平提升", 16, ("exactly", 4), "陶媛", "0771-2630981", "18378812846"),
    "2023-9": ("“科创中国·广西”科技服务", 15, ("exactly", 5), "陶媛", "0771-2630981", "18378812846"),
    "2023-10": ("学会科普能力提升示范", 10, ("exactly", 10), "古蓉芬", "0771-2613542", "13097717436"),
}


@pytest.fixture
def call(load_call):
    return load_call("guangxi2023")


@pytest.fixture
def doc(call):
    return call.document


def labels(form):
    return [f.label for f in form.all_fields()]


def tier_amount(funding, project: dict) -> int:
    """The amount the compiled tiers choose for these project facts: the first tier that holds, else the
    base amount (tiers are not cumulative)."""
    ctx = {"project": project, "form": {}, "type": {}, "track": {}, "call": {}}
    for t in funding.tiers:
        if compile_expression(t.when).holds(ctx):
            return t.amount
    return funding.amount


def eligible(doc, code, org) -> tuple[bool, list[str]]:
    """Does `org` fall in one of the type's groups whose `when` holds? Returns the reasons of failed whens."""
    ctx = {"org": eligibility_context(org), "call": {"code": doc.code, "year": doc.year}}
    reasons = []
    for g in doc.effective(doc.project_type(code), "eligibility").groups:
        if not set(g.categories) & set(ctx["org"]["categories"]):
            continue
        if g.when is None or compile_expression(g.when).holds(ctx):
            return True, []
        reasons.append(g.unmet)
    return False, reasons


def check_failures(form, ctx) -> list[str]:
    return [c.message for c in form.checks if not compile_expression(c.expr).holds(ctx)]


# --- the call -----------------------------------------------------------------------------------------


def test_header_issuer_dates_and_submission(call, doc):
    # R-C1
    assert call.code == "guangxi-2023-tzzx"
    assert call.status == "published"
    assert call.document_number == "桂科协学发〔2023〕16号"
    assert call.title == "自治区科协关于申报2023年度“提质增效”项目的通知"
    assert call.issuer.name == "广西壮族自治区科学技术协会"
    assert call.issuer.category.code == "province_association"
    assert doc.issuer.short_name == "自治区科协" and doc.issuer.level == "province"
    assert call.year == 2023
    assert call.published_on == dt.date(2023, 4, 4)
    # R-E7: 项目申报截止时间为2023年4月28日 — a date only, so the end of that day in Beijing time
    local = call.deadline.astimezone(SHANGHAI)
    assert (local.date(), local.time()) == (dt.date(2023, 4, 28), dt.time(23, 59, 59))
    # R-F4: fill in online, export, print, stamp, scan and upload; one stamped paper copy equal to the online one
    sub = doc.submission
    online = next(c for c in sub.channels if c.kind == "online")
    assert online.target == "http://gxkjgzz.octabox.cn"
    for step in ["立即注册", "项目申报用户注册", "可申报项目", "导出并打印申报表", "加盖单位公章", "扫描上传"]:
        assert step in online.note
    post = next(c for c in sub.channels if c.kind == "post")
    assert post.target == "南宁市青秀区古城路31号自治区科协学会部（联络部）201室（邮编：530022）"
    assert (sub.paper_copies, sub.stamped, sub.upload_stamped_scan, sub.electronic_equals_paper) == (1, True, True, True)


def test_call_contacts_and_annexes(doc):
    # R-C1: 填报联系人 and 系统技术联系人
    by_name = {c.name: c for c in doc.contacts}
    assert by_name["雷佩儒"].phone == "0771-2630981" and by_name["雷佩儒"].role == "项目填报联系人"
    assert by_name["莫聪"].phone == "0771-2636380" and by_name["莫聪"].role == "系统技术联系人"
    address = next(c for c in doc.contacts if c.address)
    assert (address.address, address.postcode) == ("南宁市青秀区古城路31号自治区科协学会部（联络部）201室", "530022")
    annexes = {a.label: a for a in doc.annexes}
    assert annexes["附件2"].title == "广西壮族自治区科学技术协会项目管理办法"
    assert annexes["附件4"].types == ["2023-6"]
    assert annexes["附件5"].title == "申报创建广西科协一流学会条件" and annexes["附件5"].types == ["2023-1"]


def test_ten_types_match_the_overview_table(call, doc):
    # R-C2: ten types with the 项目金额 and 项目数量 of 附件1, and each type's business contact
    assert [t.code for t in doc.project_types] == TYPE_CODES
    assert list(call.types.values_list("code", flat=True)) == TYPE_CODES
    assert len(doc.forms) == 10
    assert [f.label for f in doc.forms] == [f"附表{i}" for i in range(1, 11)]
    for code, (name, wan, quota, person, phone, mobile) in OVERVIEW.items():
        t = doc.project_type(code)
        assert name in t.name, code
        total = t.funding.total
        assert total == wan * 10000, code
        q = t.quota
        assert (q.kind, q.n) == quota if quota[0] == "exactly" else (q.kind, q.min, q.max) == quota, code
        c = t.contacts[0]
        assert (c.name, c.phone, c.mobile) == (person, phone, mobile), code
        assert t.form == f"F{code.split('-')[1]}"
    assert sum(t.funding.total for t in doc.project_types) == 2190000  # 40+20+70+20+10+8+10+16+15+10 万


def test_type_rows_carry_quota_and_caps(call):
    # R-C2, R-V2: quotas are plans; the copies on the rows that pages use
    rows = {t.code: t for t in ProjectType.objects.filter(call=call)}
    assert rows["2023-3"].quota_text == "30—40个"
    assert rows["2023-1"].quota_text == "10个"
    assert rows["2023-1"].cap == 40000  # 每个获评学会资助经费4万元
    assert rows["2023-2"].cap == 20000  # 每个资助2万元
    assert rows["2023-4"].cap == 50000  # 每个项目资助2-5万元
    assert rows["2023-7"].cap == 20000  # 项目每个资助1-2万元
    assert rows["2023-8"].cap == 40000
    assert rows["2023-10"].cap == 10000


def test_funding_kinds(doc):
    # R-C2
    t4 = doc.project_type("2023-4").funding
    assert (t4.kind, t4.min, t4.max) == ("range", 20000, 50000)
    t6 = doc.project_type("2023-6").funding
    assert (t6.kind, t6.amount) == ("fixed", 20000)  # 每类项目每个资助2万元
    t9 = doc.project_type("2023-9").funding
    assert (t9.kind, t9.total) == ("pool", 150000)


# --- tracks (R-C3) and tiers (R-C5) ---------------------------------------------------------------------


def test_tracks_of_2023_3_as_printed_on_the_form(call, doc):
    # R-C3: 附表3 申报类型, tick one
    t = doc.project_type("2023-3")
    assert [tr.name for tr in t.tracks] == [
        "广西科学年会学术交流活动", "广西科学年会服务与策划", "八桂科技讲坛学术交流活动", "八桂科技讲坛服务与策划",
    ]
    f = doc.form_of("2023-3").field("track")
    assert (f.label, f.kind, f.options_from, f.required) == ("申报类型", "choice_one", "tracks", True)
    # 年会 activities between August and October, others by 10 December
    annual = doc.project_type("2023-3").track("annual_exchange")
    assert (annual.events_from, annual.events_until) == (dt.date(2023, 8, 1), dt.date(2023, 10, 31))
    assert doc.project_type("2023-3").track("forum_exchange").events_until == dt.date(2023, 12, 10)
    # the service tracks: 共资助4万元 each
    rows = {tr.code: tr for tr in Track.objects.filter(project_type__call=call, project_type__code="2023-3")}
    assert rows["annual_service"].cap == 40000 and rows["forum_service"].cap == 40000
    assert rows["forum_exchange"].cap == 30000 and rows["annual_exchange"].cap == 30000
    # R-C4: ≥ half a day, ≥50 participants online and offline, ≥2 speakers
    assert annual.tasks[0].minimums == {"days": Decimal("0.5"), "participants": 50, "experts": 2}


def test_tracks_of_2023_5_may_be_combined(doc):
    # R-C3: three sub-projects with their own quota and money, 可单独或叠加申报
    t = doc.project_type("2023-5")
    assert t.multiple_tracks is True
    got = [(tr.code, tr.quota.text(), tr.funding.kind, tr.funding.amount, tr.funding.min, tr.funding.max)
           for tr in t.tracks]
    assert got == [
        ("org_building", "4个", "fixed", 10000, None, None),
        ("empowerment", "1—3个", "range", None, 10000, 20000),
        ("emerging_org", "1个", "fixed", 20000, None, None),
    ]
    # R-C4: ≥100 new enterprise associations
    assert doc.project_type("2023-5").track("org_building").tasks[0].minimums == {"organisations": 100}
    # the form ticks many, each with its 数量（场次）; option values are the track codes
    f = doc.form_of("2023-5").field("apply_items")
    assert f.kind == "choice_many"
    assert [o.label for o in f.options] == ["推进企业科协组织建设", "赋能企业活动开展", "探索组建新兴企业科协组织"]
    assert [o.value for o in f.options] == [tr.code for tr in t.tracks]
    assert all(o.follow_up.label == "数量（场次）" and o.follow_up.kind == "integer" for o in f.options)


def test_tracks_of_2023_6_and_2023_9(doc):
    # R-C3
    assert [tr.name for tr in doc.project_type("2023-6").tracks] == ["建立广西科协海智计划工作站开展海智活动", "服务与策划"]
    t9 = doc.project_type("2023-9")
    assert [(tr.quota.n, tr.funding.amount) for tr in t9.tracks] == [(1, 50000), (1, 40000), (3, 20000)]


def test_lecture_tiers_by_who_reports(doc):
    # R-C5: 八桂科技讲坛 — academician 3万, scholar of another country 2万, else 1万; not cumulative
    funding = doc.project_type("2023-3").track("forum_exchange").funding
    assert funding.kind == "tiered"
    assert tier_amount(funding, {"academician_speakers": 1, "foreign_countries": 2}) == 30000
    assert tier_amount(funding, {"academician_speakers": 0, "foreign_countries": 1}) == 20000
    assert tier_amount(funding, {"academician_speakers": 0, "foreign_countries": 0}) == 10000
    assert tier_amount(funding, {}) == 10000
    # 广西科学年会 — academician 3万, every other session 2万 (a foreign scholar changes nothing)
    annual = doc.project_type("2023-3").track("annual_exchange").funding
    assert tier_amount(annual, {"academician_speakers": 2, "foreign_countries": 0}) == 30000
    assert tier_amount(annual, {"academician_speakers": 0, "foreign_countries": 3}) == 20000


def test_form_collects_the_facts_the_tiers_read(doc):
    # R-C5: every project.<fact> a tier reads is a fact field of the type's form
    form = doc.form_of("2023-3")
    facts = {f.key for f in form.all_fields() if f.fact}
    assert facts == {"academician_speakers", "foreign_countries"}
    for tr in doc.project_type("2023-3").tracks:
        for tier in tr.funding.tiers:
            assert set(re.findall(r"project\.([a-z_]+)", tier.when)) <= facts
    assert form.field("academician_speakers").kind == "integer"
    # the exchange tracks must answer them; a service track need not
    forum = {"track": {"code": "forum_exchange", "cap": 30000}, "type": {}, "call": {}}
    assert len(check_failures(form, {**forum, "form": {}})) == 2
    assert check_failures(form, {**forum, "form": {"academician_speakers": 0, "foreign_countries": 1}}) == []
    service = {"track": {"code": "forum_service", "cap": 40000}, "type": {}, "call": {}, "form": {}}
    assert check_failures(form, service) == []


# --- eligibility (R-E1, R-E2, R-E5) ---------------------------------------------------------------------


def test_2023_1_first_class_candidate_or_rating_a_2022(doc, make_org):
    # R-E2: 自治区级一流学会创建单位 or 2022年度综合能力评价等级为A
    candidate = make_org("广西某一流学会创建单位", "province_society",
                         attrs=[{"key": "first_class_candidate", "value": True}])
    rated_a = make_org("广西某A级学会", "province_society", attrs=[{"key": "rating", "value": "A", "year": 2022}])
    rated_b = make_org("广西某B级学会", "province_society", attrs=[{"key": "rating", "value": "B", "year": 2022}])
    a_other_year = make_org("广西某学会", "province_society", attrs=[{"key": "rating", "value": "A", "year": 2021}])
    city = make_org("南宁市科协", "city_association", attrs=[{"key": "first_class_candidate", "value": True}])
    assert eligible(doc, "2023-1", candidate) == (True, [])
    assert eligible(doc, "2023-1", rated_a) == (True, [])
    reason = "限自治区科协一流学会创建单位或2022年度自治区科协所属学会综合能力评价等级为A的学会"
    assert eligible(doc, "2023-1", rated_b) == (False, [reason])
    assert eligible(doc, "2023-1", a_other_year) == (False, [reason])
    assert eligible(doc, "2023-1", city) == (False, [])


def test_categories_per_type(doc, make_org):
    # R-E1: 2023-2 only 学会党支部; 2023-9 the pilot-city association; 2023-8 supervised journals
    def cats(code):
        return [c for g in doc.project_type(code).eligibility.groups for c in g.categories]

    assert cats("2023-2") == ["society_party_branch"]
    assert doc.project_type("2023-2").eligibility.groups[0].label == "自治区级学会党支部"
    assert cats("2023-3") == ["province_society", "group_member", "society_union", "journal",
                              "enterprise_association", "university_association", "city_association"]
    assert cats("2023-9") == ["province_society", "enterprise_association", "pilot_city_association"]
    assert cats("2023-10") == ["province_society"]
    every = {c for code in TYPE_CODES for c in cats(code)}
    assert every <= set(Category.objects.values_list("code", flat=True))

    branch = make_org("广西某学会党支部", "society_party_branch")
    society = make_org("广西某学会", "province_society")
    assert eligible(doc, "2023-2", branch)[0] is True
    assert eligible(doc, "2023-2", society)[0] is False
    pilot = make_org("柳州市科协", "pilot_city_association")
    assert eligible(doc, "2023-9", pilot)[0] is True
    assert eligible(doc, "2023-9", make_org("钦州市科协", "city_association"))[0] is False
    journal = make_org("广西某科技期刊", "journal", attrs=[{"key": "supervised_journal", "value": True}])
    other_journal = make_org("某科技期刊", "journal")
    assert eligible(doc, "2023-8", journal) == (True, [])
    assert eligible(doc, "2023-8", other_journal) == (False, ["限自治区科协主管主办的科技期刊"])


def test_unfinished_projects_and_deferrals_exclude(doc):
    # R-E5, R-P8
    for code in TYPE_CODES:
        ex = doc.effective(doc.project_type(code), "exclusions")
        assert ex.unfinished is True
        assert ex.note.startswith("无故未完成历年“提质增效”项目的单位不得申报本项目。")
        assert ex.pending_deferral is True


def test_routing_through_the_city_association_for_2023_6(doc):
    # R-E9: 附表6 所属地市科协意见; not for 自治区级学会、高校科协 under “服务与策划”
    routes = doc.project_type("2023-6").routing
    assert [(r.categories, r.tracks, r.by) for r in routes] == [
        (["enterprise_association"], None, "home_association"),
        (["province_society", "university_association"], ["station"], "home_association"),
    ]
    opinion = doc.form_of("2023-6").field("opinion_home")
    assert (opinion.label, opinion.by, opinion.signer, opinion.stamp_label) == (
        "所属地市科协意见", "home_association", "单位负责人签字", "单位盖章")
    assert "服务与策划" in opinion.help
    for code in TYPE_CODES:
        if code != "2023-6":
            assert not doc.effective(doc.project_type(code), "routing"), code


# --- forms (R-F1, R-F2, R-F3) ---------------------------------------------------------------------------


def test_form_1_society_capacity(doc):
    # R-F2: officers, full-/part-time, finance rules, staff and members, 1200字 summary
    form = doc.form_of("2023-1")
    assert form.title == "2023年学会能力提升示范项目申报表"
    assert labels(form)[:7] == ["项目承担单位", "通信地址", "学会理事长", "学会法人", "学会秘书长", "项目负责人", "项目联系人"]
    assert form.field("project_contact").parts == ["name", "mobile", "wechat"]
    sg = form.field("secretary_general_status")
    assert [o.label for o in sg.options] == ["专职", "兼职"]
    assert form.field("deputy_secretary_general").parts == ["name", "office_phone", "mobile"]
    assert form.field("finance_rules_name").label == "财务制度名称"
    staffing = form.field("staffing")
    assert staffing.fixed_first_column == ["社会聘用人员", "退休返聘", "行政事业编制在职人员"]
    assert [c.label for c in staffing.columns] == ["人员类别", "人数", "其中党员"]
    summary = form.field("work_summary")
    assert summary.max_chars == 1200
    assert summary.label == "学会服务创新、服务社会和政府事务、服务科技工作者、自身建设工作总结综述"
    opinion = form.field("opinion_society")
    assert (opinion.label, opinion.signer, opinion.stamp, opinion.stamp_label) == ("学会意见", "学会负责人签名", True, "单位盖章")
    ok = {"office_staff": 5, "insured_staff": 5, "individual_members": 300, "paid_individual_members": 200,
          "institutional_members": 10, "paid_institutional_members": 10,
          "staffing": {"rows": [{"category": "社会聘用人员", "count": 3, "party_members": 1}], "total": {}}}
    ctx = {"type": {}, "track": {}, "call": {}}
    assert check_failures(form, {**ctx, "form": ok}) == []
    bad = {**ok, "paid_individual_members": 301,
           "staffing": {"rows": [{"category": "退休返聘", "count": 1, "party_members": 2}], "total": {}}}
    assert check_failures(form, {**ctx, "form": bad}) == [
        "其中缴费的个人会员人数不能多于个人会员总数", "人员编制情况中“其中党员”人数不能多于该类人员人数"]


def test_form_10_popsci_summary_limit(doc):
    # R-F2: 学会2022年开展科普工作总结综述（800字内）
    form = doc.form_of("2023-10")
    assert form.title == "2023年学会科普能力提升示范项目申报表"
    assert form.field("popsci_summary").max_chars == 800
    assert form.field("address").label == "通信地址及邮编"


def test_common_blocks_and_opinions(doc):
    # R-F1, R-F3: the recurring blocks, and who signs each opinion
    f2 = doc.form_of("2023-2")
    assert labels(f2) == ["项目名称", "项目承担单位", "联系地址", "学会党组织负责人", "项目负责人", "项目联系人",
                          "项目重点计划", "经费预算和配套经费来源", "实施项目的能力和基础", "学会党组织意见"]
    assert f2.field("opinion_party").signer == "党组织负责人签名"
    f3 = doc.form_of("2023-3").field("opinion_unit")
    assert (f3.signer, f3.co_signers) == ("单位负责人签名", ["期刊编辑部负责人签名"])
    assert doc.form_of("2023-4").field("project_name").label == "活动名称"
    assert doc.form_of("2023-5").field("opinion_unit").signer == "科协负责人签名"
    assert doc.form_of("2023-5").field("project_lead").parts == ["name", "position", "mobile", "fax"]
    f6 = doc.form_of("2023-6")
    assert f6.field("project_contact").parts == ["name", "position", "phone", "email", "wechat"]
    assert [f.key for f in f6.all_fields() if f.kind == "opinion"] == ["opinion_unit", "opinion_home"]
    f8 = doc.form_of("2023-8")
    assert f8.field("project_lead").parts == ["name", "position", "phone", "fax", "email"]
    assert [s.title for s in f8.sections if s.title] == ["科技期刊主管、主办单位"]
    o8 = f8.field("opinion_unit")
    assert (o8.label, o8.signer, o8.co_signers) == ("学会/编辑部意见", "学会/编辑部负责人签名", ["期刊负责人签名"])
    assert doc.form_of("2023-9").field("plan").label == "项目实施方案"
    assert doc.form_of("2023-7").field("plan").label == "按照项目任务制定实施方案"


def test_form_checks_for_6_and_5(doc):
    # R-F2: 海智专家（团队）情况介绍 — not needed for “服务与策划”; 附表5 ticks at least one item with its count
    f6 = doc.form_of("2023-6")
    station = {"track": {"code": "station", "cap": 20000}, "type": {}, "call": {}}
    planning = {"track": {"code": "planning", "cap": 20000}, "type": {}, "call": {}}
    assert check_failures(f6, {**station, "form": {}}) == [
        "申报“建立广西科协海智计划工作站开展海智活动”类型的，须填写海智专家（团队）情况介绍"]
    assert check_failures(f6, {**station, "form": {"overseas_experts": "某海外专家团队"}}) == []
    assert check_failures(f6, {**planning, "form": {}}) == []
    f5 = doc.form_of("2023-5")
    ctx = {"track": {}, "type": {}, "call": {}}
    assert check_failures(f5, {**ctx, "form": {"apply_items": []}}) == ["请至少勾选一个申报项目"]
    assert check_failures(f5, {**ctx, "form": {"apply_items": ["org_building", "empowerment"],
                                                 "org_building_count": 1}}) == ["勾选的申报项目须填写数量（场次）"]
    assert check_failures(f5, {**ctx, "form": {"apply_items": ["org_building", "empowerment"],
                                                 "org_building_count": 1, "empowerment_count": 2}}) == []


# --- tasks, deliverables, acceptance, post-award (R-C4, R-C8, R-P2, R-P3, R-P6, R-P7) --------------------


def test_tasks_with_minimums_and_names(doc):
    # R-C4
    t1 = doc.project_type("2023-1").tasks
    assert any(t.minimums == {"experts": 3} for t in t1)  # 不少于3名专家的科技服务团
    assert any(t.minimums == {"enterprises": 3} for t in t1)  # 深入不少于3家企业（园区）
    # “会场要有“八桂科技讲坛”标识” is a sign at the venue (a photo at acceptance), not a naming rule; and no
    # task of 2023-1 names its events: “赋能企业” is the service, not a title the notice prescribes
    lecture = next(t for t in t1 if "会场要有“八桂科技讲坛”标识" in t.text)
    assert lecture.signage == ["八桂科技讲坛"] and lecture.naming == []
    assert [t.naming for t in t1 if t.naming] == [["党旗领航—千名学会专家走基层"]]
    assert any(t.minimums == {"organisations": 2} for t in t1)  # 至少2个“学会工作站”
    t2 = doc.project_type("2023-2").tasks
    assert any(t.minimums == {"events": 2} and t.naming == ["党旗领航——学会专家走基层"] for t in t2)
    t8 = doc.project_type("2023-8").tasks
    assert t8[0].minimums == {"events": 1, "journals": 10}  # 不少于10家区内省级科技期刊


def test_video_due_before_the_end(doc):
    # R-C8: a 60–120 s original video due 2023-07-30; late means the project is not completed
    (video,) = doc.project_type("2023-10").deliverables
    assert video.due == dt.date(2023, 7, 30)
    assert video.hard is True
    assert (video.min_seconds, video.max_seconds) == (60, 120)
    assert video.consequence == "该任务不能延期，逾期不报送视为没有按时完成项目"
    assert "敬请关注2023年9月首届广西科学年会" in video.spec


def test_acceptance_per_type(doc):
    # R-P7: within 10 working days after the event for 2023-3, by 12月10日 otherwise; 4 paper + 1 electronic
    acc3 = doc.effective(doc.project_type("2023-3"), "acceptance")
    assert acc3.due.working_days_after_event == 10 and acc3.due.date is None
    assert (acc3.paper_copies, acc3.electronic_copies) == (4, 1)
    photos = next(m for m in acc3.materials if m.code == "photos")
    assert photos.max_count == 20
    assert [(k.name, k.min) for k in photos.kinds] == [
        ("会场（调研）全景", 2), ("领导发言近景", 2), ("专家报告近景", 2), ("会场花絮", 2)]
    assert "广西壮族自治区科学技术协会项目验收表" in [m.name for m in acc3.materials]
    for code in TYPE_CODES:
        if code == "2023-3":
            continue
        acc = doc.effective(doc.project_type(code), "acceptance")
        assert acc.due.date == dt.date(2023, 12, 10), code
        assert (acc.paper_copies, acc.electronic_copies) == (4, 1), code
    # 2023-2: 相片（3-5张）per activity
    p2 = next(m for m in doc.project_type("2023-2").acceptance.materials if m.code == "photos")
    assert (p2.min_count, p2.max_count) == (3, 5)
    # 2023-10: five kinds of photo, two each, at most 20
    p10 = next(m for m in doc.project_type("2023-10").acceptance.materials if m.code == "photos")
    assert p10.max_count == 20 and [k.name for k in p10.kinds][-1] == "线上科普截图"
    # 2023-5: materials owed by one sub-project only
    m5 = {m.code: m.tracks for m in doc.project_type("2023-5").acceptance.materials}
    assert m5["legal_certificate"] == ["emerging_org"] and m5["acceptance_form"] == []
    # completion deadlines
    assert doc.effective(doc.project_type("2023-1"), "completion_by") == dt.date(2023, 12, 31)
    assert doc.effective(doc.project_type("2023-4"), "completion_by") == dt.date(2023, 12, 10)


def test_post_award_rules(doc):
    # R-P1, R-P2: contract, then one-off disbursement; R-P4, R-P5: change requests, spot checks, recovery
    for code in TYPE_CODES:
        pa = doc.effective(doc.project_type(code), "post_award")
        assert pa.contract == "contract", code
        assert pa.disbursement.mode == "one_off", code
        assert pa.spot_checks is True and pa.recovery is True, code
        assert "提前向自治区科协学会部（联络部）提交变更申请" in pa.change_requests, code
        # R-P3: never assets, investment, donations, sponsorship
        assert {"assets", "investment", "donation", "sponsorship"} <= set(pa.spending.forbidden), code
    # R-P3: 党建强会 — no internal labour, travel at most 50%
    s2 = doc.effective(doc.project_type("2023-2"), "post_award").spending
    assert "labour" in s2.forbidden
    assert s2.travel_max_share == Decimal("0.5")
    assert doc.effective(doc.project_type("2023-1"), "post_award").spending.travel_max_share is None
    # R-P6: speakers and topics filed in advance; three or more countries: foreign-affairs filing
    filings = doc.effective(doc.project_type("2023-3"), "post_award").filings
    assert [f.authorities for f in filings] == [["自治区科协学会部（联络部）"], ["有关外事部门"]]


def test_call_page_lists_the_ten_types(client, call):
    # R-C2: the loaded call shows on its public page with every type
    response = client.get(reverse("calls:call_detail", args=[call.code]))
    assert response.status_code == 200
    html = response.content.decode()
    for code in TYPE_CODES:
        assert code in html
    assert "桂科协学发〔2023〕16号" in html


# --- faithfulness (issue 7, item 12) -----------------------------------------------------------------------


def test_only_guangxi_units_may_apply(call, doc, make_org):
    # R-E1: addressed to “各自治区级学会（协会、研究会）、团体会员、学会联合体，各市科协，高校科协、企业（园区）科协”
    # — Guangxi's: a group member under another province's association does not pass for being a group member
    from shenbao.applications.eligibility import check
    from tests.journey_support import reopen

    call = reopen(call)
    assert doc.defaults.eligibility.within_issuer is True
    ours = make_org("广西某团体会员单位", "group_member", parent=call.issuer)
    hunan = make_org("湖南省科学技术协会", "province_association")
    theirs = make_org("湖南某团体会员单位", "group_member", parent=hunan)
    assert check(org=ours, call=call, project_type="2023-3").ok
    refused = check(org=theirs, call=call, project_type="2023-3")
    assert refused.codes == ["category"] and refused.reasons[0].detail["rule"] == "within_issuer"


def test_party_membership_check_is_measured_as_such(doc):
    # R-C4: “对党员组织关系进行1次集中排查” counts a check of party membership, not a 会员评议
    task = next(t for t in doc.project_type("2023-2").tasks if "党员组织关系" in t.text)
    assert task.minimums == {"party_membership_checks": 1}
    from shenbao.calls.selectors import measure_names

    assert measure_names()["party_membership_checks"] == "党员组织关系集中排查（次）"
    assert "membership_reviews" not in measure_names()


def test_funding_tier_facts_are_asked_on_the_page_not_printed_on_form_3(call, doc):
    # R-C5, R-F4: the official 附表3 is printed as the notice has it; the facts its 经费标准 needs
    # (“有两院院士出席…并做大会报告的，每场资助3万元”) are asked on the page only
    from shenbao.documents.render import form_layout

    form = doc.form_of("2023-3")
    tiers = next(s for s in form.sections if s.title == "资助档次依据")
    assert tiers.print is False and {f.key for f in tiers.fields} == {"academician_speakers", "foreign_countries"}
    layout = form_layout(call=call, project_type=call.types.get(code="2023-3"))
    printed = " ".join(str(b) for b in layout.blocks)
    assert "资助档次依据" not in printed and "两院院士人数" not in printed
    assert "选题及目的意义" in printed  # the rest of 附表3 is there
    from shenbao.forms.rendering import render_form

    html = render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=doc.project_type("2023-3"))
    assert "资助档次依据" in html and "本部分仅在网上填写，不印在申报表上。" in html


def test_2023_page_adds_no_words_the_notice_lacks(client, call):
    # “Nowhere add words the notice does not have”: the notice sets no “逾期不予受理” and no paper size
    page = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    assert "逾期不予受理" not in page and "A4" not in page and "纸张" not in page
