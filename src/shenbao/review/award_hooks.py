"""What happens to an awarded application beyond the review stage: the projects stage creates its project.

`projects` sits above `review` (a project is made from an awarded application), so review must not import it.
Review states here what it hands over and `projects` answers: `ProjectsConfig.ready` calls `register(...)`
with a callable `hook(*, actor, decision, awarded_on)` run for each awarded Decision inside the transaction
that publishes the award list (review/notice.py `publish_award`). A hook must be idempotent: the award list
published again after a failure must not create a second project. Without a hook the award is refused:
an award list that creates no projects is a setup error, not a result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

AwardHook = Callable[..., Any]

HOOKS: list[AwardHook] = []


def register(hook: AwardHook) -> None:
    """Called once by each stage that acts on awards (projects, in its AppConfig.ready)."""
    if hook not in HOOKS:
        HOOKS.append(hook)


def run(*, actor, decision, awarded_on: dt.date) -> list[Any]:
    """Every hook for one awarded decision (inside the caller's transaction); their results."""
    if not HOOKS:
        raise ImproperlyConfigured("no award hook: shenbao.projects must be installed")
    return [hook(actor=actor, decision=decision, awarded_on=awarded_on) for hook in HOOKS]
