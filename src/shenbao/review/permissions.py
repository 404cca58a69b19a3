"""Who may do what in the review stage: functions answering a Decision (yes, or no with the reason), used by
the pages and the API alike. One block per sub-stage."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shenbao.applications.permissions import has_role_in
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


def can_view_experts(user, funder) -> Decision:
    """See and export the pool: the funder's staff, and its leaders (phones masked for them)."""
    funder_id = funder if isinstance(funder, int) or funder is None else funder.pk
    if not has_role_in(user, funder_id, (Role.FUNDER_STAFF, Role.FUNDER_LEADER)):
        return deny(_("只有主办方业务人员和领导可以查看本单位的评审专家库"))
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
    from shenbao.review.models import Expert

    return Expert.objects.filter(user=user).first()


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
# One level (most calls): the funder's staff decide. Two levels (`review.funder_levels` names two, R-V3,
# 常德 2022: 学会部初审, 领导审核): the department's staff pass or send back first (初审), then a leader
# decides (审核); the two are different people.

SCREENERS = (Role.FUNDER_STAFF, Role.FUNDER_LEADER)


def screening_levels(call) -> list[str]:
    """The names of the funder's screening levels: two when the call gives two, else one (形式审查)."""
    levels = list(call.document.review.funder_levels or [])
    return levels[:2] if len(levels) >= 2 else [_("形式审查")]


def two_levels(call) -> bool:
    return len(call.document.review.funder_levels or []) >= 2


def can_see_screening(user) -> Decision:
    """The screening queues: the staff and leaders of a funder."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return deny(_("请先登录"))
    from shenbao.orgs.models import RoleAssignment

    if not RoleAssignment.objects.filter(user=user, role__in=SCREENERS).exists():
        return deny(_("只有主办方业务人员或领导可以进行形式审查"))
    return ALLOW


def can_screen_call(user, call) -> Decision:
    """See and run the screening of one call: its issuer's staff or leaders."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return deny(_("请先登录"))
    if not has_role_in(user, call.issuer_id, SCREENERS):
        return deny(_("只有%(unit)s的业务人员或领导可以审查此通知的申报") % {"unit": call.issuer.name})
    return ALLOW


def _screenable(screening) -> Decision:
    app = screening.application
    if app.status != "submitted":
        return deny(_("该申报当前%(status)s，不在形式审查中") % {"status": _(app.get_status_display())})
    if screening.snapshot_id and screening.snapshot_id != app.current_snapshot_id:
        return deny(_("该申报已提交新版本，请刷新后审查新版本"))
    return ALLOW


def _staff(user, screening) -> Decision:
    call = screening.application.call
    if not has_role_in(user, call.issuer_id, (Role.FUNDER_STAFF,)):
        return deny(_("只有%(unit)s的业务人员可以进行%(level)s") % {"unit": call.issuer.name,
                                                             "level": screening_levels(call)[0]})
    return _screenable(screening)


def can_decide_single(user, screening) -> Decision:
    """Accept, return or reject where the call has one level of screening: the funder's staff."""
    if two_levels(screening.application.call):
        return deny(_("本通知的形式审查分%(levels)s两级，须先经%(first)s") % {
            "levels": "、".join(screening_levels(screening.application.call)),
            "first": screening_levels(screening.application.call)[0]})
    return _staff(user, screening)


def can_decide_department(user, screening) -> Decision:
    """初审 of a two-level call (R-V3): pass to the leadership, return or reject; the department's staff."""
    if not two_levels(screening.application.call):
        return deny(_("本通知的形式审查只有一级"))
    return _staff(user, screening)


def can_decide_leadership(user, screening) -> Decision:
    """审核 of a two-level call (R-V3): a leader of the funder, not the person who did the 初审."""
    call = screening.application.call
    if not two_levels(call):
        return deny(_("本通知的形式审查只有一级"))
    levels = screening_levels(call)
    if not has_role_in(user, call.issuer_id, (Role.FUNDER_LEADER,)):
        return deny(_("只有%(unit)s的领导可以进行%(level)s") % {"unit": call.issuer.name, "level": levels[1]})
    if screening.department_by_id and screening.department_by_id == user.pk:
        return deny(_("%(first)s与%(second)s须由不同的人进行：您已做过此申报的%(first)s") % {
            "first": levels[0], "second": levels[1]})
    return _screenable(screening)


