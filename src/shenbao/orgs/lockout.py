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
import logging
import operator
from functools import lru_cache, reduce

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_str, get_credentials
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from shenbao.core.http import client_ip

log = logging.getLogger(__name__)


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


class LockoutHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler, its clean-ups one DELETE each. axes deletes attempts through the
    ORM, which reads the rows first and wraps the delete in a transaction (three statements, twice on every
    login); nothing hangs off an attempt (AccessAttemptExpiration only with AXES_USE_ATTEMPT_EXPIRATION, where
    axes' own code runs) and nothing listens to their deletion (the database handler's hook does nothing).

    A successful login deletes the expired attempts and (AXES_RESET_ON_SUCCESS) the user's own, as axes does,
    in one statement; with AXES_DISABLE_ACCESS_LOG it writes no AccessLog: the audit log records every login
    with its address and user agent (orgs/signals.py) and nothing reads axes' log."""

    @staticmethod
    def _plain() -> bool:
        return settings.AXES_COOLOFF_TIME is not None and not settings.AXES_USE_ATTEMPT_EXPIRATION

    @staticmethod
    def _delete(querysets) -> int:
        qs = reduce(operator.or_, querysets)
        return qs._raw_delete(qs.db)

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        if not self._plain():
            return super().clean_expired_user_attempts(request, credentials)
        from axes.models import AccessAttempt

        threshold = get_cool_off_threshold(request)
        count = self._delete([AccessAttempt.objects.filter(attempt_time__lte=threshold)])
        log.info("AXES: Cleaned up %s expired access attempts from database that were older than %s", count, threshold)
        return count

    def user_logged_in(self, sender, request, user, **kwargs):
        if not (self._plain() and settings.AXES_DISABLE_ACCESS_LOG):
            return super().user_logged_in(sender, request, user, **kwargs)
        from axes.models import AccessAttempt

        username = user.get_username()
        credentials = get_credentials(username)
        client_str = get_client_str(username, request.axes_ip_address, request.axes_user_agent,
                                    request.axes_path_info, request)
        log.info("AXES: Successful login by %s.", client_str)
        doomed = [AccessAttempt.objects.filter(attempt_time__lte=get_cool_off_threshold(request))]
        if settings.AXES_RESET_ON_SUCCESS:
            doomed += self.filter_user_attempts(request, credentials)
        count = self._delete(doomed)
        log.info("AXES: Deleted %d expired or reset login attempts after the login of %s.", count, client_str)
