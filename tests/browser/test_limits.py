"""Limits before work (issue 7, item 2), in headless Chromium: 可申报项目 shows the unit's use of the call's
per-unit limit (已用 1/2 项，另有草稿 1 份) before anything is started, and a hard limit that is used up refuses
the start with its reason. Screenshots go to tests/artifacts/limits-*.png."""

from __future__ import annotations

import re

import pytest

from shenbao.applications import services
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Shenbao#2026"


@pytest.fixture(autouse=True)
def fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def test_the_quota_is_shown_before_the_start(page, load_call, make_org, make_user, artifacts):
    # R-E3 柳州 2026: “同一单位申报项目原则上不超过2个”
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市浏览器学会", category="city_society",
                              parent=call.issuer, prefix="lim")
    services.submit(user=clerk, application=filled_draft(clerk, call, "2026-1"))
    filled_draft(clerk, call, "2026-2")
    _login(page, "lim_clerk")
    page.goto(page.base + "/apply/offers/")
    usage = page.locator(f'section[data-call="{call.code}"] .usage')
    usage.wait_for()
    text = re.sub(r"\s+", " ", usage.inner_text())
    assert "每单位原则上不超过 2 项：已用 1/2 项，另有草稿 1 份" in text
    assert "现有草稿已足以用完剩余名额" in text
    assert usage.bounding_box()["height"] > 0  # visible, above the types
    first_type = page.locator(f'section[data-call="{call.code}"] .offer').first
    assert usage.bounding_box()["y"] < first_type.bounding_box()["y"]
    page.screenshot(path=str(artifacts / "limits-offers.png"), full_page=True)
