"""Issue 7, item 4 (the clerk's part): after submission the step tracker stays on the application page (print,
stamp, upload, endorsement, funder) with the current step readable (contrast ≥ 4.5:1, computed from the
computed colours) and the next action as the first button; after a withdrawal the old version's print and
scan are shown as superseded, not green. Screenshots tests/artifacts/status-*.png."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shenbao.applications import printing, services
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Shenbao#2026"

CONTRAST = """(sel) => {
  const el = document.querySelector(sel);
  const parse = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const v = parse(c).slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  let bgEl = el, bg = getComputedStyle(bgEl).backgroundColor;
  while (bgEl && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) { bgEl = bgEl.parentElement; bg = getComputedStyle(bgEl).backgroundColor; }
  const out = [];
  for (const t of [el, ...el.querySelectorAll('*')]) {
    const a = lum(getComputedStyle(t).color), b = lum(bg);
    out.push((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
  }
  return Math.min(...out);
}"""


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def _current(page) -> str:
    return page.locator("#tracker li[aria-current=step]").get_attribute("data-step")


def test_tracker_after_submission_and_superseded_after_withdrawal(page, load_call, make_org, make_user, artifacts):
    # R-F4: only the submitted version, printed and stamped, counts; a withdrawn one is superseded
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市诚实状态学会", category="city_society",
                              parent=call.issuer, prefix="st")
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    page.on("dialog", lambda d: d.accept())
    _login(page, "st_clerk")
    page.goto(page.base + f"/apply/{app.pk}/")

    # submitted, nothing printed yet: the tracker, the current step is printing, its button comes first
    steps = page.locator("#tracker li")
    assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == \
        ["submit", "print", "stamp", "upload", "funder"]
    assert _current(page) == "print"
    assert page.evaluate(CONTRAST, "#tracker li[aria-current=step]") >= 4.5
    first = page.locator("main .btn").first
    assert first.get_attribute("id") == "next-action" and "下载打印版" in first.inner_text()
    assert "/print/v1.pdf" in first.get_attribute("href")
    page.screenshot(path=str(artifacts / "status-tracker-print.png"), full_page=True)

    # the stamped scan uploaded, its QR matching: the version is right, the stamp waits for the funder
    snap = app.current_snapshot
    result = services.upload_scan(user=clerk, application=app,
                                  upload=SimpleUploadedFile("scan.pdf", printing.pdf(snap)))
    page.reload()
    assert _current(page) == "upload"
    assert "版本一致，盖章待主办方确认" in page.inner_text("#tracker")
    assert "已核验" not in page.inner_text("#scan-status")

    # the funder confirms the stamp: only now 已核验, and the funder's turn, still readable
    staff = make_user("st_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    services.confirm_stamp(user=staff, scan=result.scan)
    page.reload()
    assert _current(page) == "funder"
    for key in ("print", "stamp", "upload"):
        assert "done" in page.locator(f'#tracker li[data-step="{key}"]').get_attribute("class")
    assert page.evaluate(CONTRAST, "#tracker li[aria-current=step]") >= 4.5
    assert "已核验" in page.inner_text("#scan-status")

    # withdrawn: the old version's print and scan are superseded, nothing of it green
    page.locator("#withdraw-btn").click()
    page.wait_for_url(re.compile(rf"/apply/{app.pk}/$"))
    assert "已撤回为草稿" in page.inner_text(".messages")
    version = page.locator("#version")
    assert "superseded" in version.get_attribute("class")
    assert "已作废" in version.inner_text() and "不再有效" in page.inner_text("#superseded-note")
    assert "已作废" in page.inner_text("#scan-status")
    assert page.locator("#scans .ok-text, #version .ok-text").count() == 0
    green = page.evaluate("""() => [...document.querySelectorAll('#scans *, #version *')].filter(e => {
        const [r, g, b] = getComputedStyle(e).color.match(/\\d+/g).map(Number); return g > r + 40 && g > b + 20; }).length""")
    assert green == 0
    assert "btn secondary" in page.locator("#print-pdf").get_attribute("class")  # not the page's main action
    assert page.locator("#tracker").count() == 0  # a draft again: the draft's steps
    page.locator("#version").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "status-superseded.png"), full_page=True)


def test_tracker_names_the_endorsement_step(page, load_call, make_org, make_user, artifacts):  # R-E9
    """A routed call (广西 2026-4 from a university association): the endorsement is a step, the endorser's
    turn is shown as waiting (not the applicant's action)."""
    call = reopen(load_call("guangxi2026"))
    liuzhou = make_org("柳州市科学技术协会", "city_association", call.issuer, code=None)
    _org, clerk, _head = unit(make_org, make_user, name="广西科技大学科学技术协会", category="university_association",
                              parent=liuzhou, prefix="gx")
    app = filled_draft(clerk, call, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    if app.status != "awaiting_endorsement":
        pytest.skip("this call does not route 2026-4 for the unit")
    _login(page, "gx_clerk")
    page.goto(page.base + f"/apply/{app.pk}/")
    keys = [li.get_attribute("data-step") for li in page.locator("#tracker li").all()]
    assert "endorse" in keys and keys.index("endorse") < keys.index("funder")
    assert page.evaluate(CONTRAST, "#tracker li[aria-current=step]") >= 4.5
    page.screenshot(path=str(artifacts / "status-tracker-endorse.png"), full_page=True)
