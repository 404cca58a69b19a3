from django.urls import path

from shenbao.calls import views

app_name = "calls"
urlpatterns = [
    path("", views.portal, name="portal"),
]
