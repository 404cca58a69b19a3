"""Pages of the review stage, under /review/. Each sub-stage has its own views module
(`views_<area>.py`); add its paths in its block below."""

from django.urls import path

app_name = "review"
urlpatterns: list = []

# --- experts and conflicts ---
from shenbao.review import views_experts  # noqa: E402

urlpatterns += [
    path("experts/", views_experts.pool, name="experts"),
    path("experts/new/", views_experts.expert_new, name="expert_new"),
    path("experts/import/", views_experts.experts_import, name="experts_import"),
    path("experts/export.xlsx", views_experts.experts_export, name="experts_export"),
    path("experts/template.xlsx", views_experts.experts_template, name="experts_template"),
    path("experts/<int:pk>/", views_experts.expert_edit, name="expert"),
    path("experts/<int:pk>/active/", views_experts.expert_active, name="expert_active"),
    path("experts/<int:pk>/login/", views_experts.expert_login, name="expert_login"),
    path("experts/<int:pk>/conflicts/", views_experts.expert_conflicts, name="expert_conflicts"),
    path("conflicts/application/", views_experts.application_conflicts_lookup, name="application_conflicts_lookup"),
    path("conflicts/application/<int:pk>/", views_experts.application_conflicts, name="application_conflicts"),
    path("conflicts/override/", views_experts.override_add, name="override_add"),
    path("conflicts/override/<int:pk>/revoke/", views_experts.override_revoke, name="override_revoke"),
    path("mine/", views_experts.mine, name="mine"),
    path("mine/pledge/", views_experts.pledge, name="pledge"),
    path("mine/declare/", views_experts.declare, name="declare"),
]

# --- screening (形式审查) ---
from shenbao.review import views_screening  # noqa: E402

urlpatterns += [
    path("screening/", views_screening.index, name="screening"),
    path("screening/<str:code>/", views_screening.queue, name="screening_queue"),
    path("screening/<str:code>/batch/", views_screening.batch, name="screening_batch"),
    path("screening/<str:code>/check/", views_screening.check, name="screening_check"),
    path("screening/<str:code>/<int:pk>/", views_screening.detail, name="screening_detail"),
    path("screening/<str:code>/<int:pk>/<str:action>/", views_screening.act, name="screening_act"),
]

# --- assignment ---
from shenbao.review import views_assignment  # noqa: E402

urlpatterns += [
    path("assignment/call/<str:code>/", views_assignment.call_page, name="assignment"),
    path("assignment/call/<str:code>/run/", views_assignment.run, name="assignment_run"),
    path("assignment/application/<int:pk>/", views_assignment.application_page, name="assignment_application"),
    path("assignment/application/<int:pk>/add/", views_assignment.add, name="assignment_add"),
    path("assignment/<int:pk>/remove/", views_assignment.remove, name="assignment_remove"),
    path("assignment/<int:pk>/swap/", views_assignment.swap, name="assignment_swap"),
]

# --- scoring ---
from shenbao.review import views_scoring  # noqa: E402

urlpatterns += [
    path("scoring/", views_scoring.bench, name="scoring_bench"),
    path("scoring/sheets.pdf", views_scoring.my_sheets_pdf, name="scoring_my_pdf"),
    path("scoring/<int:pk>/", views_scoring.score, name="scoring_score"),
    path("scoring/<int:pk>/application/", views_scoring.application, name="scoring_application"),
    path("scoring/<int:pk>/attachment/<int:document_id>/", views_scoring.attachment_file,
         name="scoring_attachment"),
    path("scoring/<int:pk>/application.pdf", views_scoring.application_pdf, name="scoring_application_pdf"),
    path("scoring/sheet/<int:sheet_id>/reopen/", views_scoring.reopen, name="scoring_reopen"),
    path("scoring/calls/", views_scoring.calls, name="scoring_calls"),
    path("scoring/call/<str:code>/", views_scoring.call_scores, name="scoring_call"),
    path("scoring/call/<str:code>/<str:type_code>/scores.xlsx", views_scoring.scores_xlsx, name="scoring_xlsx"),
    path("scoring/call/<str:code>/expert/<int:expert_id>/sheets.pdf", views_scoring.expert_sheets_pdf,
         name="scoring_expert_pdf"),
]

# --- selection and confirmation ---
from shenbao.review import views_selection as _sel  # noqa: E402

urlpatterns += [
    path("selection/", _sel.index, name="selection"),
    path("selection/<str:code>/", _sel.call_page, name="selection_call"),
    path("selection/<str:code>/confirm/", _sel.confirm, name="selection_confirm"),
    path("selection/<str:code>/types/<str:type_code>/", _sel.type_page, name="selection_type"),
    path("selection/<str:code>/types/<str:type_code>/propose/", _sel.propose, name="selection_propose"),
    path("selection/<str:code>/types/<str:type_code>/xlsx/", _sel.export_xlsx, name="selection_xlsx"),
    path("decisions/<int:pk>/amount/", _sel.set_amount, name="decision_amount"),
    path("decisions/<int:pk>/move/", _sel.move, name="decision_move"),
    path("confirmations/<int:pk>/revoke/", _sel.revoke, name="confirmation_revoke"),
]

# --- public notice (公示) and award ---
from shenbao.review import views_notice  # noqa: E402

urlpatterns += [
    path("notices/", views_notice.public_list, name="notices"),
    path("notices/<int:pk>/", views_notice.public_detail, name="notice_public"),
    path("notices/<int:pk>/list.pdf", views_notice.export, {"fmt": "pdf"}, name="notice_pdf"),
    path("notices/<int:pk>/list.docx", views_notice.export, {"fmt": "docx"}, name="notice_docx"),
    path("notices/<int:pk>/award/", views_notice.award, name="notice_award"),
    path("objections/<int:pk>/handle/", views_notice.handle, name="objection_handle"),
    path("calls/<str:code>/notice/", views_notice.manage, name="notice_manage"),
]
