"""Every application as canonical JSON: its row, the rows of every model that points to it (versions are
the snapshots; participants, approvals, scans, endorsements, and whatever later stages add), with each
stored file's sha256 computed from its content. Two databases holding the same applications give the same
bytes: `shenbao export-applications` before a backup and after its restore proves the restore."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from shenbao.applications.models import Application


def _file(field_file) -> dict | None:
    if not field_file:
        return None
    digest = hashlib.sha256()
    try:
        with field_file.storage.open(field_file.name, "rb") as f:
            for chunk in iter(lambda: f.read(1024 * 1024), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return {"name": field_file.name, "sha256": None}
    return {"name": field_file.name, "sha256": digest.hexdigest()}


def _row(obj: models.Model) -> dict[str, Any]:
    out = {}
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname)
        out[f.attname] = _file(getattr(obj, f.name)) if isinstance(f, models.FileField) else value
    return out


def _dependents(app: Application) -> dict[str, list]:
    out = {}
    for rel in Application._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.related_model is Application:
            continue
        model = rel.related_model
        rows = model._default_manager.filter(**{rel.field.name: app}).order_by("pk")
        out[model._meta.label_lower + "." + rel.field.name] = [_row(r) for r in rows]
    return out


def export_all() -> list[dict]:
    return [{"application": _row(a), "related": _dependents(a)} for a in Application.objects.order_by("pk")]


def canonical_json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
