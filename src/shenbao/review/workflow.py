"""The transition tables of the review stage (core.workflow): one per stateful object, each performed
through its `Workflow.perform`.
"""

from __future__ import annotations

from shenbao.core.workflow import Transition, Workflow
from shenbao.review import permissions as _p

# --- screening (形式审查) ---


# --- score sheets ---

# draft → submitted; staff may reopen a submitted sheet with a reason → reopened → submitted again
SCORE_SHEET = Workflow("score_sheet", [
    Transition("draft", "submit", _p.can_edit_sheet, "submitted", "提交评分"),
    Transition("reopened", "submit", _p.can_edit_sheet, "submitted", "提交评分"),
    Transition("submitted", "reopen", _p.can_reopen_sheet, "reopened", "退回重评"),
], state_field="state")


# --- public notice (公示) ---
