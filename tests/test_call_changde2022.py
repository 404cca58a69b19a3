"""常德市科协 2022 学会服务能力提升计划 (常科协发〔2022〕4号, seeds/004): the call file against the notice.

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
CAPACITY = "能力建设与创新发展"


@pytest.fixture
def call(load_call):
    return load_call("changde2022")


@pytest.fixture
def doc(call):
    return call.document


def unmet(doc, code, ctx):
    """The messages of the type's 申报条件 that do not hold for `ctx`."""
    conditions = doc.effective(doc.project_type(code), "eligibility").conditions or []
    return [c.message for c in conditions if not compile_expression(c.expr).holds(ctx)]


def form_problems(doc, code, form):
    t = doc.project_type(code)
    template = doc.form_for(t)
    ctx = {"form": form, "type": {"code": t.code, "cap": t.funding.cap}, "track": {},
           "call": {"code": doc.code, "year": doc.year}}
    return [c.message for c in template.checks if not compile_expression(c.expr).holds(ctx)]


def test_notice_header_and_date_only_deadline(call, doc):
    # R-C1: document number, publication date; the date-only deadline is the end of 2022-03-31 in Shanghai
    assert doc.document_number == "常科协发〔2022〕4号"
    assert doc.issuer.name == "常德市科学技术协会" and doc.issuer.level == "city"
    assert doc.published_on == dt.date(2022, 3, 8)
    assert call.deadline.astimezone(SHANGHAI) == dt.datetime(2022, 3, 31, 23, 59, 59, tzinfo=SHANGHAI)
    assert doc.deadline_placeholder is False
    assert doc.addressees == "各市级学会，高校科协"


def test_submission_a4_typed_four_copies(doc):
    # R-F4, R-C1: A4 computer print, no handwriting, 一式4份, with an electronic copy
    sub = doc.submission
    assert sub.paper_copies == 4
    assert sub.typed_only is True and sub.paper_size == "A4" and sub.stamped is True
    assert {c.kind for c in sub.channels} == {"in_person", "email"}
    assert next(c.target for c in sub.channels if c.kind == "email") == "cdkx7256979@163.com"
    assert [(c.name, c.phone) for c in doc.contacts] == [("李文庆", "7256979"), ("谢坤", "7256979")]


def test_at_most_three_applications_per_unit(client, call, doc):
    # R-E3: “每个单位申报项目最多不超过3个” — a hard limit, and the page says “最多”, not “原则上”
    from django.urls import reverse

    assert doc.max_applications_per_unit == 3 and doc.per_unit_limit == "hard"
    page = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    assert "每个单位申报项目最多不超过 3 个" in page and "原则上不超过 3 个" not in page


def test_eight_types_two_groups(call, doc):
    # R-C2: 学会党的建设 + 能力建设与创新发展 (seven parts)
    assert len(doc.project_types) == 8 and call.types.count() == 8
    assert [t.name for t in doc.project_types if t.group == CAPACITY] == [
        "重点学会建设", "服务站建设", "承接政府转移职能", "学术交流", "科技服务", "重点与特色科普活动", "“会地”合作",
    ]
    assert doc.project_type("1").group == "学会党的建设"
    assert {t.form for t in doc.project_types if t.group == CAPACITY} == {"F3"}
    assert doc.project_type("1").form == "F2"


@pytest.mark.parametrize(("name", "quota", "funding"), [
    ("学会党的建设", ("exactly", 1, None), ("fixed", 5000, 5000)),          # 1个，0.5万
    ("重点学会建设", ("exactly", 1, None), ("fixed", 5000, 5000)),
    ("服务站建设", ("exactly", 1, None), ("fixed", 20000, 20000)),
    ("承接政府转移职能", ("exactly", 1, None), ("fixed", 10000, 10000)),
    ("学术交流", ("range", 8, 10), ("by_review", None, None)),              # 8-10个，根据层次、规模确定
    ("科技服务", ("range", 2, 3), ("range", 10000, 20000)),                  # 2-3个，1-2万元/个
    ("重点与特色科普活动", ("range", 3, 5), ("range", 10000, 20000)),        # 3-5个，1-2万元/个
    ("“会地”合作", ("exactly", 1, None), ("fixed", 30000, 30000)),
])
def test_quotas_and_funding(call, doc, name, quota, funding):
    # R-C2
    t = doc.project_type_named(name)
    q = t.quota
    assert (q.kind, q.n if q.kind != "range" else q.min, None if q.kind != "range" else q.max) == quota
    f = t.funding
    low = f.amount if f.kind == "fixed" else f.min
    assert (f.kind, low, f.max if f.kind == "range" else low) == funding
    assert ProjectType.objects.get(call=call, code=t.code).cap == funding[2]


