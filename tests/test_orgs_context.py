"""The CEL `org` map (eligibility_context), dated attributes and the organisation tree."""

from __future__ import annotations

import datetime as dt

import pytest

from shenbao.core.expressions import compile_expression
from shenbao.orgs import selectors, services
from shenbao.orgs.models import AttributeDef, OrgAttribute, Role

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py
D = dt.date


@pytest.fixture
def tree(make_org):
    gx = make_org("广西壮族自治区科学技术协会", "province_association", code=None, region="广西壮族自治区")
    lz = make_org("柳州市科学技术协会", "city_association", gx, code=None, region="广西壮族自治区柳州市")
    yf = make_org("柳州市鱼峰区科学技术协会", "county_association", lz, code=None)
    society = make_org("柳州市机械工程学会", "city_society", lz)
    return {"gx": gx, "lz": lz, "yf": yf, "society": society}


def test_context_has_exactly_the_documented_keys(tree):
    ctx = selectors.eligibility_context(tree["society"], on=D(2026, 3, 1))
    assert set(ctx) == {"name", "category", "categories", "region", "parent", "attrs", "max", "ever", "yearly",
                        "founded_year"}
    assert ctx["name"] == "柳州市机械工程学会"
    assert ctx["category"] == "city_society"
    assert ctx["categories"] == ["city_society", "society"]  # R-E1: own code, then ancestors
    assert ctx["parent"] == "柳州市科学技术协会"
    assert ctx["region"] == "广西壮族自治区柳州市"  # inherited from its association
    assert ctx["founded_year"] == 0


def test_every_catalogue_attribute_is_present_with_its_default(tree):
    ctx = selectors.eligibility_context(tree["society"], on=D(2026, 3, 1))
    keys = set(AttributeDef.objects.values_list("key", flat=True))
    assert set(ctx["attrs"]) == keys
    assert ctx["attrs"]["society_grade"] == 0
    assert ctx["attrs"]["first_class_candidate"] is False
    assert ctx["attrs"]["has_party_branch"] is False
    assert ctx["attrs"]["station_approved_year"] == 0
    assert ctx["attrs"]["station_batch"] == ""
    assert ctx["attrs"]["rating"] == ""  # no default in the catalogue: an empty value of its kind, not null
    assert ctx["max"]["society_grade"] == 0
    assert ctx["ever"]["society_grade"] == []
    assert ctx["yearly"]["rating"] == {}


def test_grade_now_and_highest_ever(tree):
    # R-E2: 3A in 2019–2022, 2A now → current 2, highest 3
    org = tree["society"]
    OrgAttribute.objects.create(organisation=org, key="society_grade", value=3, valid_from=D(2019, 1, 1),
                                valid_to=D(2022, 12, 31))
    OrgAttribute.objects.create(organisation=org, key="society_grade", value=2, valid_from=D(2023, 1, 1))
    ctx = selectors.eligibility_context(org, on=D(2026, 3, 1))
    assert ctx["attrs"]["society_grade"] == 2
    assert ctx["max"]["society_grade"] == 3
    assert ctx["ever"]["society_grade"] == [3, 2]
    # as of a day in 2021 the society held 3A and nothing later had happened yet
    past = selectors.eligibility_context(org, on=D(2021, 6, 1))
    assert past["attrs"]["society_grade"] == 3
    assert past["ever"]["society_grade"] == [3]
    # before 2019 it held nothing
    assert selectors.eligibility_context(org, on=D(2018, 6, 1))["attrs"]["society_grade"] == 0


def test_yearly_rating_by_year(tree):
    org = tree["society"]
    OrgAttribute.objects.create(organisation=org, key="rating", value="B", year=2024)
    OrgAttribute.objects.create(organisation=org, key="rating", value="A", year=2025)
    ctx = selectors.eligibility_context(org, on=D(2026, 3, 1))
    assert ctx["yearly"]["rating"] == {"2024": "B", "2025": "A"}
    assert ctx["attrs"]["rating"] == "A"  # the latest year
    assert ctx["ever"]["rating"] == ["B", "A"]
    # in 2024 the 2025 rating did not exist yet
    assert selectors.eligibility_context(org, on=D(2024, 12, 1))["yearly"]["rating"] == {"2024": "B"}


def test_founded_year_from_founded_on(tree):
    OrgAttribute.objects.create(organisation=tree["society"], key="founded_on", value="2026-01-10")
    assert selectors.eligibility_context(tree["society"], on=D(2026, 3, 1))["founded_year"] == 2026


