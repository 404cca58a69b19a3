"""The transition tables of the review stage (core.workflow): one per stateful object, each performed
through its `Workflow.perform`.
"""

from __future__ import annotations

# --- screening (形式审查) ---


# --- score sheets ---


# --- public notice (公示) ---
