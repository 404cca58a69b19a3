"""Who may do what with calls: yes/no with a reason, used by pages and the API alike."""

from __future__ import annotations

import rules

from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.orgs.models import Role


def _funder_staff_of(user, call) -> bool:
    return user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER], organisation=call.issuer).exists()


def can_publish(user, call) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny("请先登录")
    if not _funder_staff_of(user, call):
        return deny(f"只有{call.issuer.name}的业务人员可以发布或撤回此通知")
    return ALLOW


def can_manage_calls(user, issuer=None) -> Decision:
    """Import, export and see registrations: funder staff of the issuer (any issuer when None)."""
    if not getattr(user, "is_authenticated", False):
        return deny("请先登录")
    qs = user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER])
    if issuer is not None:
        qs = qs.filter(organisation=issuer)
    if not qs.exists():
        return deny("只有主办方业务人员可以管理申报通知")
    return ALLOW


rules.add_perm("calls.publish_call", rules.predicate(lambda user, call: bool(can_publish(user, call))))
