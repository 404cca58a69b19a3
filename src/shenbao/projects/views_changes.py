"""Pages of change requests (变更申请, R-P4): the project's plan versions with what each changed, the requests
with their decisions; the unit files a request (before the fact, with a reason); the funder approves or
refuses it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.projects import changes, contracts, permissions
from shenbao.projects.models import ChangeRequest
from shenbao.projects.views_contracts import _date, _fail, _project, _rows


@login_required
def project_changes(request, pk: int):
    project = _project(request, pk)
    can_file = permissions.can_file_change(request.user, project)
    current = contracts.current_plan(project)
    status = 200
    if request.method == "POST":
        what = set(request.POST.getlist("what"))
        kwargs = {}
        if "budget" in what:
            kwargs["budget"] = _rows(request.POST, "category", "item", "amount", "note")
        if "schedule" in what:
            kwargs["schedule"] = _rows(request.POST, "task", "start", "end")
        if "content" in what:
            kwargs["content"] = request.POST.get("content", "")
        try:
            if not what:
                raise contracts.Refused(_("请选择变更事项（经费预算、进度安排或实施内容）"))
            changes.file_change(actor=request.user, project=project, reason=request.POST.get("reason", ""),
                                effective_on=_date(request.POST.get("effective_on", "")), ip=client_ip(request),
                                **kwargs)
            messages.success(request, _("变更申请已提交，等待主办方审批"))
            return redirect("projects:changes", pk=project.pk)
        except (contracts.Refused, NotAllowed) as exc:
            _fail(request, exc)
            status = 400
    budget = [{"category": b.category, "item": b.item, "amount": b.amount, "note": b.note}
              for b in contracts.plan_lines(current)] + [{"category": "", "item": "", "amount": "", "note": ""}] * 2
    schedule = (list(current.schedule) if current else []) + [{"task": "", "start": "", "end": ""}]
    requests_ = list(project.change_requests.select_related("filed_by", "decided_by", "based_on", "result"))
    return render(request, "projects/changes/project.html", {
        "project": project, "history": changes.history(project), "requests": requests_, "can_file": can_file,
        "can_decide": permissions.is_funder_of_project(request.user, project), "current": current,
        "budget": budget, "schedule": schedule, "categories": list(contracts.CATEGORIES.items()),
        "what_labels": changes.WHAT, "today": timezone.localdate(),
        "rule": (contracts.post_award(project).change_requests if contracts.post_award(project) else "") or "",
    }, status=status)


@login_required
@require_POST
def decide(request, pk: int):
    row = get_object_or_404(ChangeRequest.objects.select_related("project"), pk=pk)
    project = _project(request, row.project_id)
    action = request.POST.get("action")
    try:
        if action == "withdraw":
            changes.withdraw(actor=request.user, change=row, ip=client_ip(request))
            messages.success(request, _("变更申请已撤回"))
        else:
            row = changes.decide(actor=request.user, change=row, approve=action == "approve",
                                 note=request.POST.get("note", ""), ip=client_ip(request))
            if row.status == "approved":
                messages.success(request, _("已批准变更，项目计划更新为第 %(n)s 版") % {"n": row.result.number})
            else:
                messages.success(request, _("已作出不予批准的决定"))
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:changes", pk=project.pk)
