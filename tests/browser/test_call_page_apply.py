"""Issue 7, item 3: the call page leads to applying (在线申报 per type: log in or register first, then straight
to a new or the existing draft; a unit that may not apply sees why), a single deadline everywhere on the page
(a practice copy shows its own dates in every section), a placeholder deadline flagged wherever it appears,
and no raw template text (“经{meeting}审议通过”) on a page. Screenshots tests/artifacts/callpage-*.png."""

from __future__ import annotations

import re

import pytest

from shenbao.applications import services
from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.demo.data import ensure_practice_calls
from tests.conftest import CALL_FILES
from tests.journey_support import reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_hashing")]

PASSWORD = "Shenbao#2026"
RAW = re.compile(r"\{[a-z_]+\}")


def _login_form(page, username):
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_apply_button_logs_in_then_goes_straight_to_the_draft(page, load_call, make_org, make_user, artifacts):  # R-E1
    call = reopen(load_call("liuzhou2026"))
    unit(make_org, make_user, name="柳州市在线申报学会", category="city_society", parent=call.issuer, prefix="cp")
    page.goto(page.base + f"/calls/{call.code}/")
    card = page.locator('section.type-card[data-type="2026-2"]')
    button = card.get_by_role("link", name="在线申报").first
    assert button.is_visible()
    assert "next=" in (card.locator("a", has_text="先注册单位").get_attribute("href") or "")
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "callpage-apply-button.png"), full_page=False)
    button.click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    _login_form(page, "cp_clerk")
    page.wait_for_url(re.compile(r"/apply/start/\d+/$"))
    offer = page.locator("#start-offer")
    assert "可以申报" in offer.inner_text()
    page.screenshot(path=str(artifacts / "callpage-start.png"), full_page=True)
    offer.get_by_role("button", name="开始申报").click()
    page.wait_for_url(re.compile(r"/apply/\d+/edit/$"))
    app = Application.objects.get(applicant__name="柳州市在线申报学会")
    assert app.project_type.code == "2026-2"

    # again from the call page: straight to the existing draft, no second one
    page.goto(page.base + f"/calls/{call.code}/")
    page.locator('section.type-card[data-type="2026-2"]').get_by_role("link", name="在线申报").first.click()
    page.wait_for_url(re.compile(rf"/apply/{app.pk}/edit/$"))
    assert Application.objects.filter(applicant=app.applicant).count() == 1

    # a type the unit may not apply for: why, not a button
    page.goto(page.base + f"/calls/{call.code}/")
    page.locator('section.type-card[data-type="2026-5"]').get_by_role("link", name="在线申报").first.click()
    page.wait_for_url(re.compile(r"/apply/start/\d+/$"))
    assert "不能申报" in page.inner_text("#start-offer")
    assert page.locator("#start-offer .reasons li").count() >= 1
    assert page.locator("#start-offer").get_by_role("button", name="开始申报").count() == 0
    page.screenshot(path=str(artifacts / "callpage-start-refused.png"), full_page=True)


def test_register_first_keeps_where_the_clerk_was_going(page, load_call):
    call = reopen(load_call("liuzhou2026"))
    page.goto(page.base + f"/calls/{call.code}/")
    page.locator('section.type-card[data-type="2026-2"]').get_by_role("link", name="先注册单位").click()
    page.wait_for_url(re.compile(r"/accounts/register/\?next="))
    assert re.match(r"^/apply/start/\d+/$", page.input_value('#register-form input[name="next"]'))


def test_practice_copy_shows_its_own_dates_everywhere(page, load_call, artifacts):  # R-C1, R-E7
    load_call("liuzhou2026")
    codes = ensure_practice_calls()
    practice = Call.objects.get(code="liuzhou-2026-kcfn-practice")
    assert practice.code in codes
    page.goto(page.base + f"/calls/{practice.code}/")
    text = page.inner_text("main")
    assert "2026年3月31日" not in text  # the original notice's deadline, in no section
    day = practice.deadline.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    own = f"{day.year}年{day.month}月{day.day}日"
    assert text.count(own) >= 3, text  # the deadline box, the submission line, the notice's own note
    assert "2026年12月" not in text  # completion moved with the copy, not left before its deadline
    page.locator("#submission").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "callpage-practice.png"), full_page=False)


def test_placeholder_deadline_is_flagged_on_every_page(page, load_call, make_org, make_user, artifacts):  # R-C1
    call = reopen(load_call("hunan2024"))
    assert call.document.deadline_placeholder
    _org, clerk, _head = unit(make_org, make_user, name="湖南省暂定截止学会", category="province_society",
                              parent=call.issuer, prefix="hn")
    ptype = call.types.get(code="1-1")
    app = services.create_draft(user=clerk, project_type=ptype, track=ptype.tracks.get(code="high_end_event"))
    page.goto(page.base + "/")
    assert page.locator('[data-placeholder-deadline]').count() >= 1
    page.goto(page.base + f"/calls/{call.code}/")
    assert page.locator("#deadline [data-placeholder-deadline]").count() == 1
    assert page.locator("#submission [data-placeholder-deadline]").count() == 1
    page.goto(page.base + "/accounts/login/")
    _login_form(page, "hn_clerk")
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    for path in ("/apply/offers/", "/apply/", f"/apply/{app.pk}/", f"/apply/{app.pk}/edit/"):
        page.goto(page.base + path)
        assert page.locator("[data-placeholder-deadline]").count() >= 1, path
        assert "暂定" in page.locator("[data-placeholder-deadline]").first.inner_text(), path
    page.screenshot(path=str(artifacts / "callpage-placeholder-edit.png"), full_page=False)


@pytest.mark.parametrize("name", list(CALL_FILES))
def test_no_raw_template_text_on_the_call_page(page, load_call, name):  # R-E8 (经{meeting}审议)
    call = load_call(name)
    page.goto(page.base + f"/calls/{call.code}/")
    found = RAW.findall(page.inner_text("main"))
    assert found == [], found
