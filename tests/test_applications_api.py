"""The applications API (/api/v1/applications): the same actions and the same permission checks as the
pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shenbao.applications.models import Application, Snapshot
from tests.journey_support import reopen, unit, values_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
BASE = "/api/v1/applications"



@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def clerk(call, make_org, make_user):
    return unit(make_org, make_user, name="柳州市接口学会", category="city_society", parent=call.issuer, prefix="api")[1]


def test_the_whole_journey_through_the_api(client, call, clerk):
    client.force_login(clerk)
    offers = client.get(f"{BASE}/eligible").json()
    mine = {o["type_code"]: o for o in offers if o["call"] == call.code}
    assert mine["2026-2"]["eligible"] and not mine["2026-5"]["eligible"]
    assert [r["code"] for r in mine["2026-5"]["reasons"]] == ["category"]
    r = client.post(f"{BASE}/", {"project_type_id": mine["2026-2"]["project_type_id"]}, content_type="application/json")
    assert r.status_code == 201
    app_id, version = r.json()["id"], r.json()["version"]
    app = Application.objects.get(pk=app_id)
    values = values_for(app)
    bad = {**values, "project_lead": {**values["project_lead"], "phone": "12"}}
    r = client.put(f"{BASE}/{app_id}", {"values": bad, "version": version}, content_type="application/json")
    assert r.status_code == 200 and "project_lead.phone" in r.json()["errors"]
    version = r.json()["version"]
    r = client.post(f"{BASE}/{app_id}/submit", {"version": version}, content_type="application/json")
    assert r.status_code == 422 and "project_lead.phone" in r.json()["errors"]
    r = client.put(f"{BASE}/{app_id}", {"values": values, "version": version}, content_type="application/json")
    version = r.json()["version"]
    first = client.post(f"{BASE}/{app_id}/submit", {"version": version}, content_type="application/json")
    again = client.post(f"{BASE}/{app_id}/submit", {"version": version}, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["snapshot"] == again.json()["snapshot"] and first.json()["status"] == "submitted"
    assert Snapshot.objects.filter(application_id=app_id).count() == 1
    pdf = client.get(f"{BASE}/{app_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"{BASE}/{app_id}/docx").content[:2] == b"PK"
    r = client.post(f"{BASE}/{app_id}/scan", {"file": SimpleUploadedFile("scan.pdf", pdf.content)})
    assert r.status_code == 201 and r.json()["verified"] and r.json()["method"] == "qr"
    assert r.json()["state"] == "matched"  # the stamp waits for the funder
    r = client.post(f"{BASE}/{app_id}/withdraw", {"reason": "补充材料"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "draft"


def test_a_stale_version_is_a_409_with_the_saved_values(client, call, clerk):
    client.force_login(clerk)
    r = client.post(f"{BASE}/", {"project_type_id": call.types.get(code="2026-2").pk}, content_type="application/json")
    app_id = r.json()["id"]
    values = values_for(Application.objects.get(pk=app_id))
    client.put(f"{BASE}/{app_id}", {"values": {**values, "goals": "先保存的"}, "version": 1},
               content_type="application/json")
    r = client.put(f"{BASE}/{app_id}", {"values": {**values, "goals": "后保存的"}, "version": 1},
                   content_type="application/json")
    assert r.status_code == 409 and r.json()["theirs"]["goals"] == "先保存的" and r.json()["version"] == 2


def test_the_api_refuses_what_the_pages_refuse(client, call, clerk, make_org, make_user):
    client.force_login(clerk)
    r = client.post(f"{BASE}/", {"project_type_id": call.types.get(code="2026-2").pk}, content_type="application/json")
    app_id = r.json()["id"]
    _org, stranger, _ = unit(make_org, make_user, name="柳州市别家学会", category="city_society", parent=call.issuer,
                             prefix="apx", head=False)
    client.force_login(stranger)
    assert client.get(f"{BASE}/{app_id}").status_code == 404
    assert client.post(f"{BASE}/{app_id}/submit", {}, content_type="application/json").status_code == 404
    head = make_user("api_boss", org=Application.objects.get(pk=app_id).applicant, roles=("unit_head",))
    client.force_login(head)  # the head sees the application but is not its clerk
    assert client.get(f"{BASE}/{app_id}").status_code == 200
    r = client.post(f"{BASE}/{app_id}/submit", {}, content_type="application/json")
    assert r.status_code == 403 and "申报经办人" in r.json()["detail"]
    client.logout()
    assert client.get(f"{BASE}/").status_code == 401


def test_a_placeholder_deadline_is_flagged_on_offers_and_applications(client, load_call, make_org, make_user):
    # R-E7: 湖南 2024's deadline is a placeholder (the notice gives no date): every deadline the API gives says so
    hunan = reopen(load_call("hunan2024"))
    lz = reopen(load_call("liuzhou2026"))
    clerk = unit(make_org, make_user, name="湖南省接口学会", category="province_society", parent=hunan.issuer,
                 prefix="hnapi")[1]
    client.force_login(clerk)
    offers = client.get(f"{BASE}/eligible").json()
    flags = {o["call"]: o["deadline_is_placeholder"] for o in offers}
    assert flags[hunan.code] is True and flags.get(lz.code, False) is False
    offer = next(o for o in offers if o["call"] == hunan.code and o["eligible"])
    track = offer["tracks"][0]["code"] if offer["tracks"] else None
    r = client.post(f"{BASE}/", {"project_type_id": offer["project_type_id"], "track": track},
                    content_type="application/json")
    assert r.status_code == 201, r.json()
    assert r.json()["deadline_is_placeholder"] is True
