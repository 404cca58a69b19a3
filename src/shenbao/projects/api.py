"""The API after the award, under /api/v1/projects/: one router; each sub-stage adds its endpoints from its
own module (`api_<area>.py`, imported below) with the same permission functions as the pages."""

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["projects"], auth=django_auth)

# --- contract and money ---

# --- change requests ---

# --- activities ---
from shenbao.projects import api_activities  # noqa: E402, F401

# --- acceptance ---
# isort: split
from shenbao.projects import api_acceptance  # noqa: E402, F401

# --- volunteers ---

# --- reports ---
