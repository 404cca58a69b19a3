"""Logging in under attack: a lock per user name and a throttle per client address; the administrators'
second factor (TOTP) and their way in from the administration network while their name is locked."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py
PASSWORD = "Shenbao#2026"
OUTSIDE, ADMIN_NET = "203.0.113.9", "10.8.0.5"


@pytest.fixture
def people(make_org, make_user, settings):
    settings.SHENBAO_ADMIN_NETWORKS = ["10.8.0.0/24"]
    org = make_org("柳州市机械工程学会", "city_society")
    return {
        "clerk": make_user("clerk", org, roles=(Role.APPLICANT_CLERK,), password=PASSWORD),
        "clerk2": make_user("clerk2", org, roles=(Role.APPLICANT_CLERK,), password=PASSWORD),
        "secadmin": make_user("secadmin", roles=(Role.SECURITY_ADMIN,), password=PASSWORD),
        "sysadmin": make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,), password=PASSWORD),
    }


def login(client, username, password, ip=OUTSIDE):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in_as(client):
    from django.contrib.auth import get_user

    class R:
        session = client.session
    user = get_user(R())
    return user.username if user.is_authenticated else None


def enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, drift=drift):06d}"


def test_an_overlong_user_name_is_refused_as_a_form_error(people, client):  # R-S71
    # found by the page-form fuzz on PostgreSQL: 300 characters reached the lockout record (varchar 255)
    from axes.models import AccessAttempt

    response = login(client, "名" * 300, "wrong")
    assert response.status_code == 200
    assert "150" in response.content.decode() and logged_in_as(client) is None
    assert not AccessAttempt.objects.filter(username__startswith="名名名").exists()
    # a name of the allowed length still counts as a failed login
    assert login(client, "x" * 150, "wrong").status_code == 200
    assert AccessAttempt.objects.filter(username="x" * 150).exists()


# --- throttle per client address across user names ---------------------------------------------------------


def test_one_address_spraying_many_user_names_is_throttled(people, client, settings):  # R-S58
    limit = settings.SHENBAO_LOGIN_IP_LIMIT
    assert limit <= 20
    for i in range(limit):  # one wrong password per user name: no user name reaches its lock
        login(client, f"user{i}", "Spray#2026")
    r = login(client, "clerk", PASSWORD)  # even the right password of a real account
    assert r.status_code == 429 and "登录失败次数过多" in r.content.decode()
    assert logged_in_as(client) is None
    assert AuditEvent.objects.filter(action="account.login_throttled", ip=OUTSIDE).exists()
    # another address is not affected, and the user name is not locked
    assert login(client, "clerk", PASSWORD, ip="198.51.100.7").status_code == 302


# --- the lock per user name does not shut the administrators out -------------------------------------------


def test_locked_administrator_still_logs_in_from_the_admin_network(people, client):  # R-S59
    device = enrol(people["secadmin"])
    for _ in range(5):
        login(client, "secadmin", "wrong")
    assert login(client, "secadmin", PASSWORD).status_code == 403  # locked from outside
    # from the administration network the right password and the second factor still work
    r = login(client, "secadmin", PASSWORD, ip=ADMIN_NET)
    assert r.status_code == 302 and r.url == "/accounts/login/verify/"
    r = client.post("/accounts/login/verify/", {"token": code(device)}, REMOTE_ADDR=ADMIN_NET)
    assert r.status_code == 302 and logged_in_as(client) == "secadmin"
    # a business account gets no such way round its lock, even from that network
    client.post("/accounts/logout/")
    for _ in range(5):
        login(client, "clerk", "wrong")
    assert login(client, "clerk", PASSWORD, ip=ADMIN_NET).status_code == 403


def test_failures_inside_the_admin_network_still_lock(people, client):  # R-S59
    enrol(people["secadmin"])
    for _ in range(5):
        login(client, "secadmin", "wrong", ip=ADMIN_NET)
    assert login(client, "secadmin", PASSWORD, ip=ADMIN_NET).status_code == 403


# --- the second factor -------------------------------------------------------------------------------------


def test_administrators_need_the_second_factor(people, client):  # R-S60
    device = enrol(people["sysadmin"])
    r = login(client, "sysadmin", PASSWORD)
    assert r.status_code == 302 and r.url == "/accounts/login/verify/"
    assert logged_in_as(client) is None  # not logged in on the password alone
    assert client.get("/accounts/system/").status_code == 302
    page = client.get("/accounts/login/verify/").content.decode()
    assert "动态验证码" in page
    r = client.post("/accounts/login/verify/", {"token": "000000" if code(device) != "000000" else "111111"})
    assert r.status_code == 400 and "验证码不正确" in r.content.decode() and logged_in_as(client) is None
    assert AuditEvent.objects.filter(action="account.login_failed", actor_name="sysadmin",
                                     note__contains="动态验证码").exists()
    time.sleep(1.1)  # the device's back-off after one wrong code is one second
    r = client.post("/accounts/login/verify/", {"token": code(device)})
    assert r.status_code == 302 and logged_in_as(client) == "sysadmin"
    assert client.get("/accounts/system/").status_code == 200
    # business accounts log in with the password alone
    client.post("/accounts/logout/")
    assert login(client, "clerk", PASSWORD).url == "/accounts/home/"


def test_wrong_codes_count_towards_the_lock(people, client):  # R-S60
    device = enrol(people["sysadmin"])
    wrong = f"{(int(code(device)) + 500000) % 1000000:06d}"
    for _ in range(5):
        login(client, "sysadmin", PASSWORD)
        client.post("/accounts/login/verify/", {"token": wrong})
    assert login(client, "sysadmin", PASSWORD).status_code == 403


def test_first_login_enrols_with_a_qr_code(people, client):  # R-S61
    r = login(client, "secadmin", PASSWORD)
    assert r.url == "/accounts/login/verify/"
    page = client.get("/accounts/login/verify/").content.decode()
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")  # the QR code is drawn here, by no outside service
    secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=people["secadmin"])
    assert not device.confirmed
    import base64

    assert base64.b32decode(secret) == device.bin_key
    r = client.post("/accounts/login/verify/", {"token": code(device)})
    assert r.status_code == 302 and logged_in_as(client) == "secadmin"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="account.otp_enrol", actor_name="secadmin").exists()


def test_second_factor_reset_takes_another_administrator(people, client):  # R-S61
    from shenbao.core.decisions import NotAllowed
    from shenbao.orgs import services

    enrol(people["sysadmin"])
    req = services.request_admin_change(actor=people["secadmin"], kind="otp_reset", target=people["sysadmin"])
    with pytest.raises(NotAllowed):  # the account concerned cannot approve its own reset
        services.decide_admin_request(actor=people["sysadmin"], request=req, approve=True)
    assert TOTPDevice.objects.filter(user=people["sysadmin"]).exists()
    other = people["secadmin"].__class__.objects.create_user(username="secadmin2", password=PASSWORD,
                                                             must_change_password=False)
    other.roles.create(role=Role.SECURITY_ADMIN)
    services.decide_admin_request(actor=other, request=req, approve=True)
    assert not TOTPDevice.objects.filter(user=people["sysadmin"]).exists()  # enrols again at next login
    assert AuditEvent.objects.filter(action="account.otp_reset", actor=other).exists()


def test_the_login_dialog_does_not_skip_the_second_factor(people, client):  # R-S60
    enrol(people["sysadmin"])
    r = client.post("/accounts/login/json/", {"username": "sysadmin", "password": PASSWORD})
    assert r.status_code == 403 and "动态验证码" in r.json()["message"]
    assert logged_in_as(client) is None
    assert client.post("/accounts/login/json/", {"username": "clerk", "password": PASSWORD}).json()["ok"]
