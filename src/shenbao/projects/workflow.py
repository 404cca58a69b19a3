"""The transition tables after the award (core.workflow): one per stateful object, each performed through
its `Workflow.perform`."""

from __future__ import annotations

from shenbao.core.workflow import Transition, Workflow
from shenbao.projects import permissions as _p

# --- contract ---


# --- change requests ---


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


# --- volunteers ---
