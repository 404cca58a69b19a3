from django.urls import path

from shenbao.calls import views

app_name = "calls"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("calls/<str:code>/", views.call_detail, name="call_detail"),
    path("calls/<str:code>/types/<str:type_code>/blank-form/", views.blank_form, name="blank_form"),
    path("manage/calls/", views.manage, name="manage"),
    path("manage/calls/import/", views.import_call, name="import"),
    path("manage/calls/<str:code>/publish/", views.set_published, name="set_published"),
    path("manage/calls/<str:code>/export/", views.export_call, name="export"),
    path("manage/calls/<str:code>/unpublish/", views.unpublish, name="unpublish"),
    path("manage/calls/<str:code>/copy/", views.copy_call, name="copy"),
    path("manage/calls/<str:code>/edit/", views.edit_call, name="edit"),
]
