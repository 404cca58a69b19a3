"""Who may do what after the award: functions answering a Decision (yes, or no with the reason), used by the
pages and the API alike. One block per sub-stage."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shenbao.core.decisions import ALLOW, Decision, deny

# --- contract and money ---


# --- change requests ---


# --- activities ---
# The project page and its activities: the unit's clerks and head, and the funder's staff, leaders and finance
# read them; the unit's clerks and head register events, record filings, upload photos, news and deliverables
# while the project is under way; only the unit's clerks (who call participants back) read full phones.

def _roles_at(user, org_id) -> set[str]:
    if not getattr(user, "is_authenticated", False) or org_id is None:
        return set()
    cache = getattr(user, "_sb_roles_at", None)
    if cache is None:
        cache = user._sb_roles_at = {}
    if org_id not in cache:
        cache[org_id] = set(user.roles.filter(organisation_id=org_id).values_list("role", flat=True))
    return cache[org_id]


UNIT_ROLES = {"applicant_clerk", "unit_head"}
FUNDER_ROLES = {"funder_staff", "funder_leader", "finance"}


def can_view_project(user, project) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if _roles_at(user, project.applicant_id) & UNIT_ROLES or _roles_at(user, project.funder_id) & FUNDER_ROLES:
        return ALLOW
    return deny(_("只有项目承担单位和主办方可以查看该项目"))


def can_manage_activities(user, project) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _roles_at(user, project.applicant_id) & UNIT_ROLES:
        return deny(_("只有项目承担单位（%(unit)s）的经办人或负责人可以办理项目活动") % {"unit": project.applicant.name})
    if project.status not in ("active", "deferred"):
        return deny(_("项目已%(status)s，不能再登记活动或上传材料") % {"status": project.get_status_display()})
    return ALLOW


def can_see_signin_phones(user, project) -> Decision:
    """Full phone numbers of the sign-in sheet: the unit's clerks, who organise the event; others read
    them masked."""
    if "applicant_clerk" in _roles_at(user, project.applicant_id):
        return ALLOW
    return deny(_("手机号码已隐去中间四位"))



# --- deliverables, spot checks, acceptance, closure ---


# --- volunteers ---
