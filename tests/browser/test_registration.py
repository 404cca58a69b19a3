"""项目申报用户注册 in headless Chromium: an error beside its field, the typed values kept, approval, login."""

from __future__ import annotations

import re

import pytest

from shenbao.orgs.models import Organisation, Role, User
from tests.conftest import credit_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_hashing")]  # tests/conftest.py

PASSWORD = "Reg#2026ok"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def liuzhou(make_org, make_user, load_call):
    gx = make_org("广西壮族自治区科学技术协会", "province_association", code=None)
    lz = make_org("柳州市科学技术协会", "city_association", gx, code=None)
    make_org("柳州市鱼峰区科学技术协会", "county_association", lz, code=None)
    load_call("liuzhou2026")
    make_user("home", lz, roles=(Role.HOME_REVIEWER,), password=PASSWORD, display_name="覃审核")
    return lz


def _login(page, username, password=PASSWORD):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="登录").click()


def _logout(page):
    page.locator("header").get_by_role("button", name="退出").click()


def test_register_fix_error_approve_and_log_in(page, liuzhou, artifacts):  # R-E1, R-E9
    good = credit_code(4242)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    page.goto(page.base + "/accounts/register/")
    page.fill("#id_name", "柳州市电子学会")
    page.fill("#id_credit_code", bad)
    page.select_option("#id_category", label="市级学会")
    page.select_option("#id_home_association", label="柳州市科学技术协会")
    page.fill("#id_address", "柳州市城中区文昌路1号")
    page.fill("#id_postcode", "545001")
    page.fill("#id_contact_name", "韦明")
    page.fill("#id_contact_phone", "0772-2800001")
    page.fill("#id_email", "dz@example.cn")
    page.fill("#id_display_name", "韦明")
    page.fill("#id_phone", "13800000005")
    page.fill("#id_username", "dz_clerk")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.screenshot(path=str(artifacts / "registration-filled.png"), full_page=True)
    page.get_by_role("button", name="提交注册").click()

    # the message sits beside the credit code field, and what was typed is still there
    field = page.locator("#field-credit_code")
    assert "统一社会信用代码校验位不正确" in field.locator(".errorlist").inner_text()
    assert "has-error" in field.get_attribute("class")
    assert page.input_value("#id_credit_code") == bad
    assert page.input_value("#id_name") == "柳州市电子学会"
    assert page.input_value("#id_address") == "柳州市城中区文昌路1号"
    assert page.input_value("#id_username") == "dz_clerk"
    assert page.locator("#id_home_association option:checked").inner_text() == "柳州市科学技术协会"
    assert page.locator("#id_category option:checked").inner_text() == "市级学会"
    assert not Organisation.objects.filter(name="柳州市电子学会").exists()
    page.locator("#field-credit_code").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "registration-error.png"), full_page=True)

    # corrected (typed in lower case), with the passwords again
    page.fill("#id_credit_code", good.lower())
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_url(re.compile(r"/accounts/register/done/$"))
    assert "正在等待 柳州市科学技术协会 审核" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "registration-done.png"), full_page=True)
    org = Organisation.objects.get(name="柳州市电子学会")
    assert org.status == Organisation.Status.PENDING and org.credit_code == good

    # before approval the applicant can log in but only sees the wait
    _login(page, "dz_clerk")
    assert "等待 柳州市科学技术协会 审核" in page.inner_text("#org-card")
    _logout(page)

    # the home association's reviewer approves
    _login(page, "home")
    page.get_by_role("link", name="注册单位审核").click()
    row = page.locator('tr[data-org="柳州市电子学会"]')
    assert "待审核" in row.inner_text() and "韦明" in row.inner_text()
    page.screenshot(path=str(artifacts / "registrations-pending.png"), full_page=True)
    row.get_by_role("button", name="通过").click()
    assert "已通过「柳州市电子学会」的注册" in page.inner_text(".messages")
    page.goto(page.base + "/accounts/registrations/?status=active")
    assert "已通过" in page.locator('tr[data-org="柳州市电子学会"]').inner_text()
    page.screenshot(path=str(artifacts / "registrations-approved.png"), full_page=True)
    _logout(page)

    # the applicant logs in as the unit's clerk
    _login(page, "dz_clerk")
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    card = page.inner_text("#org-card")
    assert "柳州市电子学会" in card and "已通过" in card
    assert "申报单位经办人 · 柳州市电子学会" in page.inner_text("main")
    assert User.objects.get(username="dz_clerk").has_role(Role.APPLICANT_CLERK)
    page.screenshot(path=str(artifacts / "home-applicant.png"), full_page=True)


