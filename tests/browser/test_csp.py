"""The Content-Security-Policy in a real browser: the pages, their scripts (htmx, the form engine's rows,
the countdown) and the API docs run without a single CSP violation."""

from __future__ import annotations

import pytest

from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def test_pages_and_scripts_run_under_the_csp_without_violations(page, client, load_call, make_org, make_user):
    # R-S1, R-S4
    call = reopen(load_call("hunan2024"))
    _org, clerk, _head = unit(make_org, make_user, name="湖南省策略学会", category="province_society",
                              parent=call.issuer, prefix="csp")
    app = filled_draft(clerk, call, "1-1", "high_end_event")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(str(e)))

    page.goto(page.base + "/")
    assert page.evaluate("typeof window.htmx") == "object"
    page.goto(page.base + f"/calls/{call.code}/")
    page.goto(page.base + "/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)

    client.force_login(clerk)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base}])
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    add = page.locator("[data-sb-add-row]").first
    assert add.count() == 1
    rows = page.locator("tbody tr").count()
    add.click()
    assert page.locator("tbody tr").count() > rows  # forms.js ran
    page.goto(page.base + "/accounts/home/")
    assert violations == []


def test_a_staff_page_with_htmx_headers_runs_without_violations(page, client, load_call, make_user):
    # R-S1
    call = load_call("liuzhou2026")
    staff = make_user("csp_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    client.force_login(staff)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base}])
    page.goto(page.base + "/manage/calls/")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.locator("style").count() == 0
    assert violations == []
