"""The funder's reports (统计报表), under /projects/reports/: the calls it issued, and per call a dashboard of
projects by status and type, money, events and participants, acceptance results and volunteer service, with
SVG bar charts drawn on the server, and the same figures as XLSX."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from shenbao.applications.views import attachment, refused
from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.http import client_ip
from shenbao.projects import permissions, reports


def _call(request, pk: int) -> Call:
    call = get_object_or_404(Call.objects.select_related("issuer"), pk=pk)
    decision = permissions.can_view_reports(request.user, call)
    if not decision:
        audit.refused(decision.reason, call)
        raise Http404(_("没有这个申报通知的报表"))
    return call


@login_required
def calls(request):
    """统计报表: the calls of the user's funder."""
    rows = list(reports.calls_for(request.user))
    if not rows and not request.user.roles.filter(role__in=permissions.FUNDER_ROLES).exists():
        return refused(request, _("只有主办方的业务人员、领导和财务人员可以查看统计报表"))
    return render(request, "projects/reports/calls.html", {"calls": rows})


@login_required
def dashboard(request, pk: int):
    call = _call(request, pk)
    report = reports.call_report(call)
    charts = {k: mark_safe(v) for k, v in reports.charts(report).items()}  # noqa: S308 (escaped in reports.bar_chart)
    return render(request, "projects/reports/dashboard.html", {"call": call, "report": report, "charts": charts})


@login_required
def chart_svg(request, pk: int, name: str):
    """One chart as an SVG file (to save or embed elsewhere)."""
    call = _call(request, pk)
    svg = reports.charts(reports.call_report(call)).get(name)
    if svg is None:
        raise Http404(_("没有这个图表"))
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@login_required
def report_xlsx(request, pk: int):
    call = _call(request, pk)
    report = reports.call_report(call)
    audit.record(actor=request.user, action="projects.report_export", obj=call, ip=client_ip(request))
    return attachment(reports.report_xlsx(report), f"{call.year}{call.programme}统计报表.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
