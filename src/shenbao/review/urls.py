"""Pages of the review stage, under /review/. Each sub-stage has its own views module
(`views_<area>.py`); add its paths in its block below."""

from django.urls import path

app_name = "review"
urlpatterns: list = []

# --- experts and conflicts ---

# --- screening (形式审查) ---

# --- assignment ---

# --- scoring ---
from shenbao.review import views_scoring  # noqa: E402

urlpatterns += [
    path("scoring/", views_scoring.bench, name="scoring_bench"),
    path("scoring/sheets.pdf", views_scoring.my_sheets_pdf, name="scoring_my_pdf"),
    path("scoring/<int:pk>/", views_scoring.score, name="scoring_score"),
    path("scoring/<int:pk>/application/", views_scoring.application, name="scoring_application"),
    path("scoring/<int:pk>/application.pdf", views_scoring.application_pdf, name="scoring_application_pdf"),
    path("scoring/sheet/<int:sheet_id>/reopen/", views_scoring.reopen, name="scoring_reopen"),
    path("scoring/call/<str:code>/", views_scoring.call_scores, name="scoring_call"),
    path("scoring/call/<str:code>/<str:type_code>/scores.xlsx", views_scoring.scores_xlsx, name="scoring_xlsx"),
    path("scoring/call/<str:code>/expert/<int:expert_id>/sheets.pdf", views_scoring.expert_sheets_pdf,
         name="scoring_expert_pdf"),
]

# --- selection and confirmation ---

# --- public notice (公示) and award ---
