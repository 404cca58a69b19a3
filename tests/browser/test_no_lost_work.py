"""Issue 7, item 1: no typed text is ever lost on the application form (headless Chromium).

- The session expires while the clerk types: autosave says the login expired (never 已自动保存), the text
  stays in the page and in localStorage, a login dialog logs in without leaving the page, and the text is
  then saved on the server.
- 检查是否填写完整 checks what is on the page, not a stale saved copy.
- The leave-page warning fires only when something is really unsaved.
Screenshots: tests/artifacts/lost-work-*.png."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from shenbao.applications import services
from shenbao.applications.models import Application
from tests.journey_support import reopen, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Shenbao#2026"


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市不丢字学会", category="city_society",
                              parent=call.issuer, prefix="lw")
    ptype = call.types.get(code="2026-2")
    app = services.create_draft(user=clerk, project_type=ptype)
    return app


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def _saved(page):
    # a locator assertion, not wait_for_function("…"): the page's CSP (script-src 'self') refuses string eval
    expect(page.locator("[data-sb-autosave-status]")).to_contain_text("已自动保存")


def test_session_expiry_while_typing_keeps_the_text_and_saves_after_login(page, draft, artifacts):
    app = draft
    _login(page, "lw_clerk")
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    page.fill("#f-project_name", "“龙城科创大讲堂”第一讲")
    _saved(page)
    app.refresh_from_db()
    assert app.data["project_name"] == "“龙城科创大讲堂”第一讲"

    # 30 minutes idle: the session is gone on the server (and the browser's cookie with it)
    Session.objects.all().delete()
    page.context.clear_cookies(name="sessionid")
    page.fill("#f-project_name", "“龙城科创大讲堂”第一讲：智能网联汽车")
    page.fill("#f-goals", "举办1场200人以上的科普讲座，现场发放科普资料500份")
    status = page.locator("[data-sb-autosave-status]")
    page.wait_for_selector("dialog#relogin[open]")
    assert "登录已过期" in status.inner_text()
    assert "已自动保存" not in status.inner_text()
    assert page.url.endswith(f"/apply/{app.pk}/edit/")  # still on the form
    kept = page.evaluate(f"Object.keys(localStorage).filter(k => k.indexOf('shenbao:draft:app{app.pk}:v') === 0)")
    assert kept == [f"shenbao:draft:app{app.pk}:v{app.version}"]
    assert "智能网联汽车" in page.evaluate(f"localStorage.getItem('{kept[0]}')")
    page.screenshot(path=str(artifacts / "lost-work-expired.png"), full_page=False)

    # a wrong password is answered in the dialog, the page stays
    page.fill("#relogin-password", "wrong-password")
    page.locator("#relogin-btn").click()
    expect(page.locator("[data-sb-login-error]")).not_to_be_empty()
    assert "用户名或密码不正确" in page.inner_text("[data-sb-login-error]")
    assert page.input_value("#f-goals") == "举办1场200人以上的科普讲座，现场发放科普资料500份"

    # log in in the dialog: the text is saved on the server, the page never left
    assert page.input_value("#relogin-username") == "lw_clerk"
    page.fill("#relogin-password", PASSWORD)
    page.locator("#relogin-btn").click()
    page.wait_for_selector("dialog#relogin", state="hidden")
    _saved(page)
    app.refresh_from_db()
    assert app.data["project_name"] == "“龙城科创大讲堂”第一讲：智能网联汽车"
    assert app.data["goals"] == "举办1场200人以上的科普讲座，现场发放科普资料500份"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.indexOf('shenbao:draft:') === 0).length") == 0
    page.screenshot(path=str(artifacts / "lost-work-saved-after-login.png"), full_page=False)

    # the CSRF token was refreshed after the login: the ordinary 保存 button works without a 403
    page.fill("#f-goals", "举办2场200人以上的科普讲座")
    page.locator("#save-btn").click()
    page.wait_for_load_state()
    assert "已保存" in page.inner_text(".messages")
    app.refresh_from_db()
    assert app.data["goals"] == "举办2场200人以上的科普讲座"


def test_text_kept_in_the_browser_survives_the_login_page(page, draft):
    """Expired, and the clerk clicked 保存 anyway after closing the dialog… or reloaded: the login page, then
    the form again with the typed text put back from localStorage and saved."""
    app = draft
    _login(page, "lw_clerk")
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    Session.objects.all().delete()
    page.fill("#f-goals", "面向中小学生开展人工智能科普进校园活动")
    page.wait_for_selector("dialog#relogin[open]")
    page.goto(page.base + f"/apply/{app.pk}/edit/")  # the leave warning is accepted (no dialog handler needed)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "lw_clerk")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(rf"/apply/{app.pk}/edit/$"))
    assert page.input_value("#f-goals") == "面向中小学生开展人工智能科普进校园活动"
    _saved(page)
    app.refresh_from_db()
    assert app.data["goals"] == "面向中小学生开展人工智能科普进校园活动"


def test_check_button_checks_what_is_on_the_page(page, draft, artifacts):
    """A correction typed just before 检查是否填写完整 is checked, not the old saved copy."""
    app = draft
    _login(page, "lw_clerk")
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    phone = page.locator('[name^="f-project_lead-"][name$="phone"]').first
    name = phone.get_attribute("name")
    phone.fill("12345")
    page.locator("#save-btn").click()
    page.wait_for_load_state()
    assert page.locator(f"#err-{name[2:]}").is_visible()
    # corrected and checked at once (no autosave in between)
    page.evaluate("document.querySelector('#f-project_name').blur()")
    page.fill(f'[name="{name}"]', "13800000001")
    page.locator("#check-link").click()
    page.wait_for_load_state()
    assert page.locator(f"#err-{name[2:]}").count() == 0, page.inner_text(".sb-error-summary")
    assert page.input_value(f'[name="{name}"]') == "13800000001"
    assert "检查发现" in page.inner_text(".messages")  # the rest of the form is still empty: listed
    app.refresh_from_db()
    assert Application.objects.get(pk=app.pk).data["project_lead"][name.split("-")[-1]] == "13800000001"
    page.screenshot(path=str(artifacts / "lost-work-check.png"), full_page=False)


def _would_warn(page) -> bool:
    return page.evaluate("""() => { const e = new Event('beforeunload', {cancelable: true});
                                     window.dispatchEvent(e); return e.defaultPrevented; }""")


def test_leave_warning_only_when_something_is_unsaved(page, draft):
    app = draft
    _login(page, "lw_clerk")
    # copies kept in this browser for other applications: dropped after two weeks, kept before
    page.evaluate("""() => {
        localStorage.setItem('shenbao:draft:app999998:v3', JSON.stringify({at: new Date(Date.now() - 30 * 864e5).toISOString(), pairs: '[]'}));
        localStorage.setItem('shenbao:draft:app999999:v3', JSON.stringify({at: new Date().toISOString(), pairs: '[]'})); }""")
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    assert page.evaluate("localStorage.getItem('shenbao:draft:app999998:v3')") is None
    assert page.evaluate("localStorage.getItem('shenbao:draft:app999999:v3')") is not None
    assert not _would_warn(page)  # nothing typed
    page.fill("#f-goals", "举办科普讲座")
    assert _would_warn(page)  # typed, not yet saved
    _saved(page)
    assert not _would_warn(page)  # saved by autosave
    page.fill("#f-goals", "举办科普讲座 ")
    page.fill("#f-goals", "举办科普讲座")
    assert not _would_warn(page)  # typed and undone: the page equals what the server has
