"""The unit's record as eligibility reads it: its bars (R-E10) and its past projects (R-E5, R-E6).

Where the record lives, and why it is a hook: bars and projects are the `projects` stage's rows (a project
is made from an awarded application and points to its call; a bar is a funder's sanction after a project).
`projects` comes after `applications` and will import it (the award creates projects from applications),
so `applications` must not import `projects`. Moving the rows down (into `orgs`) does not work either: a
project points to a call, and `orgs` sits below `calls`. So `applications` states here what it needs
(`UnitRecord`: two questions about one unit) and `projects` answers it: `ProjectsConfig.ready` calls
`register(...)` with its keeper (`projects/record.py`). Eligibility only reads the attributes listed on
`UnitRecord`; it never sees the models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

# Project statuses eligibility acts on (the values of projects' Project.Status)
UNFINISHED = "unfinished"  # 无故未完成 (R-E5 `unfinished`)
DEFERRED = "deferred"  # 延期验收 (R-E5 `pending_deferral`)


class UnitRecord(Protocol):
    def bars(self, organisation: Any, day: dt.date) -> list[Any]:
        """The unit's bars covering `day`, latest end first: each has pk, funder_id, reason, ends_on."""

    def projects(self, organisation: Any) -> list[Any]:
        """The projects the unit led, newest year first: each has pk, title, content, year, status,
        programme, call_id, funder_id."""


_keeper: UnitRecord | None = None


def register(keeper: UnitRecord) -> None:
    """Called once by the stage that keeps the record (projects, in its AppConfig.ready)."""
    global _keeper
    _keeper = keeper


def keeper() -> UnitRecord:
    if _keeper is None:  # never judge eligibility without the bars: a missing keeper is a setup error
        raise ImproperlyConfigured("no keeper of the unit's record: shenbao.projects must be installed")
    return _keeper