def can_reopen(user, screening) -> Decision:
    """The screening goes back to pending when the applicant submits a new version (the platform does it)."""
    app = screening.application
    if app.status != "submitted" or app.current_snapshot_id == screening.snapshot_id:
        return deny(_("申报尚未重新提交新版本"))
    return ALLOW


# --- assignment ---


def _call_issuer_id(call) -> int | None:
    return call if isinstance(call, int) else getattr(call, "issuer_id", None)


def can_see_assignment(user, call) -> Decision:
    """The assignment of a call's applications to experts: the issuer's staff and leaders see it."""
    if not has_role_in(user, _call_issuer_id(call), (Role.FUNDER_STAFF, Role.FUNDER_LEADER)):
        return deny(_("只有主办方业务人员或领导可以查看评审分配"))
    return ALLOW


def can_run_assignment(user, call) -> Decision:
    """Run the automatic assignment (自动分配) of a call: the issuer's staff (主办方业务人员)."""
    if not is_funder_staff(user, _call_issuer_id(call)):
        return deny(_("只有主办方业务人员可以进行评审分配"))
    return ALLOW


def can_adjust_assignment(user, call) -> Decision:
    """Add, remove or swap an expert by hand after the automatic assignment: the issuer's staff."""
    if not is_funder_staff(user, _call_issuer_id(call)):
        return deny(_("只有主办方业务人员可以调整评审分配"))
    return ALLOW


# --- scoring ---


def scoring_closed(call, today=None) -> Decision:
    """After the call's `review.scoring_deadline` (the whole day counts, Beijing time) scoring is refused."""
    from django.utils import timezone

    deadline = call.document.review.scoring_deadline
    today = today or timezone.localdate()
    if deadline is not None and today > deadline:
        return deny(_("评审截止日期（%(date)s）已过，不能再评分或修改评分") % {"date": deadline.isoformat()})
    return ALLOW


def can_score(user, assignment) -> Decision:
    """The assigned expert, once ready, on a live assignment, before the scoring deadline."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    expert = expert_of(user)
    if expert is None or assignment.expert_id != expert.pk:
        return deny(_("只有分配到该项目的评审专家可以评分"))
    ready = expert_gate(user)
    if not ready:
        return ready
    if assignment.removed_at is not None:
        return deny(_("该项目已不再分配给您评审，不能提交评分"))
    return scoring_closed(assignment.application.call)


def can_edit_sheet(user, sheet) -> Decision:
    """Saving or submitting: the assigned expert, while the sheet is not submitted (a reopened one is)."""
    decision = can_score(user, sheet.assignment)
    if not decision:
        return decision
    if sheet.state == "submitted":
        return deny(_("评分表已提交；如需修改，请联系主办方退回重评"))
    return ALLOW


def can_read_assigned(user, assignment) -> Decision:
    """The assigned expert reads the application (also after submitting, and after the deadline) while the
    assignment is live."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    expert = expert_of(user)
    if expert is None or assignment.expert_id != expert.pk:
        return deny(_("只有分配到该项目的评审专家可以查看"))
    ready = expert_gate(user)
    if not ready:
        return ready
    if assignment.removed_at is not None:
        return deny(_("该项目已不再分配给您评审"))
    return ALLOW


def can_manage_scores(user, call) -> Decision:
    """Funder staff of the call's issuer follow the scoring, reopen sheets and export the scores."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not has_role_in(user, call.issuer_id, (Role.FUNDER_STAFF,)):
        return deny(_("只有%(unit)s的业务人员可以管理评分") % {"unit": call.issuer.name})
    return ALLOW


def can_view_scores(user, call) -> Decision:
    """Funder staff and leaders read the scores (leaders get phones masked)."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not has_role_in(user, call.issuer_id, (Role.FUNDER_STAFF, Role.FUNDER_LEADER)):
        return deny(_("只有%(unit)s的工作人员可以查看评分") % {"unit": call.issuer.name})
    return ALLOW


def can_reopen_sheet(user, sheet) -> Decision:
    decision = can_manage_scores(user, sheet.assignment.application.call)
    if not decision:
        return decision
    if sheet.assignment.removed_at is not None:
        return deny(_("该分配已撤销，不能退回重评"))
    return ALLOW


# --- selection and confirmation ---

FUNDER_ROLES = (Role.FUNDER_STAFF, Role.FUNDER_LEADER)


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "is_active", False)


