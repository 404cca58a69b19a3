"""Pages of the expert pool and conflicts (/review/experts/, /review/conflicts/) for the funder's staff, and
the expert's own pages (/review/mine/: 保密承诺, 回避申报, the assigned applications). Thin: the services in
review/experts.py and review/conflicts.py decide, review/permissions.py answers who may."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shenbao.applications.models import Application
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.orgs.models import Organisation, Role
from shenbao.orgs.views import denied
from shenbao.review import conflicts, experts, permissions
from shenbao.review.models import ConflictOverride, Expert


class ExpertForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    organisation_name = forms.CharField(label=gettext_lazy("工作单位"), max_length=200,
                                        help_text=gettext_lazy("写全称：与平台上注册的单位同名时自动关联，用于计算回避"))
    title = forms.CharField(label=gettext_lazy("职称"), max_length=50, required=False)
    fields = forms.CharField(label=gettext_lazy("专业领域"), required=False,
                             help_text=gettext_lazy("多项用顿号“、”或逗号分隔"))
    keywords = forms.CharField(label=gettext_lazy("研究方向关键词"), required=False,
                               help_text=gettext_lazy("多项用顿号“、”或逗号分隔；用于自动分配时的匹配"))
    region = forms.CharField(label=gettext_lazy("所在地区"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=30, required=False)
    email = forms.CharField(label=gettext_lazy("电子邮箱"), max_length=254, required=False,
                            help_text=gettext_lazy("开通登录账户时，设置密码的一次性链接发送到此邮箱"))

    @classmethod
    def initial_of(cls, e: Expert) -> dict:
        return {"name": e.name, "organisation_name": e.organisation_name, "title": e.title,
                "fields": "、".join(e.fields or []), "keywords": "、".join(e.keywords or []), "region": e.region,
                "phone": e.phone, "email": e.email}


def _funder(request) -> Organisation | None:
    """The funder whose pool the page shows: the one asked for (?funder=) among the user's, else the first."""
    funders = experts.funders_of(request.user, (Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    wanted = request.GET.get("funder") or request.POST.get("funder")
    for f in funders:
        if wanted and str(f.pk) == wanted:
            return f
    return funders[0] if funders else None


def _next(request, fallback: str) -> str:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return fallback


def _problems_to_form(form, problems: dict[str, str]) -> None:
    for key, message in problems.items():
        form.add_error(key if key in form.fields else None, message)


# --- the pool --------------------------------------------------------------------------------------


@login_required
def pool(request):
    funder = _funder(request)
    if funder is None:
        return denied(request, _("只有主办方业务人员和领导可以查看本单位的评审专家库"))
    decision = permissions.can_view_experts(request.user, funder)
    if not decision:
        return denied(request, decision)
    q = (request.GET.get("q") or "").strip()[:100]
    show = request.GET.get("show") or "active"
    qs = experts.pool(funder, q=q, active={"active": True, "inactive": False}.get(show))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    masked = not permissions.sees_expert_phones(request.user, funder.pk)
    rows = [{"e": e, **experts.shown(e, masked=masked)} for e in page.object_list]
    return render(request, "review/experts/pool.html", {
        "funder": funder, "funders": experts.funders_of(request.user, (Role.FUNDER_STAFF, Role.FUNDER_LEADER)),
        "page": page, "rows": rows, "q": q, "show": show,
        "can_manage": bool(permissions.can_manage_experts(request.user, funder)),
        "query": urlencode({k: v for k, v in {"funder": funder.pk, "q": q, "show": show}.items() if v}),
    })


@login_required
def expert_new(request):
    funder = _funder(request)
    decision = permissions.can_manage_experts(request.user, funder)
    if not decision:
        return denied(request, decision)
    form = ExpertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            e = experts.create_expert(actor=request.user, funder=funder, data=form.cleaned_data, ip=client_ip(request))
        except experts.ExpertInvalid as exc:
            _problems_to_form(form, exc.problems)
        else:
            messages.success(request, _("已添加专家：%(name)s") % {"name": e.name})
            return redirect("review:expert", e.pk)
    return render(request, "review/experts/edit.html", {"form": form, "funder": funder, "expert": None})


def _staff_expert(request, pk: int):
    e = get_object_or_404(Expert.objects.select_related("funder", "organisation", "user"), pk=pk)
    decision = permissions.can_view_experts(request.user, e.funder_id)
    return e, decision


@login_required
def expert_edit(request, pk: int):
    e, decision = _staff_expert(request, pk)
    if not decision:
        return denied(request, decision)
    can_manage = permissions.can_manage_experts(request.user, e.funder_id)
    form = ExpertForm(request.POST or None, initial=ExpertForm.initial_of(e))
    if request.method == "POST":
        if not can_manage:
            return denied(request, can_manage)
        if form.is_valid():
            try:
                experts.update_expert(actor=request.user, expert=e, data=form.cleaned_data, ip=client_ip(request))
            except experts.ExpertInvalid as exc:
                _problems_to_form(form, exc.problems)
            else:
                messages.success(request, _("已保存"))
                return redirect("review:expert", e.pk)
    masked = not permissions.sees_expert_phones(request.user, e.funder_id)
    return render(request, "review/experts/edit.html", {
        "form": form, "funder": e.funder, "expert": e, "can_manage": bool(can_manage),
        "shown": experts.shown(e, masked=masked),
        "suggested_username": (e.email.partition("@")[0] if e.email else "") or f"expert{e.pk}",
    })


@login_required
@require_POST
def expert_active(request, pk: int):
    e, _decision = _staff_expert(request, pk)
    active = request.POST.get("active") == "1"
    try:
        experts.set_active(actor=request.user, expert=e, active=active, reason=request.POST.get("reason", ""),
                           ip=client_ip(request))
    except NotAllowed as exc:
        return denied(request, exc.reason)
    messages.success(request, _("已恢复入库") if active else _("已移出专家库（记录保留）"))
    return redirect("review:expert", e.pk)


@login_required
@require_POST
def expert_login(request, pk: int):
    e, _decision = _staff_expert(request, pk)
    try:
        user = experts.create_login(actor=request.user, expert=e, username=request.POST.get("username", ""),
                                    ip=client_ip(request))
    except NotAllowed as exc:
        return denied(request, exc.reason)
    except experts.ExpertInvalid as exc:
        messages.error(request, "；".join(exc.problems.values()))
    else:
        messages.success(request, _("已开通登录账户 %(username)s，设置密码的一次性链接已发送到专家的邮箱") % {
            "username": user.username})
    return redirect("review:expert", e.pk)


@login_required
def experts_import(request):
    funder = _funder(request)
    decision = permissions.can_manage_experts(request.user, funder)
    if not decision:
        return denied(request, decision)
    result = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要导入的 Excel 文件"))
        else:
            problem = experts.upload_problem(upload)
            if problem is not None:
                result = experts.ImportResult(errors=[problem])
            else:  # the import runs as a background job: its page shows the counts or every problem
                job = experts.start_import(actor=request.user, funder=funder, upload=upload, ip=client_ip(request))
                return redirect(job.get_absolute_url())
    status = 400 if result is not None and not result.ok else 200
    return render(request, "review/experts/import.html", {"funder": funder, "result": result}, status=status)


@login_required
def experts_export(request):
    funder = _funder(request)
    decision = permissions.can_view_experts(request.user, funder)
    if not decision:
        return denied(request, decision)
    q = (request.GET.get("q") or "").strip()[:100]
    show = request.GET.get("show") or "all"
    qs = experts.pool(funder, q=q, active={"active": True, "inactive": False}.get(show))
    content = experts.export_xlsx(user=request.user, funder=funder, experts=qs, ip=client_ip(request))
    name = f"评审专家库-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


@login_required
def experts_template(request):
    funder = _funder(request)
    decision = permissions.can_manage_experts(request.user, funder)
    if not decision:
        return denied(request, decision)
    response = HttpResponse(experts.template_xlsx(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote('评审专家导入模板.xlsx')}"
    return response


def _quote(name: str) -> str:
    return quote(name)


# --- conflicts -------------------------------------------------------------------------------------


def _overrides(expert_ids=None, app=None):
    qs = ConflictOverride.objects.filter(revoked_at__isnull=True).select_related(
        "expert", "application", "organisation", "created_by")
    if expert_ids is not None:
        qs = qs.filter(expert_id__in=expert_ids)
    if app is not None:
        units = [app.applicant_id, *app.participants.filter(removed_at__isnull=True).values_list(
            "organisation_id", flat=True)]
        qs = qs.filter(Q(application=app) | Q(organisation_id__in=units))
    return list(qs.order_by("-created_at", "-id"))


@login_required
def expert_conflicts(request, pk: int):
    """One expert against the funder's submitted applications: each conflict with its causes; pin or lift."""
    e, decision = _staff_expert(request, pk)
    if not decision:
        return denied(request, decision)
    apps = list(experts.reviewable_applications(e.funder_id))
    found = conflicts.conflicts_between(apps, [e])
    raw = conflicts.conflicts_between(apps, [e], lifts=False)
    by_pk = {a.pk: a for a in apps}
    rows = []
    for a in apps:
        causes = found.get((a.pk, e.pk), [])
        lifted = [c for c in raw.get((a.pk, e.pk), []) if c.code in conflicts.COMPUTED_CODES and c not in causes]
        if causes or lifted:
            rows.append({"app": a, "causes": causes, "lifted": lifted})
    return render(request, "review/experts/conflicts_expert.html", {
        "expert": e, "rows": rows, "overrides": _overrides([e.pk]), "apps_count": len(apps), "by_pk": by_pk,
        "can_manage": bool(permissions.can_manage_conflicts(request.user, e)),
    })


@login_required
def application_conflicts_lookup(request):
    """The pool page's 按申报编号查看回避: the application of the funder's calls with this number."""
    funder = _funder(request)
    decision = permissions.can_view_experts(request.user, funder)
    if not decision:
        return denied(request, decision)
    number = (request.GET.get("number") or "").strip()[:40]
    app = Application.objects.filter(call__issuer=funder, number=number).first() if number else None
    if app is None:
        messages.error(request, _("未找到该申报项目：请填写本单位通知下的申报编号"))
        return redirect(f"{reverse('review:experts')}?funder={funder.pk}")
    return redirect("review:application_conflicts", app.pk)


@login_required
def application_conflicts(request, pk: int):
    """One application against the funder's pool: the conflicted experts with their causes; pin or lift."""
    app = get_object_or_404(Application.objects.select_related("applicant", "call", "project_type"), pk=pk)
    decision = permissions.can_view_experts(request.user, app.call.issuer_id)
    if not decision:
        return denied(request, decision)
    pool_experts = list(experts.pool(app.call.issuer_id, active=True))
    found = conflicts.conflicts_between([app], pool_experts)
    raw = conflicts.conflicts_between([app], pool_experts, lifts=False)
    rows = []
    for e in pool_experts:
        causes = found.get((app.pk, e.pk), [])
        lifted = [c for c in raw.get((app.pk, e.pk), []) if c.code in conflicts.COMPUTED_CODES and c not in causes]
        if causes or lifted:
            rows.append({"expert": e, "causes": causes, "lifted": lifted})
    return render(request, "review/experts/conflicts_application.html", {
        "app": app, "rows": rows, "experts": pool_experts, "overrides": _overrides(app=app),
        "can_manage": bool(permissions.can_manage_experts(request.user, app.call.issuer_id)),
    })


@login_required
@require_POST
def override_add(request):
    """Pin or lift the conflict of an expert and an application, with a reason."""
    e = get_object_or_404(Expert, pk=request.POST.get("expert") or 0)
    number = (request.POST.get("number") or "").strip()
    app_qs = Application.objects.filter(call__issuer_id=e.funder_id)
    app = (app_qs.filter(pk=request.POST.get("application")).first() if request.POST.get("application", "").isdigit()
           else app_qs.filter(number=number).first() if number else None)
    fallback = reverse("review:expert_conflicts", args=[e.pk])
    if app is None:
        messages.error(request, _("未找到该申报项目：请填写本单位通知下的申报编号"))
        return redirect(_next(request, fallback))
    kind = request.POST.get("kind")
    service = {"pinned": conflicts.pin, "lifted": conflicts.lift}.get(kind)
    if service is None:
        messages.error(request, _("请选择设定回避或解除回避"))
        return redirect(_next(request, fallback))
    try:
        service(actor=request.user, expert=e, application=app, reason=request.POST.get("reason", ""),
                ip=client_ip(request))
    except NotAllowed as exc:
        if not permissions.can_manage_conflicts(request.user, e):
            return denied(request, exc.reason)
        messages.error(request, exc.reason)
    else:
        messages.success(request, (_("已设定回避：%(expert)s — %(app)s") if kind == "pinned"
                                   else _("已解除回避：%(expert)s — %(app)s")) % {
            "expert": e.name, "app": app.number or app.title})
    return redirect(_next(request, fallback))


@login_required
@require_POST
def override_revoke(request, pk: int):
    o = get_object_or_404(ConflictOverride.objects.select_related("expert"), pk=pk)
    try:
        conflicts.revoke(actor=request.user, override=o, ip=client_ip(request))
    except NotAllowed as exc:
        return denied(request, exc.reason)
    messages.success(request, _("已撤销"))
    fallback = (reverse("review:declare") if o.kind == ConflictOverride.Kind.DECLARED
                else reverse("review:expert_conflicts", args=[o.expert_id]))
    return redirect(_next(request, fallback))


# --- the expert's own pages --------------------------------------------------------------------------


def _own_expert(request):
    e = permissions.expert_of(request.user)
    if e is None or not request.user.has_role(Role.EXPERT):
        return None, _("您不是评审专家，不能进入专家评审")
    if not e.active:
        return None, _("您已不在专家库中，不能参加评审")
    return e, ""


def gate_redirect(request):
    """Where an expert who may not yet see the review stage must go first (pledge, then declaration), or
    None when the gate is open. Other areas' pages call it before showing an expert anything."""
    e = permissions.expert_of(request.user)
    if e is None or not e.active:
        return None
    if e.pledge_accepted_at is None:
        return redirect("review:pledge")
    if e.conflicts_declared_at is None:
        return redirect("review:declare")
    return None


@login_required
def pledge(request):
    e, reason = _own_expert(request)
    if e is None:
        return denied(request, reason)
    if request.method == "POST":
        if request.POST.get("agree") != "1":
            messages.error(request, _("请勾选“我已阅读并同意以上承诺”"))
        else:
            experts.accept_pledge(actor=request.user, expert=e, ip=client_ip(request))
            return redirect("review:declare" if e.conflicts_declared_at is None else "review:mine")
    return render(request, "review/experts/pledge.html", {"expert": e, "text": _(experts.PLEDGE_TEXT)})


@login_required
def declare(request):
    e, reason = _own_expert(request)
    if e is None:
        return denied(request, reason)
    if e.pledge_accepted_at is None:
        messages.info(request, _("请先阅读并接受保密承诺"))
        return redirect("review:pledge")
    unit_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            try:
                experts.declare_unit(actor=request.user, expert=e, unit_name=request.POST.get("unit", ""),
                                     reason=request.POST.get("reason", ""), ip=client_ip(request))
            except experts.ExpertInvalid as exc:
                unit_error = "；".join(exc.problems.values())
            except NotAllowed as exc:
                unit_error = exc.reason
            else:
                messages.success(request, _("已申报回避"))
                return redirect("review:declare")
        elif action == "finish":
            experts.finish_declaration(actor=request.user, expert=e, ip=client_ip(request))
            messages.success(request, _("回避申报已确认"))
            return redirect("review:mine")
    declared = list(ConflictOverride.objects.filter(expert=e, kind=ConflictOverride.Kind.DECLARED,
                                                    revoked_at__isnull=True)
                    .select_related("organisation", "application").order_by("created_at", "id"))
    return render(request, "review/experts/declare.html", {
        "expert": e, "declared": declared, "unit_error": unit_error,
        "unit": request.POST.get("unit", "") if unit_error else "",
        "reason": request.POST.get("reason", "") if unit_error else "",
    }, status=400 if unit_error else 200)


@login_required
def mine(request):
    """The expert's bench: the applications assigned to them (live assignments), after the gate."""
    e, reason = _own_expert(request)
    if e is None:
        return denied(request, reason)
    first = gate_redirect(request)
    if first is not None:
        return first
    decision = permissions.expert_gate(request.user)
    if not decision:
        return denied(request, decision)
    # each assignment as scoring sees it: sheet state, deadline, blind title
    from shenbao.review import scoring

    rows = scoring.bench(e)
    counts = {"total": len(rows), "submitted": sum(1 for r in rows if r.state == "submitted")}
    return render(request, "review/experts/mine.html", {"expert": e, "rows": rows, "counts": counts})
