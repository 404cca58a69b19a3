"""The three administrators' second factor: TOTP (django-otp's otp_totp device), asked for after the
password and before the session is logged in (orgs.views.LoginView → otp_verify).

The first login enrols: an unconfirmed device is made, its QR code drawn on the page (segno, inline SVG,
no outside service) with the secret to type in; the first right code confirms it. A lost device is reset
by maker and checker (services.request_admin_change kind otp_reset); the next login enrols again. Wrong
codes count towards the lock of the user name like wrong passwords (axes, through user_login_failed).
"""

from __future__ import annotations

import base64
import time

import segno
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from shenbao.orgs.models import ADMIN_ROLES, RoleAssignment, User

SESSION_KEY = "shenbao_otp_pending"


def needs_second_factor(user) -> bool:
    held = getattr(user, "holds_admin_role", None)  # read with the account by the login (orgs.models.UserManager)
    if held is not None:
        return bool(held)
    return RoleAssignment.objects.filter(user=user, role__in=ADMIN_ROLES).exists()


def start(request, user, *, next_url: str) -> None:
    request.session[SESSION_KEY] = {"uid": user.pk, "backend": user.backend, "at": time.time(), "next": next_url}


def clear(request) -> None:
    request.session.pop(SESSION_KEY, None)


def pending(request) -> tuple[User, str] | None:
    """Who passed the password step in this session (within SHENBAO_OTP_PENDING_SECONDS), and where to go."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > settings.SHENBAO_OTP_PENDING_SECONDS:
        clear(request)
        return None
    user = User.objects.filter(pk=data.get("uid"), is_active=True).first()
    if user is None:
        clear(request)
        return None
    user.backend = data.get("backend") or settings.AUTHENTICATION_BACKENDS[-1]
    next_url = data.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL)
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    return user, next_url


def device_for(user) -> tuple[TOTPDevice, bool]:
    """The user's confirmed device, or (first login) an unconfirmed one to enrol; True when enrolling."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        return device, False
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device, True


def allowed(device) -> tuple[bool, int]:
    ok, data = device.verify_is_allowed()
    if ok:
        return True, 0
    until = (data or {}).get("locked_until")
    wait = int((until - timezone.now()).total_seconds()) + 1 if until else 1
    return False, max(wait, 1)


def locked(request, user) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, {"username": user.username})


def failed(request, user) -> None:
    """A wrong code counts like a wrong password (axes and the audit log hear of it)."""
    user_login_failed.send(sender=__name__, credentials={"username": user.username, "otp": True}, request=request)


def finish(request, user, device, *, enrolled: bool, ip: str | None) -> None:
    from shenbao.orgs import services

    if enrolled:
        services.confirm_otp_device(user=user, device=device, ip=ip)
    clear(request)
    auth_login(request, user, backend=user.backend)
    otp_login(request, device)


def qr_svg(device) -> str:
    """The otpauth:// URI as an inline SVG QR code (drawn here; the secret never leaves the server)."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return mark_safe(svg)  # noqa: S308 (segno's own output: no user text in it but the user name, escaped)


def secret(device) -> str:
    """The base32 secret in groups of four, for typing into an authenticator app."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))