def test_party_building_conditions(doc):
    # R-C9: a party branch exists and there is a stable venue
    good = org_context(doc, category="city_society", has_party_branch=True, has_activity_venue=True)
    assert unmet(doc, "1", good) == []
    no_branch = org_context(doc, category="city_society", has_party_branch=False, has_activity_venue=True)
    assert unmet(doc, "1", no_branch) == ["申报条件：已成立学会党支部"]
    assert len(unmet(doc, "1", org_context(doc, category="city_society"))) == 2
    # “申报条件：（2）有相对稳定的办公及党员活动场所” is a condition on the unit, checked once: the form's question
    # “支部活动阵地情况：是否有活动阵地 (是 (否” is asked as printed and does not block submission a second time
    assert not any("has_venue" in c.expr for c in doc.form_of("1").checks)
    form = {"has_venue": "no", "budget_total": 5000, "own_funds": 0, "city_funds": 5000}
    assert form_problems(doc, "1", form) == []
    assert form_problems(doc, "1", form | {"has_venue": "yes"}) == []


def test_key_society_founded_this_year(doc):
    # R-C9: 本年度新成立的市级学会
    def society(founded_year):
        return org_context(doc, category="city_society", founded_year=founded_year)

    assert unmet(doc, "2-1", society(2022)) == []
    assert unmet(doc, "2-1", society(2021)) == ["申报主体须为本年度新成立的市级学会"]
    assert unmet(doc, "2-1", society(0)) != []  # unknown founding date


def test_eligible_categories(doc):
    # R-E1
    def cats(code):
        return {c for g in doc.effective(doc.project_type(code), "eligibility").groups for c in g.categories}

    assert cats("1") == {"city_society"}
    assert cats("2-2") == {"city_society", "university_association"}
    assert cats("2-4") == cats("2-5") == cats("2-6") == {"city_society", "society_union", "university_association"}
    assert cats("2-7") == {"city_society", "society_service_station"}


def test_preferences(doc):
    # R-C9: “优先” facts reviewers see
    assert doc.effective(doc.project_type("2-5"), "eligibility").preferences == [
        "附有与服务单位签订合作协议或合作意向书复印件材料的优先"]
    assert "协议书" in doc.project_type("2-3").eligibility.preferences[0]
    assert "省级学会、全国学会" in doc.project_type("2-7").eligibility.preferences[0]


def test_commitment_names_the_meeting(doc):
    # R-E8: “经____会议研究审议”
    approval = doc.defaults.own_approval
    assert approval.meetings[0].named_by_applicant is True
    assert "经{meeting}会议研究审议" in approval.commitment
    commitment = doc.form_of("2-4").fields_by_key()["commitment"]
    assert commitment.signer == "项目负责人签名"
    assert "经{meeting}会议研究审议" in commitment.text


def test_two_level_funder_review_and_opinion_blocks(doc):
    # R-V3, R-F3: 学会部初审 then 领导审核
    assert doc.review.funder_levels == ["学会部初审", "领导审核"]
    f3 = doc.form_of("2-1").fields_by_key()
    assert (f3["opinion_department"].label, f3["opinion_department"].by, f3["opinion_department"].signer) == (
        "学会部初审意见", "funder_department", "负责人签名")
    assert (f3["opinion_leadership"].label, f3["opinion_leadership"].signer) == ("领导审核意见", "分管领导签名")
    f2 = doc.form_of("1").fields_by_key()
    assert (f2["opinion_department"].label, f2["opinion_leadership"].signer) == ("学会部审查意见", "分管负责人签名")
    assert f2["opinion_unit"].stamp_label == "单位公章" and f2["opinion_unit"].by == "unit_head"


def test_capacity_form_ticks_one_of_seven(doc):
    # R-F1: the 项目类型 tick of 附件3 lists the seven parts; it must match the type applied for
    kind = doc.form_of("2-4").fields_by_key()["project_kind"]
    assert kind.kind == "choice_one"
    assert [o.label for o in kind.options] == [
        "重点学会建设", "服务站建设", "承接转移职能", "学术交流", "科技服务", "重点与特色科普", "会地合作"]
    form = {"project_kind": "academic_exchange", "budget_total": 30000, "own_funds": 10000, "city_funds": 20000}
    assert form_problems(doc, "2-4", form) == []
    assert form_problems(doc, "2-5", form) == ["勾选的项目类型须与所申报的项目类型一致"]


