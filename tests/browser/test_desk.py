"""The funder's side of the journey in headless Chromium (issue 7): the stamp confirmed or returned by the
funder, the work benches' to-do counts, and the funder's desk (filters, XLSX export)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shenbao.applications import printing, services
from shenbao.applications.models import Scan
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def _as(page, client, user):
    """Log the browser in as `user` (a session cookie from the test client)."""
    page.context.clear_cookies()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base}])


def test_stamp_confirmed_only_by_the_funder(page, client, load_call, make_org, make_user, artifacts, tmp_path):
    # issue 7 item 4: a matching QR says 版本一致，盖章待主办方确认; the funder returns it with a reason, the
    # clerk uploads again, the funder confirms: only then 已核验
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市盖章学会", category="city_society",
                              parent=call.issuer, prefix="stamp")
    staff = make_user("stamp_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    app = filled_draft(clerk, call, "2026-2")
    snap = services.submit(user=clerk, application=app).snapshot
    pdf = tmp_path / "print.pdf"
    pdf.write_bytes(printing.pdf(snap))
    services.upload_scan(user=clerk, application=app, upload=SimpleUploadedFile("盖章版.pdf", pdf.read_bytes()))

    _as(page, client, staff)
    page.goto(f"{page.base}/apply/{app.pk}/")
    assert page.inner_text("#scan-status") == "版本一致，盖章待主办方确认"
    row = page.locator(".scan-row").first
    row.locator('input[name="reason"]').fill("未加盖单位公章")
    with page.expect_navigation():
        row.get_by_role("button", name="退回扫描件").click()
    assert "已退回扫描件" in page.inner_text(".messages")
    assert "未加盖单位公章" in page.inner_text("#scan-status")
    page.screenshot(path=str(artifacts / "desk-stamp-returned.png"), full_page=True)

    _as(page, client, clerk)
    page.goto(f"{page.base}/apply/{app.pk}/")
    assert "未加盖单位公章" in page.inner_text("#next-step")
    page.set_input_files("#scan-file", str(pdf))
    page.locator("#scan-form button").click()
    page.wait_for_url(re.compile(rf"/apply/{app.pk}/"))
    assert page.inner_text("#scan-status") == "版本一致，盖章待主办方确认"

    _as(page, client, staff)
    page.goto(f"{page.base}/apply/{app.pk}/")
    first = page.locator('.scan-row[data-state="matched"]')
    with page.expect_navigation():
        first.get_by_role("button", name="确认盖章").click()
    assert page.inner_text("#scan-status").startswith("已核验（第 1 版）")
    assert Scan.objects.filter(application=app, state="confirmed").count() == 1
    assert Scan.objects.filter(application=app, state="returned").count() == 1
    assert "主办方确认盖章（已核验）" in page.inner_text("#history")
    page.screenshot(path=str(artifacts / "desk-stamp-confirmed.png"), full_page=True)


def test_work_bench_shows_each_roles_to_do_counts(page, client, load_call, make_org, make_user, artifacts):
    # issue 7 item 6: clerk (drafts, missing scans, returned), reviewer (待推荐 N), funder (待受理 N, registrations N)
    guangxi = reopen(load_call("guangxi2026"))
    city = make_org("柳州市科学技术协会", "city_association", parent=guangxi.issuer, code=None)
    reviewer = make_user("bench_home", org=city, roles=(Role.HOME_REVIEWER,))
    staff = make_user("bench_funder", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    _org, clerk, _head = unit(make_org, make_user, name="柳州工作台园区科协", category="enterprise_association",
                              parent=city, prefix="bench")
    make_org("柳州待审核学会", "city_society", parent=city, status="pending")
    app = filled_draft(clerk, guangxi, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    filled_draft(clerk, guangxi, "2026-4", "brand")

    def counts():
        page.goto(page.base + "/accounts/home/")
        return {li.get_attribute("data-todo"): int(li.locator(".count").inner_text())
                for li in page.locator("#todo li").all()}

    _as(page, client, clerk)
    assert counts() == {"drafts": 1, "missing_scans": 1, "returned": 0}
    page.screenshot(path=str(artifacts / "desk-bench-clerk.png"), full_page=True)
    _as(page, client, reviewer)
    got = counts()
    assert got["to_endorse"] == 1 and got["registrations"] == 1
    page.locator('[data-todo="to_endorse"] a').click()
    page.wait_for_url("**/apply/endorse/")
    assert f'data-app="{app.pk}"' in page.content()
    services.endorse(user=reviewer, application=app, opinion="同意推荐")
    _as(page, client, staff)
    got = counts()
    assert got["to_accept"] == 1 and got["registrations"] == 1
    page.screenshot(path=str(artifacts / "desk-bench-funder.png"), full_page=True)


def test_funder_filters_the_desk_and_exports_xlsx(page, client, load_call, make_org, make_user, artifacts, tmp_path):
    # issue 7 item 7: filters by type and scan state, sorting, and the XLSX of what is shown
    from openpyxl import load_workbook

    call = reopen(load_call("liuzhou2026"))
    staff = make_user("desk_browser_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    made = []
    for i, code in enumerate(("2026-1", "2026-2", "2026-3")):
        _org, clerk, _head = unit(make_org, make_user, name=f"柳州市台面学会{i}", category="city_society",
                                  parent=call.issuer, prefix=f"deskb{i}")
        app = filled_draft(clerk, call, code)
        services.submit(user=clerk, application=app)
        app.refresh_from_db()
        made.append((app, clerk))
    first, first_clerk = made[1]
    services.upload_scan(user=first_clerk, application=first,
                         upload=SimpleUploadedFile("s.pdf", printing.pdf(first.current_snapshot)))

    _as(page, client, staff)
    page.goto(page.base + "/apply/received/")
    assert page.locator("#desk-count").inner_text() == "共 3 份"
    page.select_option('select[name="type"]', str(first.project_type_id))
    page.locator("#apply-filters").click()
    page.wait_for_url("**/apply/received/?*")
    assert page.locator("#desk-count").inner_text() == "共 1 份"
    assert page.locator("#received tbody tr").get_attribute("data-number") == first.number
    page.goto(page.base + "/apply/received/")
    page.select_option('select[name="scan"]', "none")
    page.locator("#apply-filters").click()
    page.wait_for_url("**/apply/received/?*")
    assert page.locator("#desk-count").inner_text() == "共 2 份"
    numbers = {r.get_attribute("data-number") for r in page.locator("#received tbody tr").all()}
    assert numbers == {made[0][0].number, made[2][0].number}
    # sort by number, descending after a second click
    page.goto(page.base + "/apply/received/")
    page.locator('a[data-sort="number"]').click()
    page.wait_for_url("**sort=number*")
    page.locator('a[data-sort="number"]').click()
    page.wait_for_url("**sort=-number*")
    shown = [r.get_attribute("data-number") for r in page.locator("#received tbody tr").all()]
    assert shown == sorted((a.number for a, _c in made), reverse=True)
    page.screenshot(path=str(artifacts / "desk-received.png"), full_page=True)

    # the export of the filtered list, opened with openpyxl
    page.goto(page.base + "/apply/received/?scan=matched")
    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    path = tmp_path / "desk.xlsx"
    info.value.save_as(str(path))
    ws = load_workbook(path).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    head = rows[0]
    assert head[0] == "申报编号" and "项目名称" in head and "盖章扫描件" in head
    assert len(rows) == 2
    row = dict(zip(head, rows[1], strict=True))
    assert row["申报编号"] == first.number and row["盖章扫描件"] == "版本一致，盖章待主办方确认"
    assert row["项目名称"] == first.title
