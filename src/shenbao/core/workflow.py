"""One declared transition table per stateful object, and one function that performs a transition.

A table is a list of `Transition(state, action, who, next_state)`; `who` is a predicate
`(user, obj) -> Decision`. `perform` checks the transition, saves the new state, writes the audit
event and calls the notifier, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from shenbao.core import audit
from shenbao.core.decisions import Decision, NotAllowed, deny


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    who: Callable[..., Decision]
    next_state: str
    label: str = ""


class Workflow:
    def __init__(self, name: str, transitions: Iterable[Transition], state_field: str = "status"):
        self.name = name
        self.transitions = list(transitions)
        self.state_field = state_field

    def find(self, state: str, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.state == state and t.action == action), None)

    def can(self, user, obj, action: str) -> Decision:
        state = getattr(obj, self.state_field)
        t = self.find(state, action)
        if t is None:
            return deny(_("当前状态（%(state)s）不能执行此操作（%(action)s）") % {"state": state, "action": action})
        return t.who(user, obj)

    def actions_for(self, user, obj) -> list[Transition]:
        state = getattr(obj, self.state_field)
        return [t for t in self.transitions if t.state == state and t.who(user, obj)]

    def perform(self, *, user, obj, action: str, note: str = "", notify: Callable | None = None,
                extra_after: dict | None = None):
        with transaction.atomic():
            locked = type(obj).objects.select_for_update().get(pk=obj.pk)
            decision = self.can(user, locked, action)
            if not decision:
                raise NotAllowed(decision.reason)
            t = self.find(getattr(locked, self.state_field), action)
            before = getattr(locked, self.state_field)
            setattr(locked, self.state_field, t.next_state)
            locked.save(update_fields=[self.state_field])
            audit.record(
                actor=user, action=f"{self.name}.{action}", obj=locked,
                before={self.state_field: before},
                after={self.state_field: t.next_state, **(extra_after or {})}, note=note,
            )
            if notify:
                transaction.on_commit(lambda: notify(locked, t))
        setattr(obj, self.state_field, t.next_state)
        return locked
