"""Issue 7, item 10, at 375×667 (the smallest common phone): the sticky save bar of the application form is one
line high and opaque, anchors land clear of it; the registration-review table becomes cards whose buttons
are within reach. Heights are measured; screenshots tests/artifacts/phone-*.png (looked at)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shenbao.applications import services
from shenbao.orgs.models import Organisation, Role
from tests.journey_support import reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_hashing")]

PASSWORD = "Shenbao#2026"
PHONE = {"width": 375, "height": 667}


@pytest.fixture
def phone(_chromium, live_server):
    context = _chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                    locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.base = live_server.url
    yield pg
    context.close()


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def test_sticky_save_bar_is_one_opaque_line(phone, load_call, make_org, make_user, artifacts):
    call = reopen(load_call("changde2022"))  # the longest form
    _org, clerk, _head = unit(make_org, make_user, name="常德市手机宽度学会", category="city_society",
                              parent=call.issuer, prefix="ph")
    app = services.create_draft(user=clerk, project_type=call.types.get(code="1"))
    page = phone
    _login(page, "ph_clerk")
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    page.fill("#f-project_name", "党建引领学会高质量发展")
    # a locator assertion, not wait_for_function("…"): the page's CSP (script-src 'self') refuses string eval
    expect(page.locator("[data-sb-autosave-status]")).to_contain_text("已自动保存")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 3)")
    bar = page.locator(".edit-actions")
    box = bar.bounding_box()
    buttons = [page.locator(s).bounding_box() for s in ("#check-link", "#save-btn", "#submit-btn")]
    status = page.locator("[data-sb-autosave-status]").bounding_box()
    # one line: every button on the same row, the bar no higher than a button plus its padding
    assert len({round(b["y"]) for b in buttons}) == 1, buttons
    tallest = max(b["height"] for b in buttons)
    assert box["height"] <= tallest + 20, (box, tallest)
    assert status["height"] <= tallest
    assert box["y"] + box["height"] <= PHONE["height"] + 1  # stuck to the bottom of the screen
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] for b in buttons)
    # opaque: nothing of the form shows through it
    bg = page.evaluate("getComputedStyle(document.querySelector('.edit-actions')).backgroundColor")
    assert bg in ("rgb(255, 255, 255)", "rgba(255, 255, 255, 1)"), bg
    hit = page.evaluate(f"document.elementFromPoint(5, {box['y'] + box['height'] / 2}).closest('.edit-actions') !== null")
    assert hit
    # content padded: a field brought into view (an error link, focus) is not left under the bar
    pad = page.evaluate("parseFloat(getComputedStyle(document.documentElement).scrollPaddingBottom)")
    assert pad >= box["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "phone-375-edit-bar.png"), full_page=False)

    # in English too: the short labels keep it to one line
    page.locator("header").get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(rf"/apply/{app.pk}/edit/$"))
    assert page.inner_text("#save-btn") == "Save"
    buttons = [page.locator(s).bounding_box() for s in ("#check-link", "#save-btn", "#submit-btn")]
    assert len({round(b["y"]) for b in buttons}) == 1, buttons
    assert page.locator(".edit-actions").bounding_box()["height"] <= max(b["height"] for b in buttons) + 20
    page.screenshot(path=str(artifacts / "phone-375-edit-bar-en.png"), full_page=False)


def test_registration_review_as_cards_with_buttons_in_reach(phone, make_org, make_user, load_call, artifacts):
    gx = make_org("广西壮族自治区科学技术协会", "province_association", code=None)
    lz = make_org("柳州市科学技术协会", "city_association", gx, code=None)
    load_call("liuzhou2026")
    make_user("ph_home", lz, roles=(Role.HOME_REVIEWER,), password=PASSWORD, display_name="覃审核")
    for i, name in enumerate(("柳州市汽车工程学会", "柳州市科普作家协会与科技传播促进会")):
        org = make_org(name, "city_society", lz, status="pending", contact_name="韦明", contact_phone="0772-2800001")
        make_user(f"ph_reg{i}", org, display_name="韦明", phone="13800000005")
    page = phone
    _login(page, "ph_home")
    page.goto(page.base + "/accounts/registrations/?status=pending")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not page.locator("#registrations thead").is_visible()  # no header row: cards, each cell labelled
    row = page.locator('tr[data-org="柳州市汽车工程学会"]')
    assert page.evaluate("getComputedStyle(document.querySelector('#registrations tr[data-org]')).display") == "block"
    approve = row.get_by_role("button", name="通过")
    approve.scroll_into_view_if_needed()
    b = approve.bounding_box()
    assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] and b["height"] >= 40  # a thumb's size
    page.screenshot(path=str(artifacts / "phone-375-registrations.png"), full_page=True)
    approve.click()
    assert "已通过「柳州市汽车工程学会」的注册" in page.inner_text(".messages")
    assert Organisation.objects.get(name="柳州市汽车工程学会").status == "active"
