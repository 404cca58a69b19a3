"""Who may do what in the review stage: functions answering a Decision (yes, or no with the reason), used by
the pages and the API alike. One block per sub-stage."""

from __future__ import annotations

from django.utils.translation import gettext as _  # noqa: F401

from shenbao.applications.permissions import has_role_in, is_funder_staff_of  # noqa: F401
from shenbao.core.decisions import ALLOW, Decision, deny  # noqa: F401
from shenbao.orgs.models import Role  # noqa: F401

# --- experts and conflicts ---


# --- screening (形式审查) ---


# --- assignment ---


# --- scoring ---


# --- selection and confirmation ---


# --- public notice (公示) and award ---
