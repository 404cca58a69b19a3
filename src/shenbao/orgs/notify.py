"""Mail to an account's holder: the one-time link that sets its password. Queued with the change's
transaction and sent by the task worker (shenbao.core.mail); a mail server that is down never undoes the
change (the security administrator can send a new link)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from shenbao.core import mail


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
