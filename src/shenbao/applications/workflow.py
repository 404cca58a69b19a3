"""The one transition table of an application (core.workflow). Services perform every change of status
through `APPLICATION.perform`, which checks `who`, saves, audits and notifies in one transaction.

    draft ──submit──────────▶ submitted
    draft ──submit_routed───▶ awaiting_endorsement   (the call routes it through an association, R-E9)
    awaiting_endorsement ──endorse──▶ submitted
    awaiting_endorsement ──return───▶ returned
    awaiting_endorsement ──withdraw─▶ draft           (before the deadline)
    submitted ──withdraw────────────▶ draft           (before the deadline)
    submitted ──return_for_revision─▶ returned        (funder staff: reason and a new deadline)
    returned ──resubmit / resubmit_routed──▶ submitted / awaiting_endorsement
    draft ──discard──▶ discarded                      (never submitted; kept, not deleted)

And the table of a stamped scan (`SCAN`, field `state`): the QR proves the version, the funder's staff
confirm the stamp; only then is it 已核验.

    unread  ──accept_manually──▶ confirmed   (no readable QR: checked by hand, with a reason)
    matched ──confirm_stamp────▶ confirmed   (版本一致，盖章待主办方确认 → 已核验)
    unread / matched ──return_scan──▶ returned   (with a reason; the clerk uploads again)
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from shenbao.applications import permissions as p
from shenbao.applications.routing import route_for
from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.core.workflow import Transition, Workflow


def _direct(user, application) -> Decision:
    decision = p.can_submit(user, application)
    if decision and route_for(application) is not None:
        return deny(_("此申报须先经推荐单位审核"))
    return decision


def _routed(user, application) -> Decision:
    decision = p.can_submit(user, application)
    if not decision:
        return decision
    route = route_for(application)
    if route is None:
        return deny(_("此申报无需推荐，直接报送主办方"))
    if route.endorser is None:
        return deny(_("此申报须经推荐（%(route)s），但本单位没有登记对应的属地科协或高校科协，请联系主办方")
                    % {"route": route.label})
    return ALLOW


APPLICATION = Workflow("application", [
    Transition("draft", "submit", _direct, "submitted", pgettext_lazy("transition", "提交")),
    Transition("draft", "submit_routed", _routed, "awaiting_endorsement", pgettext_lazy("transition", "提交推荐单位审核")),
    Transition("draft", "discard", p.can_discard, "discarded", pgettext_lazy("transition", "放弃草稿")),
    Transition("awaiting_endorsement", "endorse", p.can_endorse, "submitted", pgettext_lazy("transition", "同意推荐")),
    Transition("awaiting_endorsement", "return", p.can_endorse, "returned", pgettext_lazy("transition", "退回修改")),
    Transition("awaiting_endorsement", "withdraw", p.can_withdraw, "draft", pgettext_lazy("transition", "撤回")),
    Transition("submitted", "withdraw", p.can_withdraw, "draft", pgettext_lazy("transition", "撤回")),
    Transition("submitted", "return_for_revision", p.can_return_for_revision, "returned", pgettext_lazy("transition", "退回修改")),
    Transition("returned", "resubmit", _direct, "submitted", pgettext_lazy("transition", "重新提交")),
    Transition("returned", "resubmit_routed", _routed, "awaiting_endorsement", pgettext_lazy("transition", "重新提交推荐单位审核")),
])

SUBMIT_ACTIONS = {"submit", "submit_routed", "resubmit", "resubmit_routed"}


def submit_action(application) -> str:
    """The action that submits the application from where it stands."""
    base = "resubmit" if application.status == "returned" else "submit"
    return f"{base}_routed" if route_for(application) is not None else base


SCAN = Workflow("scan", [
    Transition("unread", "accept_manually", p.can_decide_stamp, "confirmed", pgettext_lazy("transition", "人工核验通过")),
    Transition("matched", "confirm_stamp", p.can_decide_stamp, "confirmed", pgettext_lazy("transition", "确认盖章")),
    Transition("unread", "return_scan", p.can_decide_stamp, "returned", pgettext_lazy("transition", "退回扫描件")),
    Transition("matched", "return_scan", p.can_decide_stamp, "returned", pgettext_lazy("transition", "退回扫描件")),
], state_field="state")
