from django.urls import path

from shenbao.core import views

app_name = "jobs"
urlpatterns = [
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/file/", views.job_file, name="file"),
]
