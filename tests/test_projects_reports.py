"""Issue 9, items 10 and 11: the funder's reports per call — projects by status and type, money awarded /
paid / recovered, events held and participants, acceptance results, volunteer service — on the page, as SVG
charts drawn on the server, as XLSX and through the API, all with the same figures, computed here from the
rows the test creates; a funder sees only its own calls."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET  # our own SVG output, parsed to prove it is well-formed

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shenbao.projects import activities, reports, volunteers
from shenbao.projects.services import record_project, set_status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]

SVG = "{http://www.w3.org/2000/svg}"


def _xml(text):
    return ET.fromstring(text)  # noqa: S314 (the platform's own SVG, not untrusted input)


def _has(model: str) -> bool:
    try:
        apps.get_model("projects", model)
    except LookupError:
        return False
    return True


@pytest.fixture
def world(load_call, make_org, make_user):
    """广西 2026 (广西科协) with projects of two units in several states, events past and future with sign-ins,
    a volunteer team with hours; and 常德 2022 (常德市科协) with a project of its own."""
    gx = load_call("guangxi2026")
    cd = load_call("changde2022")
    assert gx.issuer_id != cd.issuer_id
    a = make_org("广西测试学会甲", "province_society")
    b = make_org("广西测试学会乙", "province_society")
    clerk_a = make_user("ra_clerk", org=a, roles=("applicant_clerk",))
    make_user("rb_clerk", org=b, roles=("applicant_clerk",))
    gx_staff = make_user("gx_staff", org=gx.issuer, roles=("funder_staff",))
    gx_finance = make_user("gx_fin", org=gx.issuer, roles=("finance",))
    cd_staff = make_user("cd_staff", org=cd.issuer, roles=("funder_staff",))
    types = list(gx.types.order_by("code"))
    today = dt.date.today()

    def proj(org, title, amount, ptype):
        return record_project(applicant=org, title=title, year=gx.year, call=gx, project_type=ptype, amount=amount,
                              awarded_on=today, code=f"GX-{title}")

    p1 = proj(a, "甲一", 50000, types[0])
    p2 = proj(a, "甲二", 30000, types[0])
    p3 = proj(b, "乙一", 80000, types[-1])
    p4 = proj(b, "乙二", 20000, types[-1])
    set_status(project=p3, status="completed", reason="验收通过")
    set_status(project=p4, status="deferred", reason="延期验收", deferred_until=today + dt.timedelta(days=90))

    def event(user, project, day, title="八桂科技讲坛测试活动"):
        ev, _w = activities.register_event(user=user, project=project, title=title, starts_on=day, ends_on=day,
                                           place="南宁", expected_participants=50)
        return ev

    e1 = event(clerk_a, p1, today)
    e2 = event(clerk_a, p2, today)
    event(clerk_a, p1, today + dt.timedelta(days=20))  # planned, not held
    cancelled = event(clerk_a, p2, today, title="八桂科技讲坛取消的活动")
    activities.sign_in(event=cancelled, name="早到者", organisation="广西大学", phone="13600000001")
    activities.cancel_event(user=clerk_a, event=cancelled, reason="场地变更")  # neither held nor counted
    for i in range(3):
        activities.sign_in(event=e1, name=f"参会{i}", organisation="广西大学", phone=f"1380000{i:04d}")
    for i in range(2):
        activities.sign_in(event=e2, name=f"听众{i}", organisation="广西医科大学", phone=f"1390000{i:04d}")

    cd_type = cd.types.get(code="2-6")
    cd_org = make_org("常德市测试学会", "city_society")
    cd_clerk = make_user("cd_clerk", org=cd_org, roles=("applicant_clerk",))
    cd_p = record_project(applicant=cd_org, title="常德志愿服务", year=cd.year, call=cd, project_type=cd_type,
                          amount=15000, awarded_on=today)
    team = volunteers.register_team(user=cd_clerk, organisation=cd_org, name="测试志愿队", leader=cd_clerk,
                                    leader_phone="13600006666", project=cd_p)
    v = volunteers.join_team(team=team, name="志愿者", phone="13700007777")
    volunteers.decide_volunteer(user=cd_clerk, volunteer=v, action="approve")
    start = timezone.now() + dt.timedelta(days=2)
    act = volunteers.publish_activity(user=cd_clerk, team=team, title="科普", place="常德", starts_at=start,
                                      ends_at=start + dt.timedelta(hours=3), positions=2)
    su = volunteers.sign_up(volunteer=v, activity=act)
    volunteers.decide_signup(user=cd_clerk, signup=su, action="approve")
    act.__class__.objects.filter(pk=act.pk).update(starts_at=timezone.now() - dt.timedelta(hours=4),
                                                   ends_at=timezone.now() - dt.timedelta(hours=1))
    volunteers.record_hours(user=cd_clerk, signup=su, hours="2.5")

    paid = recovered = None
    if _has("Payment"):  # the money ledger of projects/contracts.py, once landed
        Payment = apps.get_model("projects", "Payment")
        for project, kind, amount in [(p1, "payment", 25000), (p1, "payment", 10000), (p3, "payment", 80000),
                                      (p3, "recovery", 5000)]:
            Payment.objects.create(project=project, kind=kind, amount=amount, on=today, reason="测试")
        paid, recovered = 115000, 5000
    passed = None
    if _has("Acceptance"):  # projects/acceptance.py, once landed
        Acceptance = apps.get_model("projects", "Acceptance")
        Acceptance.objects.create(project=p3, status="passed")
        Acceptance.objects.create(project=p1, status="submitted")
        passed = 1
    return {"gx": gx, "cd": cd, "gx_staff": gx_staff, "gx_finance": gx_finance, "cd_staff": cd_staff,
            "clerk_a": clerk_a, "projects": [p1, p2, p3, p4], "paid": paid, "recovered": recovered,
            "passed": passed, "cancelled": cancelled}


def _expected(w) -> dict:
    ps = w["projects"]
    return {"projects": 4, "awarded": sum(p.amount for p in ps), "paid": w["paid"], "recovered": w["recovered"],
            "events_held": 2,
            "events_planned": 1, "participants": 5, "accepted": w["passed"], "volunteer_teams": 0, "volunteers": 0}


def test_figures_match_the_rows(world):
    w = world
    r = reports.call_report(w["gx"])
    got = {f.key: f.value for f in r.figures}
    for key, value in _expected(w).items():
        assert got[key] == value, key
    assert {k: n for k, _label, n in r.by_status} == {"active": 2, "deferred": 1, "completed": 1, "unfinished": 0,
                                                      "terminated": 0}
    assert sum(n for _l, n, _a in r.by_type) == 4 and sum(a for _l, _n, a in r.by_type) == 180000
    rows = {x.project.title: x for x in r.rows}
    assert rows["甲一"].participants == 3 and rows["乙一"].participants == 0
    if w["paid"] is None:  # a sub-stage not on main: "—" with its note
        assert r.figure("paid").shown == "—" and r.figure("paid").note
        assert rows["甲一"].paid is None
    else:
        assert rows["甲一"].paid == 35000 and rows["乙一"].recovered == 5000
    if w["passed"] is None:
        assert r.acceptance is None and r.figure("accepted").shown == "—" and r.acceptance_note
    # 常德 2022: its volunteer team counts there
    cd = reports.call_report(w["cd"])
    assert cd.figure("volunteer_teams").value == 1 and cd.figure("volunteers").value == 1
    assert str(cd.figure("volunteer_hours").value) == "2.5"


def test_the_xlsx_has_the_same_figures(world, client):
    w = world
    client.force_login(w["gx_finance"])
    r = client.get(reverse("projects:report_xlsx", args=[w["gx"].pk]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=4, values_only=True)}
    report = reports.call_report(w["gx"])
    for f in report.figures:
        expected = "—" if f.value is None else float(f.value)
        assert summary[f.label] == expected, f.label
    assert {row[0]: row[1] for row in wb["项目状态"].iter_rows(min_row=2, values_only=True)} == {
        label: n for _v, label, n in report.by_status}
    detail = list(wb["项目明细"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 4 and sum(row[5] for row in detail) == 180000 and sum(row[9] for row in detail) == 5
    # the page shows the same values
    page = client.get(reverse("projects:report", args=[w["gx"].pk])).content.decode()
    for f in report.figures:
        assert f'data-key="{f.key}"' in page and f'data-value="{f.shown}"' in page
    # and the API
    api = client.get(f"/api/v1/projects/reports/calls/{w['gx'].pk}").json()
    assert {f["key"]: f["value"] for f in api["figures"]} == {
        f.key: (None if f.value is None else float(f.value)) for f in report.figures}


def test_a_funder_sees_only_its_own_calls(world, client):
    w = world
    client.force_login(w["cd_staff"])
    listed = client.get(reverse("projects:reports")).content.decode()
    assert w["cd"].title in listed and w["gx"].title not in listed
    assert client.get(reverse("projects:report", args=[w["gx"].pk])).status_code == 404
    assert client.get(reverse("projects:report_xlsx", args=[w["gx"].pk])).status_code == 404
    assert client.get(f"/api/v1/projects/reports/calls/{w['gx'].pk}").status_code == 403
    assert [c["id"] for c in client.get("/api/v1/projects/reports/calls").json()] == [w["cd"].pk]
    # an applicant unit reads no report
    client.force_login(w["clerk_a"])
    assert client.get(reverse("projects:reports")).status_code == 403
    assert client.get(reverse("projects:report", args=[w["gx"].pk])).status_code == 404
    # the funder's work bench links to the reports
    client.force_login(w["gx_staff"])
    assert reverse("projects:reports") in client.get(reverse("orgs:home")).content.decode()


def test_the_svg_renders(world, client):
    w = world
    client.force_login(w["gx_staff"])
    report = reports.call_report(w["gx"])
    charts = reports.charts(report)
    status = _xml(charts["status"])
    assert status.tag == f"{SVG}svg"
    bars = {float(b.get("data-value")) for b in status.iter(f"{SVG}rect")}
    assert bars == {float(n) for _v, _l, n in report.by_status}
    widths = {b.get("data-value"): float(b.get("width")) for b in status.iter(f"{SVG}rect")}
    assert widths["2"] == pytest.approx(2 * widths["1"], rel=0.01) and widths["0"] == 0
    money = _xml(charts["money"])
    texts = [t.text for t in money.iter(f"{SVG}text")]
    assert "180,000" in texts
    if w["paid"] is None:
        assert "—" in texts and len(list(money.iter(f"{SVG}rect"))) == 1
    # labels are escaped
    odd = _xml(reports.bar_chart("<b>&", [("<script>", 3), ("x", None)]))
    assert "<script>" in [t.text for t in odd.iter(f"{SVG}text")]
    # served as a file and inline in the dashboard, no script
    r = client.get(reverse("projects:report_chart", args=[w["gx"].pk, "status"]))
    assert r.status_code == 200 and r["Content-Type"].startswith("image/svg+xml")
    _xml(r.content)
    page = client.get(reverse("projects:report", args=[w["gx"].pk])).content.decode()
    assert page.count("<svg") >= 4 and "<script" not in page.split("<div class=\"charts\"")[1].split("</div>")[0]


def test_the_report_reads_a_fixed_number_of_queries(world, make_org):
    """The dashboard's figures are aggregates: 20 more projects cost no more queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = world
    with CaptureQueriesContext(connection) as before:
        reports.report_xlsx(reports.call_report(w["gx"]))
    org = make_org("广西测试学会丙", "province_society")
    ptype = w["gx"].types.order_by("code").first()
    for i in range(20):
        record_project(applicant=org, title=f"丙{i}", year=w["gx"].year, call=w["gx"], project_type=ptype, amount=1000)
    with CaptureQueriesContext(connection) as after:
        report = reports.call_report(w["gx"])
        reports.report_xlsx(report)
    assert report.figure("projects").value == 24
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]
