"""Pages of acceptance, deferral, spot checks and closure, under /projects/: the project's acceptance page
(the deadline, the checklist with the evidence attached, the minimums explained, the measures the unit
declares, the materials, the 验收表 as PDF/DOCX, submission, the funder's result, deferral); the funder's
spot checks per call; the closed project's dossier (a background job) and the closed-project report."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications.views import attachment, refused
from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.projects import acceptance as acc
from shenbao.projects import permissions
from shenbao.projects.models import AcceptanceFile, Deferral, Project, SpotCheck, SpotCheckItem
from shenbao.projects.views_activities import _project
from shenbao.projects.workflow import ACCEPTANCE


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        return int(str(value or "").strip())
    except ValueError:
        return None


def _say(request, exc) -> None:
    text = exc.reason if isinstance(exc, NotAllowed) else exc.message
    audit.refused(text)
    messages.error(request, text)


def page_context(request, project: Project) -> dict:
    row = acc.acceptance_of(project)
    ev = acc.evidence(project)
    declared = row.declared if row else {}
    return {
        "project": project, "row": row, "due": acc.due(project), "evidence": ev,
        "checks": acc.minimums(project, declared, ev), "items": acc.checklist(project, row, ev),
        "declared_fields": [(k, label, text, declared.get(k, "")) for k, label, text in acc.declared_fields(project)],
        "can_prepare": permissions.can_prepare_acceptance(request.user, project, row),
        "can_submit": ACCEPTANCE.can(request.user, row, "submit") if row else
        permissions.can_prepare_acceptance(request.user, project),
        "can_decide": row is not None and ACCEPTANCE.can(request.user, row, "pass"),
        "can_defer": permissions.can_request_deferral(request.user, project),
        "deferrals": list(project.deferrals.all()),
        "can_decide_deferral": permissions.can_decide_deferral(request.user, Deferral(project=project)),
        "can_dossier": permissions.can_build_dossier(request.user, project),
        "today": acc._today(),
    }


@login_required
def acceptance(request, pk: int):
    """项目验收: GET the page; POST saves the summary and the declared measures."""
    project = _project(request, pk)
    if request.method == "POST":
        declared = {k: request.POST.get(k, "") for k, _l, _t in acc.declared_fields(project)}
        try:
            acc.save_acceptance(user=request.user, project=project, summary=request.POST.get("summary", ""),
                                declared=declared, ip=client_ip(request))
        except (NotAllowed, acc.Refused) as exc:
            _say(request, exc)
        else:
            messages.success(request, _("已保存"))
        return redirect("projects:acceptance", project.pk)
    return render(request, "projects/acceptance/page.html", page_context(request, project))


@login_required
@require_POST
def acceptance_upload(request, pk: int):
    project = _project(request, pk)
    try:
        acc.upload_material(user=request.user, project=project, code=request.POST.get("code", ""),
                            upload=request.FILES.get("file"), ip=client_ip(request))
    except (NotAllowed, acc.Refused) as exc:
        _say(request, exc)
    else:
        messages.success(request, _("材料已上传"))
    return redirect("projects:acceptance", project.pk)


def _file(request, pk: int) -> AcceptanceFile:
    f = get_object_or_404(AcceptanceFile.objects.select_related("acceptance__project"), pk=pk)
    decision = permissions.can_view_project(request.user, f.acceptance.project)
    if not decision:
        audit.refused(decision.reason, f.acceptance.project)
        raise Http404(_("没有这个文件"))
    return f


@login_required
def acceptance_file(request, pk: int):
    f = _file(request, pk)
    return FileResponse(f.file.open("rb"), content_type=f.content_type, as_attachment=True,
                        filename=f.original_name or f"{f.sha256[:12]}.{f.file_type}")


@login_required
@require_POST
def acceptance_file_withdraw(request, pk: int):
    f = _file(request, pk)
    try:
        acc.withdraw_material(user=request.user, file=f, ip=client_ip(request))
    except NotAllowed as exc:
        _say(request, exc)
    return redirect("projects:acceptance", f.acceptance.project_id)


@login_required
@require_POST
def acceptance_submit(request, pk: int):
    project = _project(request, pk)
    try:
        row = acc.submit_acceptance(user=request.user, project=project, ip=client_ip(request))
    except (NotAllowed, acc.Refused) as exc:
        _say(request, exc)
    else:
        messages.success(request, _("验收材料已提交") + ("，" + _("已超过提交截止日期") if row.late else ""))
    return redirect("projects:acceptance", project.pk)


@login_required
@require_POST
def acceptance_decide(request, pk: int):
    project = _project(request, pk)
    row = acc.acceptance_of(project)
    if row is None:
        return refused(request, _("尚未提交验收"))
    try:
        acc.decide_acceptance(user=request.user, acceptance=row, result=request.POST.get("result", ""),
                              note=request.POST.get("note", ""), rectify_by=_date(request.POST.get("rectify_by")),
                              ip=client_ip(request))
    except (NotAllowed, acc.Refused) as exc:
        _say(request, exc)
    else:
        messages.success(request, _("验收结论已记录"))
    return redirect("projects:acceptance", project.pk)


@login_required
def acceptance_form(request, pk: int, fmt: str):
    """验收表 as PDF or DOCX, with what the platform knows filled in."""
    project = _project(request, pk)
    row = acc.acceptance_of(project)
    name = f"验收表-{project.code or project.pk}"
    if fmt == "pdf":
        return attachment(acc.acceptance_form_pdf(project, row), f"{name}.pdf", "application/pdf")
    if fmt == "docx":
        return attachment(acc.acceptance_form_docx(project, row), f"{name}.docx",
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    raise Http404()


@login_required
@require_POST
def deferral_request(request, pk: int):
    project = _project(request, pk)
    try:
        acc.request_deferral(user=request.user, project=project, until=_date(request.POST.get("until")),
                             reason=request.POST.get("reason", ""), ip=client_ip(request))
    except (NotAllowed, acc.Refused) as exc:
        _say(request, exc)
    else:
        messages.success(request, _("延期验收申请已提交"))
    return redirect("projects:acceptance", project.pk)


@login_required
@require_POST
def deferral_decide(request, pk: int):
    d = get_object_or_404(Deferral.objects.select_related("project"), pk=pk)
    project = _project(request, d.project_id)
    action = request.POST.get("action", "")
    try:
        if action == "withdraw":
            acc.withdraw_deferral(user=request.user, deferral=d, ip=client_ip(request))
        else:
            acc.decide_deferral(user=request.user, deferral=d, approve=action == "approve",
                                note=request.POST.get("note", ""), ip=client_ip(request))
    except (NotAllowed, acc.Refused) as exc:
        _say(request, exc)
    else:
        messages.success(request, _("已处理延期验收申请"))
    return redirect("projects:acceptance", project.pk)


@login_required
def acceptances(request):
    """项目验收与抽查 (the funder's desk): acceptances waiting for a result, those being rectified, deferral
    requests to decide; links to spot checks and the closed-project report."""
    org_ids = list(request.user.roles.filter(role__in=permissions.DECIDERS).values_list("organisation_id", flat=True))
    if not org_ids:
        return refused(request, _("只有主办方的业务人员或领导可以办理项目验收"))
    from shenbao.projects.models import Acceptance

    rows = (Acceptance.objects.filter(project__funder_id__in=org_ids, status__in=["submitted", "rectify"])
            .select_related("project__applicant", "project__call").order_by("submitted_at", "id"))
    deferrals = (Deferral.objects.filter(project__funder_id__in=org_ids, status=Deferral.Status.REQUESTED)
                 .select_related("project__applicant").order_by("requested_at"))
    return render(request, "projects/acceptance/desk.html", {"rows": rows, "deferrals": deferrals})


# --- spot checks (R-P5) --------------------------------------------------------------------------------------


def _calls_for(user):
    org_ids = user.roles.filter(role__in=permissions.DECIDERS).values_list("organisation_id", flat=True)
    return Call.objects.filter(issuer_id__in=list(org_ids)).order_by("-year", "-id")


@login_required
def spot_checks(request):
    """项目抽查: the funder's calls, their spot checks, and a form to draw a new one."""
    calls = list(_calls_for(request.user))
    if not calls:
        return refused(request, _("只有主办方的业务人员或领导可以抽查项目"))
    call = next((c for c in calls if str(c.pk) == request.GET.get("call", request.POST.get("call", ""))), calls[0])
    if request.method == "POST":
        mode = request.POST.get("mode", "")
        try:
            check = acc.draw_spot_check(
                user=request.user, call=call, mode=mode, size=_int(request.POST.get("size")),
                seed=request.POST.get("seed", ""), reason=request.POST.get("reason", ""),
                project_ids=[_int(x) for x in request.POST.getlist("projects") if _int(x) is not None],
                ip=client_ip(request))
        except (NotAllowed, acc.Refused) as exc:
            _say(request, exc)
        else:
            messages.success(request, _("已抽取 %(n)s 个项目") % {"n": check.size})
            return redirect("projects:spot_check", check.pk)
    ongoing = Project.objects.filter(pk__in=acc.spot_population(call)).select_related("applicant")
    return render(request, "projects/acceptance/spot_checks.html", {
        "calls": calls, "call": call, "checks": SpotCheck.objects.filter(call=call).prefetch_related("items"),
        "ongoing": ongoing, "rules": acc.spot_check_rules(call)})


@login_required
def spot_check(request, pk: int):
    check = get_object_or_404(SpotCheck.objects.select_related("call__issuer", "drawn_by"), pk=pk)
    decision = permissions.can_spot_check(request.user, check.call)
    if not decision:
        audit.refused(decision.reason, check)
        raise Http404(_("没有这次抽查"))
    return render(request, "projects/acceptance/spot_check.html", {
        "check": check, "items": check.items.select_related("project__applicant", "recorded_by"),
        "consequences": SpotCheckItem.Consequence.choices})


@login_required
@require_POST
def spot_check_finding(request, pk: int):
    item = get_object_or_404(SpotCheckItem.objects.select_related("spot_check__call__issuer"), pk=pk)
    decision = permissions.can_spot_check(request.user, item.spot_check.call)
    if not decision:
        audit.refused(decision.reason, item.spot_check)
        raise Http404(_("没有这次抽查"))
    try:
        acc.record_finding(user=request.user, item=item, findings=request.POST.get("findings", ""),
                           consequence=request.POST.get("consequence", ""),
                           recovery_amount=_int(request.POST.get("recovery_amount")),
                           recovery_reason=request.POST.get("recovery_reason", ""),
                           rectify_by=_date(request.POST.get("rectify_by")), ip=client_ip(request))
    except (NotAllowed, acc.Refused) as exc:
        _say(request, exc)
    else:
        messages.success(request, _("抽查结果已记录"))
    return redirect("projects:spot_check", item.spot_check_id)


# --- closure --------------------------------------------------------------------------------------------------


@login_required
@require_POST
def dossier(request, pk: int):
    """项目档案 (ZIP), built by the task worker; the page of the job shows its progress and the file."""
    project = _project(request, pk)
    try:
        job = acc.start_dossier(user=request.user, project=project)
    except NotAllowed as exc:
        _say(request, exc)
        return redirect("projects:acceptance", project.pk)
    return redirect(job.get_absolute_url())


@login_required
def closed_report(request):
    """结题项目: the funder's closed projects with their acceptance result, per call."""
    org_ids = set(request.user.roles.filter(role__in=permissions.FUNDER_ROLES)
                  .values_list("organisation_id", flat=True))
    if not org_ids:
        return refused(request, _("只有主办方的人员可以查看结题项目报表"))
    from shenbao.orgs.models import Organisation

    funders = list(Organisation.objects.filter(pk__in=org_ids))
    funder = next((f for f in funders if str(f.pk) == request.GET.get("funder", "")), funders[0])
    calls = list(Call.objects.filter(issuer=funder).order_by("-year", "-id"))
    call = next((c for c in calls if str(c.pk) == request.GET.get("call", "")), None)
    return render(request, "projects/acceptance/closed.html", {
        "funders": funders, "funder": funder, "calls": calls, "call": call,
        "rows": acc.closed_projects(funder, call)})
