"""The request's side of the audit log.

`AuditContextMiddleware` (after authentication) puts the client's address (`core.http.client_ip`) and
user agent in `core.audit.request_context`, so every event written while serving the request says where it
came from, and when the response goes out writes:

- `access.denied` for every refusal: any 403 answer (a page, the API, CSRF), and any refusal a view noted
  with `audit.refused(reason)` while answering otherwise (a message and a redirect);
- `file.download` for every file sent (a response with Content-Disposition): blank forms, printed PDF/DOCX,
  scans, call YAML, audit exports. A view may name the object with `response.audit_object = obj`.

`DjangoAdminSwitchMiddleware`: Django's admin exists only with `SHENBAO_DJANGO_ADMIN=1`; otherwise its URLs
are 404 for everyone (a superuser would otherwise work beside the platform's rules).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404

from shenbao.core import audit
from shenbao.core.http import client_ip

ADMIN_PREFIX = "/django-admin/"


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = {
            "ip": client_ip(request),
            "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[: audit.USER_AGENT_MAX],
            "refusals": [],
        }
        token = audit.request_context.set(context)
        try:
            response = self.get_response(request)
            self._after(request, response, context)
        finally:
            audit.request_context.reset(token)
        return response

    def _after(self, request, response, context) -> None:
        user = getattr(request, "user", None)
        where = {"method": request.method, "path": request.path[:300], "status": response.status_code}
        refusals = context.get("refusals") or []
        reason = "；".join(refusals)
        locked = getattr(request, "axes_locked_out", False)  # the lock is audited by orgs/signals.py
        if (response.status_code == 403 and not locked) or refusals:
            obj = getattr(response, "audit_object", None) or context.get("refused_object")
            audit.record(actor=user, action="access.denied", obj=obj, after=where, note=reason or "HTTP 403")
        disposition = response.get("Content-Disposition", "") if hasattr(response, "get") else ""
        if disposition and response.status_code == 200 and not getattr(response, "audit_recorded", False):
            audit.record(actor=user, action="file.download", obj=getattr(response, "audit_object", None),
                         after={**where, "file": _filename(disposition),
                                "content_type": response.get("Content-Type", "")})


def _filename(disposition: str) -> str:
    """The file name a Content-Disposition header gives (the UTF-8 one when there is one)."""
    from urllib.parse import unquote

    parts = [p.strip() for p in disposition.split(";")]
    for p in parts:
        if p.lower().startswith("filename*="):
            value = p.split("=", 1)[1]
            return unquote(value.split("''", 1)[-1])[:300]
    for p in parts:
        if p.lower().startswith("filename="):
            return p.split("=", 1)[1].strip('"')[:300]
    return ""


class DjangoAdminSwitchMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(ADMIN_PREFIX) and not getattr(settings, "SHENBAO_DJANGO_ADMIN", False):
            raise Http404("Django admin is switched off (SHENBAO_DJANGO_ADMIN)")
        return self.get_response(request)
