"""Who may do what with calls: yes/no with a reason, used by pages and the API alike."""

from __future__ import annotations

import rules
from django.utils.translation import gettext as _

from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.orgs.models import Role


def _funder_staff_of(user, call) -> bool:
    return user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER], organisation=call.issuer).exists()


def can_publish(user, call) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _funder_staff_of(user, call):
        return deny(_("只有%(unit)s的业务人员可以发布或撤回此通知") % {"unit": call.issuer.name})
    return ALLOW


def can_manage_calls(user, issuer=None) -> Decision:
    """Import, export and see registrations: funder staff of the issuer (any issuer when None)."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    qs = user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER])
    if issuer is not None:
        qs = qs.filter(organisation=issuer)
    if not qs.exists():
        return deny(_("只有主办方业务人员可以管理申报通知"))
    return ALLOW


def can_export(user, call) -> Decision:
    """Download a call's YAML: the issuer's funder staff."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _funder_staff_of(user, call):
        return deny(_("只有%(unit)s的业务人员可以导出此通知") % {"unit": call.issuer.name})
    return ALLOW


def can_preview(user, call) -> Decision:
    """See a call that is not published: the issuer's funder staff only."""
    if call.status == call.Status.PUBLISHED:
        return ALLOW
    if getattr(user, "is_authenticated", False) and _funder_staff_of(user, call):
        return ALLOW
    return deny(_("该通知未发布"))


def can_import_call(user, issuer_name: str, existing=None) -> Decision:
    """Load a call file: funder staff of the organisation the file names as issuer, which must be the
    user's own; a file whose code belongs to another funder's call is refused too."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    org = getattr(user, "organisation", None)
    if org is None or not user.roles.filter(
        role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER], organisation=org
    ).exists():
        return deny(_("只有主办方业务人员可以导入申报通知"))
    if issuer_name != org.name:
        return deny(_("文件的发文单位是“%(issuer)s”，不是本单位“%(unit)s”：只能导入本单位发布的通知")
                    % {"issuer": issuer_name, "unit": org.name})
    if existing is not None and existing.issuer_id != org.pk:
        return deny(_("通知代码 %(code)s 已被%(unit)s使用，不能覆盖其他单位的通知")
                    % {"code": existing.code, "unit": existing.issuer.name})
    return ALLOW


rules.add_perm("calls.publish_call", rules.predicate(lambda user, call: bool(can_publish(user, call))))
