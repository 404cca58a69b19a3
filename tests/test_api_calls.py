"""GET /api/v1/calls and /api/v1/calls/{id}: published calls with their types, tracks, quotas and money."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import override_settings

from shenbao.calls import services
from tests.test_portal import EXISTING, set_dates, variant

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def liuzhou(load_call):
    return load_call("liuzhou2026")


def test_list_returns_published_calls(client, liuzhou):
    hidden = variant(liuzhou, code="lz-draft", publish=False)
    response = client.get("/api/v1/calls")
    assert response.status_code == 200
    body = response.json()
    codes = [c["code"] for c in body]
    assert liuzhou.code in codes and hidden.code not in codes
    item = next(c for c in body if c["code"] == liuzhou.code)
    doc = liuzhou.document
    assert item["id"] == liuzhou.pk
    assert item["title"] == doc.title and item["document_number"] == doc.document_number
    assert item["issuer"]["name"] == doc.issuer.name and item["issuer"]["level"] == doc.issuer.level
    assert item["year"] == doc.year and item["programme"] == doc.programme
    assert item["phase"] == liuzhou.phase
    assert item["url"] == f"/calls/{liuzhou.code}/"


def test_list_filters_by_issuer_and_phase(client, liuzhou):
    open_call = set_dates(liuzhou, deadline=dt.timedelta(days=3))
    closed = set_dates(variant(liuzhou, code="lz-closed"), deadline=-dt.timedelta(days=3))
    other = set_dates(variant(liuzhou, code="gl-open", issuer="桂林市科学技术协会"), deadline=dt.timedelta(days=9))
    upcoming = set_dates(variant(liuzhou, code="lz-upcoming"), opens=dt.timedelta(days=1),
                         deadline=dt.timedelta(days=20))

    def codes(**params):
        response = client.get("/api/v1/calls", params)
        assert response.status_code == 200
        return {c["code"] for c in response.json()}

    assert codes(phase="open") == {open_call.code, other.code}
    assert codes(phase="closed") == {closed.code}
    assert codes(phase="upcoming") == {upcoming.code}
    assert codes(issuer="桂林市科学技术协会") == {other.code}
    assert codes(issuer="柳州市科协", phase="open") == {open_call.code}  # the short name works too
    assert client.get("/api/v1/calls", {"phase": "someday"}).status_code == 422


@pytest.mark.parametrize("name", EXISTING)
def test_detail_has_the_types_of_the_file(client, load_call, name):  # R-C1, R-C2, R-C3
    call = load_call(name)
    doc = call.document
    for key in (call.pk, call.code):
        response = client.get(f"/api/v1/calls/{key}")
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == doc.code and body["addressees"] == doc.addressees
        assert [t["code"] for t in body["project_types"]] == [t.code for t in doc.project_types]
    for t, out in zip(doc.project_types, body["project_types"], strict=True):
        assert out["name"] == t.name and out["group"] == t.group and out["kind"] == t.kind
        assert out["form"] == t.form
        if t.quota:
            assert out["quota"] == {"kind": t.quota.kind, "n": t.quota.n, "min": t.quota.min, "max": t.quota.max,
                                    "text": t.quota.text()}
        else:
            assert out["quota"] is None
        if t.funding:
            f = t.funding
            assert (out["funding"]["kind"], out["funding"]["amount"], out["funding"]["min"], out["funding"]["max"],
                    out["funding"]["total"]) == (f.kind, f.amount, f.min, f.max, f.total)
            assert out["funding"]["cap"] == f.cap and out["funding"]["text"] == f.text()
        assert [tr["code"] for tr in out["tracks"]] == [tr.code for tr in t.tracks]
        for tr, tr_out in zip(t.tracks, out["tracks"], strict=True):
            assert tr_out["name"] == tr.name
            assert (tr_out["quota"] or {}).get("n") == (tr.quota.n if tr.quota else None)
            own = tr.funding or t.funding
            assert (tr_out["funding"] or {}).get("cap") == (own.cap if own else None)
        elig = doc.effective(t, "eligibility")
        expected = []
        for g in (elig.groups if elig and elig.groups else []):
            expected.extend(c for c in g.categories if c not in expected)
        assert out["eligible_categories"] == expected
        completion = doc.effective(t, "completion_by")
        assert out["completion_by"] == (completion.isoformat() if completion else None)
        assert out["named_applicants"] == [a.name for a in t.named_applicants]


def test_liuzhou_money_is_in_yuan_with_the_notices_text(client, liuzhou):  # R-C2
    body = client.get(f"/api/v1/calls/{liuzhou.code}").json()
    t1 = body["project_types"][0]
    assert t1["funding"]["min"] == 10000 and t1["funding"]["max"] == 20000
    assert t1["funding"]["text"] == "1—2万元/个"
    assert t1["quota"]["kind"] == "exactly" and t1["quota"]["n"] == 2
    assert t1["eligible_categories"] == ["city_society"]
    assert t1["completion_by"] == "2026-12-31"


@pytest.mark.parametrize("server_zone", ["Asia/Shanghai", "UTC", "America/Los_Angeles"])
def test_deadline_is_iso_8601_in_shanghai_time(client, liuzhou, server_zone):  # R-C1
    expected = liuzhou.document.deadline.astimezone(SHANGHAI).isoformat()
    assert expected == "2026-03-31T17:00:00+08:00"
    with override_settings(TIME_ZONE=server_zone):
        detail = client.get(f"/api/v1/calls/{liuzhou.code}").json()
        listed = client.get("/api/v1/calls").json()
    assert detail["deadline"] == expected
    assert next(c for c in listed if c["code"] == liuzhou.code)["deadline"] == expected


def test_opens_at_is_shanghai_time_too(client, liuzhou):
    upcoming = set_dates(liuzhou, opens=dt.timedelta(days=1), deadline=dt.timedelta(days=10))
    with override_settings(TIME_ZONE="UTC"):
        body = client.get(f"/api/v1/calls/{upcoming.pk}").json()
    assert body["opens_at"].endswith("+08:00") and body["phase"] == "upcoming"
    assert abs(dt.datetime.fromisoformat(body["opens_at"]) - upcoming.opens_at) < dt.timedelta(milliseconds=1)


def test_unknown_and_unpublished_calls_are_404_in_chinese(client, liuzhou):
    response = client.get("/api/v1/calls/no-such-call")
    assert response.status_code == 404 and response.json()["detail"] == "没有这个申报通知：no-such-call"
    services.set_published(call=liuzhou, published=False)
    for key in (liuzhou.pk, liuzhou.code):
        response = client.get(f"/api/v1/calls/{key}")
        assert response.status_code == 404 and "没有这个申报通知" in response.json()["detail"]


def test_openapi_document_describes_both_paths(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/calls" in doc["paths"] and "/api/v1/calls/{key}" in doc["paths"]
    list_op = doc["paths"]["/api/v1/calls"]["get"]
    assert {p["name"] for p in list_op["parameters"]} >= {"issuer", "phase"}
    assert "200" in list_op["responses"]
    detail_op = doc["paths"]["/api/v1/calls/{key}"]["get"]
    assert {"200", "404"} <= set(detail_op["responses"])
    schemas = doc["components"]["schemas"]
    call = schemas["CallOut"]["properties"]
    assert call["deadline"]["format"] == "date-time"
    assert {"project_types", "issuer", "phase", "document_number"} <= set(call)
    ptype = schemas["ProjectTypeOut"]["properties"]
    assert {"code", "name", "group", "kind", "quota", "funding", "tracks", "eligible_categories",
            "completion_by", "form"} <= set(ptype)
    assert {"kind", "amount", "min", "max", "total", "cap", "text"} <= set(schemas["FundingOut"]["properties"])
    assert {"kind", "n", "min", "max", "text"} <= set(schemas["QuotaOut"]["properties"])
    assert {"quota", "funding"} <= set(schemas["CallTrackOut"]["properties"])


def test_api_docs_use_local_assets_only(client):
    # intranets have no internet: the Swagger UI must not load from a CDN
    page = client.get("/api/v1/docs").content.decode()
    bundle = re.search(r'/static/ninja/swagger-ui-bundle\.(?:[0-9a-f]{12}\.)?js', page)  # hashed when collected
    assert bundle
    assert "cdn." not in page and "https://" not in page
    assert client.get(bundle.group(0)).status_code == 200


def test_a_placeholder_deadline_is_flagged_in_the_api(client, liuzhou, load_call):
    # R-C1, R-E7: 湖南 2024 gives no date (在规定时间内寄送): its deadline is a placeholder, said so wherever it
    # appears; 柳州 2026's is the notice's own (2026年3月31日17:00)
    hunan = load_call("hunan2024")
    listed = {c["code"]: c for c in client.get("/api/v1/calls").json()}
    assert listed[hunan.code]["deadline_is_placeholder"] is True
    assert listed[liuzhou.code]["deadline_is_placeholder"] is False
    assert client.get(f"/api/v1/calls/{hunan.code}").json()["deadline_is_placeholder"] is True
    assert client.get(f"/api/v1/calls/{liuzhou.pk}").json()["deadline_is_placeholder"] is False
    schema_ = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "deadline_is_placeholder" in schema_["CallSummaryOut"]["properties"]


def test_every_api_schema_has_its_own_name(client, db):
    """django-ninja names a component after its class: two schemas of one name in different modules silently
    replace each other in the OpenAPI document (a CallOut of the reports once hid the calls' own)."""
    from ninja import Schema

    import shenbao.api  # noqa: F401 (every router imported)

    seen: dict[str, str] = {}
    clashes = []
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__module__.startswith("shenbao."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append(f"{cls.__name__}: {seen[cls.__name__]} / {where}")
        seen.setdefault(cls.__name__, where)
    assert clashes == []
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "deadline" in schemas["CallOut"]["properties"]
