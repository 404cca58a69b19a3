"""Permission answers: yes or no, with a reason the user can read (in Chinese first)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


class NotAllowed(Exception):
    """Raised by services when a decision says no; views turn it into a message, the API into 403."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def require(decision: Decision) -> None:
    if not decision.allowed:
        raise NotAllowed(decision.reason)
