"""Issue 7, item 9: registration checks phone numbers, shows every error of the page at once, says on the
done page who reviews, how long it usually takes and that an e-mail follows, and a unit waiting for approval
sees that on every page it opens. Headless Chromium; screenshots tests/artifacts/register-*.png."""

from __future__ import annotations

import re

import pytest

from shenbao.calls.models import Call
from shenbao.orgs import services
from shenbao.orgs.models import Organisation, Role
from tests.conftest import credit_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_hashing")]

PASSWORD = "Reg#2026ok"


@pytest.fixture
def liuzhou(make_org, make_user, load_call):
    gx = make_org("广西壮族自治区科学技术协会", "province_association", code=None)
    lz = make_org("柳州市科学技术协会", "city_association", gx, code=None, contact_phone="0772-2825390")
    load_call("liuzhou2026")
    make_user("lzhome", lz, roles=(Role.HOME_REVIEWER,), password=PASSWORD, display_name="覃审核")
    return lz


def _fill(page, **over):
    values = {"name": "柳州市机械工程学会", "credit_code": credit_code(4343), "address": "柳州市城中区文昌路1号",
              "postcode": "545001", "contact_name": "韦明", "contact_phone": "0772-2800001",
              "email": "jx@example.cn", "display_name": "韦明", "phone": "13800000005", "username": "jx_clerk",
              "password1": PASSWORD, "password2": PASSWORD} | over
    page.goto(page.base + "/accounts/register/")
    page.select_option("#id_category", label="市级学会")
    page.select_option("#id_home_association", label="柳州市科学技术协会")
    for k, v in values.items():
        page.fill(f"#id_{k}", v)
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("mobile, landline", [("1380000000", "2800001"), ("12800000005", "0772-28001")])
def test_every_error_at_once_with_phone_checks(page, liuzhou, artifacts, mobile, landline):
    good = credit_code(4343)
    _fill(page, phone=mobile, contact_phone=landline, credit_code=good[:17] + ("0" if good[17] != "0" else "1"),
          address="", password1="abc", password2="abd")
    summary = page.locator("#form-errors")
    assert summary.is_visible()
    wrong = {li.get_attribute("data-field") for li in summary.locator("li[data-field]").all()}
    # all of them in one answer, not one per submission
    assert {"phone", "contact_phone", "credit_code", "address", "password1", "password2"} <= wrong
    assert "11位" in page.inner_text("#field-phone .errorlist")
    assert "区号" in page.inner_text("#field-contact_phone .errorlist")
    assert "至少" in page.inner_text("#field-password1 .errorlist")  # the rules, though the two differ
    assert "不一致" in page.inner_text("#field-password2 .errorlist")
    n = int(re.search(r"有 (\d+) 处需要修改", summary.inner_text()).group(1))
    assert n == page.locator(".field .errorlist li").count() >= 6
    assert page.input_value("#id_phone") == mobile  # what was typed is kept
    assert not Organisation.objects.filter(name="柳州市机械工程学会").exists()
    page.screenshot(path=str(artifacts / f"register-all-errors-{mobile}.png"), full_page=True)


def test_done_page_band_on_every_page_and_mail(page, liuzhou, artifacts, mailoutbox):
    _fill(page, phone="138 0000 0005", contact_phone="（0772）2800001")
    page.wait_for_url(re.compile(r"/accounts/register/done/$"))
    org = Organisation.objects.get(name="柳州市机械工程学会")
    assert org.users.get().phone == "13800000005"  # spaces dropped
    assert "柳州市科学技术协会" in page.inner_text("#reviewer") and "0772-2825390" in page.inner_text("#reviewer")
    assert "个工作日内" in page.inner_text("#review-time")
    assert "电子邮件" in page.inner_text("#review-mail") and "jx@example.cn" in page.inner_text("#review-mail")
    page.screenshot(path=str(artifacts / "register-done.png"), full_page=True)

    # waiting for approval: a band on every page the unit opens
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", "jx_clerk")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    for path in ("/accounts/home/", "/", f"/calls/{Call.objects.get().code}/", "/apply/",
                 "/apply/offers/"):
        page.goto(page.base + path)
        band = page.locator("#org-band")
        assert band.is_visible(), path
        assert "等待 柳州市科学技术协会 审核" in band.inner_text(), path
    page.screenshot(path=str(artifacts / "register-band.png"), full_page=False)

    # the decision is mailed
    services.approve_registration(actor=liuzhou.users.get(username="lzhome"), org=org)
    assert len(mailoutbox) == 1 and "jx@example.cn" in mailoutbox[0].to and "已通过" in mailoutbox[0].subject
    page.goto(page.base + "/accounts/home/")
    assert page.locator("#org-band").count() == 0
