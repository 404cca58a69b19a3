"""Writing audit events. Every service that changes state calls `record` inside its transaction."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from shenbao.core.models import AuditEvent


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)) if value is not None else None


def record(
    *,
    actor=None,
    action: str,
    obj: models.Model | None = None,
    before: Any = None,
    after: Any = None,
    note: str = "",
    ip: str | None = None,
    actor_name: str = "",
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=actor_name or (user.get_username() if user else ""),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
        ip=ip,
    )


def history(obj: models.Model):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("at", "id")
