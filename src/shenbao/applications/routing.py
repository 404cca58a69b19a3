"""R-E9: which association must endorse an application before the funder sees it, from the call's
`routing` rules (a type's own rules, else the call's defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from shenbao.calls import schema
from shenbao.orgs.models import Organisation


@dataclass(frozen=True)
class Route:
    rule: schema.Routing
    endorser: Organisation | None  # None: the rule applies but no such association is on record

    @property
    def label(self) -> str:
        return self.rule.label


def rules_for(application) -> list[schema.Routing]:
    doc = application.call.document
    return list(doc.effective(application.project_type.document, "routing") or [])


def _applies(rule: schema.Routing, org: Organisation, track_code: str | None) -> bool:
    if rule.categories is not None and not set(org.category.lineage()) & set(rule.categories):
        return False
    if rule.tracks is not None and track_code not in rule.tracks:
        return False
    return True


def _endorser(rule: schema.Routing, org: Organisation) -> Organisation | None:
    """The association that endorses for `org`: the nearest association above it of the kind the rule
    names (its home association is its nearest association ancestor)."""
    ancestors = [a for a in org.ancestors() if a.category.is_association]
    if rule.by == "home_association":
        return next((a for a in ancestors if "university_association" not in a.category.lineage()), None)
    if rule.by == "university_association":
        return next((a for a in ancestors if "university_association" in a.category.lineage()), None)
    return ancestors[0] if ancestors else None  # home_or_university_association


def route_for(application) -> Route | None:
    """The route the application takes, or None when it goes straight to the funder. An association
    that is itself the call's issuer does not endorse for itself: the application goes straight there."""
    org = application.applicant
    track_code = application.track.code if application.track_id else None
    for rule in rules_for(application):
        if _applies(rule, org, track_code):
            endorser = _endorser(rule, org)
            if endorser is not None and endorser.pk == application.call.issuer_id:
                return None
            return Route(rule=rule, endorser=endorser)
    return None
