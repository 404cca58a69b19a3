"""Pages of ranking, selection and confirmation (评审排名、立项建议、确认): thin views over
review/selection.py (changes) and review/selectors.py (reads), with the permissions of review/permissions.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed
from shenbao.review import permissions, selection, selectors
from shenbao.review.models import Confirmation, Decision


def _refused(request, reason: str, status: int = 403):
    audit.refused(reason)
    return render(request, "applications/refused.html", {"reason": reason}, status=status)


def _say_refused(request, reason: str) -> None:
    audit.refused(reason)
    messages.error(request, reason)


def _call(code: str) -> Call:
    return get_object_or_404(Call.objects.select_related("issuer"), code=code)


@login_required
def index(request):
    from shenbao.orgs.models import Role

    if not request.user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER, Role.FINANCE]).exists():
        return _refused(request, _("只有主办方工作人员或负责确认的财务人员可以查看评审排名与立项建议"))
    calls = selectors.calls_to_select(request.user)
    return render(request, "review/selection/index.html", {"calls": calls})


@login_required
def call_page(request, code: str):
    call = _call(code)
    decision = permissions.can_view_selection(request.user, call)
    if not decision:
        return _refused(request, decision.reason)
    types = []
    for ptype in selection.iter_types(call):
        types.append(selectors.selection_view(call, ptype))
    confirmations = list(Confirmation.objects.filter(call=call).select_related("by", "revoked_by").order_by("at"))
    active = {c.party: c for c in confirmations if c.revoked_at is None}
    parties = [("funder", _("主办方确认"))]
    if call.document.review.finance_confirms:
        parties.append(("finance", _("财务部门确认")))
    party_rows = [{"code": p, "label": label, "confirmation": active.get(p),
                   "can": permissions.can_confirm(request.user, call, p)} for p, label in parties]
    return render(request, "review/selection/call.html", {
        "call": call, "types": types, "confirmations": confirmations, "parties": party_rows,
        "missing": selectors.confirmation_missing(call),
        "can_select": permissions.can_select(request.user, call),
        "can_revoke": [c.pk for c in confirmations
                       if c.revoked_at is None and permissions.can_revoke_confirmation(request.user, c)],
    })


@login_required
def type_page(request, code: str, type_code: str):
    call = _call(code)
    decision = permissions.can_view_selection(request.user, call)
    if not decision:
        return _refused(request, decision.reason)
    ptype = get_object_or_404(call.types, code=type_code)
    tv = selectors.selection_view(call, ptype)
    locked = selection._locked(call)
    return render(request, "review/selection/type.html", {
        "call": call, "ptype": ptype, "tv": tv, "locked": locked,
        "can_select": permissions.can_select(request.user, call), "review": call.document.review,
    })


@login_required
@require_POST
def propose(request, code: str, type_code: str):
    call = _call(code)
    ptype = get_object_or_404(call.types, code=type_code)
    try:
        job = selection.start_proposal(user=request.user, call=call, project_type=ptype)
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
        return redirect("review:selection_type", call.code, ptype.code)
    return redirect(job.get_absolute_url())


def _decision(pk: int) -> Decision:
    return get_object_or_404(Decision.objects.select_related("application", "application__call",
                                                             "application__project_type"), pk=pk)


@login_required
@require_POST
def set_amount(request, pk: int):
    d = _decision(pk)
    try:
        selection.set_amount(user=request.user, decision=d, amount=request.POST.get("amount", ""),
                             reason=request.POST.get("reason", ""))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已设定 %(app)s 的资助金额") % {"app": d.application.number or d.application_id})
    return redirect("review:selection_type", d.application.call.code, d.application.project_type.code)


@login_required
@require_POST
def move(request, pk: int):
    d = _decision(pk)
    selected = request.POST.get("selected") == "1"
    raw = (request.POST.get("amount") or "").strip()
    try:
        amount = int(raw) if raw else None
    except ValueError:
        amount = -1
    try:
        if amount == -1:
            raise NotAllowed(_("资助金额须为整数（元）"))
        selection.move(user=request.user, decision=d, selected=selected, reason=request.POST.get("reason", ""),
                       amount=amount)
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已调入") if selected else _("已调出"))
    return redirect("review:selection_type", d.application.call.code, d.application.project_type.code)


@login_required
@require_POST
def confirm(request, code: str):
    call = _call(code)
    try:
        selection.confirm(user=request.user, call=call, party=request.POST.get("party", ""),
                          note=request.POST.get("note", ""))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已确认评审结果"))
    return redirect("review:selection_call", call.code)


@login_required
@require_POST
def revoke(request, pk: int):
    c = get_object_or_404(Confirmation.objects.select_related("call", "call__issuer"), pk=pk)
    try:
        selection.revoke_confirmation(user=request.user, confirmation=c, reason=request.POST.get("reason", ""))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已撤销确认"))
    return redirect("review:selection_call", c.call.code)


@login_required
def export_xlsx(request, code: str, type_code: str):
    from shenbao.applications.views import attachment
    from shenbao.review import exports_selection

    call = _call(code)
    decision = permissions.can_view_selection(request.user, call)
    if not decision:
        return _refused(request, decision.reason)
    ptype = get_object_or_404(call.types, code=type_code)
    content = exports_selection.xlsx(user=request.user, call=call, project_type=ptype)
    audit.record(actor=request.user, action="review.selection.export", obj=call, after={"type": ptype.code})
    name = f"排名与立项建议-{call.code}-{ptype.code}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    return attachment(content, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
