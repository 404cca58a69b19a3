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
                extra_after: dict | None = None, locked: bool = False, update_fields: Iterable[str] = ()):
        """Check `action` on `obj` for `user`, save the new state, write the audit event (the state before and
        after, with `extra_after`) and call `notify(obj, transition)` once the transaction commits.

        By default the row is locked and read again (select_for_update) in a transaction of its own (a
        savepoint inside the caller's). `locked=True` is for a caller that already holds the row lock inside
        its own transaction, with the relations the check, the audit and the notifier read loaded: that
        object is checked, saved and audited as it is, nothing is read again and no savepoint is opened (a
        refusal raises before anything is written; the caller's transaction rolls back with it).
        `update_fields`: other fields the caller set on `obj`, saved in the same UPDATE as the state."""
        if locked:
            if not transaction.get_connection().in_atomic_block:
                raise RuntimeError("perform(locked=True) must run inside the transaction that holds the row lock")
            return self._perform(user=user, obj=obj, action=action, note=note, notify=notify,
                                 extra_after=extra_after, update_fields=update_fields)
        with transaction.atomic():
            row = type(obj).objects.select_for_update().get(pk=obj.pk)
            self._perform(user=user, obj=row, action=action, note=note, notify=notify, extra_after=extra_after,
                          update_fields=())
        setattr(obj, self.state_field, getattr(row, self.state_field))
        return row

    def _perform(self, *, user, obj, action: str, note: str, notify: Callable | None, extra_after: dict | None,
                 update_fields: Iterable[str]):
        decision = self.can(user, obj, action)
        if not decision:
            raise NotAllowed(decision.reason)
        t = self.find(getattr(obj, self.state_field), action)
        before = getattr(obj, self.state_field)
        setattr(obj, self.state_field, t.next_state)
        obj.save(update_fields=[self.state_field, *(f for f in update_fields if f != self.state_field)])
        audit.record(
            actor=user, action=f"{self.name}.{action}", obj=obj,
            before={self.state_field: before},
            after={self.state_field: t.next_state, **(extra_after or {})}, note=note,
        )
        if notify:
            transaction.on_commit(lambda: notify(obj, t))
        return obj
