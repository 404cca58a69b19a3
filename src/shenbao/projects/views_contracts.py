"""Pages of the project after the award, under /projects/: the lists of the funder (立项项目) and finance (经费管理)
(the unit's list and the project page are views_activities'; the contract and change sections of the project
page are templatetags/projects_contracts.py); the plan, the contract (generate, print PDF/DOCX, upload the signed scan, check it, countersign), the money
(disbursement plan, payments, recovery) and the final accounts; the funder's contract text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications.views import attachment, refused
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.projects import contracts, permissions
from shenbao.projects.models import Contract, ContractScan, ContractTemplate, Milestone, Project


def _project(request, pk: int) -> Project:
    project = get_object_or_404(Project.objects.select_related("call", "project_type", "applicant", "funder"), pk=pk)
    decision = permissions.can_view_project(request.user, project)
    if not decision:
        audit.refused(decision.reason, project)  # shown as "not found" (R-S31)
        raise Http404(_("没有这个项目"))
    return project


def _contract(project: Project) -> Contract | None:
    return Contract.objects.filter(project=project).select_related("signed_scan").first()


def _fail(request, exc) -> None:
    if isinstance(exc, NotAllowed):
        audit.refused(exc.reason)
        messages.error(request, exc.reason)
    else:
        for m in exc.messages:
            messages.error(request, m)


def _rows(post, *names: str) -> list[dict]:
    columns = [post.getlist(n) for n in names]
    return [dict(zip(names, values, strict=False)) for values in zip(*columns, strict=False)]


def _int(text) -> int | None:
    try:
        value = Decimal(str(text).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return int(value) if value == value.to_integral_value() else None


def _date(text) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        return None


# --- lists (the work benches link here) ------------------------------------------------------------------------


@login_required
def funder_list(request):
    """立项项目: the funder's projects with their contract state and money."""
    rows = contracts.projects_where(request.user, funder=True)
    return render(request, "projects/contracts/list.html",
                  {"rows": rows, "heading": _("立项项目"), "role": "funder",
                   "can_templates": bool(contracts.org_ids_with(request.user, ("funder_staff",)))})


@login_required
def finance(request):
    """经费管理: the projects of the funder whose finance the user is, what is payable now."""
    projects = list(contracts.projects_where(request.user, finance=True))
    rows = [{"project": p, "ledger": contracts.ledger(p), "money": contracts.money_rows(p)} for p in projects]
    return render(request, "projects/contracts/finance.html", {"rows": rows})


# --- the plan (before the unit signs) ------------------------------------------------------------------------


@login_required
def plan(request, pk: int):
    project = _project(request, pk)
    can = permissions.can_edit_plan(request.user, project)
    current = contracts.current_plan(project)
    if request.method == "POST":
        if not can:
            return refused(request, can)
        budget = _rows(request.POST, "category", "item", "amount", "note")
        schedule = [{"task": r["task"], "start": r["start"], "end": r["end"]}
                    for r in _rows(request.POST, "task", "start", "end")]
        try:
            contracts.set_plan(actor=request.user, project=project, budget=budget, schedule=schedule,
                               content=request.POST.get("content", ""), ip=client_ip(request))
        except (contracts.Refused, NotAllowed) as exc:
            _fail(request, exc)
            return render(request, "projects/contracts/plan.html", _plan_context(project, can, current, request.POST),
                          status=400)
        messages.success(request, _("项目计划已保存"))
        return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/contracts/plan.html", _plan_context(project, can, current, None))


def _plan_context(project, can, current, post) -> dict:
    if post is not None:
        budget = _rows(post, "category", "item", "amount", "note")
        schedule = _rows(post, "task", "start", "end")
        content = post.get("content", "")
    else:
        budget = [{"category": b.category, "item": b.item, "amount": b.amount, "note": b.note}
                  for b in contracts.plan_lines(current)]
        schedule = list(current.schedule) if current else []
        content = current.content if current else project.content
    budget += [{"category": "", "item": "", "amount": "", "note": ""}] * 3
    schedule += [{"task": "", "start": "", "end": ""}] * 2
    rules = contracts.spending_rules(project)
    return {"project": project, "can": can, "current": current, "budget": budget, "schedule": schedule,
            "content": content, "categories": list(contracts.CATEGORIES.items()),
            "forbidden": sorted(str(contracts.CATEGORIES[c]) for c in contracts.forbidden_categories(project)),
            "rules": rules, "travel_pct": contracts._pct(rules.travel_max_share) if rules and rules.travel_max_share else ""}


# --- the contract ---------------------------------------------------------------------------------------------


@login_required
def contract(request, pk: int):
    project = _project(request, pk)
    c = _contract(project)
    user = request.user
    ctx = {"project": project, "contract": c,
           "kind_label": ContractTemplate.Kind(contracts.contract_kind(project)).label,
           "can_generate": permissions.can_generate_contract(user, project)}
    if c is not None:
        ctx.update({
            "scans": list(c.scans.select_related("uploaded_by", "decided_by")),
            "can_upload": permissions.can_upload_contract_scan(user, c),
            "can_decide": permissions.can_decide_contract_scan(user, c),
            "can_countersign": permissions.can_countersign(user, c) if c.status == "signed_by_unit" else None,
            "v": c.values,
        })
    return render(request, "projects/contracts/contract.html", ctx)


