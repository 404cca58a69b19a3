"""The funder's desk (issue 7 item 7): 收到的申报 filtered by type, track, status, endorsement and scan state,
sorted, paged for thousands with a bounded number of queries; the list as XLSX with the form's fields
(phones masked unless the viewer's role needs them); a ZIP of the PDFs and scans of a selection."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shenbao.applications import exports, printing, selectors, services
from shenbao.applications.models import Application, Endorsement, Scan, Snapshot
from shenbao.orgs.models import Category, Organisation, Role
from tests.conftest import credit_code
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def staff(call, make_user):
    return make_user("desk_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))


def _generate(call, n: int) -> list[Application]:
    """n submitted applications spread over the call's types, units, amounts and scan states, written in
    bulk (the desk only reads them)."""
    category = Category.objects.get(code="city_society")
    orgs = Organisation.objects.bulk_create([
        Organisation(name=f"柳州市生成学会{i:03d}", category=category, parent=call.issuer, credit_code=credit_code(),
                     status="active") for i in range(40)])
    types = list(call.types.order_by("order"))
    now = timezone.now()
    apps = Application.objects.bulk_create([
        Application(call=call, project_type=types[i % len(types)], applicant=orgs[i % len(orgs)],
                    title=f"生成项目{i:04d}", status="returned" if i % 10 == 0 else "submitted",
                    number=f"2026-{i % len(types) + 1}-{i:04d}", amount_asked=10000 + i * 10,
                    submitted_at=now - timezone.timedelta(minutes=i)) for i in range(n)])
    snaps = Snapshot.objects.bulk_create([
        Snapshot(application=a, number=1, draft_version=1, values={"values": {"project_name": a.title}},
                 fingerprint=f"{a.pk:064x}", submitted_at=a.submitted_at) for a in apps])
    for a, s in zip(apps, snaps, strict=True):
        a.current_snapshot = s
    Application.objects.bulk_update(apps, ["current_snapshot"])
    states = ["matched", "confirmed", "unread", "returned"]
    Scan.objects.bulk_create([
        Scan(application=a, snapshot=a.current_snapshot, file="scans/x.pdf", content_type="application/pdf", size=1,
             sha256="0" * 64, state=states[i % 4], verified=states[i % 4] != "unread")
        for i, a in enumerate(apps) if i % 5])  # every fifth has no scan
    return apps


def test_desk_filters_sorts_and_pages_a_thousand_with_bounded_queries(client, call, staff):
    apps = _generate(call, 1000)
    client.force_login(staff)
    url = reverse("applications:received")
    with CaptureQueriesContext(connection) as first:
        r = client.get(url)
    page = r.content.decode()
    assert r.status_code == 200 and "共 1000 份" in page and page.count('<tr data-app="') == 50
    assert "第 1 / 20 页" in page
    with CaptureQueriesContext(connection) as last:
        r = client.get(url, {"page": 20, "sort": "amount"})
    assert r.content.decode().count('<tr data-app="') == 50
    # the number of queries does not grow with the rows: one for the count, one for the page, a few fixed
    assert len(first.captured_queries) == len(last.captured_queries) <= 20, [q["sql"] for q in first.captured_queries]

    ptype = call.types.get(code="2026-2")
    r = client.get(url, {"type": ptype.pk})
    expected = sum(1 for a in apps if a.project_type_id == ptype.pk)
    assert f"共 {expected} 份" in r.content.decode()
    # scan state: the fifth ones have none; returned 10 % are status returned
    r = client.get(url, {"scan": "none"})
    assert "共 200 份" in r.content.decode()
    r = client.get(url, {"scan": "matched"})
    assert f"共 {sum(1 for i in range(1000) if i % 5 and i % 4 == 0)} 份" in r.content.decode()
    r = client.get(url, {"status": "returned"})
    assert "共 100 份" in r.content.decode()
    # sorting: by amount ascending the first row asks least; descending the most
    f = selectors.DeskFilter.from_query({"sort": "amount"})
    assert selectors.desk(staff, f).first().amount_asked == 10000
    f = selectors.DeskFilter.from_query({"sort": "-amount"})
    assert selectors.desk(staff, f).first().amount_asked == 10000 + 999 * 10
    # search by the number people quote
    r = client.get(url, {"q": "2026-3-0007"})
    body = r.content.decode()
    assert "共 1 份" in body and 'data-number="2026-3-0007"' in body
    # what it does not understand is ignored, never a 500
    assert client.get(url, {"sort": "drop table", "type": "x", "scan": "??", "page": "-3"}).status_code == 200


def test_desk_filters_by_track_and_endorsement(client, load_call, make_org, make_user):
    guangxi = reopen(load_call("guangxi2026"))
    staff = make_user("gx_desk", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    category = Category.objects.get(code="province_society")
    org = Organisation.objects.create(name="广西生成学会", category=category, parent=guangxi.issuer,
                                      credit_code=credit_code(), status="active")
    ptype = guangxi.types.filter(tracks__isnull=False).distinct().first()
    tracks = list(ptype.tracks.all()[:2])
    now = timezone.now()
    made = []
    for i, track in enumerate([tracks[0], tracks[0], tracks[1]]):
        a = Application.objects.create(call=guangxi, project_type=ptype, track=track, applicant=org, status="submitted",
                                       number=f"G-{i}", submitted_at=now, endorser=guangxi.issuer if i == 0 else None)
        s = Snapshot.objects.create(application=a, number=1, draft_version=1, values={}, fingerprint="f" * 64,
                                    submitted_at=now)
        Application.objects.filter(pk=a.pk).update(current_snapshot=s)
        made.append((a, s))
    Endorsement.objects.create(application=made[0][0], snapshot=made[0][1], organisation=guangxi.issuer,
                               decision="endorse", opinion="同意推荐")
    client.force_login(staff)
    url = reverse("applications:received")
    assert "共 2 份" in client.get(url, {"track": tracks[0].pk}).content.decode()
    body = client.get(url, {"endorsement": "endorsed"}).content.decode()
    assert "共 1 份" in body and 'data-number="G-0"' in body
    assert "共 2 份" in client.get(url, {"endorsement": "direct"}).content.decode()


def test_only_funder_staff_see_the_desk_and_its_exports(client, call, make_org, make_user):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市旁观学会", category="city_society",
                              parent=call.issuer, prefix="peek")
    client.force_login(clerk)
    assert client.get(reverse("applications:received")).status_code == 403
    assert client.get(reverse("applications:received_xlsx")).status_code == 403
    assert client.post(reverse("applications:received_zip"), {"all": "1"}).status_code == 403


@pytest.fixture
def submitted_two(call, make_org, make_user):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市导出学会", category="city_society",
                              parent=call.issuer, prefix="xl")
    first = filled_draft(clerk, call, "2026-2", overrides={"project_name": "学术交流导出测试"})
    services.submit(user=clerk, application=first)
    second = filled_draft(clerk, call, "2026-3")
    services.submit(user=clerk, application=second)
    first.refresh_from_db()
    second.refresh_from_db()
    return clerk, first, second


def _sheet(content: bytes):
    ws = load_workbook(io.BytesIO(content)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    return rows[0], rows[1:]


def test_xlsx_export_has_the_list_and_the_form_fields(client, call, staff, make_user, submitted_two):
    _clerk, first, _second = submitted_two
    client.force_login(staff)
    r = client.get(reverse("applications:received_xlsx"), {"type": first.project_type_id})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    head, rows = _sheet(r.content)
    assert head[:3] == ["申报编号", "申报单位", "统一社会信用代码"] and "申请经费（元）" in head
    assert "项目负责人·姓名" in head and "项目负责人·联系电话" in head
    assert head.count("项目名称") == 1  # the form's title field is the list's column
    assert len(rows) == 1  # the filter applies to the export
    row = dict(zip(head, rows[0], strict=True))
    assert row["申报编号"] == first.number == "2026-2-0001"
    assert row["申报单位"] == "柳州市导出学会" and row["项目名称"] == "学术交流导出测试"
    lead = first.current_snapshot.values["values"]["project_lead"]
    assert row["项目负责人·姓名"] == lead["name"]
    assert row["项目负责人·联系电话"] == lead["phone"]  # the funder's staff call applicants: in full

    # the funder's leader reads the list, not the phone numbers (core.privacy)
    leader = make_user("desk_leader", org=call.issuer, roles=(Role.FUNDER_LEADER,))
    client.force_login(leader)
    head, rows = _sheet(client.get(reverse("applications:received_xlsx")).content)
    assert len(rows) == 2
    phones = [dict(zip(head, r, strict=True))["项目负责人·联系电话"] for r in rows]
    assert all("****" in p for p in phones if p), phones
    assert lead["phone"] not in phones


def _zip_job(client, data, capture):
    from shenbao.core.models import Job

    with capture(execute=True):
        r = client.post(reverse("applications:received_zip"), data)
    assert r.status_code == 302 and r["Location"].startswith("/jobs/")
    job = Job.objects.latest("id")
    assert job.state == "done", job.error
    download = client.get(reverse("jobs:file", args=[job.pk]))
    assert download.status_code == 200
    content = b"".join(download.streaming_content) if download.streaming else download.content
    return job, zipfile.ZipFile(io.BytesIO(content)).namelist()


def test_zip_of_a_selection_is_a_job_with_the_pdf_and_the_scans(client, call, staff, submitted_two, make_user,
                                                                 django_capture_on_commit_callbacks):
    clerk, first, _second = submitted_two
    pdf = printing.pdf(first.current_snapshot)
    services.upload_scan(user=clerk, application=first, upload=SimpleUploadedFile("s.pdf", pdf))
    client.force_login(staff)
    job, names = _zip_job(client, {"ids": [first.pk]}, django_capture_on_commit_callbacks)
    assert (job.done, job.total, job.owner) == (1, 1, staff)
    assert len(names) == 2 and all(n.startswith("2026-2-0001-柳州市导出学会/") for n in names)
    assert any(n.endswith("-matched.pdf") for n in names)
    job, names = _zip_job(client, {"all": "1"}, django_capture_on_commit_callbacks)
    assert {n.split("/")[0] for n in names} == {"2026-2-0001-柳州市导出学会", "2026-3-0001-柳州市导出学会"}
    # nothing ticked: told, no job
    r = client.post(reverse("applications:received_zip"), {}, follow=True)
    assert "请先勾选要打包的申报" in r.content.decode()
    # the file is the starter's only
    other = make_user("desk_other_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    client.force_login(other)
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code in (403, 404)


def test_documents_zip_reports_progress_and_skips_what_the_user_may_not_see(call, staff, submitted_two, make_user):
    _clerk, first, second = submitted_two
    seen = []
    out = io.BytesIO()
    n = exports.documents_zip(user=staff, applications=[first, second], out=out,
                              progress=lambda done, total: seen.append((done, total)))
    assert n == 2 and seen == [(1, 2), (2, 2)]
    stranger = make_user("zip_stranger")
    assert exports.documents_zip(user=stranger, applications=[first, second], out=io.BytesIO()) == 0
