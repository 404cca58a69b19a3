from django.contrib.auth import views as auth_views
from django.urls import path

from shenbao.orgs import views

app_name = "orgs"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="orgs/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("password/", auth_views.PasswordChangeView.as_view(template_name="orgs/password_change.html",
                                                           success_url="/accounts/home/"), name="password_change"),
]
