"""Who may do what after the award: functions answering a Decision (yes, or no with the reason), used by the
pages and the API alike. One block per sub-stage."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shenbao.applications.permissions import has_role_in
from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.orgs.models import Role

# --- contract and money ---
# The unit's clerk fills the plan, uploads the signed scan, enters the final accounts; the funder's staff
# generate the contract, check scans, set the disbursement plan; staff or leaders countersign and confirm
# progress; the funder's finance records payments (and, with staff, recoveries). Reading: can_view_project.

_UNIT = (Role.APPLICANT_CLERK, Role.UNIT_HEAD)
_FUNDER = (Role.FUNDER_STAFF, Role.FUNDER_LEADER)


def is_unit_of(user, project) -> bool:
    """The project's unit (项目承担单位): its clerks and its head."""
    return has_role_in(user, project.applicant_id, _UNIT)


def is_clerk_of_project(user, project) -> bool:
    return has_role_in(user, project.applicant_id, (Role.APPLICANT_CLERK,))


def is_funder_of_project(user, project) -> bool:
    return has_role_in(user, project.funder_id, _FUNDER)


def is_funder_staff_of_project(user, project) -> bool:
    return has_role_in(user, project.funder_id, (Role.FUNDER_STAFF,))


def is_finance_of_project(user, project) -> bool:
    return has_role_in(user, project.funder_id, (Role.FINANCE,))


def _contract(project):
    from shenbao.projects.models import Contract

    try:
        return project.contract
    except Contract.DoesNotExist:
        return None


def can_edit_plan(user, project) -> Decision:
    """The unit's clerk fills the plan (budget, schedule, content) until the unit signs the contract; after
    that only a change request changes it (R-P4)."""
    if not is_clerk_of_project(user, project):
        return deny(_("只有项目承担单位（%(unit)s）的经办人可以填写项目计划") % {"unit": project.applicant.name})
    contract = _contract(project)
    if contract is not None and contract.status != "generated":
        return deny(_("合同已签章，项目计划只能通过变更申请修改"))
    return ALLOW


def can_generate_contract(user, project) -> Decision:
    if not is_funder_staff_of_project(user, project):
        return deny(_("只有主办方（%(funder)s）的业务人员可以生成合同") % {"funder": project.funder or "—"})
    if project.status != "active":
        return deny(_("项目%(status)s，不能生成合同") % {"status": project.get_status_display()})
    if not project.amount:
        return deny(_("项目没有资助金额，不能生成合同"))
    contract = _contract(project)
    if contract is not None and contract.status != "generated":
        return deny(_("合同已由单位签章（%(status)s），不能重新生成") % {"status": contract.get_status_display()})
    return ALLOW


def can_upload_contract_scan(user, contract) -> Decision:
    project = contract.project
    if not is_clerk_of_project(user, project):
        return deny(_("只有项目承担单位（%(unit)s）的经办人可以上传签章合同") % {"unit": project.applicant.name})
    if contract.status != "generated":
        return deny(_("合同%(status)s，不能再上传扫描件") % {"status": contract.get_status_display()})
    return ALLOW


def can_sign_by_unit(user, contract) -> Decision:
    """The transition on a scan whose QR matched: performed by the uploading clerk."""
    return can_upload_contract_scan(user, contract)


def can_decide_contract_scan(user, contract) -> Decision:
    if not is_funder_staff_of_project(user, contract.project):
        return deny(_("只有主办方的业务人员可以核验合同扫描件"))
    return ALLOW


def can_countersign(user, contract) -> Decision:
    if not is_funder_of_project(user, contract.project):
        return deny(_("只有主办方（%(funder)s）的业务人员或领导可以签署合同") % {"funder": contract.project.funder or "—"})
    if contract.signed_scan_id is None:
        return deny(_("单位尚未上传签章合同扫描件，不能签署"))
    return ALLOW


def can_set_milestones(user, project) -> Decision:
    if not is_funder_staff_of_project(user, project):
        return deny(_("只有主办方的业务人员可以制定拨付计划"))
    return ALLOW


