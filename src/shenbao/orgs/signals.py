"""Login, failure, lock and logout as audit events. Django's auth signals and axes' lock signal are the
only hook for these (the login itself happens inside Django and axes)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from shenbao.core import audit
from shenbao.core.http import client_ip
from shenbao.orgs.models import User


@receiver(user_logged_in, dispatch_uid="shenbao.orgs.audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit.record(actor=user, action="account.login", obj=user, ip=client_ip(request))


@receiver(user_logged_out, dispatch_uid="shenbao.orgs.audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action="account.logout", obj=user, ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="shenbao.orgs.audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:150]
    user = User.objects.filter(username=username).first() if username else None
    # refused because of an existing lock (axes did not count this one) or a wrong user name or password
    refused = bool(getattr(request, "axes_locked_out", False)) and getattr(
        request, "axes_failures_since_start", None) is None
    otp = bool((credentials or {}).get("otp"))
    audit.record(actor=None, actor_name=username, action="account.login_failed", obj=user, ip=client_ip(request),
                 note="账户已锁定，登录被拒绝" if refused else "动态验证码不正确" if otp else "用户名或密码不正确")


@receiver(user_locked_out, dispatch_uid="shenbao.orgs.audit_locked")
def _locked_out(sender, request, username, ip_address, **kwargs):
    # axes sends this both when the limit is reached (it has just counted the failures) and for each
    # attempt refused during the lock (it has not counted anything then)
    newly = getattr(request, "axes_failures_since_start", None) is not None
    user = User.objects.filter(username=username).first() if username else None
    audit.record(actor=None, actor_name=username or "", obj=user, ip=ip_address,
                 action="account.locked" if newly else "account.login_refused_locked",
                 note="连续5次登录失败，账户锁定30分钟" if newly else "账户锁定期间尝试登录")
