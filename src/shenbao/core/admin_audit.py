"""Every change made in Django's admin goes to the platform's audit log, with before and after.

Django's admin writes its own LogEntry (who, what, a change message) but not the values; a superuser working
there would otherwise be outside the audit. `install()` (from CoreConfig.ready) wraps `ModelAdmin` for every
registered model at once: `get_object` notes the object's fields as they were when the change page was opened
or posted, and `log_addition`/`log_change`/`log_deletions` write an `admin.add|change|delete` event with the
fields before and after (passwords only as "changed"). The admin itself is off unless
`SHENBAO_DJANGO_ADMIN=1` (core/audit_middleware.py).
"""

from __future__ import annotations

from typing import Any

from shenbao.core import audit

SECRET_FIELDS = {"password"}
_BEFORE = "_shenbao_admin_before"


def snapshot(obj) -> dict[str, Any]:
    """The object's concrete fields (foreign keys by id); secrets as a fixed mark that changes with them."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if field.name in SECRET_FIELDS:
            import hashlib

            value = "******" + hashlib.sha256(str(value).encode()).hexdigest()[:6] if value else ""
        out[field.name] = value
    for field in obj._meta.many_to_many:
        if obj.pk is not None:
            out[field.name] = sorted(str(pk) for pk in getattr(obj, field.name).values_list("pk", flat=True))
    return out


def _before(request, obj) -> dict | None:
    return getattr(request, _BEFORE, {}).get((obj._meta.label_lower, str(obj.pk)))


def install() -> None:
    from django.contrib.admin import ModelAdmin

    if getattr(ModelAdmin, "_shenbao_audited", False):
        return
    get_object = ModelAdmin.get_object
    log_addition = ModelAdmin.log_addition
    log_change = ModelAdmin.log_change
    log_deletions = ModelAdmin.log_deletions

    def audited_get_object(self, request, object_id, from_field=None):
        obj = get_object(self, request, object_id, from_field)
        if obj is not None:
            seen = getattr(request, _BEFORE, None)
            if seen is None:
                seen = {}
                setattr(request, _BEFORE, seen)
            seen.setdefault((obj._meta.label_lower, str(obj.pk)), snapshot(obj))
        return obj

    def audited_log_addition(self, request, obj, message):
        entry = log_addition(self, request, obj, message)
        audit.record(actor=request.user, action="admin.add", obj=obj, after=snapshot(obj),
                     note=f"Django admin: {message}" if message else "Django admin")
        return entry

    def audited_log_change(self, request, obj, message):
        entry = log_change(self, request, obj, message)
        audit.record(actor=request.user, action="admin.change", obj=obj, before=_before(request, obj),
                     after=snapshot(obj), note=f"Django admin: {message}" if message else "Django admin")
        return entry

    def audited_log_deletions(self, request, queryset):
        entries = log_deletions(self, request, queryset)
        for obj in queryset:
            audit.record(actor=request.user, action="admin.delete", obj=obj, before=snapshot(obj),
                         note="Django admin")
        return entries

    ModelAdmin.get_object = audited_get_object
    ModelAdmin.log_addition = audited_log_addition
    ModelAdmin.log_change = audited_log_change
    ModelAdmin.log_deletions = audited_log_deletions
    ModelAdmin._shenbao_audited = True
