"""The HTTP API, versioned under /api/v1/, OpenAPI document at /api/v1/openapi.json.
Each app contributes a router from its own `api.py`."""

from django.conf import settings
from ninja import NinjaAPI

from shenbao.calls.api import router as calls_router
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed

api = NinjaAPI(title="Shenbao API", version="1", urls_namespace="api-v1",
               description=f"{settings.SHENBAO_SITE_NAME or '科协项目申报平台'} API（v1）")


@api.exception_handler(NotAllowed)
def _not_allowed(request, exc: NotAllowed):
    audit.refused(exc.reason)  # written as access.denied (core/audit_middleware.py)
    return api.create_response(request, {"detail": exc.reason}, status=403)


api.add_router("/calls", calls_router)
api.add_router("/applications", "shenbao.applications.api.router")
api.add_router("/review", "shenbao.review.api.router")
api.add_router("/projects", "shenbao.projects.api.router")
api.add_router("/jobs", "shenbao.core.api.router")
