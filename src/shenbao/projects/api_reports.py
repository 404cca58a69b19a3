"""Reports API (/api/v1/projects/reports/…): the calls whose reports the user may read, and a call's figures
— the same as the dashboard and its XLSX (projects/reports.py); null where a sub-stage is not available,
with its note. A funder reads only its own calls (403 with the reason otherwise)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Schema

from shenbao.calls.models import Call
from shenbao.core.decisions import require
from shenbao.projects import permissions, reports
from shenbao.projects.api import router


class ReportCallOut(Schema):
    id: int
    code: str
    title: str
    year: int
    projects: int


class FigureOut(Schema):
    key: str
    label: str
    value: float | None
    unit: str
    note: str


class CountOut(Schema):
    key: str
    label: str
    count: int


class TypeOut(Schema):
    label: str
    projects: int
    awarded: int


class ReportRowOut(Schema):
    id: int
    code: str
    title: str
    applicant: str
    status: str
    awarded: int
    paid: int | None
    recovered: int | None
    events: int
    participants: int
    acceptance: str | None


class ReportOut(Schema):
    call: int
    date: str
    figures: list[FigureOut]
    by_status: list[CountOut]
    by_type: list[TypeOut]
    acceptance: list[CountOut] | None
    acceptance_note: str
    projects: list[ReportRowOut]


@router.get("/reports/calls", response=list[ReportCallOut], summary="可查看统计报表的申报通知（本主办方）")
def report_calls(request):
    return [{"id": c.pk, "code": c.code, "title": c.title, "year": c.year, "projects": c.n_projects}
            for c in reports.calls_for(request.user)]


@router.get("/reports/calls/{int:pk}", response=ReportOut, summary="申报通知的统计数据（与报表页面和 XLSX 相同）")
def report(request, pk: int):
    call = get_object_or_404(Call.objects.select_related("issuer"), pk=pk)
    require(permissions.can_view_reports(request.user, call))
    r = reports.call_report(call)
    return {
        "call": call.pk, "date": r.today.isoformat(),
        "figures": [{"key": f.key, "label": f.label, "value": None if f.value is None else float(f.value),
                     "unit": f.unit, "note": f.note} for f in r.figures],
        "by_status": [{"key": k, "label": label, "count": n} for k, label, n in r.by_status],
        "by_type": [{"label": label, "projects": n, "awarded": a} for label, n, a in r.by_type],
        "acceptance": None if r.acceptance is None else [{"key": k, "label": label, "count": n}
                                                         for k, label, n in r.acceptance],
        "acceptance_note": r.acceptance_note,
        "projects": [{"id": x.project.pk, "code": x.project.code, "title": x.project.title,
                      "applicant": x.project.applicant.name, "status": x.project.status, "awarded": x.awarded,
                      "paid": x.paid, "recovered": x.recovered, "events": x.events,
                      "participants": x.participants, "acceptance": x.acceptance} for x in r.rows],
    }
