"""The keeper of the unit's record that eligibility asks (`applications/record.py` says why it is a hook)."""

from __future__ import annotations

import datetime as dt

from shenbao.projects.models import Bar, Project


class ProjectsRecord:
    def bars(self, organisation, day: dt.date) -> list[Bar]:
        return list(Bar.objects.filter(organisation=organisation, starts_on__lte=day, ends_on__gte=day)
                    .select_related("funder").order_by("-ends_on"))

    def projects(self, organisation) -> list[Project]:
        return list(Project.objects.filter(applicant=organisation).order_by("-year", "id"))