def can_confirm_milestone(user, project) -> Decision:
    if not is_funder_of_project(user, project):
        return deny(_("只有主办方的业务人员或领导可以确认工作进度或评估结果"))
    return ALLOW


def can_record_payment(user, project) -> Decision:
    if not is_finance_of_project(user, project):
        return deny(_("只有主办方（%(funder)s）的财务人员可以登记拨款") % {"funder": project.funder or "—"})
    return ALLOW


def can_record_recovery(user, project) -> Decision:
    """Finance, or the funder's staff (a spot check's finding of recovery enters the ledger, R-P5)."""
    if not (is_finance_of_project(user, project) or is_funder_staff_of_project(user, project)):
        return deny(_("只有主办方的财务人员或业务人员可以登记追回款项"))
    return ALLOW


def can_enter_final_accounts(user, project) -> Decision:
    if not is_clerk_of_project(user, project):
        return deny(_("只有项目承担单位（%(unit)s）的经办人可以填写经费决算") % {"unit": project.applicant.name})
    contract = _contract(project)
    if contract is None or contract.status != "countersigned":
        return deny(_("合同签订后才能填写经费决算"))
    return ALLOW


def can_edit_contract_template(user, funder) -> Decision:
    if funder is None or not has_role_in(user, funder, (Role.FUNDER_STAFF,)):
        return deny(_("只有主办方的业务人员可以修改本主办方的合同文本"))
    return ALLOW


# --- change requests ---


def can_file_change(user, project) -> Decision:
    if not is_clerk_of_project(user, project):
        return deny(_("只有项目承担单位（%(unit)s）的经办人可以提交变更申请") % {"unit": project.applicant.name})
    if project.status not in ("active", "deferred"):
        return deny(_("项目%(status)s，不能提交变更申请") % {"status": project.get_status_display()})
    contract = _contract(project)
    if contract is None or contract.status == "generated":
        return deny(_("合同签章前可直接修改项目计划，无需变更申请"))
    return ALLOW


def can_decide_change(user, change) -> Decision:
    if not is_funder_of_project(user, change.project):
        return deny(_("只有主办方的业务人员或领导可以审批变更申请"))
    return ALLOW


def can_withdraw_change(user, change) -> Decision:
    if not is_clerk_of_project(user, change.project):
        return deny(_("只有项目承担单位的经办人可以撤回变更申请"))
    return ALLOW


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
# The unit's clerks and head prepare and submit the acceptance and ask for a deferral; the funder's staff and
# leaders decide both, draw spot checks and record their findings; whoever sees the project builds its dossier
# once it is closed; the funder's people read the closed-project report.

DECIDERS = {"funder_staff", "funder_leader"}
OPEN_STATUSES = ("active", "deferred")


def _decider_of(user, org_id) -> bool:
    return bool(_roles_at(user, org_id) & DECIDERS)


