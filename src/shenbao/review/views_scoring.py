"""Pages of scoring (评分), under /review/scoring/: the expert's bench of assigned applications, the
application as the expert reads it (redacted in blind review) and its PDF, the score page (save a draft,
submit), the expert's sheets as one PDF; for funder staff, a call's sheets with 退回重评, each expert's
sheets as PDF and the scores of a type as XLSX."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications.views import attachment, refused
from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.review import permissions, scoring
from shenbao.review.models import Assignment, Expert, ScoreSheet
from shenbao.review.workflow import SCORE_SHEET


def _assignment(pk: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related(
        "application__call", "application__project_type", "application__applicant",
        "application__current_snapshot", "expert"), pk=pk)


def _sheet(a: Assignment) -> ScoreSheet | None:
    try:
        return a.sheet
    except ScoreSheet.DoesNotExist:
        return None


def bench(request):
    """评审任务 is the experts' page (review:mine, views_experts.py), which lists the sheets of this area."""
    return redirect("review:mine")


def _criteria_rows(rubric, values: dict, errors: dict) -> list[dict]:
    return [{"c": c, "range": scoring.criterion_range(c), "weight": scoring._num(c.weight),
             "value": values.get(c.key, ""), "error": errors.get(c.key, "")} for c in rubric.criteria]


@login_required
def application(request, pk: int):
    """The application as its expert reads it: the submitted version, identity hidden in blind review."""
    a = _assignment(pk)
    decision = permissions.can_read_assigned(request.user, a)
    if not decision:
        return refused(request, decision)
    from django.urls import reverse

    from shenbao.applications import formdata
    from shenbao.forms.rendering import render_form

    app = a.application
    form = formdata.form_of(app)
    blind = scoring.blind(app)

    def attachment_url(value: dict) -> str:  # blind review: attachments are listed, not handed out
        try:
            return "" if blind else reverse("review:scoring_attachment", args=[a.pk, int(value["document_id"])])
        except (KeyError, TypeError, ValueError):
            return ""

    form_html = render_form(form=form, values=scoring.expert_values(app), errors={}, call_doc=app.call.document,
                            type_doc=formdata.type_doc(app), editable=False,
                            attachment_url=attachment_url) if form is not None else ""
    return render(request, "review/scoring/application.html",
                  {"a": a, "app": app, "title": scoring.shown_title(app), "blind": scoring.blind(app),
                   "form_html": form_html, "sheet": _sheet(a)})


@login_required
def attachment_file(request, pk: int, document_id: int):
    """An attachment of the submitted version, for its expert (not in blind review: a file's content cannot
    be redacted)."""
    from django.http import FileResponse, Http404

    from shenbao.applications.models import Attachment

    a = _assignment(pk)
    decision = permissions.can_read_assigned(request.user, a)
    if not decision:
        return refused(request, decision)
    app = a.application
    if scoring.blind(app):
        return refused(request, _("盲审：附件可能含申报单位信息，不提供下载，请阅读申报书正文"))
    if document_id not in scoring.frozen_attachment_ids(app):
        raise Http404(_("没有这个文件"))
    row = get_object_or_404(Attachment, pk=document_id, application=app)
    response = FileResponse(row.file.open("rb"), content_type=row.content_type, as_attachment=True,
                            filename=row.original_name or f"{row.sha256[:12]}.{row.kind}")
    response.audit_object = app  # the download is audited (core/audit_middleware.py)
    return response


@login_required
def application_pdf(request, pk: int):
    a = _assignment(pk)
    decision = permissions.can_read_assigned(request.user, a)
    if not decision:
        return refused(request, decision)
    app = a.application
    name = f"评审-{app.number or app.pk}.pdf"
    return attachment(scoring.expert_pdf(app), name, "application/pdf")


@login_required
def score(request, pk: int):
    """The score page: a value per criterion, the comment; 保存草稿 or 提交评分."""
    a = _assignment(pk)
    decision = permissions.can_read_assigned(request.user, a)
    if not decision:
        return refused(request, decision)
    app = a.application
    rubric = scoring.rubric_of(app)
    sheet = _sheet(a)
    values = dict(sheet.values) if sheet else {}
    comment = sheet.comment if sheet else ""
    errors: dict = {}
    status = 200
    if request.method == "POST":
        values = {c.key: request.POST.get(f"c-{c.key}", "") for c in rubric.criteria}
        comment = request.POST.get("comment", "")
        service = scoring.submit if request.POST.get("action") == "submit" else scoring.save_draft
        try:
            result = service(user=request.user, assignment=a, values=values, comment=comment, ip=client_ip(request))
        except NotAllowed as e:
            audit.refused(e.reason)
            messages.error(request, e.reason)
            result = None
            status = 403
        if result is not None and result.ok:
            if result.already:
                messages.info(request, _("评分表已提交，无需重复提交"))
            elif result.sheet.state == "submitted":
                messages.success(request, _("评分已提交：总分 %(total)s") % {"total": scoring._num(result.sheet.total)})
            else:
                messages.success(request, _("已保存草稿（尚未提交）"))
            return redirect("review:scoring_score", a.pk)
        if result is not None:
            errors = result.errors
            status = 400
            messages.error(request, _("评分未保存：请按提示修改后再试"))
        sheet = _sheet(Assignment.objects.get(pk=a.pk))
    can_edit = permissions.can_edit_sheet(request.user, sheet) if sheet else permissions.can_score(request.user, a)
    total = scoring.total_of(rubric, {k: v for k, v in values.items()}) if not errors else None
    return render(request, "review/scoring/score.html", {
        "a": a, "app": app, "title": scoring.shown_title(app), "rubric": rubric, "sheet": sheet,
        "rows": _criteria_rows(rubric, values, errors), "comment": comment, "errors": errors,
        "comment_error": errors.get("comment", ""), "can_edit": can_edit, "total": total,
        "max_total": scoring._num(scoring.max_total(rubric)),
        "deadline": app.call.document.review.scoring_deadline,
    }, status=status)


