"""柳州市科协 2026 “科创赋能” (柳科协字〔2026〕5号, seeds/000): the call file against the notice.

Every expected value below is read off the notice, not computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shenbao.calls.models import ProjectType
from shenbao.core.expressions import compile_expression
from tests.conftest import org_context

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def call(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def doc(call):
    return call.document


def admitted(doc, code, ctx):
    """Whether some eligibility group of the type admits the context (category in lineage and `when`)."""
    for g in doc.effective(doc.project_type(code), "eligibility").groups:
        if set(g.categories) & set(ctx["org"]["categories"]):
            if not g.when or compile_expression(g.when).holds(ctx):
                return True
    return False


def test_document_number_and_deadline(call, doc):
    # R-C1, R-E7: 柳科协字〔2026〕5号, 2026年3月31日下午17:00前
    assert doc.document_number == "柳科协字〔2026〕5号"
    assert call.document_number == "柳科协字〔2026〕5号"
    assert call.deadline.astimezone(SHANGHAI) == dt.datetime(2026, 3, 31, 17, 0, tzinfo=SHANGHAI)
    assert doc.issuer.name == "柳州市科学技术协会" and doc.issuer.level == "city"


def test_at_most_two_applications_and_joint_rule(doc):
    # R-E3: 同一单位申报项目原则上不超过2个 — “原则上”: a soft limit; R-E4: 不在范围的可联合，联合申报单位数量不超过2个
    assert doc.max_applications_per_unit == 2 and doc.per_unit_limit == "soft"
    joint = doc.defaults.joint
    assert joint.allowed and joint.max_units == 2 and joint.outsiders_only


@pytest.mark.parametrize(("code", "name", "n"), [
    ("2026-1", "学会改革与发展项目", 2),
    ("2026-2", "“龙城科创大讲堂”学术交流项目", 1),
    ("2026-3", "学会资源入柳赋能项目", 2),
    ("2026-4", "博士创新站产才融合项目", 4),
    ("2026-5", "企业（园区）科协提能发展项目", 1),
])
def test_five_types_quotas_and_funding(call, doc, code, name, n):
    # R-C2: 计划立项数量 and 1-2万元/个
    t = doc.project_type(code)
    assert t.name == name
    assert (t.quota.kind, t.quota.n) == ("exactly", n)
    assert (t.funding.kind, t.funding.min, t.funding.max) == ("range", 10000, 20000)
    assert ProjectType.objects.get(call=call, code=code).cap == 20000


def test_type_count_and_forms(call, doc):
    # R-C2: five types, each with its own 附表
    assert [t.code for t in doc.project_types] == ["2026-1", "2026-2", "2026-3", "2026-4", "2026-5"]
    assert call.types.count() == 5
    assert [(f.label, f.code) for f in doc.forms] == [(f"附表{i}", f"F{i}") for i in range(1, 6)]
    assert [t.form for t in doc.project_types] == ["F1", "F2", "F3", "F4", "F5"]


def test_work_summary_limited_to_800_characters(doc):
    # R-F2: 附表1 “(800字内)”
    fields = doc.form_of("2026-1").fields_by_key()
    summary = fields["work_summary"]
    assert summary.max_chars == 800 and summary.kind == "long_text"
    assert summary.label == "学会党建，学会服务创新、服务社会和政府事务、服务科技工作者、自身建设工作总结综述"
    assert fields["secretary_general"].parts == ["name", "phone", "full_time"]  # □专职 □兼职
    opinion = fields["opinion_society"]
    assert (opinion.label, opinion.signer, opinion.stamp_label) == ("学会意见", "学会负责人签名", "单位盖章")


def test_no_other_character_limits(doc):
    # R-F2: the notice prints no other limit (项目名称 has none)
    limited = {(fm.code, f.key) for fm in doc.forms for f in fm.all_fields() if f.max_chars is not None}
    assert limited == {("F1", "work_summary")}


def test_form_fields_per_annex(doc):
    # R-F1: 附表4 has no 计划完成时间 and its signer says 签字; 附表2 has no 实施项目的能力和基础
    f2, f4, f5 = (doc.form_of(code).fields_by_key() for code in ("2026-2", "2026-4", "2026-5"))
    assert "completion" not in f4 and "completion" in f2 and "completion" in f5
    assert "capability" not in f2 and "capability" in f4
    assert f4["opinion_unit"].signer == "单位负责人签字"
    assert f2["opinion_unit"].signer == "单位负责人签名"
    assert f5["content_significance"].label == "项目内容及意义"
    assert f2["project_contact"].parts == ["name", "position", "phone", "wechat"]
    assert f2["plan"].help == "（包含并不仅限于项目要求明确的基本任务）"


def test_disbursement_spending_changes_checks(doc):
    # R-P1 contract first; R-P2 by progress; R-P3 forbidden spending; R-P4 changes; R-P5 spot checks, recovery
    pa = doc.defaults.post_award
    assert pa.contract == "contract"
    assert pa.disbursement.mode == "by_progress"
    assert set(pa.spending.forbidden) == {"fixed_assets", "investment", "donation", "sponsorship", "labour", "rewards"}
    assert pa.spending.travel_max_share is None
    assert "提前向市科协提交变更申请" in pa.change_requests
    assert pa.spot_checks and pa.recovery


def test_filings_and_news(doc):
    # R-P6: 学术交流活动报市科协和市民政局备案; R-P9: news to the funder's site and public account
    (filing,) = doc.defaults.post_award.filings
    assert filing.authorities == ["柳州市科协", "柳州市民政局"]
    assert doc.defaults.post_award.news == ["柳州市科协网站", "柳州市科协公众号"]


def test_acceptance_materials_per_type(doc):
    # R-P7: completion 2026年12月; 2026-5 adds the 专家入企赋能 case study
    for t in doc.project_types:
        assert doc.effective(t, "completion_by") == dt.date(2026, 12, 31)
    codes = {t.code: [m.code for m in doc.effective(t, "acceptance").materials] for t in doc.project_types}
    assert codes["2026-1"] == codes["2026-2"] == ["acceptance_form", "expense_evidence", "news", "summary_report"]
    assert codes["2026-3"] == codes["2026-4"] == ["acceptance_form", "evidence", "news", "summary_report"]
    assert codes["2026-5"] == ["acceptance_form", "case_study", "evidence", "news", "summary_report"]


def test_task_minimums_and_naming(doc):
    # R-C4
    t2 = doc.project_type("2026-2").tasks[0]
    assert {k: int(v) for k, v in t2.minimums.items()} == {"events": 1, "participants": 50}
    assert t2.naming == ["龙城科创大讲堂"]
    joint_event = doc.project_type("2026-1").tasks[1]
    assert {k: int(v) for k, v in joint_event.minimums.items()} == {"events": 1, "societies": 3}


def test_doctoral_station_hosts_of_2025_only(doc):
    # R-E1: 2025年广西壮族自治区博士创新站柳州市各建站单位
    def host(category, year):
        return org_context(doc, category=category, station_approved_year=year)

    assert admitted(doc, "2026-4", host("doctoral_station_host", 2025))
    assert not admitted(doc, "2026-4", host("doctoral_station_host", 2024))
    assert not admitted(doc, "2026-4", host("city_society", 2025))


def test_eligible_categories(doc):
    # R-E1: 2026-1 only the city's societies; 2026-5 only enterprise associations
    society = org_context(doc, category="city_society")
    university = org_context(doc, category="university_association")
    county = org_context(doc, category="county_association")
    assert admitted(doc, "2026-1", society) and not admitted(doc, "2026-1", university)
    assert admitted(doc, "2026-2", university) and admitted(doc, "2026-3", county)
    assert not admitted(doc, "2026-5", society)
    assert admitted(doc, "2026-5", org_context(doc, category="enterprise_association"))


def test_submission_and_contacts(doc):
    # R-C1, R-F4: e-mail + one stamped paper copy, identical; contacts of 学会部
    sub = doc.submission
    assert sub.paper_copies == 1 and sub.stamped and sub.electronic_equals_paper
    assert next(c.target for c in sub.channels if c.kind == "email") == "lzkxxhb@gxi.gov.cn"
    assert [(c.name, c.phone, c.mobile) for c in doc.contacts] == [
        ("李香慧", "0772-2629066", "18276735671"), ("陈彤", "0772-2629066", "17344255505")]


# --- faithfulness (issue 7, item 12) -----------------------------------------------------------------------


def test_expert_visits_are_a_service_not_a_naming_rule(doc):
    # R-C4: “开展“专家入企赋能行动”” (2026-1 (三), 2026-5) names the service asked for; the notice sets no name that
    # events must carry there (it does for “党旗领航·科创强柳—学会专家走基层” and “龙城科创大讲堂”)
    t1 = doc.project_type("2026-1").tasks
    t5 = doc.project_type("2026-5").tasks
    assert [t.naming for t in t1] == [["党旗领航·科创强柳—学会专家走基层"], [], []]
    assert [t.naming for t in t5] == [[]]
    assert not any("专家入企赋能" in n for t in (*t1, *t5) for n in t.naming)


def test_2026_1_task_3_is_the_whole_paragraph(doc):
    # R-C4: （三）开展“赋能企业”服务 goes on past the visits, to the doctoral innovation stations
    text = doc.project_type("2026-1").tasks[2].text
    assert text.startswith("开展“赋能企业”服务。根据学会特点及优势，组织学会专家或科技服务团深入不少于2家企业（园区）")
    assert "申报广西壮族自治区博士创新站等产学研用合作平台，服务青年科技工作者成长成才、服务区域中小企业科技创新，助力经济高质量发展。" in text


def test_the_page_says_in_principle_for_the_soft_limit(client, call):
    # R-E3: the page words the limit as the notice does: “同一单位申报项目原则上不超过2个”
    from django.urls import reverse

    page = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    assert "同一单位申报项目原则上不超过 2 个" in page and "最多不超过" not in page
    assert "名称须含“专家入企赋能”" not in page