def test_context_works_in_cel(tree):
    # R-E2: the example of the contract, evaluated by the CEL engine on the real context
    org = tree["society"]
    expr = compile_expression(
        'org.max.society_grade >= 3 || ("2025" in org.yearly.rating && org.yearly.rating["2025"] in ["A", "B"])'
    )
    call = {"code": "x", "year": 2026}
    assert not expr.holds({"org": selectors.eligibility_context(org, on=D(2026, 3, 1)), "call": call})
    OrgAttribute.objects.create(organisation=org, key="rating", value="B", year=2025)
    assert expr.holds({"org": selectors.eligibility_context(org, on=D(2026, 3, 1)), "call": call})
    OrgAttribute.objects.all().delete()
    OrgAttribute.objects.create(organisation=org, key="society_grade", value=3, valid_from=D(2019, 1, 1),
                                valid_to=D(2022, 12, 31))
    assert expr.holds({"org": selectors.eligibility_context(org, on=D(2026, 3, 1)), "call": call})
    assert compile_expression('"society" in org.categories').holds(
        {"org": selectors.eligibility_context(org), "call": call})


def test_is_within(tree):
    assert selectors.is_within(tree["society"], tree["lz"])
    assert selectors.is_within(tree["society"], tree["gx"])
    assert selectors.is_within(tree["yf"], tree["gx"])
    assert not selectors.is_within(tree["lz"], tree["society"])
    assert not selectors.is_within(tree["lz"], tree["lz"])
    assert not selectors.is_within(tree["society"], tree["yf"])
    # the ancestor's id is enough (eligibility passes the call's issuer_id: its row is not read)
    assert selectors.is_within(tree["society"], tree["gx"].pk)
    assert not selectors.is_within(tree["lz"], tree["lz"].pk)
    assert not selectors.is_within(tree["society"], tree["yf"].pk)


def test_record_attribute_closes_the_previous_grade(tree, make_user):
    funder = make_user("lz_funder", tree["lz"], roles=(Role.FUNDER_STAFF,))
    org = tree["society"]
    services.record_attribute(actor=funder, org=org, key="society_grade", value="3A", valid_from=D(2019, 1, 1))
    services.record_attribute(actor=funder, org=org, key="society_grade", value="2a", valid_from=D(2023, 1, 1))
    services.record_attribute(actor=funder, org=org, key="rating", value="a", year=2025)
    services.record_attribute(actor=funder, org=org, key="rating", value="B", year=2025)  # a correction
    first = OrgAttribute.objects.get(organisation=org, key="society_grade", value=3)
    assert first.valid_to == D(2022, 12, 31)
    ctx = selectors.eligibility_context(org, on=D(2026, 3, 1))
    assert ctx["attrs"]["society_grade"] == 2 and ctx["max"]["society_grade"] == 3
    assert ctx["yearly"]["rating"] == {"2025": "B"}
    from shenbao.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="org.attribute_record", object_id=str(org.pk)).count() == 4


def test_record_attribute_refuses_bad_values_and_outsiders(tree, make_user):
    from django.core.exceptions import ValidationError

    from shenbao.core.decisions import NotAllowed

    funder = make_user("lz_funder", tree["lz"], roles=(Role.FUNDER_STAFF,))
    clerk = make_user("clerk", tree["society"], roles=(Role.APPLICANT_CLERK,))
    with pytest.raises(ValidationError, match="等级"):
        services.record_attribute(actor=funder, org=tree["society"], key="society_grade", value="很好")
    with pytest.raises(ValidationError, match="A、B、C、D"):
        services.record_attribute(actor=funder, org=tree["society"], key="rating", value="E", year=2025)
    with pytest.raises(ValidationError, match="年度"):
        services.record_attribute(actor=funder, org=tree["society"], key="rating", value="A")
    with pytest.raises(NotAllowed, match="主办方业务人员"):
        services.record_attribute(actor=clerk, org=tree["society"], key="society_grade", value=3)
    # funder staff of a county association cannot record for a unit of the city association
    yf_funder = make_user("yf_funder", tree["yf"], roles=(Role.FUNDER_STAFF,))
    with pytest.raises(NotAllowed):
        services.record_attribute(actor=yf_funder, org=tree["society"], key="society_grade", value=3)
    assert not OrgAttribute.objects.exists()


def test_unit_page_records_an_attribute(tree, make_user, client):
    funder = make_user("lz_funder", tree["lz"], roles=(Role.FUNDER_STAFF,))
    client.force_login(funder)
    url = f"/accounts/units/{tree['society'].pk}/"
    r = client.post(url, {"key": "society_grade", "value": "3A", "valid_from": "2019-01-01", "note": "桂科协发〔2019〕1号"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert "3A" in page and "桂科协发〔2019〕1号" in page
    r = client.post(url, {"key": "rating", "value": "A"})  # missing year: the message beside the field
    assert "该属性按年度评定，请填写年度" in r.content.decode()
    assert OrgAttribute.objects.filter(key="rating").count() == 0
    # a clerk of the unit sees its page but cannot record
    clerk = make_user("clerk", tree["society"], roles=(Role.APPLICANT_CLERK,))
    client.force_login(clerk)
    assert client.get(url).status_code == 200
    r = client.post(url, {"key": "society_grade", "value": "5A"})
    assert r.status_code == 403 and "主办方业务人员" in r.content.decode()
