"""Who may do what with applications: yes/no with a reason in Chinese, for pages, the API and the
workflow's `who` predicates alike. Rules about the call (eligibility, deadline) live in eligibility.py;
these are about the person and the state."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.orgs import selectors as org_selectors
from shenbao.orgs.models import Organisation, Role, RoleAssignment

EDITABLE = ("draft", "returned")
FUNDER_ROLES = (Role.FUNDER_STAFF, Role.FUNDER_LEADER)


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "is_active", False)


def has_role_in(user, org: Organisation | int | None, roles) -> bool:
    """The user holds one of `roles` in `org`: a role given for that organisation, or a role given without
    an organisation to a user who belongs to it."""
    if not _authenticated(user) or org is None:
        return False
    org_id = org if isinstance(org, int) else org.pk
    for role, role_org in org_selectors.role_pairs(user):  # a request's user has them (orgs/backends.py)
        if role in roles and (role_org == org_id or (role_org is None and user.organisation_id == org_id)):
            return True
    return False


def is_clerk_of(user, org) -> bool:
    return has_role_in(user, org, (Role.APPLICANT_CLERK,))


def is_head_of(user, org) -> bool:
    return has_role_in(user, org, (Role.UNIT_HEAD,))


def is_funder_of(user, application) -> bool:
    return has_role_in(user, application.call.issuer_id, FUNDER_ROLES)


def is_funder_staff_of(user, application) -> bool:
    return has_role_in(user, application.call.issuer_id, (Role.FUNDER_STAFF,))


def _active_unit(org: Organisation) -> Decision:
    if org.status != Organisation.Status.ACTIVE:
        return deny(_("本单位（%(unit)s）的注册尚未审核通过，不能申报") % {"unit": org.name})
    return ALLOW


# --- the applicant unit ------------------------------------------------------------------------------


def can_apply(user, org: Organisation | None = None) -> Decision:
    """Start an application for the unit: its applicant clerk (申报单位经办人), the unit registered and approved."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    org = org or user.organisation
    if org is None:
        return deny(_("您的账户不属于任何申报单位"))
    if org.status != Organisation.Status.ACTIVE and user.organisation_id == org.pk:
        return _active_unit(org)  # a unit waiting for approval: say so, not "only its clerks may apply"
    if not is_clerk_of(user, org):
        return deny(_("只有%(unit)s的申报经办人可以申报") % {"unit": org.name})
    return _active_unit(org)


def can_view(user, application) -> Decision:
    """See an application: the applicant's clerks and head, its participants' users, the association
    that endorses it, and the funder's staff once it reached them."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if has_role_in(user, application.applicant_id, (Role.APPLICANT_CLERK, Role.UNIT_HEAD)):
        return ALLOW
    participant_orgs = set(application.participants.filter(removed_at__isnull=True)
                           .values_list("organisation_id", flat=True))
    if any(has_role_in(user, o, (Role.APPLICANT_CLERK, Role.UNIT_HEAD)) for o in participant_orgs):
        return ALLOW
    if application.endorser_id and has_role_in(user, application.endorser_id, (Role.HOME_REVIEWER,)):
        return ALLOW
    # the funder sees an application once it reached them: not while its endorser still decides (R-E9)
    if (application.current_snapshot_id and application.status != "awaiting_endorsement"
            and is_funder_of(user, application)):
        return ALLOW
    return deny(_("只能查看本单位的申报，或本单位负责推荐、受理的申报"))


def sees_draft(user, application) -> bool:
    """Whether the user reads the draft as it is now (R-S70): only inside the applicant unit (its clerks and
    head). Everyone else who may view the application (participants, the endorser, the funder) reads the
    submitted version only: after a withdrawal or a return the unit's unsubmitted edits are its own."""
    return has_role_in(user, application.applicant_id, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))


