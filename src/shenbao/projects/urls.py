"""Pages after the award, under /projects/. Each sub-stage has its own views module (`views_<area>.py`);
add its paths in its block below."""

from django.urls import path  # noqa: F401

app_name = "projects"
urlpatterns: list = []

# --- contract and money ---

# --- change requests ---

# --- activities, sign-in, photos, news ---

# --- deliverables, spot checks, acceptance, closure ---

# --- volunteers ---

# --- reports ---
