"""Who may do what after the award: functions answering a Decision (yes, or no with the reason), used by the
pages and the API alike. One block per sub-stage."""

from __future__ import annotations

from django.utils.translation import gettext as _  # noqa: F401

from shenbao.core.decisions import ALLOW, Decision, deny  # noqa: F401

# --- contract and money ---


# --- change requests ---


# --- activities ---


# --- deliverables, spot checks, acceptance, closure ---


# --- volunteers ---
