"""Who may do what with organisations and accounts: yes/no with a reason, for pages and the API alike.

三权分立 (separation of the three administrators): none can do another's job.
- system administrator (系统管理员): organisations, categories, system settings;
- security administrator (安全管理员): accounts, roles, unlocking and password resets;
- audit administrator (安全审计员): reads the audit log, changes nothing.
One account holds at most one of the three, and no administrator changes their own account or roles.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.orgs import selectors
from shenbao.orgs.models import ADMIN_ROLES, Organisation, Role, RoleAssignment

FUNDER_ROLES = (Role.FUNDER_STAFF, Role.FUNDER_LEADER)

ADMIN_DUTIES = {
    Role.SYSTEM_ADMIN: gettext_lazy("管理单位、单位类别和系统设置"),
    Role.SECURITY_ADMIN: gettext_lazy("管理账户、角色、解锁和重置密码"),
    Role.AUDIT_ADMIN: gettext_lazy("查看审计日志"),
}


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "is_active", False)


def roles_of(user) -> set[str]:
    """The role codes of a logged-in, active user (read with the request's user, else now: a revoked role is
    gone at the next request)."""
    if not _authenticated(user):
        return set()
    return {role for role, _org in selectors.role_pairs(user, keep=False)}


def _ancestor_ids(org: Organisation) -> set[int]:
    return {a.pk for a in org.ancestors()}


# --- the three administrators ----------------------------------------------------------------------


def _admin_only(user, role: Role) -> Decision:
    if not _authenticated(user):
        return deny(_("请先登录"))
    mine = roles_of(user)
    if role in mine:
        return ALLOW
    duty = ADMIN_DUTIES[role]
    other = next((Role(r) for r in mine if r in ADMIN_ROLES), None)
    if other is not None:
        return deny(_("三权分立：您是%(mine)s，只能%(my_duty)s；%(duty)s由%(role)s负责")
                    % {"mine": _(other.label), "my_duty": ADMIN_DUTIES[other], "duty": duty, "role": _(role.label)})
    return deny(_("只有%(role)s可以%(duty)s") % {"role": _(role.label), "duty": duty})


def can_administer_system(user) -> Decision:
    """Organisations, categories and system settings."""
    return _admin_only(user, Role.SYSTEM_ADMIN)


def can_administer_security(user) -> Decision:
    """Accounts, roles, unlocks and password resets."""
    return _admin_only(user, Role.SECURITY_ADMIN)


def can_read_audit_log(user) -> Decision:
    return _admin_only(user, Role.AUDIT_ADMIN)


def can_manage_account(actor, target) -> Decision:
    """Change another account (roles, reset, unlock, activate): the security administrator, never on
    their own account (an administrator cannot widen or reset their own powers)."""
    decision = can_administer_security(actor)
    if not decision:
        return decision
    if target is not None and target.pk == actor.pk:
        return deny(_("三权分立：安全管理员不能修改自己的账户或角色，请由另一名安全管理员办理"))
    return ALLOW


def admin_role_conflict(target, role: str) -> Decision:
    """三权分立 for the account itself: an administrator account holds one administrator role and no other."""
    held_roles = roles_of_account(target)
    if role in ADMIN_ROLES:
        held = {r for r in held_roles if r in ADMIN_ROLES and r != role}
        if held:
            return deny(_("三权分立：该账户已是%(held)s，不能再担任%(role)s")
                        % {"held": _(Role(held.pop()).label), "role": _(Role(role).label)})
        if held_roles - set(ADMIN_ROLES):
            return deny(_("三权分立：管理员账户须专用，该账户已有业务角色，不能再担任%(role)s") % {"role": _(Role(role).label)})
    elif held_roles & set(ADMIN_ROLES):
        return deny(_("三权分立：管理员账户须专用，不能再授予业务角色"))
    return ALLOW


def can_grant_role(actor, target, role: str) -> Decision:
    decision = can_manage_account(actor, target)
    if not decision:
        return decision
    return admin_role_conflict(target, role)


def can_request_admin_change(actor, target=None) -> Decision:
    """The maker of a change to an administrator account: a security administrator (not on their own)."""
    return can_manage_account(actor, target) if target is not None else can_administer_security(actor)


def can_see_admin_requests(user) -> Decision:
    if not _authenticated(user):
        return deny(_("请先登录"))
    if roles_of(user) & {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}:
        return ALLOW
    return deny(_("只有系统管理员和安全管理员可以查看管理员账户变更申请"))


def can_check_admin_request(user, req) -> Decision:
    """The checker: a system or security administrator other than the maker and the account concerned
    (the audit administrator changes nothing)."""
    decision = can_see_admin_requests(user)
    if not decision:
        return decision
    if req.requested_by_id == user.pk:
        return deny(_("复核须由提出申请以外的另一名管理员办理"))
    if req.target_id is not None and req.target_id == user.pk:
        return deny(_("不能复核与自己账户有关的申请，请由另一名管理员办理"))
    return ALLOW


def roles_of_account(user) -> set[str]:
    """Role codes of any account (not cached: the account is being changed)."""
    return set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


def is_admin_account(user) -> bool:
    """Does the account hold one of the three administrator roles (read now)? Changes to it take a maker and a
    checker (R-S88)."""
    return bool(roles_of_account(user) & set(ADMIN_ROLES))


# --- registrations and units -----------------------------------------------------------------------


def can_see_registrations(user) -> Decision:
    """The funder's “see who registered” page: home association reviewers and funder staff or leaders."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if selectors.role_orgs(user, [Role.HOME_REVIEWER, *FUNDER_ROLES]):
        return ALLOW
    return deny(_("只有属地科协审核人和主办方业务人员可以查看注册单位"))


def can_review_registration(user, org: Organisation) -> Decision:
    """Approve or reject a unit's registration: its home association's reviewer (the association it
    named), or funder staff or a leader of any organisation above it."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if org.parent_id and org.parent_id in selectors.role_orgs(user, [Role.HOME_REVIEWER]):
        return ALLOW
    if selectors.role_orgs(user, FUNDER_ROLES) & _ancestor_ids(org):
        return ALLOW
    home = org.parent.name if org.parent_id else _("属地科协")
    return deny(_("只有%(unit)s的审核人或其上级主办方业务人员可以审核该单位的注册") % {"unit": home})


def can_resubmit_registration(user, org: Organisation) -> Decision:
    """A rejected unit's own user corrects and resubmits its registration."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if user.organisation_id != org.pk:
        return deny(_("只能重新提交本单位的注册信息"))
    return ALLOW


def can_view_unit(user, org: Organisation) -> Decision:
    if not _authenticated(user):
        return deny(_("请先登录"))
    if user.organisation_id == org.pk or can_review_registration(user, org) or can_administer_system(user):
        return ALLOW
    return deny(_("只能查看本单位、本科协所属单位的信息"))


def can_record_attributes(user, org: Organisation) -> Decision:
    """Record dated facts (grade, rating, station batch …) of a unit: funder staff or leaders of an
    organisation above it, or the system administrator."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if selectors.role_orgs(user, FUNDER_ROLES) & _ancestor_ids(org):
        return ALLOW
    if Role.SYSTEM_ADMIN in roles_of(user):
        return ALLOW
    return deny(_("只有%(unit)s及其上级的主办方业务人员可以登记该单位的属性")
                % {"unit": org.parent.name if org.parent_id else _("上级主办方")})


def can_change_own_password(user) -> Decision:
    if not _authenticated(user):
        return deny(_("请先登录"))
    return ALLOW
