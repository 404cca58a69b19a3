"""Mail to an account's holder: the one-time link that sets its password; to the registering clerk: the
decision on the unit's registration. Queued with the change's transaction and sent by the task worker
(shenbao.core.mail); a mail server that is down never undoes the change (the security administrator can
send a new link; the registration state is on the clerk's pages anyway)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from shenbao.core import mail

log = logging.getLogger(__name__)


def password_link_path(user) -> str:
    """The path of a one-time link for `user` (Django's token: it ends when the password changes, or after
    PASSWORD_RESET_TIMEOUT seconds)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("orgs:password_set", args=[uid, default_token_generator.make_token(user)])


def password_link(user, *, new_account: bool) -> None:
    """Mail the account holder a link to choose a password; nobody else sees it (not the administrator, not
    the audit log). Made now (the token depends on the password just changed), queued in the transaction."""
    url = settings.SHENBAO_SITE_URL.rstrip("/") + password_link_path(user)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    what = _("已为您开通账户") if new_account else _("您的密码已被安全管理员重置")
    subject = _("科协项目申报平台：设置密码")
    body = _("%(what)s（用户名 %(username)s）。请在 %(minutes)s 分钟内打开以下链接设置密码，链接只能使用一次：\n\n"
             "%(url)s\n\n如非本人申请，请联系本单位或平台安全管理员。") % {
        "what": what, "username": user.username, "minutes": minutes, "url": url}
    mail.send(subject=subject, body=body, to=[user.email])


def masked(email: str) -> str:
    """a***@example.com: enough for the administrator to tell the user where to look."""
    name, _at, domain = (email or "").partition("@")
    return f"{name[:1]}***@{domain}" if domain else ""


def registration_decided(org) -> None:
    """The unit's users (and its e-mail) hear that its registration was approved or rejected."""
    to = sorted({u.email for u in org.users.filter(is_active=True).exclude(email="")} | ({org.email} if org.email else set()))
    if not to:
        return
    home = org.parent.name if org.parent_id else ""
    if org.status == "active":
        subject = _("【注册审核】%(name)s 的注册已通过") % {"name": org.name}
        body = _("%(home)s 已通过「%(name)s」的注册，现在可以登录平台申报项目。") % {"home": home, "name": org.name}
    else:
        subject = _("【注册审核】%(name)s 的注册未通过") % {"name": org.name}
        body = _("%(home)s 未通过「%(name)s」的注册。理由：%(reason)s\n请登录平台修改后重新提交。") % {
            "home": home, "name": org.name, "reason": org.status_reason}
    try:
        mail.send(subject=subject, body=body, to=to)
    except Exception:  # a queue that is down must not undo the decision
        log.exception("registration mail not queued: %s", subject)
