"""The transition tables after the award (core.workflow): one per stateful object, each performed through
its `Workflow.perform`."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from shenbao.core.workflow import Transition, Workflow
from shenbao.projects import permissions as _p

# --- contract ---
# generated ──sign_by_unit (a scan whose QR matched)──▶ signed_by_unit ──countersign──▶ countersigned
# generated ──accept_scan (no readable QR: checked by hand, with a reason)──▶ signed_by_unit
# signed_by_unit ──return_scan (with a reason)──▶ generated

CONTRACT = Workflow("contract", [
    Transition("generated", "sign_by_unit", _p.can_sign_by_unit, "signed_by_unit",
               pgettext_lazy("transition", "单位签章（二维码核验）")),
    Transition("generated", "accept_scan", _p.can_decide_contract_scan, "signed_by_unit",
               pgettext_lazy("transition", "人工核验通过")),
    Transition("signed_by_unit", "return_scan", _p.can_decide_contract_scan, "generated",
               pgettext_lazy("transition", "退回扫描件")),
    Transition("signed_by_unit", "countersign", _p.can_countersign, "countersigned",
               pgettext_lazy("transition", "主办方签署")),
])


# --- change requests ---
# filed ──approve──▶ approved (a new plan version)   filed ──refuse──▶ refused   filed ──withdraw──▶ withdrawn

CHANGE_REQUEST = Workflow("change_request", [
    Transition("filed", "approve", _p.can_decide_change, "approved", pgettext_lazy("transition", "批准变更")),
    Transition("filed", "refuse", _p.can_decide_change, "refused", pgettext_lazy("transition", "不予批准")),
    Transition("filed", "withdraw", _p.can_withdraw_change, "withdrawn", pgettext_lazy("transition", "撤回")),
])


# --- activities ---
# An event: registered ──cancel──▶ cancelled (kept with its sign-ins and photos; the sign-in page closes).
# A deliverable (R-C8): pending ──deliver──▶ delivered (on time or late: late means not completed).


def _manage_event(user, event):
    return _p.can_manage_activities(user, event.project)


def _manage_deliverable(user, record):
    return _p.can_manage_activities(user, record.project)


EVENT = Workflow("project_event", [
    Transition("registered", "cancel", _manage_event, "cancelled", "取消活动"),
])

DELIVERABLE = Workflow("project_deliverable", [
    Transition("pending", "deliver", _manage_deliverable, "delivered", "交付"),
])



# --- acceptance and deferral ---
# Acceptance (R-P7): draft ──submit──▶ submitted ──pass──▶ passed (the project is completed)
#                                      submitted ──rectify──▶ rectify (by a date) ──submit──▶ submitted
#                                      submitted ──fail──▶ failed (the project is left unfinished, R-E5)
# Deferral (R-P8): requested ──approve──▶ approved (project deferred) ──clear──▶ cleared (acceptance passed)
#                  requested ──refuse──▶ refused; requested ──withdraw──▶ withdrawn

ACCEPTANCE = Workflow("project_acceptance", [
    Transition("draft", "submit", _p.can_submit_acceptance, "submitted", "提交验收"),
    Transition("rectify", "submit", _p.can_submit_acceptance, "submitted", "提交整改后的验收材料"),
    Transition("submitted", "pass", _p.can_decide_acceptance, "passed", "验收通过"),
    Transition("submitted", "rectify", _p.can_decide_acceptance, "rectify", "限期整改"),
    Transition("submitted", "fail", _p.can_decide_acceptance, "failed", "验收不通过"),
])

DEFERRAL = Workflow("project_deferral", [
    Transition("requested", "approve", _p.can_decide_deferral, "approved", "批准延期"),
    Transition("requested", "refuse", _p.can_decide_deferral, "refused", "不予批准"),
    Transition("requested", "withdraw", _p.can_withdraw_deferral, "withdrawn", "撤回"),
    Transition("approved", "clear", _p.can_clear_deferral, "cleared", "完成验收"),
])



# --- volunteers ---
# A volunteer: pending ──approve──▶ approved ──remove──▶ left; pending ──reject──▶ rejected (the leader).
# An activity: published ──cancel──▶ cancelled (kept with its sign-ups).
# A sign-up: pending ──approve──▶ approved; pending ──reject──▶ rejected (the leader).


def _lead_volunteer(user, volunteer):
    return _p.can_lead_team(user, volunteer.team)


def _lead_activity(user, activity):
    return _p.can_lead_team(user, activity.team)


def _lead_signup(user, signup):
    return _p.can_lead_team(user, signup.activity.team)


VOLUNTEER = Workflow("volunteer", [
    Transition("pending", "approve", _lead_volunteer, "approved", "同意加入"),
    Transition("pending", "reject", _lead_volunteer, "rejected", "不同意"),
    Transition("approved", "remove", _lead_volunteer, "left", "移出队伍"),
])

VOLUNTEER_ACTIVITY = Workflow("volunteer_activity", [
    Transition("published", "cancel", _lead_activity, "cancelled", "取消活动"),
])

VOLUNTEER_SIGNUP = Workflow("volunteer_signup", [
    Transition("pending", "approve", _lead_signup, "approved", "审核通过"),
    Transition("pending", "reject", _lead_signup, "rejected", "不通过"),
])
