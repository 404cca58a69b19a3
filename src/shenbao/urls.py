from django.contrib import admin
from django.urls import include, path

from shenbao.api import api

urlpatterns = [
    path("", include("shenbao.calls.urls")),
    path("accounts/", include("shenbao.orgs.urls")),
    path("apply/", include("shenbao.applications.urls")),
    path("review/", include("shenbao.review.urls")),
    path("projects/", include("shenbao.projects.urls")),
    path("jobs/", include("shenbao.core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]

handler400 = "shenbao.core.views.bad_request"