def test_budget_is_own_funds_plus_city_funds_within_the_cap(doc):
    # R-F2: 经费总预算 = 单位自筹 + 市科协“提能计划”项目经费, and the request within the type's amount
    ok = {"project_kind": "tech_service", "budget_total": 25000, "own_funds": 5000, "city_funds": 20000}
    assert form_problems(doc, "2-5", ok) == []
    wrong_sum = ok | {"budget_total": 30000}
    assert form_problems(doc, "2-5", wrong_sum) == ["经费总预算须等于单位自筹经费与市科协“提能计划”项目经费之和"]
    over = ok | {"own_funds": 0, "city_funds": 25000}
    assert form_problems(doc, "2-5", over) == ["申请的市科协“提能计划”项目经费不得超过该类项目的经费额度"]
    fields = doc.form_of("2-5").fields_by_key()
    assert fields["budget_total"].unit == "wan"
    assert [c.label for c in fields["expenses"].columns] == ["序号", "支出项目内容", "金额", "备注"]
    assert fields["expenses"].fixed_first_column == ["1", "2", "3", "4"]


def test_party_form_fields(doc):
    # R-F1, R-F2: 附件2's cover, party-building block and tick boxes
    form = doc.form_of("1")
    assert (form.label, form.title, form.maker) == ("附件2", "学会党建项目申报书", "常德市科学技术协会 制 2022年3月")
    assert [f.label for f in form.cover] == ["申报单位", "项目名称", "申报日期"]
    fields = doc.form_of("1").fields_by_key()
    assert [o.label for o in fields["has_venue"].options] == ["是", "否"]
    assert [o.label for o in fields["three_meetings"].options] == ["正常", "一般"]
    assert fields["party_members"].kind == "integer"
    assert fields["project_lead"].parts == ["name", "professional_title", "mobile"]
    assert [c.label for c in fields["participants"].columns] == [
        "姓名", "学会职务", "专技职称", "在项目中承担的主要工作", "备注"]
    f3 = doc.form_of("2-1")
    assert [f.label for f in f3.cover] == ["项目名称", "申报单位", "申报日期"]
    assert "项目实施主要内容" in [f.label for f in f3.all_fields()]


def test_subcontracting_forbidden_and_task_book(doc):
    # R-E10, R-P1
    for t in doc.project_types:
        assert doc.effective(t, "exclusions").subcontracting_forbidden is True
        assert doc.effective(t, "post_award").contract == "task_book"


def test_joint_application_names_the_lead(doc):
    # R-E4
    assert doc.defaults.joint.names == ["lead"] and doc.defaults.joint.max_units is None


def test_completion_dates(doc):
    # R-C2: 2022年11月30日前完成; 承接政府转移职能 may follow its agreement
    for t in doc.project_types:
        assert doc.effective(t, "completion_by") == dt.date(2022, 11, 30)
    assert "按协议书约定时间完成" in doc.project_type("2-3").completion_text


def test_service_station_and_popular_science_tasks(doc):
    # R-C4: minimums; volunteer teams of 10 (societies) and 50 (university associations)
    station = doc.project_type("2-2")
    assert len(station.tasks) == 7
    assert any(int(t.minimums.get("experts", 0)) == 5 for t in station.tasks)
    assert station.application_materials == ["服务站筹建申请及申报表"]
    science = doc.project_type("2-6")
    volunteers = {tuple(t.categories): int(t.minimums["volunteers"]) for t in science.tasks if "volunteers" in t.minimums}
    assert volunteers == {("city_society",): 10, ("university_association",): 50}
    informants = {tuple(t.categories): int(t.minimums["new_science_informants"])
                  for t in science.tasks if "new_science_informants" in t.minimums}
    assert informants == {("city_society",): 20, ("university_association",): 100}
    events = next(t for t in science.tasks if "key_events" in t.minimums)
    assert (int(events.minimums["key_events"]), int(events.minimums["other_events"])) == (1, 4)


def test_volunteer_platform_is_an_annex_of_popular_science(doc):
    # R-P10: 附件4 is described as a document of type 2-6 (the workflow itself is outside the format)
    (annex,) = doc.annexes
    assert (annex.label, annex.title, annex.types) == ("附件4", "科技科普志愿服务信息平台操作流程", ["2-6"])
    assert "至少提前1天" in annex.note
