"""The API after the award, under /api/v1/projects/: one router; each sub-stage adds its endpoints from its
own module (`api_<area>.py`, imported below) with the same permission functions as the pages."""

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["projects"], auth=django_auth)

# each module registers its endpoints on `router` when imported (isort off: one block per area)
# isort: off
# --- contract and money ---
from shenbao.projects import api_contracts  # noqa: E402, F401

# --- change requests ---
from shenbao.projects import api_changes  # noqa: E402, F401

# --- activities ---
from shenbao.projects import api_activities  # noqa: E402, F401

# --- acceptance ---
# isort: split
from shenbao.projects import api_acceptance  # noqa: E402, F401

# --- volunteers ---
from shenbao.projects import api_volunteers  # noqa: E402, F401

# --- reports ---
from shenbao.projects import api_reports  # noqa: E402, F401
# isort: on
