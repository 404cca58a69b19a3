from django.urls import path

from shenbao.applications import reminders, views

app_name = "applications"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("offers/", views.offers, name="offers"),
    path("new/", views.create, name="create"),
    path("start/<int:type_pk>/", views.start, name="start"),
    path("endorse/", views.endorse_queue, name="endorse"),
    path("received/", views.received, name="received"),
    path("calls/<str:code>/remind-drafts/", reminders.remind_drafts, name="remind_drafts"),
    path("received/export.xlsx", views.received_xlsx, name="received_xlsx"),
    path("received/documents.zip", views.received_zip, name="received_zip"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/autosave/", views.autosave, name="autosave"),
    path("<int:pk>/approval/", views.approval, name="approval"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/discard/", views.discard, name="discard"),
    path("<int:pk>/print/v<int:number>.pdf", views.print_form, {"fmt": "pdf"}, name="print_pdf"),
    path("<int:pk>/print/v<int:number>.docx", views.print_form, {"fmt": "docx"}, name="print_docx"),
    path("<int:pk>/scan/", views.upload_scan, name="upload_scan"),
    path("<int:pk>/endorse/", views.endorse, name="endorse_one"),
    path("<int:pk>/return/", views.return_for_revision, name="return"),
    path("<int:pk>/accept-over-limit/", views.accept_over_limit, name="accept_over_limit"),
    path("participations/<int:pk>/confirm/", views.confirm_participation, name="confirm_participation"),
    path("scans/<int:pk>/", views.scan_file, name="scan_file"),
    path("attachments/<int:pk>/", views.attachment_file, name="attachment_file"),
    path("scans/<int:pk>/accept/", views.accept_scan, name="accept_scan"),
    path("scans/<int:pk>/decide/", views.decide_scan, name="decide_scan"),
]
