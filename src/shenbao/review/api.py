"""The review stage's API under /api/v1/review/: one router; each sub-stage adds its endpoints from its own
module (`api_<area>.py`, imported below) with the same permission functions as the pages."""

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["review"], auth=django_auth)

# each module registers its endpoints on `router` when imported (isort off: one block per area)
# isort: off
# --- experts and conflicts ---
from shenbao.review import api_experts  # noqa: E402, F401

# --- screening ---
from shenbao.review import api_screening  # noqa: E402, F401

# --- assignment ---
from shenbao.review import api_assignment  # noqa: E402, F401

# isort: split

# --- scoring ---
# isort: split
from shenbao.review import api_scoring  # noqa: E402, F401

# --- selection and confirmation ---
from shenbao.review import api_selection  # noqa: E402, F401

# --- public notice and award ---
from shenbao.review import api_notice  # noqa: E402, F401
# isort: on
