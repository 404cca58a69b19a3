"""Pages of the review stage, under /review/. Each sub-stage has its own views module
(`views_<area>.py`); add its paths in its block below."""

from django.urls import path  # noqa: F401

app_name = "review"
urlpatterns: list = []

# --- experts and conflicts ---

# --- screening (形式审查) ---

# --- assignment ---

# --- scoring ---

# --- selection and confirmation ---

# --- public notice (公示) and award ---
