"""Writing audit events. Every service that changes state calls `record` inside its transaction.

- The client's address and user agent come from the request being served (`AuditContextMiddleware` puts
  them in a context variable) unless given explicitly: every event says where it came from.
- `before`/`after` keep only what changed (dicts are diffed key by key, nested dicts too), each side capped at
  `MAX_SIDE_BYTES` of JSON with a note saying what was left out: a large form save is not stored twice.
- Events form a hash chain (`core/chain.py`): the writer locks the chain head, so events are linear even when
  several PostgreSQL transactions write at once (on SQLite the IMMEDIATE transactions serialise already); the
  database's trigger moves the head with the inserted event (migration core/0006): two statements an event.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from shenbao.core import chain
from shenbao.core.models import AuditChainHead, AuditEvent

# databases where a trigger moves the chain head with each inserted event (migration core/0006)
TRIGGERED = {"sqlite", "postgresql"}
MAX_SIDE_BYTES = 64 * 1024  # per side (before / after), as JSON
MAX_VALUE_NOTE = "…（%(n)s 字节，超出审计记录上限，未保存）"
USER_AGENT_MAX = 300

# The request being served: {"ip", "user_agent", "refusals": [...]}; set by AuditContextMiddleware.
request_context: ContextVar[dict | None] = ContextVar("shenbao_audit_request", default=None)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)) if value is not None else None


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def diff(before: Any, after: Any, depth: int = 3) -> tuple[Any, Any]:
    """Only what changed: for two dicts, the keys whose values differ (nested dicts diffed `depth` levels),
    keys only on one side kept on that side; anything else is returned as is."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return before, after
    b: dict = {}
    a: dict = {}
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after:
            old, new = before[key], after[key]
            if old == new:
                continue
            if depth > 1 and isinstance(old, dict) and isinstance(new, dict):
                b[key], a[key] = diff(old, new, depth - 1)
            else:
                b[key], a[key] = old, new
        elif key in before:
            b[key] = before[key]
        else:
            a[key] = after[key]
    return b, a


def cap(value: Any, limit: int = MAX_SIDE_BYTES) -> tuple[Any, bool]:
    """`value` within `limit` bytes of JSON: a dict keeps its keys, the values that do not fit are replaced
    by a note of their size; anything else too large becomes that note. (value, was anything left out)."""
    if value is None or _size(value) <= limit:
        return value, False
    if isinstance(value, dict):
        out: dict = {}
        used = 2
        for key, item in value.items():
            n = _size(item)
            if used + n + len(str(key)) + 4 <= limit:
                out[key] = item
                used += n + len(str(key)) + 4
            else:
                out[key] = MAX_VALUE_NOTE % {"n": n}
                used += 60 + len(str(key))
            if used > limit:  # very many keys: stop listing them
                out["…"] = MAX_VALUE_NOTE % {"n": _size(value)}
                break
        return out, True
    return MAX_VALUE_NOTE % {"n": _size(value)}, True


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    return clean_ipv6_address(value) if ":" in value else value


def _next_link() -> AuditChainHead:
    """The chain head, locked until the writing transaction ends (created on first use)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(pk=1, seq=0, hash="")
        except IntegrityError:  # another writer created it at the same moment
            pass
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


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
    user_agent: str | None = None,
) -> AuditEvent:
    context = request_context.get() or {}
    user = actor if getattr(actor, "is_authenticated", False) else None
    before, after = diff(_jsonable(before), _jsonable(after))
    before, cut_before = cap(before)
    after, cut_after = cap(after)
    if cut_before or cut_after:
        note = (note + "\n" if note else "") + "（变更内容过大，审计记录只保存了部分内容）"
    fields = {
        "actor_id": user.pk if user else None,
        "actor_name": (actor_name or (user.get_username() if user else ""))[:150],
        "action": action[:80],
        "object_type": obj._meta.label_lower[:80] if obj is not None else "",
        "object_id": str(obj.pk)[:64] if obj is not None else "",
        "object_repr": str(obj)[:300] if obj is not None else "",
        "before": before,
        "after": after,
        "note": note,
        "ip": _ip(ip if ip is not None else context.get("ip")),
        "user_agent": (user_agent if user_agent is not None else context.get("user_agent") or "")[:USER_AGENT_MAX],
    }
    # no savepoint inside the caller's transaction (two statements per event): nothing here is meant to fail
    # and be recovered from; outside one, this is the transaction that keeps event and head together
    with transaction.atomic(savepoint=False):
        head = _next_link()
        fields["at"] = timezone.now()  # taken under the lock: times follow the chain's order
        fields["seq"] = head.seq + 1
        fields["prev_hash"] = head.hash
        fields["hash"] = chain.digest(fields, head.hash)
        event = AuditEvent.objects.create(**fields)
        if connection.vendor not in TRIGGERED:  # elsewhere the database's trigger moved the head (core/0006)
            AuditChainHead.objects.filter(pk=1).update(seq=fields["seq"], hash=fields["hash"])
    return event


def refused(reason: str, obj: models.Model | None = None) -> None:
    """Note a refusal (a denied Decision shown to the user, as a 403 page, a message, or a 404 that hides
    what exists) for the request being served: the middleware writes it as an `access.denied` event, naming
    `obj`, when the response goes out."""
    context = request_context.get()
    if context is not None:
        context.setdefault("refusals", []).append(str(reason))
        if obj is not None:
            context["refused_object"] = obj


def history(obj: models.Model):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("at", "id")
