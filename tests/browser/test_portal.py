"""The portal and a call page in headless Chromium, at desktop and phone widths."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from shenbao.calls.models import Call
from tests.test_portal import EXISTING

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _open_call(load_call, days: int = 12) -> Call:
    call = load_call("liuzhou2026")
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() + dt.timedelta(days=days, hours=3))
    call.refresh_from_db()
    return call


def _phone_page(_chromium, base: str, tz: str = "Asia/Shanghai"):
    context = _chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                    locale="zh-CN", timezone_id=tz)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.base = base
    return context, pg


def test_portal_and_call_page_at_desktop_width(page, load_call, artifacts):  # R-C1, R-C2, R-P7
    others = [load_call(name) for name in EXISTING if name != "liuzhou2026"]
    call = _open_call(load_call)
    doc = call.document
    page.goto(page.base + "/")
    card = page.locator(f'[data-code="{call.code}"]')
    assert card.get_attribute("data-phase") == "open"
    assert doc.title in card.inner_text()
    for other in others:
        section = page.locator(f"#funder-{other.issuer_id}")
        assert other.issuer.name in section.locator("h2").inner_text()
        assert section.locator(f'[data-code="{other.code}"]').get_attribute("data-phase") == other.phase
    page.screenshot(path=str(artifacts / "portal-desktop.png"), full_page=True)

    card.get_by_role("link", name=doc.title).click()
    page.wait_for_url(re.compile(rf"/calls/{call.code}/$"))
    countdown = page.locator("#deadline .countdown")
    # the script keeps the countdown live: seconds appear under a day, the days match the server
    assert re.match(r"距截止 12 天 \d+ 小时 \d+ 分", countdown.inner_text())
    for t in doc.project_types:
        row = page.locator(f'tr[data-type="{t.code}"]')
        assert t.quota.text() in row.inner_text() and t.funding.text() in row.inner_text()
    page.screenshot(path=str(artifacts / "call-desktop.png"), full_page=True)

    # a blank form downloads as PDF
    with page.expect_download() as info:
        page.locator(f'section[data-type="{doc.project_types[0].code}"] a[data-format="pdf"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    assert doc.form_for(doc.project_types[0]).title in download.suggested_filename
    path = artifacts / "blank-form.pdf"
    download.save_as(str(path))
    assert path.read_bytes().startswith(b"%PDF")


def test_countdown_is_right_in_any_browser_zone(_chromium, live_server, load_call, artifacts):  # R-C1
    """The deadline is an absolute instant: a browser in New York counts down to the same moment."""
    call = load_call("liuzhou2026")
    deadline = timezone.now() + dt.timedelta(hours=5, minutes=30)
    Call.objects.filter(pk=call.pk).update(deadline=deadline)
    context, pg = _phone_page(_chromium, live_server.url, tz="America/New_York")
    try:
        pg.goto(f"{pg.base}/calls/{call.code}/")
        text = pg.locator("#deadline .countdown").inner_text()
        m = re.match(r"距截止 (\d+) 小时 (\d+) 分 (\d+) 秒", text)
        assert m, text
        remaining = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
        expected = (deadline - timezone.now()).total_seconds()
        assert abs(remaining - expected) < 60, (text, expected)
        # the printed deadline stays in Beijing time
        local = deadline.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert local.strftime("%H:%M") in pg.locator("#deadline .dl-time").inner_text()
        # it ticks
        first = pg.locator("#deadline .countdown").inner_text()
        pg.wait_for_function("t => document.querySelector('#deadline .countdown').textContent !== t", arg=first)
    finally:
        context.close()


def test_portal_and_call_page_at_phone_width(_chromium, live_server, load_call, artifacts):
    call = _open_call(load_call)
    doc = call.document
    context, pg = _phone_page(_chromium, live_server.url)
    try:
        pg.goto(pg.base + "/")
        assert pg.locator(f'[data-code="{call.code}"]').is_visible()
        # nothing wider than the screen
        assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        pg.screenshot(path=str(artifacts / "portal-phone.png"), full_page=True)

        pg.goto(f"{pg.base}/calls/{call.code}/")
        assert pg.locator("#deadline .countdown").inner_text().startswith("距截止")
        assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # the types table turns into one labelled card per type
        assert not pg.locator(".types-table thead").is_visible()
        label = pg.evaluate(
            f"""getComputedStyle(document.querySelector('tr[data-type="{doc.project_types[0].code}"] td.quota'),
                                '::before').content"""
        )
        assert label == '"计划立项数量"'
        pg.screenshot(path=str(artifacts / "call-phone.png"), full_page=True)
        pg.screenshot(path=str(artifacts / "call-phone-top.png"))
    finally:
        context.close()


def _login(pg, client, user):
    client.force_login(user)
    pg.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": pg.base}])


def test_funder_manages_calls_in_the_browser(page, client, load_call, make_user, artifacts, _chromium,
                                            live_server):
    from shenbao.orgs.models import Role

    call = _open_call(load_call)
    staff = make_user("lz_funder", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    _login(page, client, staff)
    page.goto(page.base + "/manage/calls/")
    row = page.locator(f'tr[data-code="{call.code}"]')
    assert "已发布" in row.inner_text()
    page.screenshot(path=str(artifacts / "manage-desktop.png"), full_page=True)
    row.get_by_role("link", name="撤回发布").click()
    page.wait_for_url(f"**/manage/calls/{call.code}/unpublish/")
    assert "确认撤回发布？" in page.inner_text("h1")
    page.locator("#confirm-unpublish").click()
    page.wait_for_url("**/manage/calls/")
    assert "已撤回" in page.locator(f'tr[data-code="{call.code}"]').inner_text()
    call.refresh_from_db()
    assert call.status == Call.Status.UNPUBLISHED

    # a malformed file: the problems are listed, nothing changes
    page.goto(page.base + "/manage/calls/import/")
    page.fill("#id_filename", "broken.yaml")
    page.fill("#id_text", call.source_yaml.replace("deadline: 2026-03-31T17:00:00+08:00", "deadline: soon"))
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_load_state()
    problems = page.locator(".problem-list").inner_text()
    assert "broken.yaml" in problems and "deadline" in problems
    page.screenshot(path=str(artifacts / "import-errors-desktop.png"), full_page=True)

    context, pg = _phone_page(_chromium, live_server.url)
    try:
        _login(pg, client, staff)
        pg.goto(pg.base + "/manage/calls/")
        assert pg.locator(f'tr[data-code="{call.code}"]').is_visible()
        assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        pg.screenshot(path=str(artifacts / "manage-phone.png"), full_page=True)
    finally:
        context.close()
