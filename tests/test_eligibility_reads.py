"""Eligibility reads each fact of the unit once, and only when a rule needs it (issue 6: fewer statements per
step): the unit's attributes for a CEL expression, the category names for a refusal's words, the unit's
applications from the list the 可申报项目 page read, the participants the caller gives. The verdicts are the
ones the rules give when everything is read up front."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shenbao.applications.eligibility import check, eligible_offers
from shenbao.applications.models import Application, ApplicationParticipant
from shenbao.calls import services as call_services
from shenbao.orgs.models import OrgAttribute
from shenbao.orgs.selectors import unit_with_lineage
from tests.conftest import CALLS
from tests.journey_support import reopen, unit

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def statements(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, [q["sql"] for q in ctx.captured_queries]


def test_the_attributes_are_read_for_an_expression_and_only_then(load_call, make_org):
    liuzhou = load_call("liuzhou2026")
    society = make_org("柳州市读取学会", "city_society", parent=liuzhou.issuer)
    # 2026-2 lists city societies without a condition: no expression, no attribute read  # R-E1
    verdict, sql = statements(lambda: check(org=society, call=liuzhou, project_type="2026-2",
                                            at=at(2026, 3, 20, 10, 0)))
    assert verdict.ok
    assert not [s for s in sql if "orgs_attributedef" in s or "orgs_orgattribute" in s]

    # 常德's conditions are expressions on the unit's attributes: read, and read afresh by the next check
    changde = load_call("changde2022")
    bare = make_org("常德市读取学会", "city_society", parent=changde.issuer)
    verdict, sql = statements(lambda: check(org=bare, call=changde, project_type="1", at=at(2022, 3, 20, 9, 0)))
    assert verdict.codes == ["condition", "condition"]  # R-C9
    assert [s for s in sql if "orgs_attributedef" in s] and [s for s in sql if "orgs_orgattribute" in s]
    for key in ("has_party_branch", "has_activity_venue"):
        OrgAttribute.objects.create(organisation=bare, key=key, value=True, valid_from=dt.date(2019, 7, 1))
    assert check(org=bare, call=changde, project_type="1", at=at(2022, 3, 20, 9, 0)).ok  # R-C9


def test_a_group_without_a_label_is_named_from_the_catalogue_when_it_refuses(catalogue, make_org):  # R-E1
    text = (CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8").replace(
        "- {categories: [city_society], label: 柳州市科协所属学会（协会）}", "- {categories: [city_society]}", 1)
    call = call_services.load_call(text=text, filename="liuzhou-unlabelled.yaml", publish=True).call
    ptype = next(t for t in call.document.project_types
                 if t.eligibility and t.eligibility.groups and not t.eligibility.groups[0].label)
    university = make_org("柳州某某大学科协", "university_association", parent=call.issuer)
    verdict = check(org=university, call=call, project_type=ptype.code, at=at(2026, 3, 20, 10, 0))
    assert verdict.codes == ["category"]
    assert verdict.reasons[0].message.startswith("本类型限市级学会申报，贵单位类别为高校科协")
    # a unit the group lists is told nothing: the names are not read
    society = make_org("柳州市名称学会", "city_society", parent=call.issuer)
    verdict, sql = statements(lambda: check(org=society, call=call, project_type=ptype.code,
                                            at=at(2026, 3, 20, 10, 0)))
    assert verdict.ok
    assert not [s for s in sql if 'FROM "orgs_category" ORDER BY' in s]


def test_the_participants_given_are_the_ones_checked_else_the_applications(load_call, make_org):  # R-E4
    call = load_call("liuzhou2026")
    when = at(2026, 3, 20, 10, 0)
    lead = make_org("柳州市联合学会", "city_society", parent=call.issuer)
    company = make_org("柳州某某联合有限公司", "enterprise")
    second = make_org("柳州某某第二有限公司", "enterprise")
    app = Application.objects.create(call=call, project_type=call.types.get(code="2026-2"), applicant=lead,
                                     title="联合申报")
    for i, org in enumerate((company, second), start=1):
        ApplicationParticipant.objects.create(application=app, organisation=org, order=i)
    # not given: the application's participants (three units where two at most may apply)
    assert check(org=lead, call=call, project_type="2026-2", at=when, application=app).codes == ["joint"]
    # given: those (the submission passes the participants it has read; an empty list is none)
    assert check(org=lead, call=call, project_type="2026-2", at=when, application=app, participants=[]).ok
    assert check(org=lead, call=call, project_type="2026-2", at=when, application=app,
                 participants=[company]).ok
    verdict = check(org=lead, call=call, project_type="2026-2", at=when, application=app,
                    participants=[company, second])
    assert verdict.codes == ["joint"]


def test_the_offers_count_the_applications_the_page_read_as_the_check_does(load_call, make_org):  # R-E3
    call = load_call("changde2022")
    when = at(2022, 3, 20, 9, 0)
    society = make_org("常德市计数学会", "city_society", parent=call.issuer)
    for code in ("2-3", "2-4", "2-5"):
        Application.objects.create(call=call, project_type=call.types.get(code=code), applicant=society,
                                   status=Application.Status.SUBMITTED, title=code)
    Application.objects.create(call=call, project_type=call.types.get(code="2-7"), applicant=society,
                               status=Application.Status.DISCARDED, title="放弃")
    org = unit_with_lineage(society.pk)
    own = list(Application.objects.filter(applicant=org).exclude(status="discarded"))  # as the page reads them
    given = eligible_offers(org=org, at=when, applications=own)
    read = eligible_offers(org=org, at=when)
    assert [(o.project_type.code, o.verdict) for o in given] == [(o.project_type.code, o.verdict) for o in read]
    assert any("quota_per_unit" in o.verdict.codes for o in given)
    assert given and all(o.verdict == check(org=org, call=call, project_type=o.project_type.code, at=when)
                         for o in given)


def test_the_unit_is_read_with_its_lineage_and_parents_in_one_query(load_call, make_org):
    call = load_call("liuzhou2026")
    society = make_org("柳州市一次学会", "city_society", parent=call.issuer)
    org, sql = statements(lambda: unit_with_lineage(society.pk))
    assert len(sql) == 1
    _, sql = statements(lambda: (org.category.lineage(), org.parent.name, org.parent.parent))
    assert sql == []
    assert org.category.lineage() == ["city_society", "society"]
    assert unit_with_lineage(None) is None


@pytest.mark.usefixtures("media")
def test_a_type_with_tracks_is_started_with_one_of_them(client, load_call, make_org, make_user):
    call = reopen(load_call("guangxi2026"))
    _org, clerk, _head = unit(make_org, make_user, name="广西某某三星学会", category="province_society",
                              parent=call.issuer, prefix="tr", attrs=[
                                  {"key": "society_grade", "value": 3, "valid_from": dt.date(2020, 1, 1)}])
    client.force_login(clerk)
    ptype = call.types.get(code="2026-1")
    assert ptype.tracks.filter(retired=False).exists()
    r = client.post(reverse("applications:create"), {"project_type": ptype.pk})
    assert r.status_code == 302 and r["Location"] == reverse("applications:offers")
    assert not Application.objects.filter(applicant__name="广西某某三星学会").exists()
    r = client.post(reverse("applications:create"), {"project_type": ptype.pk, "track": "lecture"})
    app = Application.objects.get(applicant__name="广西某某三星学会")
    assert r.status_code == 302 and r["Location"] == reverse("applications:edit", args=[app.pk])
    assert app.track.code == "lecture"


@pytest.mark.usefixtures("media")
def test_the_dashboard_checks_every_draft_with_the_units_facts_read_once(load_call, make_org, make_user):
    from shenbao.applications import selectors
    from tests.journey_support import filled_draft

    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市草稿学会", category="city_society",
                              parent=call.issuer, prefix="dr")
    filled_draft(clerk, call, "2026-2")
    apps = list(selectors.for_user(clerk))
    blocked, one = statements(lambda: selectors.unsubmittable(apps, clerk))
    assert blocked == {}
    for code in ("2026-1", "2026-3"):
        filled_draft(clerk, call, code)
    apps = list(selectors.for_user(clerk))
    blocked, three = statements(lambda: selectors.unsubmittable(apps, clerk))
    assert blocked == {} and len(apps) == 3
    assert len(three) == len(one) <= 3  # the unit with its lineage, its bars, its applications (R-E3)
    # the verdicts are the checks' own (R-E1: a unit no longer in the listed categories is told why)
    from shenbao.orgs.models import Category

    clerk.organisation.category = Category.objects.get(code="enterprise")
    clerk.organisation.save()
    blocked = selectors.unsubmittable(list(selectors.for_user(clerk)), clerk)
    assert set(blocked) == {a.pk for a in apps}
    assert all("category" in [r.code for r in reasons] for reasons in blocked.values())


@pytest.mark.usefixtures("media")
def test_the_api_lists_each_types_open_tracks_from_the_offers_read(client, load_call, make_org, make_user):
    call = reopen(load_call("guangxi2026"))
    _org, clerk, _head = unit(make_org, make_user, name="广西某某接口学会", category="province_society",
                              parent=call.issuer, prefix="ap")
    client.force_login(clerk)
    response, sql = statements(lambda: client.get("/api/v1/applications/eligible"))
    offers = {o["type_code"]: o for o in response.json() if o["call"] == call.code}
    assert [t["code"] for t in offers["2026-1"]["tracks"]] == ["lecture", "service"]
    assert [t["code"] for t in offers["2026-5"]["tracks"]] == ["exchange", "demonstration"]
    assert len([s for s in sql if 'FROM "calls_track"' in s]) == 1  # once for all types, not once per type


@pytest.mark.usefixtures("media")
def test_the_start_page_gives_the_types_verdict_then_leads_to_the_draft(client, load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市开始学会", category="city_society",
                              parent=call.issuer, prefix="st")
    client.force_login(clerk)
    ptype = call.types.get(code="2026-2")
    page = client.get(reverse("applications:start", args=[ptype.pk]))
    assert page.status_code == 200 and "可以申报" in page.content.decode()
    refused = client.get(reverse("applications:start", args=[call.types.get(code="2026-5").pk])).content.decode()
    assert "不能申报" in refused  # R-E1: a city society is not among 2026-5's applicants
    client.post(reverse("applications:create"), {"project_type": ptype.pk})
    draft = Application.objects.get(applicant__name="柳州市开始学会")
    r = client.get(reverse("applications:start", args=[ptype.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("applications:edit", args=[draft.pk])
