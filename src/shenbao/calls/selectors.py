"""Reads of calls for the portal, the admin pages and the API."""

from __future__ import annotations

from shenbao.calls.models import Call


def public_calls():
    return Call.objects.filter(status=Call.Status.PUBLISHED).select_related("issuer").order_by("-deadline")
