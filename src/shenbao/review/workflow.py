"""The transition tables of the review stage (core.workflow): one per stateful object, each performed
through its `Workflow.perform`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy, pgettext_lazy

from shenbao.core.workflow import Transition, Workflow
from shenbao.review import permissions as _p

# --- screening (形式审查) ---
# Screening.state, performed by review/screening.py. One level (most calls):
#
#     pending ──accept──▶ accepted                     (funder staff)
#     pending ──return──▶ returned                     (with a reason and a new deadline: the application is
#                                                       returned for revision through applications.services)
#     pending ──reject──▶ rejected                     (不予受理, with a reason; the application stays)
#
# Two levels (review.funder_levels names two, R-V3: 常德 2022 学会部初审 then 领导审核), each by a
# different person:
#
#     pending ──pass_department──▶ department_passed   (funder staff: 初审通过)
#     department_passed ──accept──▶ accepted           (a funder leader, not the one who did the 初审)
#     pending / department_passed ──return / reject──▶ returned / rejected   (the level's person)
#
# A new submitted version (the clerk resubmits after a return, or withdrew and submitted again) is
# screened again: returned / department_passed / accepted ──resubmitted──▶ pending (the platform does it).


def _first_level(user, screening):
    if _p.two_levels(screening.application.call):
        return _p.can_decide_department(user, screening)
    return _p.can_decide_single(user, screening)


SCREENING = Workflow("screening", [
    Transition("pending", "accept", _p.can_decide_single, "accepted", pgettext_lazy("transition", "形式审查通过")),
    Transition("pending", "pass_department", _p.can_decide_department, "department_passed",
               pgettext_lazy("transition", "初审通过")),
    Transition("department_passed", "accept", _p.can_decide_leadership, "accepted", pgettext_lazy("transition", "审核通过")),
    Transition("pending", "return", _first_level, "returned", pgettext_lazy("transition", "退回修改")),
    Transition("department_passed", "return", _p.can_decide_leadership, "returned", pgettext_lazy("transition", "退回修改")),
    Transition("pending", "reject", _first_level, "rejected", pgettext_lazy("transition", "不予受理")),
    Transition("department_passed", "reject", _p.can_decide_leadership, "rejected", pgettext_lazy("transition", "不予受理")),
    Transition("returned", "resubmitted", _p.can_reopen, "pending", pgettext_lazy("transition", "重新提交，重新审查")),
    Transition("department_passed", "resubmitted", _p.can_reopen, "pending", pgettext_lazy("transition", "重新提交，重新审查")),
    Transition("accepted", "resubmitted", _p.can_reopen, "pending", pgettext_lazy("transition", "重新提交，重新审查")),
], state_field="state")


# --- score sheets ---

# draft → submitted; staff may reopen a submitted sheet with a reason → reopened → submitted again
SCORE_SHEET = Workflow("score_sheet", [
    Transition("draft", "submit", _p.can_edit_sheet, "submitted", "提交评分"),
    Transition("reopened", "submit", _p.can_edit_sheet, "submitted", "提交评分"),
    Transition("submitted", "reopen", _p.can_reopen_sheet, "reopened", "退回重评"),
], state_field="state")


# --- public notice (公示) ---

# 公示 → 已发布立项名单 (the period's end and the open objections are checked by review/notice.py)
NOTICE = Workflow("notice", [
    Transition("open", "award", _p.can_publish_award, "awarded", gettext_lazy("发布立项名单")),
], state_field="state")

# 异议 → 成立 / 不成立, with the handling text (review/notice.py `handle_objection`)
OBJECTION = Workflow("objection", [
    Transition("open", "uphold", _p.can_handle_objection, "upheld", gettext_lazy("异议成立")),
    Transition("open", "dismiss", _p.can_handle_objection, "dismissed", gettext_lazy("异议不成立")),
], state_field="state")
