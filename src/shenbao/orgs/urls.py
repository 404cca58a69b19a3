from django.contrib.auth import views as auth_views
from django.urls import path

from shenbao.orgs import audit_views, views

app_name = "orgs"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/json/", views.login_json, name="login_json"),
    path("login/verify/", views.otp_verify, name="otp_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register_done"),
    path("register/resubmit/", views.resubmit, name="resubmit"),
    path("password/", views.password_change, name="password_change"),
    path("password/set/<str:uidb64>/<str:token>/", views.password_set, name="password_set"),
    path("registrations/", views.registrations, name="registrations"),
    path("registrations/<int:pk>/decide/", views.decide_registration, name="decide_registration"),
    path("units/<int:pk>/", views.unit, name="unit"),
    path("system/", views.system, name="system"),
    path("system/orgs/<int:pk>/", views.system_org, name="system_org"),
    path("system/holidays/", views.system_holidays, name="system_holidays"),
    path("security/", views.security, name="security"),
    path("security/users/<int:pk>/", views.security_user, name="security_user"),
    path("admin-requests/", views.admin_requests, name="admin_requests"),
    path("admin-requests/<int:pk>/", views.decide_admin_request, name="decide_admin_request"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/export.<str:fmt>", audit_views.audit_export, name="audit_export"),
    path("audit/verify/", audit_views.audit_verify, name="audit_verify"),
]