def can_prepare_acceptance(user, project, acceptance=None) -> Decision:
    """Fill in, upload materials for and submit the acceptance: the unit, while the project is under way
    and the acceptance is not with the funder or decided."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _roles_at(user, project.applicant_id) & UNIT_ROLES:
        return deny(_("只有项目承担单位（%(unit)s）的经办人或负责人可以提交验收材料") % {"unit": project.applicant.name})
    if project.status not in OPEN_STATUSES:
        return deny(_("项目已%(status)s，不能再提交验收材料") % {"status": project.get_status_display()})
    if acceptance is not None and acceptance.status not in ("draft", "rectify"):
        return deny(_("验收%(status)s，不能修改") % {"status": acceptance.get_status_display()})
    return ALLOW


def can_submit_acceptance(user, acceptance) -> Decision:
    return can_prepare_acceptance(user, acceptance.project, acceptance)


def can_decide_acceptance(user, acceptance) -> Decision:
    if not _decider_of(user, acceptance.project.funder_id):
        return deny(_("只有主办方（%(funder)s）的业务人员或领导可以作出验收结论")
                    % {"funder": acceptance.project.funder or "—"})
    return ALLOW


def can_request_deferral(user, project) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _roles_at(user, project.applicant_id) & UNIT_ROLES:
        return deny(_("只有项目承担单位的经办人或负责人可以申请延期验收"))
    if project.status != "active":
        return deny(_("项目%(status)s，不能申请延期验收") % {"status": project.get_status_display()})
    acc = getattr(project, "acceptance", None) if hasattr(project, "acceptance") else None
    if acc is not None and acc.status in ("submitted", "passed", "failed"):
        return deny(_("验收%(status)s，不能再申请延期") % {"status": acc.get_status_display()})
    if project.deferrals.filter(status="requested").exists():
        return deny(_("已有一份延期申请待审批"))
    return ALLOW


def can_decide_deferral(user, deferral) -> Decision:
    if not _decider_of(user, deferral.project.funder_id):
        return deny(_("只有主办方的业务人员或领导可以审批延期验收申请"))
    return ALLOW


def can_withdraw_deferral(user, deferral) -> Decision:
    if not _roles_at(user, deferral.project.applicant_id) & UNIT_ROLES:
        return deny(_("只有项目承担单位可以撤回延期申请"))
    return ALLOW


def can_clear_deferral(user, deferral) -> Decision:
    """A deferral is cleared by the acceptance being decided (passed), by whoever decided it."""
    return can_decide_deferral(user, deferral)


def can_spot_check(user, call) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _decider_of(user, call.issuer_id):
        return deny(_("只有主办方（%(funder)s）的业务人员或领导可以抽查项目") % {"funder": call.issuer.name})
    return ALLOW


def can_build_dossier(user, project) -> Decision:
    decision = can_view_project(user, project)
    if not decision:
        return decision
    if project.status not in ("completed", "unfinished", "terminated"):
        return deny(_("项目尚未结题（%(status)s），结题后才能下载项目档案") % {"status": project.get_status_display()})
    return ALLOW


def can_view_closed_report(user, funder) -> Decision:
    if funder is None or not _roles_at(user, funder.pk) & FUNDER_ROLES:
        return deny(_("只有主办方的人员可以查看结题项目报表"))
    return ALLOW



# --- volunteers ---
# A unit's clerks and head register its volunteer teams and read them; the team's leader (队伍负责人) approves
# who joins, publishes activities and approves sign-ups, and alone reads volunteers' full phones (he calls them);
# the funder's staff read the teams of the projects it funds, phones masked.

def can_register_team(user, organisation) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _roles_at(user, getattr(organisation, "pk", None)) & UNIT_ROLES:
        return deny(_("只有本单位的经办人或负责人可以登记志愿者服务队伍"))
    return ALLOW


def can_view_team(user, team) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if user.pk == team.leader_id or _roles_at(user, team.organisation_id) & UNIT_ROLES:
        return ALLOW
    if team.project_id and _roles_at(user, team.project.funder_id) & FUNDER_ROLES:
        return ALLOW
    return deny(_("只有队伍所属单位和项目主办方可以查看该志愿者服务队伍"))


def can_lead_team(user, team) -> Decision:
    """Approve volunteers and sign-ups, publish and cancel activities, record service hours."""
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if user.pk != team.leader_id:
        return deny(_("只有队伍负责人（%(name)s）可以办理") % {"name": str(team.leader)})
    if team.status != "active":
        return deny(_("队伍已撤销"))
    return ALLOW


def can_see_volunteer_phones(user, team) -> Decision:
    if getattr(user, "pk", None) is not None and user.pk == team.leader_id:
        return ALLOW
    return deny(_("手机号码已隐去中间四位"))


# --- reports ---
# The funder's dashboard of a call: its staff, leaders and finance; no one else (not even another funder).

def can_view_reports(user, call) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not _roles_at(user, call.issuer_id) & FUNDER_ROLES:
        return deny(_("只有本通知的主办方（%(funder)s）可以查看统计报表") % {"funder": call.issuer.name})
    return ALLOW
