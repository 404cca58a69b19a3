"""Who may do what in the review stage: functions answering a Decision (yes, or no with the reason), used by
the pages and the API alike. One block per sub-stage."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shenbao.applications.permissions import has_role_in, is_funder_staff_of  # noqa: F401
from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.orgs.models import Role

# --- experts and conflicts ---


def is_funder_staff(user, funder_id: int | None) -> bool:
    return has_role_in(user, funder_id, (Role.FUNDER_STAFF,))


def can_manage_experts(user, funder) -> Decision:
    """The funder's expert pool (专家库): its department staff (主办方业务人员) keep it."""
    funder_id = funder if isinstance(funder, int) or funder is None else funder.pk
    if not is_funder_staff(user, funder_id):
        return deny(_("只有主办方业务人员可以管理本单位的评审专家库"))
    return ALLOW


def can_manage_conflicts(user, expert) -> Decision:
    """Pin or lift a conflict of interest (回避) of an expert of the pool: the funder's staff."""
    if not is_funder_staff(user, expert.funder_id):
        return deny(_("只有该专家库所属主办方的业务人员可以设定或解除回避"))
    return ALLOW


def can_declare_conflicts(user, expert) -> Decision:
    """An expert declares their own relations (回避申报)."""
    if not getattr(user, "is_authenticated", False) or expert.user_id != user.pk:
        return deny(_("只有专家本人可以申报回避"))
    if not expert.active:
        return deny(_("该专家已不在专家库中"))
    return ALLOW


def sees_expert_phones(user, funder_id: int | None) -> bool:
    """Staff who call experts (the funder's 业务人员) see phones in full; others get them masked."""
    return is_funder_staff(user, funder_id)


def expert_of(user):
    """The user's expert record (评审专家), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_sb_expert", False)
    if cached is not False:
        return cached
    from shenbao.review.models import Expert

    expert = Expert.objects.filter(user=user).select_related("funder").first()
    user._sb_expert = expert
    return expert


def expert_gate(user) -> Decision:
    """May this expert see anything of the review stage yet? Only an active expert of a pool who has
    accepted the confidentiality pledge (保密承诺) and made the conflict declaration (回避申报). Pages of
    the stage call it before showing an expert anything and tell the reason when it refuses."""
    expert = expert_of(user)
    if expert is None or not has_role_in(user, expert.funder_id, (Role.EXPERT,)):
        return deny(_("您不是评审专家，不能进入专家评审"))
    if not expert.active:
        return deny(_("您已不在专家库中，不能参加评审"))
    if expert.pledge_accepted_at is None:
        return deny(_("请先阅读并接受保密承诺"))
    if expert.conflicts_declared_at is None:
        return deny(_("请先完成回避申报（申报与相关单位的关系，或声明无需回避）"))
    return ALLOW


def can_see_application_as_expert(user, application) -> Decision:
    """An expert sees only the applications assigned to them (a live assignment), after the gate."""
    gate = expert_gate(user)
    if not gate:
        return gate
    from shenbao.review.models import Assignment

    if not Assignment.objects.filter(expert=expert_of(user), application=application, removed_at__isnull=True).exists():
        return deny(_("该申报项目未分配给您评审"))
    return ALLOW


# --- screening (形式审查) ---


# --- assignment ---


# --- scoring ---


# --- selection and confirmation ---


# --- public notice (公示) and award ---
