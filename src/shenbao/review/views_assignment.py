"""Pages of the assignment (评审分配), under /review/assignment/: a call's applications with their experts,
affinities and conflicts, the automatic assignment started as a background job (its progress bar on the job
page and here while it runs), the result (objective and bound), and the adjustments by hand of one
application (add, remove with a reason, swap), conflicts refused with their cause."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications.models import Application
from shenbao.applications.views import refused
from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.review import assignment, permissions
from shenbao.review.models import Assignment, Expert


def _type_of(call: Call, raw) -> object | None:
    if raw in (None, ""):
        return None
    try:
        return call.types.filter(pk=int(raw)).first()
    except (TypeError, ValueError):
        return None


@login_required
def call_page(request, code: str):
    call = get_object_or_404(Call, code=code)
    decision = permissions.can_see_assignment(request.user, call)
    if not decision:
        return refused(request, decision)
    ptype = _type_of(call, request.GET.get("type"))
    data = assignment.overview(call, ptype)
    latest = data["latest"]
    return render(request, "review/assignment/call.html", {
        "call": call, "ptype": ptype, "types": call.types.order_by("order"), **data,
        "running": latest if latest and latest.state == "running" and latest.job and not latest.job.finished else None,
        "can_run": permissions.can_run_assignment(request.user, call),
        "can_adjust": permissions.can_adjust_assignment(request.user, call),
    })


@login_required
@require_POST
def run(request, code: str):
    call = get_object_or_404(Call, code=code)
    ptype = _type_of(call, request.POST.get("type"))
    try:
        job = assignment.start_run(actor=request.user, call=call, project_type=ptype, ip=client_ip(request))
    except NotAllowed as e:
        audit.refused(e.reason)
        messages.error(request, e.reason)
        return redirect(reverse("review:assignment", args=[call.code]) + (f"?type={ptype.pk}" if ptype else ""))
    return redirect(job.get_absolute_url())


def _application(pk: int) -> Application:
    return get_object_or_404(Application.objects.select_related("call", "project_type", "applicant"), pk=pk)


@login_required
def application_page(request, pk: int):
    app = _application(pk)
    decision = permissions.can_see_assignment(request.user, app.call)
    if not decision:
        return refused(request, decision)
    rows = list(Assignment.objects.filter(application=app).select_related("expert", "removed_by")
                .order_by("removed_at", "-affinity", "id"))
    options = assignment.options_for(app)
    causes = {o["expert"].pk: o["causes"] for o in options}
    for r in rows:
        r.conflict_causes = causes.get(r.expert_id, []) if r.removed_at is None else []
    return render(request, "review/assignment/application.html", {
        "app": app, "call": app.call, "live": [r for r in rows if r.removed_at is None],
        "removed": [r for r in rows if r.removed_at is not None], "options": options,
        "settings": assignment.settings_for(app.call),
        "can_adjust": permissions.can_adjust_assignment(request.user, app.call),
    })


def _expert_posted(request, call: Call) -> Expert | None:
    raw = request.POST.get("expert", "")
    if not raw.isdigit():
        return None
    return Expert.objects.filter(pk=int(raw), funder_id=call.issuer_id).first()


def _do(request, app: Application, action):
    back = reverse("review:assignment_application", args=[app.pk])
    try:
        action()
    except NotAllowed as e:
        audit.refused(e.reason)
        messages.error(request, e.reason)
        return redirect(back)
    messages.success(request, _("已保存"))
    return redirect(back)


@login_required
@require_POST
def add(request, pk: int):
    app = _application(pk)
    expert = _expert_posted(request, app.call)
    if expert is None:
        messages.error(request, _("请选择专家库中的一位专家"))
        return redirect("review:assignment_application", app.pk)
    return _do(request, app, lambda: assignment.add(actor=request.user, application=app, expert=expert,
                                                    reason=request.POST.get("reason", ""), ip=client_ip(request)))


@login_required
@require_POST
def remove(request, pk: int):
    row = get_object_or_404(Assignment.objects.select_related("application__call"), pk=pk)
    return _do(request, row.application, lambda: assignment.remove(
        actor=request.user, assignment=row, reason=request.POST.get("reason", ""), ip=client_ip(request)))


@login_required
@require_POST
def swap(request, pk: int):
    row = get_object_or_404(Assignment.objects.select_related("application__call"), pk=pk)
    expert = _expert_posted(request, row.application.call)
    if expert is None:
        messages.error(request, _("请选择专家库中的一位专家"))
        return redirect("review:assignment_application", row.application_id)
    return _do(request, row.application, lambda: assignment.swap(
        actor=request.user, assignment=row, expert=expert, reason=request.POST.get("reason", ""),
        ip=client_ip(request)))
