"""Who is locked out of the login, and by what (axes does the counting; this decides the keys).

- A user name is locked after AXES_FAILURE_LIMIT (5) failures within AXES_COOLOFF_TIME (30 minutes),
  whatever the address: guessing one account's password from many addresses does not help.
- A client address is throttled after SHENBAO_LOGIN_IP_LIMIT failures within SHENBAO_LOGIN_IP_WINDOW,
  whatever the user names: trying one password on many accounts (spraying) does not help either.
- The three administrators logging in from SHENBAO_ADMIN_NETWORKS are counted per user name *and*
  address: nobody elsewhere can lock them out by failing on purpose, while failures from inside that
  network still lock (and they need their second factor anyway, orgs.views.otp_verify).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from shenbao.core.http import client_ip


@lru_cache(maxsize=32)
def _networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in spec if n.strip())


def in_admin_network(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(getattr(settings, "SHENBAO_ADMIN_NETWORKS", ()))))


def is_admin_username(username: str | None) -> bool:
    if not username:
        return False
    from shenbao.orgs.models import ADMIN_ROLES, RoleAssignment

    return RoleAssignment.objects.filter(user__username=username, role__in=ADMIN_ROLES).exists()


def admin_from_admin_network(username: str | None, ip: str | None) -> bool:
    return in_admin_network(ip) and is_admin_username(username)


def lockout_parameters(request_or_attempt, credentials=None):
    """AXES_LOCKOUT_PARAMETERS: by user name, or by user name and address for an administrator inside the
    administration network. axes calls it with a request (and the credentials) or with a stored attempt."""
    username = (credentials or {}).get("username") if isinstance(credentials, dict) else None
    username = username or getattr(request_or_attempt, "username", None)
    if username is None and hasattr(request_or_attempt, "POST"):
        username = request_or_attempt.POST.get("username")
    ip = getattr(request_or_attempt, "axes_ip_address", None) or getattr(request_or_attempt, "ip_address", None)
    if ip is None and hasattr(request_or_attempt, "META"):
        ip = client_ip(request_or_attempt)
    if admin_from_admin_network(username, ip):
        return [["username", "ip_address"]]
    return ["username"]


def address_throttled(ip: str | None) -> bool:
    """Too many failed logins from this address across all user names, within the window."""
    if not ip:
        return False
    from axes.models import AccessAttempt

    since = timezone.now() - settings.SHENBAO_LOGIN_IP_WINDOW
    n = (AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since)
         .aggregate(n=Sum("failures_since_start"))["n"] or 0)
    return n >= settings.SHENBAO_LOGIN_IP_LIMIT
