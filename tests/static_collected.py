"""Tests only: a staticfiles finder for the collected files in STATIC_ROOT.

The tests use the production storage, whose `{% static %}` URLs carry content hashes; the live server of the
browser tests serves /static/ through the finders, which know only the source names. This finder answers the
collected names from STATIC_ROOT and lists nothing (collectstatic never copies STATIC_ROOT into itself)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder


class CollectedFinder(BaseFinder):
    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        root = Path(settings.STATIC_ROOT).resolve()
        candidate = (root / path).resolve()
        found = str(candidate) if candidate.is_file() and candidate.is_relative_to(root) else None
        if find_all:
            return [found] if found else []
        return found

    def list(self, ignore_patterns):
        return []