@login_required
@require_POST
def contract_generate(request, pk: int):
    project = _project(request, pk)
    try:
        c = contracts.generate_contract(actor=request.user, project=project, ip=client_ip(request))
        messages.success(request, _("已生成第 %(n)s 版%(kind)s，请单位打印、签字盖章后上传扫描件") % {
            "n": c.number, "kind": c.kind_label})
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:contract", pk=project.pk)


@login_required
def contract_file(request, pk: int, fmt: str):
    project = _project(request, pk)
    c = _contract(project)
    if c is None or fmt not in ("pdf", "docx"):
        raise Http404(_("尚未生成合同"))
    name = f"{c.values['title']}-{c.code}-第{c.number}版.{fmt}"
    if fmt == "pdf":
        return attachment(contracts.contract_pdf(c), name, "application/pdf")
    return attachment(contracts.contract_docx(c), name,
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@login_required
@require_POST
def contract_scan_upload(request, pk: int):
    project = _project(request, pk)
    c = _contract(project)
    upload = request.FILES.get("scan")
    if c is None or upload is None:
        messages.error(request, _("请选择签章后的合同扫描件"))
        return redirect("projects:contract", pk=project.pk)
    try:
        result = contracts.upload_scan(user=request.user, contract=c, upload=upload, ip=client_ip(request))
        messages.success(request, result.message)
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:contract", pk=project.pk)


@login_required
def contract_scan_file(request, pk: int):
    from shenbao.documents.attachments import CONTENT_TYPES

    scan = get_object_or_404(ContractScan.objects.select_related("contract__project"), pk=pk)
    decision = permissions.can_view_project(request.user, scan.contract.project)
    if not decision:
        audit.refused(decision.reason, scan.contract.project)
        raise Http404(_("没有这个文件"))
    response = FileResponse(scan.file.open("rb"), content_type=CONTENT_TYPES.get(scan.kind, "application/octet-stream"),
                            as_attachment=True, filename=scan.original_name or f"{scan.sha256[:12]}.{scan.kind}")
    response.audit_object = scan.contract.project
    return response


@login_required
@require_POST
def contract_scan_accept(request, pk: int):
    scan = get_object_or_404(ContractScan.objects.select_related("contract__project"), pk=pk)
    project = _project(request, scan.contract.project_id)
    try:
        contracts.accept_scan(user=request.user, scan=scan, reason=request.POST.get("reason", ""), ip=client_ip(request))
        messages.success(request, _("扫描件已人工核验通过，等待主办方签署"))
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:contract", pk=project.pk)


@login_required
@require_POST
def contract_return(request, pk: int):
    project = _project(request, pk)
    c = _contract(project)
    try:
        if c is None:
            raise contracts.Refused(_("尚未生成合同"))
        contracts.return_scan(user=request.user, contract=c, reason=request.POST.get("reason", ""), ip=client_ip(request))
        messages.success(request, _("扫描件已退回，单位须重新上传"))
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:contract", pk=project.pk)


@login_required
@require_POST
def contract_countersign(request, pk: int):
    project = _project(request, pk)
    c = _contract(project)
    try:
        if c is None:
            raise contracts.Refused(_("尚未生成合同"))
        contracts.countersign(user=request.user, contract=c, ip=client_ip(request))
        messages.success(request, _("%(kind)s已签订，可以按拨付计划拨付经费") % {"kind": c.kind_label})
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:contract", pk=project.pk)


# --- money ------------------------------------------------------------------------------------------------------


@login_required
def money(request, pk: int):
    project = _project(request, pk)
    user = request.user
    from shenbao.calls.selectors import DISBURSEMENT

    pa = contracts.post_award(project)
    mode = contracts.disbursement_mode(project)
    return render(request, "projects/contracts/money.html", {
        "project": project, "contract": _contract(project), "ledger": contracts.ledger(project),
        "rows": contracts.money_rows(project), "mode": mode, "mode_label": DISBURSEMENT[mode],
        "mode_note": pa.disbursement.note if pa and pa.disbursement else _("通知未规定拨付方式，按一次性拨付"),
        "payments": project.payments.select_related("milestone", "recorded_by").order_by("on", "id"),
        "can_pay": permissions.can_record_payment(user, project),
        "can_recover": permissions.can_record_recovery(user, project),
        "can_plan": permissions.can_set_milestones(user, project),
        "can_confirm": permissions.can_confirm_milestone(user, project),
        "conditions": Milestone.Condition.choices, "today": timezone.localdate(),
        "recovery_rule": bool(pa and pa.recovery),
    })


@login_required
@require_POST
def money_milestones(request, pk: int):
    project = _project(request, pk)
    rows = _rows(request.POST, "title", "amount", "condition", "planned_on")
    try:
        contracts.set_milestones(actor=request.user, project=project, rows=rows, ip=client_ip(request))
        messages.success(request, _("拨付计划已保存"))
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:money", pk=project.pk)


@login_required
@require_POST
def money_confirm(request, pk: int):
    m = get_object_or_404(Milestone, pk=pk)
    project = _project(request, m.project_id)
    amount = request.POST.get("amount", "").strip()
    try:
        value = None
        if amount:
            value = _int(amount)
            if value is None:
                raise contracts.Refused(_("金额须为整数（元）"))
        contracts.confirm_milestone(actor=request.user, milestone=m, note=request.POST.get("note", ""), amount=value,
                                    ip=client_ip(request))
        messages.success(request, _("已确认：%(title)s") % {"title": m.title})
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:money", pk=project.pk)


@login_required
@require_POST
def money_pay(request, pk: int):
    project = _project(request, pk)
    m = Milestone.objects.filter(project=project, pk=_int(request.POST.get("milestone", "")) or 0).first()
    amount, on = _int(request.POST.get("amount", "")), _date(request.POST.get("on", ""))
    try:
        if amount is None or on is None:
            raise contracts.Refused(_("请填写整数金额（元）和拨付日期"))
        contracts.record_payment(actor=request.user, project=project, amount=amount, on=on, milestone=m,
                                 reference=request.POST.get("reference", ""), note=request.POST.get("note", ""),
                                 ip=client_ip(request))
        messages.success(request, _("已登记拨款 %(amount)s 元") % {"amount": contracts.yuan(amount)})
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    if request.POST.get("back") == "finance":
        return redirect("projects:finance")
    return redirect("projects:money", pk=project.pk)


@login_required
@require_POST
def money_recover(request, pk: int):
    project = _project(request, pk)
    amount, on = _int(request.POST.get("amount", "")), _date(request.POST.get("on", ""))
    try:
        if amount is None or on is None:
            raise contracts.Refused(_("请填写整数金额（元）和追回日期"))
        contracts.record_recovery(actor=request.user, project=project, amount=amount, on=on,
                                  reason=request.POST.get("reason", ""), reference=request.POST.get("reference", ""),
                                  ip=client_ip(request))
        messages.success(request, _("已登记追回 %(amount)s 元") % {"amount": contracts.yuan(amount)})
    except (contracts.Refused, NotAllowed) as exc:
        _fail(request, exc)
    return redirect("projects:money", pk=project.pk)


# --- final accounts -----------------------------------------------------------------------------------------------


@login_required
def final_accounts(request, pk: int):
    project = _project(request, pk)
    can = permissions.can_enter_final_accounts(request.user, project)
    status = 200
    if request.method == "POST":
        if not can:
            return refused(request, can)
        try:
            contracts.set_final_accounts(actor=request.user, project=project,
                                         lines=_rows(request.POST, "category", "item", "amount", "note"),
                                         ip=client_ip(request))
            messages.success(request, _("经费决算已保存"))
            return redirect("projects:final_accounts", pk=project.pk)
        except (contracts.Refused, NotAllowed) as exc:
            _fail(request, exc)
            status = 400
    lines, total = contracts.compare_accounts(project)
    entry = [{"category": r.category, "item": r.item, "amount": r.actual or "", "note": ""} for r in lines]
    entry += [{"category": "", "item": "", "amount": "", "note": ""}] * 2
    return render(request, "projects/contracts/final_accounts.html", {
        "project": project, "lines": lines, "total": total, "can": can, "entry": entry,
        "categories": list(contracts.CATEGORIES.items()), "plan": contracts.current_plan(project)}, status=status)


# --- the funder's contract text --------------------------------------------------------------------------------


@login_required
def contract_templates(request):
    from shenbao.orgs.models import Organisation

    funder_ids = contracts.org_ids_with(request.user, ("funder_staff",))
    if not funder_ids:
        return refused(request, _("只有主办方的业务人员可以修改本主办方的合同文本"))
    funder = Organisation.objects.get(pk=sorted(funder_ids)[0])
    if request.method == "POST":
        try:
            contracts.save_template(user=request.user, funder=funder, kind=request.POST.get("kind", ""),
                                    title=request.POST.get("title", ""), clauses=request.POST.get("clauses", ""))
            messages.success(request, _("合同文本已保存；此后生成的合同使用新文本"))
            return redirect("projects:contract_templates")
        except (contracts.Refused, NotAllowed) as exc:
            _fail(request, exc)
    forms = []
    for kind, label in ContractTemplate.Kind.choices:
        title, clauses, source = contracts.template_text(funder, kind)
        forms.append({"kind": kind, "label": label, "title": title, "clauses": "\n\n".join(clauses),
                      "source": source})
    return render(request, "projects/contracts/templates.html", {"funder": funder, "forms": forms})