@login_required
def my_sheets_pdf(request):
    """All of the expert's sheets in one PDF (to print and sign)."""
    expert = permissions.expert_of(request.user)
    ready = permissions.expert_gate(request.user)
    if not ready:
        return refused(request, ready)
    from shenbao.review.scoring_pdf import sheets_pdf

    sheets = [r.sheet for r in scoring.bench(expert) if r.sheet is not None]
    return attachment(sheets_pdf(expert, sheets), f"专家评分表-{expert.name}.pdf", "application/pdf")


# --- funder staff -------------------------------------------------------------------------------------


@login_required
def calls(request):
    """专家评分: the calls of the user's funder(s) that have experts assigned, with the sheets submitted."""
    from django.db.models import Count, Q

    from shenbao.orgs.models import Role

    issuers = request.user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER]) \
        .values_list("organisation_id", flat=True)
    rows = (Call.objects.filter(issuer_id__in=list(issuers), applications__assignments__removed_at__isnull=True)
            .annotate(sheets=Count("applications__assignments", distinct=True),
                      submitted=Count("applications__assignments__sheet", distinct=True,
                                      filter=Q(applications__assignments__sheet__state="submitted")))
            .order_by("-deadline", "pk"))
    return render(request, "review/scoring/calls.html", {"rows": rows})


@login_required
def call_scores(request, code: str):
    """A call's score sheets by type, for its staff: states, totals, 退回重评, exports."""
    call = get_object_or_404(Call, code=code)
    decision = permissions.can_view_scores(request.user, call)
    if not decision:
        return refused(request, decision)
    types = []
    for ptype in call.types.order_by("order"):
        assignments = list(scoring.sheets_of_call(call, ptype))
        if not assignments:
            continue
        rows = [{"a": x, "sheet": _sheet(x), "can_reopen": SCORE_SHEET.can(request.user, _sheet(x), "reopen")
                 if _sheet(x) else None} for x in assignments]
        types.append({"ptype": ptype, "rows": rows,
                      "submitted": sum(1 for r in rows if r["sheet"] and r["sheet"].state == "submitted")})
    experts = Expert.objects.filter(assignments__application__call=call, assignments__removed_at__isnull=True) \
        .distinct().order_by("name", "pk")
    return render(request, "review/scoring/call.html", {
        "call": call, "types": types, "experts": experts,
        "deadline": call.document.review.scoring_deadline, "blind": call.document.review.blind,
        "can_manage": permissions.can_manage_scores(request.user, call)})


@login_required
def scores_xlsx(request, code: str, type_code: str):
    call = get_object_or_404(Call, code=code)
    decision = permissions.can_view_scores(request.user, call)
    if not decision:
        return refused(request, decision)
    ptype = get_object_or_404(call.types, code=type_code)
    return attachment(scoring.scores_xlsx(call=call, project_type=ptype), scoring.xlsx_filename(call, ptype),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def expert_sheets_pdf(request, code: str, expert_id: int):
    call = get_object_or_404(Call, code=code)
    decision = permissions.can_view_scores(request.user, call)
    if not decision:
        return refused(request, decision)
    expert = get_object_or_404(Expert, pk=expert_id)
    from shenbao.review.scoring_pdf import sheets_pdf

    sheets = [s for s in ScoreSheet.objects.filter(
        assignment__expert=expert, assignment__application__call=call, assignment__removed_at__isnull=True)
        .select_related("assignment__application__call", "assignment__application__project_type",
                        "assignment__application__applicant", "assignment__application__current_snapshot",
                        "assignment__expert")
        .order_by("assignment__application__project_type__order", "assignment__application__number")]
    return attachment(sheets_pdf(expert, sheets), f"专家评分表-{expert.name}-{call.code}.pdf", "application/pdf")


@login_required
@require_POST
def reopen(request, sheet_id: int):
    sheet = get_object_or_404(ScoreSheet.objects.select_related("assignment__application__call"), pk=sheet_id)
    call = sheet.assignment.application.call
    try:
        scoring.reopen(user=request.user, sheet=sheet, reason=request.POST.get("reason", ""), ip=client_ip(request))
        messages.success(request, _("已退回专家重评"))
    except NotAllowed as e:
        audit.refused(e.reason)
        messages.error(request, e.reason)
    return redirect("review:scoring_call", call.code)
