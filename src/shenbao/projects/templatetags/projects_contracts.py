"""The contract, money and change-request sections of the project page (projects/detail.html), read in one
query (contracts.project_summary): `{% contract_section project %}`, `{% changes_section project %}`."""

from __future__ import annotations

from django import template

from shenbao.projects import contracts, permissions
from shenbao.projects.models import ContractTemplate

register = template.Library()


@register.inclusion_tag("projects/contracts/_project_section.html", takes_context=True)
def contract_section(context, project):
    user = context["request"].user
    return {"project": project, "s": contracts.project_summary(project),
            "kind_label": ContractTemplate.Kind(contracts.contract_kind(project)).label,
            # the page's permission check has read the user's roles at the unit already (no query)
            "is_unit": bool(permissions._roles_at(user, project.applicant_id) & permissions.UNIT_ROLES)}


@register.inclusion_tag("projects/changes/_project_section.html")
def changes_section(project):
    s = contracts.project_summary(project)
    return {"project": project, "pending": s["pending"], "versions": s["plan_number"] or 0}