def test_rejection_reason_shown_at_login_on_a_phone(_chromium, live_server, liuzhou, artifacts):
    from shenbao.orgs import services
    from shenbao.orgs.models import Category

    org, _ = services.register_unit(
        name="柳州市电子学会", credit_code=credit_code(4343), category=Category.objects.get(code="city_society"),
        home_association=liuzhou, address="柳州市", contact_name="韦明", contact_phone="0772-2800001",
        username="dz_clerk", password=PASSWORD, display_name="韦明",
    )
    services.reject_registration(actor=User.objects.get(username="home"), org=org, reason="请上传社会团体登记证书后重新提交")
    context = _chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                    locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base = live_server.url
    try:
        page.goto(page.base + "/accounts/register/")
        # the form fits the phone: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / "registration-phone.png"), full_page=True)
        _login(page, "dz_clerk")
        note = page.inner_text("#status-note")
        assert "注册未通过审核" in note and "请上传社会团体登记证书后重新提交" in note
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / "home-rejected-phone.png"), full_page=True)
    finally:
        context.close()


def test_lock_page_and_separation_of_duties_page(page, make_user, make_org, artifacts):
    gx = make_org("广西壮族自治区科学技术协会", "province_association", code=None)
    lz = make_org("柳州市科学技术协会", "city_association", gx, code=None)
    make_org("柳州市鱼峰区科学技术协会", "county_association", lz, code=None)
    make_user("clerk", password=PASSWORD)
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,), password=PASSWORD)
    device = TOTPDevice.objects.create(user=admin, name="default", confirmed=True)
    for _ in range(5):
        _login(page, "clerk", "wrong-password")
    assert "账户已锁定" in page.inner_text("main") and "解锁时间" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "login-locked.png"), full_page=True)
    _login(page, "clerk")  # the right password during the lock
    assert "账户已锁定" in page.inner_text("main")
    _login(page, "sysadmin")  # R-S60: an administrator's password is followed by the second factor
    assert "动态验证码" in page.inner_text("main")
    page.fill("#id_token", f"{totp(device.bin_key):06d}")
    page.click("main button[type=submit]")
    page.goto(page.base + "/accounts/audit/")
    assert "三权分立：您是系统管理员" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "denied-audit-for-sysadmin.png"), full_page=True)
    page.goto(page.base + "/accounts/system/")
    assert "系统管理" in page.inner_text("h1")
    assert "柳州市鱼峰区科学技术协会" in page.inner_text("#org-tree")
    page.screenshot(path=str(artifacts / "system-admin.png"), full_page=True)


def test_funder_records_a_grade_on_the_unit_page(page, liuzhou, make_org, make_user, artifacts):  # R-E2
    import datetime as dt

    from shenbao.orgs import selectors

    society = make_org("柳州市机械工程学会", "city_society", liuzhou)
    make_user("funder", liuzhou, roles=(Role.FUNDER_STAFF,), password=PASSWORD)
    _login(page, "funder")
    page.goto(page.base + f"/accounts/units/{society.pk}/")
    for value, since in (("3A", "2019-01-01"), ("2A", "2023-01-01")):
        page.select_option("#id_key", label="学会等级评估")
        page.fill("#id_value", value)
        page.fill("#id_valid_from", since)
        page.get_by_role("button", name="登记", exact=True).click()
        assert "已登记「学会等级评估」" in page.inner_text(".messages")
    assert "2A" in page.inner_text('#current-attrs tr[data-key="society_grade"]')
    history = page.inner_text("#attr-history")
    assert "2019-01-01 — 2022-12-31" in history
    page.screenshot(path=str(artifacts / "unit-attributes.png"), full_page=True)
    ctx = selectors.eligibility_context(society, on=dt.date(2026, 3, 1))
    assert ctx["attrs"]["society_grade"] == 2 and ctx["max"]["society_grade"] == 3