def can_edit(user, application) -> Decision:
    """Change the draft (form, participants, own approval): the applicant's clerk, while it is a draft or
    returned for revision."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_clerk_of(user, application.applicant_id):
        return deny(_("只有%(unit)s的申报经办人可以修改此申报") % {"unit": application.applicant.name})
    if application.status not in EDITABLE:
        return deny(_("此申报%(status)s，不能修改；如需修改请先撤回") % {"status": _(application.get_status_display())})
    return ALLOW


def can_submit(user, application) -> Decision:
    """Submit (the call's rules are checked separately by eligibility.check)."""
    decision = can_edit(user, application)
    if not decision:
        return decision
    return _active_unit(application.applicant)


def can_discard(user, application) -> Decision:
    decision = can_edit(user, application)
    if not decision:
        return decision
    if application.current_snapshot_id:
        return deny(_("已经提交过的申报不能放弃，只能撤回修改"))
    return ALLOW


def _before(deadline, what: str) -> Decision:
    if timezone.now() >= deadline:
        local = timezone.localtime(deadline)
        return deny(_("已过截止时间（%(deadline)s），不能%(what)s") % {"deadline": f"{local:%Y-%m-%d %H:%M}", "what": what})
    return ALLOW


def can_withdraw(user, application) -> Decision:
    """Take a submission back to draft: the applicant's clerk, before the deadline that applies."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_clerk_of(user, application.applicant_id):
        return deny(_("只有%(unit)s的申报经办人可以撤回此申报") % {"unit": application.applicant.name})
    return _before(application.deadline, pgettext("refusal", "撤回"))


def can_record_own_approval(user, application) -> Decision:
    return can_edit(user, application)


def can_accept_commitment(user, application) -> Decision:
    """The unit head (单位负责人) accepts the call's commitment text (R-E8)."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_head_of(user, application.applicant_id):
        return deny(_("只有%(unit)s的单位负责人可以确认承诺") % {"unit": application.applicant.name})
    if application.status not in EDITABLE:
        return deny(_("此申报%(status)s，不能再确认") % {"status": _(application.get_status_display())})
    return ALLOW


def can_confirm_participation(user, participant) -> Decision:
    """A participant unit confirms from its own account (R-E4)."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    org = participant.organisation
    if not has_role_in(user, org, (Role.APPLICANT_CLERK, Role.UNIT_HEAD)):
        return deny(_("只有%(unit)s的经办人或负责人可以确认参与") % {"unit": org.name})
    if participant.removed_at:
        return deny(_("该邀请已被撤销"))
    if participant.application.status not in EDITABLE:
        return deny(_("申报已提交，不能再确认参与"))
    return ALLOW


def can_print(user, application) -> Decision:
    decision = can_view(user, application)
    if not decision:
        return decision
    if not application.current_snapshot_id:
        return deny(_("尚未提交：提交后才能打印带版本指纹的申报表"))
    return ALLOW


def can_upload_scan(user, application) -> Decision:
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_clerk_of(user, application.applicant_id):
        return deny(_("只有%(unit)s的申报经办人可以上传盖章扫描件") % {"unit": application.applicant.name})
    if application.status not in ("submitted", "awaiting_endorsement") or not application.current_snapshot_id:
        return deny(_("只有已提交的申报可以上传盖章扫描件"))
    return ALLOW


# --- the route to the funder ----------------------------------------------------------------------------


def can_endorse(user, application) -> Decision:
    """Endorse or return an application routed through an association (R-E9): its reviewer."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not application.endorser_id or not has_role_in(user, application.endorser_id, (Role.HOME_REVIEWER,)):
        who = application.endorser.name if application.endorser_id else _("推荐单位")
        return deny(_("只有%(unit)s的审核人可以推荐或退回此申报") % {"unit": who})
    return ALLOW


def can_return_for_revision(user, application) -> Decision:
    """Return a submitted application for revision: the funder's staff (and its leaders, who return it at
    the leadership level of a two-level screening, R-V3)."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_funder_of(user, application):
        return deny(_("只有%(unit)s的业务人员可以退回修改") % {"unit": application.call.issuer.name})
    return ALLOW


def can_accept_scan_manually(user, application) -> Decision:
    """Accept a scan without a readable QR code, with a written reason: the funder's staff."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_funder_staff_of(user, application):
        return deny(_("只有%(unit)s的业务人员可以人工核验扫描件") % {"unit": application.call.issuer.name})
    return ALLOW


def can_accept_over_limit(user, application) -> Decision:
    """Accept an application beyond the call's soft per-unit limit (原则上不超过N个), with a reason: the
    funder's staff, once it reached them."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not is_funder_staff_of(user, application):
        return deny(_("只有%(unit)s的业务人员可以同意超额受理") % {"unit": application.call.issuer.name})
    if application.status != "submitted":
        return deny(_("只有已报送主办方的申报可以同意超额受理"))
    return ALLOW


def can_decide_stamp(user, scan) -> Decision:
    """Confirm the stamp of a scan, accept one without a readable QR, or return it: the funder's staff,
    for a scan of the version now submitted."""
    application = scan.application
    decision = can_accept_scan_manually(user, application)
    if not decision:
        return decision
    if scan.snapshot_id != application.current_snapshot_id or application.status not in ("submitted", "returned"):
        return deny(_("该扫描件不是当前提交版本的，不能核验"))
    return ALLOW


def can_see_received(user) -> Decision:
    """The funder's list of received applications."""
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not RoleAssignment.objects.filter(user=user, role__in=FUNDER_ROLES).exists():
        return deny(_("只有主办方业务人员可以查看收到的申报"))
    return ALLOW


def can_see_endorsements(user) -> Decision:
    if not _authenticated(user):
        return deny(_("请先登录"))
    if not RoleAssignment.objects.filter(user=user, role=Role.HOME_REVIEWER).exists():
        return deny(_("只有属地科协审核人可以推荐申报"))
    return ALLOW
