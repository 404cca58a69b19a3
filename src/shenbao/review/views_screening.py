"""Pages of 形式审查 (screening): the funder's calls, a call's queue per type with the automatic checks and
batch decisions, and one application's screening with its fresh checks and the decisions. Thin: the
rules are review/screening.py and review/permissions.py."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications import selectors as application_selectors
from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.core import audit, jobs
from shenbao.core.decisions import Decision, NotAllowed
from shenbao.core.http import client_ip
from shenbao.review import permissions, screening
from shenbao.review.models import Screening


def _refused(request, reason: Decision | str, status: int = 403):
    text = reason.reason if isinstance(reason, Decision) else reason
    audit.refused(text)
    return render(request, "applications/refused.html", {"reason": text}, status=status)


def _say(request, reason: str) -> None:
    audit.refused(reason)
    messages.error(request, reason)


def _call(request, code: str) -> Call:
    call = get_object_or_404(Call.objects.select_related("issuer"), code=code)
    decision = permissions.can_screen_call(request.user, call)
    if not decision:
        audit.refused(decision.reason, call)
        raise Http404(_("没有这个通知"))
    return call


def _type_id(params) -> int | None:
    value = str(params.get("type") or "").strip()
    return int(value) if value.isdigit() else None


def _deadline(value: str) -> dt.datetime | None:
    """A datetime-local input (Beijing time) → an aware instant."""
    try:
        naive = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return timezone.make_aware(naive, timezone.get_fixed_timezone(8 * 60)) if timezone.is_naive(naive) else naive


def _default_deadline() -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(days=7)).strftime("%Y-%m-%dT17:00")


@login_required
def index(request):
    """形式审查: the funder's calls with their counts per state."""
    decision = permissions.can_see_screening(request.user)
    if not decision:
        return _refused(request, decision)
    return render(request, "review/screening/index.html", {"calls": screening.funder_calls(request.user)})


@login_required
def queue(request, code: str):
    """A call's queue: rows made on opening (bulk), a type tab, a state filter, checks and batch actions."""
    call = _call(request, code)
    screening.open_queue(user=request.user, call=call)
    type_id = _type_id(request.GET)
    state = request.GET.get("state") or ""
    state = state if state in Screening.State.values else ""
    q = (request.GET.get("q") or "").strip()[:100]
    paginator = Paginator(screening.queue(user=request.user, call=call, type_id=type_id, state=state, q=q),
                          screening.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = []
    for s in page.object_list:
        application_selectors.as_submitted(s.application, request.user)  # R-S70: the submitted title
        rows.append({"s": s, "app": s.application, "summary": screening.summary(s.checks)})
    from urllib.parse import urlencode

    counts = screening.queue_counts(call, type_id)
    query = urlencode({k: v for k, v in {"type": type_id, "state": state, "q": q}.items() if v})
    return render(request, "review/screening/queue.html", {
        "call": call, "page": page, "rows": rows, "types": screening.types_of(call), "type_id": type_id,
        "state": state, "q": q, "states": Screening.State.choices, "query": query,
        "state_counts": [(v, label, counts.get(v, 0)) for v, label in Screening.State.choices], "levels": permissions.screening_levels(call),
        "two_levels": permissions.two_levels(call),
    })


@login_required
def detail(request, code: str, pk: int):
    """One application's screening: the checks computed now, the decisions the user may take."""
    call = _call(request, code)
    app = get_object_or_404(Application.objects.select_related("call", "call__issuer"), pk=pk, call=call)
    reached = app.current_snapshot_id is not None and app.status not in ("draft", "awaiting_endorsement", "discarded")
    if not reached and not Screening.objects.filter(application=app).exists():
        raise Http404(_("该申报尚未报送主办方"))
    row = screening.screening_of(user=request.user, application=app)
    if row.application.status == "submitted" and row.snapshot_id == row.application.current_snapshot_id:
        screening.refresh_checks(screening=row)
    application_selectors.as_submitted(row.application, request.user)
    return render(request, "review/screening/detail.html", {
        "call": call, "s": row, "app": row.application, "actions": screening.actions_for(request.user, row),
        "levels": permissions.screening_levels(call), "two_levels": permissions.two_levels(call),
        "history": list(audit.history(row)),
        "default_revision_deadline": _default_deadline(),
    })


def _back(request, call: Call, pk: int | None = None) -> str:
    if pk is not None:
        return reverse("review:screening_detail", args=[call.code, pk])
    nxt = request.POST.get("next") or ""
    base = reverse("review:screening_queue", args=[call.code])
    return nxt if nxt.startswith(base) else base


@login_required
@require_POST
def act(request, code: str, pk: int, action: str):
    """accept / return / reject one application's screening."""
    call = _call(request, code)
    app = get_object_or_404(Application, pk=pk, call=call)
    try:
        row = screening.screening_of(user=request.user, application=app)
        if action == "accept":
            screening.accept(user=request.user, screening=row, opinion=request.POST.get("opinion", ""),
                             ip=client_ip(request))
            messages.success(request, _("已通过：%(state)s") % {"state": _(Screening.objects.get(pk=row.pk)
                                                                       .get_state_display())})
        elif action == "return":
            screening.return_for_revision(user=request.user, screening=row, reason=request.POST.get("reason", ""),
                                          new_deadline=_deadline(request.POST.get("new_deadline", "")),
                                          ip=client_ip(request))
            messages.success(request, _("已退回修改"))
        elif action == "reject":
            screening.reject(user=request.user, screening=row, reason=request.POST.get("reason", ""),
                             ip=client_ip(request))
            messages.success(request, _("已不予受理"))
        else:
            raise Http404
    except NotAllowed as exc:
        _say(request, exc.reason)
    return redirect(_back(request, call, pk))


@login_required
@require_POST
def batch(request, code: str):
    """Accept or reject the ticked rows with one reason; each one audited, the refused ones listed."""
    call = _call(request, code)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    try:
        result = screening.batch(user=request.user, call=call, application_ids=ids,
                                 action=request.POST.get("action", ""), reason=request.POST.get("reason", ""),
                                 ip=client_ip(request))
    except NotAllowed as exc:
        _say(request, exc.reason)
        return redirect(_back(request, call))
    if result.done:
        messages.success(request, _("已处理 %(n)s 份申报") % {"n": len(result.done)})
    if result.refused:
        numbers = dict(Application.objects.filter(pk__in=result.refused).values_list("pk", "number"))
        for app_id, why in list(result.refused.items())[:20]:
            messages.error(request, f"{numbers.get(app_id) or app_id}：{why}")
    return redirect(_back(request, call))


@login_required
@require_POST
def check(request, code: str):
    """Run the automatic checks of the queue (one type, if chosen) as a background job with progress."""
    call = _call(request, code)
    type_id = _type_id(request.POST)
    job = jobs.start(screening.check_queue, user=request.user,
                     label=_("形式审查自动检查：%(call)s") % {"call": call.title[:60]},
                     user_id=request.user.pk, call_id=call.pk, type_id=type_id)
    return redirect(job.get_absolute_url())
