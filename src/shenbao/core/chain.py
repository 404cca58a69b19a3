"""The audit chain's hash: sha256 over a canonical serialisation of an event's fields and the previous hash.

Pure functions (no models), shared by `core.audit`, `shenbao audit-verify` and the migration that chained the
events written before the chain existed. Changing the serialisation breaks every existing chain: don't.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

FIELDS = ("seq", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "object_repr",
          "before", "after", "note", "ip", "user_agent")


def _instant(value: dt.datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: dict[str, Any], prev_hash: str) -> bytes:
    """The bytes that are hashed: the event's fields (by name, sorted), times in UTC with microseconds."""
    data = {name: event.get(name) for name in FIELDS}
    data["at"] = _instant(data["at"])
    data["actor_id"] = None if data["actor_id"] is None else int(data["actor_id"])
    for name in ("actor_name", "action", "object_type", "object_id", "object_repr", "note", "user_agent"):
        data[name] = data[name] or ""
    data["ip"] = data["ip"] or ""
    data["prev_hash"] = prev_hash or ""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def digest(event: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(event, prev_hash)).hexdigest()
