"""湖南省科协 2024 科技创新服务能力提升计划 (申报指南 附件2-1, seeds/003): the call file against the guide.

Every expected value below is read off the guide's text, not computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shenbao.calls.models import ProjectType

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUP_1 = "科技创新服务能力建设项目"
GROUP_2 = "学会自身能力建设项目"


@pytest.fixture
def call(load_call):
    return load_call("hunan2024")


@pytest.fixture
def doc(call):
    return call.document


def meeting_kinds(doc, code, lineage):
    """The meetings (E8) the first matching rule names for an applicant of `lineage` (own code + ancestors)."""
    approval = doc.effective(doc.project_type(code), "own_approval")
    for rule in approval.meetings:
        if rule.categories is None or set(rule.categories) & set(lineage):
            return rule.kinds
    return None


def test_issuer_title_and_placeholder_deadline(call, doc):
    # R-C1: issuer, title, year; the guide prints no deadline, so the file marks it as a placeholder
    assert doc.issuer.name == "湖南省科学技术协会"
    assert doc.issuer.level == "province" and doc.issuer.category == "province_association"
    assert doc.title == "2024年度湖南省科协科技创新服务能力提升计划项目申报指南"
    assert doc.year == 2024
    assert doc.document_number == ""
    assert doc.deadline_placeholder is True
    assert call.deadline.astimezone(SHANGHAI) == dt.datetime(2024, 12, 31, 17, 0, tzinfo=SHANGHAI)
    # the management measures the guide cites
    assert any("湘科协通〔2022〕51号" in a.title for a in doc.annexes)


def test_nine_items_in_two_categories(call, doc):
    # R-C2: 三、项目类别 has two categories; 四 lists 5 + 4 items
    assert len(doc.project_types) == 9
    assert call.types.count() == 9
    groups = [t.group for t in doc.project_types]
    assert groups.count(GROUP_1) == 5 and groups.count(GROUP_2) == 4
    assert [t.name for t in doc.project_types if t.group == GROUP_1] == [
        "学术交流", "科技创新联盟建设", "“科创中国”试点城市建设", "“科创中国”湖南中心建设与运营", "学会服务站建设",
    ]
    assert [t.name for t in doc.project_types if t.group == GROUP_2] == [
        "创新工程专业职称评审", "学会制度机制建设", "省级学会网站管理平台", "高校科协交流机制建设",
    ]
    row = call.types.get(code="1-4")
    assert row.group == GROUP_1 and row.kind == "commissioned"


@pytest.mark.parametrize(("name", "kind", "n"), [
    ("学术交流", "about", 10),              # 10个左右
    ("科技创新联盟建设", "exactly", 2),
    ("“科创中国”试点城市建设", "exactly", 2),
    ("“科创中国”湖南中心建设与运营", "exactly", 1),
    ("学会服务站建设", "about", 15),        # 15个左右
    ("创新工程专业职称评审", "exactly", 1),
    ("学会制度机制建设", "exactly", 1),
    ("省级学会网站管理平台", "exactly", 1),
    ("高校科协交流机制建设", "exactly", 1),
])
def test_quotas(doc, name, kind, n):
    # R-C2, R-V2: planned numbers with their kind
    quota = doc.project_type_named(name).quota
    assert (quota.kind, quota.n) == (kind, n)


@pytest.mark.parametrize(("name", "kind", "low", "high"), [
    ("学术交流", "range", 50000, 100000),           # 5—10万元/个
    ("科技创新联盟建设", "range", 100000, 250000),   # 10—25万元/个
    ("“科创中国”试点城市建设", "fixed", 100000, 100000),
    ("“科创中国”湖南中心建设与运营", "fixed", 700000, 700000),
    ("学会服务站建设", "range", 50000, 100000),
    ("创新工程专业职称评审", "fixed", 300000, 300000),
    ("学会制度机制建设", "fixed", 300000, 300000),
    ("省级学会网站管理平台", "fixed", 250000, 250000),
    ("高校科协交流机制建设", "fixed", 100000, 100000),
])
def test_funding_in_yuan(call, doc, name, kind, low, high):
    # R-C2: fixed or range per project, whole yuan
    t = doc.project_type_named(name)
    f = t.funding
    assert f.kind == kind
    if kind == "range":
        assert (f.min, f.max) == (low, high)
    else:
        assert f.amount == low
    assert ProjectType.objects.get(call=call, code=t.code).cap == high


def test_commissioned_and_continued_items_name_their_applicant(doc):
    # R-C7: 定向委托 / 连续支持 name the only applicant
    named = {t.name: [(a.name, a.basis) for a in t.named_applicants] for t in doc.project_types}
    assert named["“科创中国”湖南中心建设与运营"] == [("湖南省企业科协联合会", "continued")]
    assert doc.project_type_named("“科创中国”湖南中心建设与运营").kind == "commissioned"  # 定向委托，连续支持
    assert named["创新工程专业职称评审"] == [("湖南省企业科协联合会", "commissioned")]
    assert named["学会制度机制建设"] == [("湖南省自然科学学会研究会", "commissioned")]
    assert named["省级学会网站管理平台"] == [("湖南科技传媒集团有限责任公司", "commissioned")]
    assert named["高校科协交流机制建设"] == [("中南大学科协", "commissioned")]
    assert named["“科创中国”试点城市建设"] == [("衡阳市科协", "continued"), ("岳阳市科协", "named")]
    assert doc.project_type_named("科技创新联盟建设").kind == "continued"
    assert all(a.basis == "continued" for a in doc.project_type_named("科技创新联盟建设").named_applicants)
    # the open items name nobody
    assert named["学术交流"] == [] and named["学会服务站建设"] == []
    assert sum(1 for t in doc.project_types if t.kind == "commissioned") == 5


def test_open_items_list_their_categories(doc):
    # R-E1: 申报主体 per item
    def cats(code):
        groups = doc.effective(doc.project_type(code), "eligibility").groups
        return sorted(c for g in groups for c in g.categories)

    assert cats("1-1") == sorted(["province_society", "university_association", "enterprise_association",
                                  "non_profit"])
    assert cats("1-5") == sorted(["province_society", "city_association"])
    assert cats("1-2") == ["alliance_lead"]
    assert cats("1-3") == ["city_association"]
    assert "city_association" not in cats("1-1")  # 市州科协 may not apply for 学术交流


def test_no_repeat_within_two_years_except_continued_and_commissioned(doc):
    # R-E6 and R-E10: the exclusions hold for every item
    for t in doc.project_types:
        ex = doc.effective(t, "exclusions")
        assert ex.repeat_years == 2
        assert set(ex.repeat_exempt) == {"continued", "commissioned"}
        assert ex.subcontracting_forbidden is True
        assert ex.ban_years == 3


def test_own_approval_meeting_per_category(doc):
    # R-E8: 理事会/常务理事会, 党组会议/常委会议, 常委会议, 企业管理层会议/企业科协常委会议, 单位专题会议
    assert meeting_kinds(doc, "1-1", ["province_society", "society"]) == ["理事会", "常务理事会"]
    assert meeting_kinds(doc, "1-5", ["city_association"]) == ["党组会议", "常委会议"]
    assert meeting_kinds(doc, "1-3", ["pilot_city_association", "city_association"]) == ["党组会议", "常委会议"]
    assert meeting_kinds(doc, "1-1", ["university_association"]) == ["常委会议"]
    assert meeting_kinds(doc, "1-1", ["enterprise_association"]) == ["企业管理层会议", "企业科协常委会议"]
    assert meeting_kinds(doc, "1-1", ["non_profit"]) == ["单位专题会议"]
    assert "{meeting}" in doc.defaults.own_approval.commitment


def test_enterprise_associations_and_others_go_through_the_city_association_with_finance(doc):
    # R-E9
    routes = doc.effective(doc.project_type("1-1"), "routing")
    assert len(routes) == 1
    route = routes[0]
    assert route.by == "home_association" and route.with_finance is True
    assert {"enterprise_association", "non_profit", "other_unit"} <= set(route.categories)
    for direct in ("province_society", "city_association", "university_association"):
        assert direct not in route.categories


def test_joint_applications_name_lead_and_participants(doc):
    # R-E4: “两个以上单位联合申报的项目须注明牵头、参与单位”: no maximum
    joint = doc.defaults.joint
    assert joint.allowed and joint.max_units is None
    assert joint.names == ["lead", "participants"]
    form = doc.form_of("1-1")
    table = next(f for f in form.all_fields() if f.key == "joint_units")
    assert [c.label for c in table.columns] == ["单位名称", "牵头或参与"]


def test_third_party_review_confirmed_by_funder_and_finance(doc):
    # R-V1
    assert doc.review.by == "third_party"
    assert doc.review.third_party == "湖南省自然科学学会研究会"
    assert doc.review.confirm_by == ["湖南省科学技术协会", "湖南省财政厅"]
    assert doc.review.public_notice is True


def test_submission_three_paper_copies_and_email(doc):
    # R-C1: paper copies 一式3份 + e-mail; contacts and address
    sub = doc.submission
    assert sub.paper_copies == 3
    assert {c.kind: c.target for c in sub.channels} == {
        "post": "长沙市东风路17号湖南省自然科学学会研究会（省科协办公楼204室），邮编：410005",
        "email": "hnkxxhb@126.com",
    }
    (contact,) = doc.contacts
    assert (contact.name, contact.phone, contact.mobile) == ("杨青", "0731-85821051", "13875958029")
    assert contact.postcode == "410005"


def test_completion_by_end_of_2024(doc):
    # R-C2: “原则上应于2024年12月底前完成”
    for t in doc.project_types:
        assert doc.effective(t, "completion_by") == dt.date(2024, 12, 31)


def test_tracks_and_service_station_minimums(call, doc):
    # R-C3, R-C4: 学术交流 has two contents; the rural service station has measurable minimums
    assert [tr.name for tr in doc.project_type("1-1").tracks] == ["高端学术活动", "发布学术发展蓝皮书"]
    station = doc.project_type("1-5")
    rural = next(t for t in station.tasks if t.text.startswith("服务乡村振兴的学会服务站主要任务是"))
    minimums = {k: int(v) for k, v in rural.minimums.items()}
    assert minimums == {"experts": 10, "online_services": 10, "offline_events": 3}


def test_service_station_focuses_are_priorities_not_tracks(call, doc):
    # R-C3, R-C9: “重点支持服务乡村振兴、服务企业科技创新服务站建设” — what the funder favours, not a 申报类型 to tick
    station = doc.project_type("1-5")
    assert station.tracks == [] and call.types.get(code="1-5").tracks.count() == 0
    assert station.eligibility.preferences == ["重点支持服务乡村振兴、服务企业科技创新服务站建设"]
    assert "申报类型" not in [f.label for f in doc.form_of("1-5").all_fields()]
    assert [t.text[:14] for t in station.tasks] == ["服务乡村振兴的学会服务站主要", "服务企业创新创业的学会服务站"]


def test_only_hengyang_is_continued_in_1_3(doc, load_call, make_org):
    # R-C7, R-E6: “申报主体：衡阳市科协（连续支持）、岳阳市科协” — 衡阳 may repeat supported content, 岳阳 may not
    import datetime as dt_

    from shenbao.applications.eligibility import check
    from shenbao.projects import services as project_services

    call = load_call("hunan2024")
    t = doc.project_type("1-3")
    assert t.kind == "standard"
    assert [(a.name, a.basis) for a in t.named_applicants] == [("衡阳市科协", "continued"), ("岳阳市科协", "named")]
    when = dt_.datetime(2024, 6, 1, 10, 0, tzinfo=SHANGHAI)
    title, content = "试点城市建设", "继续高质量推进“科创中国”试点城市建设，将更多科技创新资源集成引入，“智慧赋能”重点产业。"
    verdicts = {}
    for name in ("衡阳市科学技术协会", "岳阳市科学技术协会"):
        unit = make_org(name, "city_association", parent=call.issuer)
        project_services.record_project(applicant=unit, programme=call.programme_code, funder=call.issuer,
                                        title=title, content=content, year=2023)
        verdicts[name[:2]] = check(org=unit, call=call, project_type="1-3", at=when, title=title, content=content)
    assert verdicts["衡阳"].ok and verdicts["衡阳"].notes[0].detail["exempt"] == "continued"
    assert verdicts["岳阳"].codes == ["repeat"]


def test_subcontracting_is_called_by_its_name_and_the_forms_are_flagged(client, call):
    # R-E10: “严禁项目转包” — the page says 转包, not 分包; R-F1: 《项目申报书》 is downloaded from the issuer's site
    # (“在网站“通知通告”栏中下载项目申报书”), so the forms offered here are not the notice's and say so
    from django.urls import reverse

    page = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    assert "分包" not in page and "严禁转包" in page
    assert call.document.forms and all(f.not_in_notice for f in call.document.forms)
    assert page.count("通知未附此表：本表由平台按通知要求拟定，请以主办方发布的表格为准。") == len(call.document.project_types)


def test_form_follows_the_recurring_blocks(doc):
    # R-F1: the form is not in the seed; its fields are R-F1's blocks, with the track tick where there are tracks
    with_tracks = doc.form_of("1-1")
    plain = doc.form_of("2-1")
    labels = [f.label for f in with_tracks.all_fields()]
    for label in ("项目名称", "申报类型", "项目承担单位", "联系地址", "项目负责人", "项目联系人", "计划完成时间",
                  "目标及预期成果", "实施方案", "经费预算和配套经费来源", "实施项目的能力和基础"):
        assert label in labels
    assert "申报类型" not in [f.label for f in plain.all_fields()]
    fields = {f.key: f for f in with_tracks.all_fields()}
    assert fields["track"].options_from == "tracks"
    assert fields["project_contact"].parts == ["name", "position", "phone", "wechat"]
    assert fields["plan"].may_attach  # 可添加附页
    opinion = fields["opinion_unit"]
    assert opinion.by == "applicant" and opinion.stamp and "{meeting}" in opinion.text
    assert fields["opinion_home"].by == "home_association"


def test_placeholder_deadline_is_marked_as_provisional(call, client):  # R-C1: the notice gives no deadline
    portal = client.get("/").content.decode()
    page = client.get(f"/calls/{call.code}/").content.decode()
    assert "通知未写明截止时间，此为暂定时间，以主办方公布为准" in page
    assert "（暂定）" in portal