def finance_orgs(call) -> list[int]:
    """The organisations whose finance staff confirm the call's result (R-V1): the issuer, and the units
    `review.confirm_by` names (湖南省财政厅), found by name."""
    from shenbao.orgs.models import Organisation

    names = [n for n in call.document.review.confirm_by if n != call.issuer.name]
    ids = list(Organisation.objects.filter(name__in=names).values_list("pk", flat=True)) if names else []
    return [call.issuer_id, *ids]


def is_finance_of(user, call) -> bool:
    return any(has_role_in(user, org, (Role.FINANCE,)) for org in finance_orgs(call))


def can_view_selection(user, call) -> Decision:
    """The ranking, the proposal and the confirmations: the funder's staff and leaders, and finance staff
    who confirm it."""
    if not _signed_in(user):
        return deny(_("请先登录"))
    if has_role_in(user, call.issuer_id, FUNDER_ROLES):
        return ALLOW
    if call.document.review.finance_confirms and is_finance_of(user, call):
        return ALLOW
    return deny(_("只有主办方（%(funder)s）的工作人员可以查看评审排名与立项建议") % {"funder": call.issuer.name})


def can_select(user, call) -> Decision:
    """Compute the proposal, move applications in or out, set amounts: the issuer's staff or leaders."""
    if not _signed_in(user):
        return deny(_("请先登录"))
    if not has_role_in(user, call.issuer_id, FUNDER_ROLES):
        return deny(_("只有主办方（%(funder)s）的业务人员或领导可以调整立项建议") % {"funder": call.issuer.name})
    return ALLOW


def can_confirm(user, call, party: str) -> Decision:
    """The funder's confirmation: the issuer's staff or leader; finance's (where the call asks for it): a
    user with the finance role in the issuer or in a unit the call names in `review.confirm_by`."""
    if not _signed_in(user):
        return deny(_("请先登录"))
    if party == "funder":
        if not has_role_in(user, call.issuer_id, FUNDER_ROLES):
            return deny(_("只有主办方（%(funder)s）的业务人员或领导可以作主办方确认") % {"funder": call.issuer.name})
        return ALLOW
    if party == "finance":
        if not call.document.review.finance_confirms:
            return deny(_("本通知的评审结果无需财务部门确认"))
        if not is_finance_of(user, call):
            return deny(_("只有财务部门人员可以作财务确认"))
        return ALLOW
    return deny(_("未知的确认方"))


def can_revoke_confirmation(user, confirmation) -> Decision:
    """Who confirmed may revoke it; so may the issuer's leader."""
    if not _signed_in(user):
        return deny(_("请先登录"))
    if confirmation.by_id == user.pk or has_role_in(user, confirmation.call.issuer_id, (Role.FUNDER_LEADER,)):
        return ALLOW
    return deny(_("只有确认人本人或主办方领导可以撤销确认"))


def sees_contacts(user, call) -> bool:
    """Phones in full for the issuer's staff (they call applicants); masked for everyone else."""
    return has_role_in(user, call.issuer_id, (Role.FUNDER_STAFF,))



# --- public notice (公示) and award ---


def _funder_staff(user, call) -> bool:
    return has_role_in(user, call.issuer_id, (Role.FUNDER_STAFF,))


def can_publish_notice(user, call) -> Decision:
    """Publish the proposed list as 公示: the funder's staff."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _funder_staff(user, call):
        return deny(_("只有%(unit)s的业务人员可以发布公示") % {"unit": call.issuer.name})
    return ALLOW


def can_view_objections(user, notice) -> Decision:
    """Read the objections (with the objectors' contact details): the funder's staff and leaders."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not has_role_in(user, notice.call.issuer_id, (Role.FUNDER_STAFF, Role.FUNDER_LEADER)):
        return deny(_("只有%(unit)s的业务人员可以查看异议") % {"unit": notice.call.issuer.name})
    return ALLOW


def can_handle_objection(user, objection) -> Decision:
    """Record how an objection was handled: the funder's staff."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _funder_staff(user, objection.notice.call):
        return deny(_("只有%(unit)s的业务人员可以处理异议") % {"unit": objection.notice.call.issuer.name})
    return ALLOW


def can_publish_award(user, notice) -> Decision:
    """Publish the award list after the 公示: the funder's staff."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _funder_staff(user, notice.call):
        return deny(_("只有%(unit)s的业务人员可以发布立项名单") % {"unit": notice.call.issuer.name})
    return ALLOW
