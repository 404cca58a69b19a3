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
