"""The client's address behind a reverse proxy: the proxy header is believed only from a configured proxy
(SHENBAO_TRUSTED_PROXY), and then only its right-most hop that is not itself a proxy; the lockout (axes),
the audit log and the API all take the address from `core.http.client_ip`."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from shenbao.core.http import client_ip
from shenbao.core.models import AuditEvent
from tests.journey_support import reopen, unit

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.SHENBAO_TRUSTED_PROXIES = [PROXY, "10.0.0.6"]
    settings.SHENBAO_PROXY_IP_HEADER = "HTTP_X_FORWARDED_FOR"


def request(remote: str, forwarded: str | None = None, header: str = "HTTP_X_FORWARDED_FOR"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra[header] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_configured_proxy_the_header_is_ignored(settings):
    # R-S6
    settings.SHENBAO_TRUSTED_PROXIES = []
    assert client_ip(request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_a_forged_header_from_a_non_proxy_is_ignored(behind_proxy):
    # R-S6: anybody can write X-Forwarded-For; only the proxy's is believed
    assert client_ip(request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert client_ip(request("203.0.113.9", f"1.2.3.4, {PROXY}")) == "203.0.113.9"


def test_from_the_proxy_the_right_most_untrusted_hop_is_the_client(behind_proxy):
    # R-S6: the client may prepend anything; the proxy appends what it saw
    assert client_ip(request(PROXY, "198.51.100.7")) == "198.51.100.7"
    assert client_ip(request(PROXY, "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    # a chain of our own proxies is skipped
    assert client_ip(request(PROXY, "1.2.3.4, 198.51.100.7, 10.0.0.6")) == "198.51.100.7"
    assert client_ip(request(PROXY, " 2001:db8::1 ")) == "2001:db8::1"


def test_from_the_proxy_a_missing_or_garbled_header_gives_the_proxy(behind_proxy):
    # R-S6: never a made-up address
    assert client_ip(request(PROXY)) == PROXY
    assert client_ip(request(PROXY, "")) == PROXY
    assert client_ip(request(PROXY, "1.2.3.4, not-an-address")) == PROXY
    assert client_ip(request(PROXY, "10.0.0.6")) == PROXY


def test_the_header_is_the_configured_one(behind_proxy, settings):
    # R-S6
    settings.SHENBAO_PROXY_IP_HEADER = "HTTP_X_REAL_IP"
    assert client_ip(request(PROXY, "198.51.100.7", header="HTTP_X_REAL_IP")) == "198.51.100.7"
    assert client_ip(request(PROXY, "198.51.100.7")) == PROXY  # X-Forwarded-For is not that header


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_hashing")
def test_lockout_and_audit_see_the_forwarded_client_not_the_proxy(client, behind_proxy, make_user):
    # R-S6
    make_user("proxied", password="Right#2026x")
    client.post("/accounts/login/", {"username": "proxied", "password": "wrong"},
                REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]
    client.post("/accounts/login/", {"username": "proxied", "password": "Right#2026x"},
                REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert AuditEvent.objects.get(action="account.login").ip == "203.0.113.9"  # forged header ignored
    failed = AuditEvent.objects.filter(action="account.login_failed").values_list("ip", flat=True)
    assert set(failed) == {"198.51.100.7"}


@pytest.mark.django_db
@pytest.mark.usefixtures("media")
def test_the_api_records_the_forwarded_client(client, behind_proxy, load_call, make_org, make_user):
    # R-S6
    call = reopen(load_call("liuzhou2026"))
    clerk = unit(make_org, make_user, name="柳州市代理学会", category="city_society", parent=call.issuer,
                 prefix="proxy")[1]
    client.force_login(clerk)
    ptype = call.types.get(code="2026-2")
    r = client.post("/api/v1/applications/", {"project_type_id": ptype.pk}, content_type="application/json",
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert r.status_code == 201
    assert AuditEvent.objects.get(action="application.create").ip == "198.51.100.7"
