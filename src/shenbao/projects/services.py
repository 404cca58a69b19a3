"""Changes to the project history that eligibility reads: recording a project, changing its status,
barring a unit. Every change is audited. (The award, contract and acceptance stages grow this module.)"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from shenbao.core import audit
from shenbao.projects.models import Bar, Project


def _snapshot(project: Project) -> dict:
    return {"status": project.status, "status_reason": project.status_reason,
            "deferred_until": project.deferred_until, "completed_on": project.completed_on}


@transaction.atomic
def record_project(*, actor=None, applicant, title: str, year: int, programme: str = "", funder=None,
                   call=None, project_type=None, track=None, content: str = "", kind: str = "",
                   amount: int | None = None, status: str = Project.Status.ACTIVE, code: str = "",
                   awarded_on: dt.date | None = None, status_reason: str = "", application=None) -> Project:
    """An awarded project, from a call on the platform (`call`, `project_type`) or from earlier records
    (`programme`, `funder` and `year` given). The programme and the funder default to the call's."""
    if call is not None and not programme:
        programme = call.programme_code
    if call is not None and funder is None:
        funder = call.issuer
    if not programme:
        raise ValueError("须给出项目计划（programme）或申报通知（call）")
    if project_type is not None and not kind:
        kind = project_type.kind
    project = Project.objects.create(
        call=call, project_type=project_type, track=track, applicant=applicant, funder=funder, code=code,
        title=title, content=content, year=year, programme=programme, kind=kind or Project.Kind.STANDARD,
        amount=amount, status=status, status_reason=status_reason, awarded_on=awarded_on, application=application,
    )
    audit.record(actor=actor, action="project.record", obj=project,
                 after={"title": title, "year": year, "programme": programme, "status": status,
                        "applicant": applicant.name})
    return project


@transaction.atomic
def set_status(*, actor=None, project: Project, status: str, reason: str = "",
               deferred_until: dt.date | None = None, completed_on: dt.date | None = None) -> Project:
    """Defer acceptance (延期验收), record acceptance, or mark a project unfinished / terminated."""
    if status not in Project.Status.values:
        raise ValueError(f"未知的项目状态 {status!r}")
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = _snapshot(project)
    project.status = status
    project.status_reason = reason
    project.deferred_until = deferred_until if status == Project.Status.DEFERRED else None
    if status == Project.Status.COMPLETED:
        project.completed_on = completed_on or dt.date.today()
    project.save(update_fields=["status", "status_reason", "deferred_until", "completed_on", "updated_at"])
    audit.record(actor=actor, action="project.status", obj=project, before=before, after=_snapshot(project),
                 note=reason)
    return project


def bar_end(starts_on: dt.date, years: int) -> dt.date:
    """The last barred day of a bar of `years` years from `starts_on` (2024-06-01, 3 → 2027-05-31)."""
    try:
        anniversary = starts_on.replace(year=starts_on.year + years)
    except ValueError:  # 29 February
        anniversary = starts_on.replace(year=starts_on.year + years, day=28) + dt.timedelta(days=1)
    return anniversary - dt.timedelta(days=1)


@transaction.atomic
def bar_unit(*, actor=None, organisation, reason: str, starts_on: dt.date, ends_on: dt.date | None = None,
             years: int | None = None, funder=None, kind: str = Bar.Kind.OTHER,
             project: Project | None = None, note: str = "") -> Bar:
    """取消申报资格 from `starts_on` to `ends_on` (or for `years` years, as a call's `ban_years` says)."""
    if ends_on is None:
        if not years:
            raise ValueError("须给出截止日期（ends_on）或年限（years）")
        ends_on = bar_end(starts_on, years)
    if ends_on < starts_on:
        raise ValueError("截止日期不能早于起始日期")
    bar = Bar.objects.create(organisation=organisation, funder=funder, kind=kind, reason=reason,
                             project=project, starts_on=starts_on, ends_on=ends_on, note=note)
    audit.record(actor=actor, action="project.bar", obj=bar,
                 after={"organisation": organisation.name, "reason": reason, "starts_on": starts_on,
                        "ends_on": ends_on, "funder": funder.name if funder else ""})
    return bar


@transaction.atomic
def create_from_award(*, actor=None, decision, awarded_on: dt.date) -> Project:
    """The project of an awarded application (the award list, review/award_hooks.py): its call, type, track,
    unit, funder, title, content (the submitted long texts), year, programme, kind (the type's: 后资助 for a
    post-funded type, R-C6) and the awarded amount. Once per application: published again, it is returned."""
    app = decision.application
    existing = Project.objects.filter(application=app).first()
    if existing is not None:
        return existing
    from shenbao.applications.eligibility import application_text

    snap = app.current_snapshot
    values = (snap.values or {}).get("values", {}) if snap is not None else app.data
    project = record_project(
        actor=actor, applicant=app.applicant, title=app.title or app.project_type.name, year=app.call.year,
        call=app.call, project_type=app.project_type, track=app.track,
        content=application_text(app.call, app.project_type, values), kind=app.project_type.kind,
        amount=decision.amount, awarded_on=awarded_on, code=app.number, application=app,
    )
    return project
