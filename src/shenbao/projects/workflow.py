"""The transition tables after the award (core.workflow): one per stateful object, each performed through
its `Workflow.perform`."""

from __future__ import annotations

# --- contract ---


# --- change requests ---


# --- activities ---


# --- acceptance and deferral ---


# --- volunteers ---
