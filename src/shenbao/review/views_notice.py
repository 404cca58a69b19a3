"""Pages of the 公示 and the award list: the public list and notice (with the objection form), the staff's
page per call (publish, objections and their handling, the award list), the PDF/DOCX of the list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.calls.models import Call
from shenbao.calls.views import attachment
from shenbao.core import audit, ratelimit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.review import notice as svc
from shenbao.review import notice_docs, permissions
from shenbao.review.models import Decision, Objection, PublicNotice
from shenbao.review.selectors import confirmation_missing


def objection_rate() -> tuple[int, int]:
    """How many objections one address may post per window (seconds): SHENBAO_OBJECTION_RATE."""
    return getattr(settings, "SHENBAO_OBJECTION_RATE", (10, 3600))


def _refused(request, reason: str, status: int = 403):
    audit.refused(reason)
    return render(request, "review/notice/refused.html", {"reason": reason}, status=status)


def _public_notice(pk: int) -> PublicNotice:
    notice = PublicNotice.objects.select_related("call__issuer").filter(pk=pk).first()
    if notice is None or notice.call.status != Call.Status.PUBLISHED:
        raise Http404(_("没有这个公示"))
    return notice


def _awarded(notice: PublicNotice):
    return (Decision.objects.filter(application__call=notice.call, state=Decision.State.AWARDED)
            .select_related("application__applicant", "application__project_type", "application__track")
            .order_by("application__project_type__order", "rank", "application__number"))


# --- public ------------------------------------------------------------------------------------------


def public_list(request):
    """公示公告: every 公示 of a published call, newest first (no login)."""
    notices = list(PublicNotice.objects.filter(call__status=Call.Status.PUBLISHED)
                   .select_related("call__issuer").order_by("-published_at", "-pk")[:200])
    for n in notices:
        n.phase = svc.phase(n)
        n.period = svc.period_text(n)
    return render(request, "review/notice/public_list.html", {"notices": notices})


def public_detail(request, pk: int):
    """One 公示: the list, its period, the objection form while it is open; the award list once published."""
    notice = _public_notice(pk)
    errors: dict = {}
    posted: dict = {}
    status = 200
    if request.method == "POST":
        posted = {k: request.POST.get(k, "") for k in ("name", "contact", "text", "application")}
        rate, window = objection_rate()
        if not ratelimit.hit("objection", client_ip(request), limit=rate, window=window):
            errors = {"__all__": [_("操作过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": window // 60}]}
            status = 429
        else:
            try:
                svc.file_objection(notice=notice, name=posted["name"], contact=posted["contact"],
                                   text=posted["text"], application_id=posted["application"] or None,
                                   ip=client_ip(request))
            except ValidationError as e:
                errors, status = e.message_dict, 400
            except NotAllowed as e:
                errors, status = {"__all__": [e.reason]}, 400
            else:
                messages.success(request, _("异议已收到，主办方将核实处理并与您联系。"))
                return redirect("review:notice_public", notice.pk)
    return render(request, "review/notice/public_detail.html", {
        "notice": notice, "phase": svc.phase(notice), "period": svc.period_text(notice),
        "awarded": list(_awarded(notice)) if notice.state == PublicNotice.State.AWARDED else None,
        "errors": errors, "posted": posted,
    }, status=status)


def export(request, pk: int, fmt: str):
    notice = _public_notice(pk)
    if fmt == "pdf":
        content, ctype = notice_docs.notice_pdf(notice), "application/pdf"
    else:
        content = notice_docs.notice_docx(notice)
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = attachment(content, f"{notice.title}.{fmt}", ctype, fallback=f"notice-{notice.pk}.{fmt}")
    response.audit_object = notice
    return response


def call_section(request, call) -> str:
    """The call page's section on its 公示 (registered in ReviewConfig.ready through calls.page_hooks)."""
    notice = svc.notice_of(call)
    if notice is None:
        return ""
    return render_to_string("review/notice/_call_section.html", {
        "notice": notice, "phase": svc.phase(notice), "period": svc.period_text(notice)}, request=request)


# --- staff -------------------------------------------------------------------------------------------


@login_required
def manage(request, code: str):
    """公示与立项 of one call: the proposed list and its confirmation, publish, objections, the award list."""
    call = get_object_or_404(Call.objects.select_related("issuer"), code=code)
    decision = permissions.can_publish_notice(request.user, call)
    if not decision:
        return _refused(request, decision.reason)
    notice = svc.notice_of(call)
    if request.method == "POST" and notice is None and not call.document.review.public_notice:
        try:  # a call without 公示: the award list at once, published by a background job
            notice, job = svc.start_award_list(actor=request.user, call=call, ip=client_ip(request))
        except NotAllowed as e:
            messages.error(request, e.reason)
            return redirect("review:notice_manage", call.code)
        return redirect(job.get_absolute_url() if job else reverse("review:notice_manage", args=[call.code]))
    if request.method == "POST" and notice is None:
        try:
            notice = svc.publish_notice(actor=request.user, call=call, title=request.POST.get("title", ""),
                                        text=request.POST.get("text", ""), ip=client_ip(request))
        except NotAllowed as e:
            messages.error(request, e.reason)
        else:
            messages.success(request, _("公示已发布：%(period)s") % {"period": svc.period_text(notice)})
        return redirect("review:notice_manage", call.code)
    proposed = list(svc.proposed(call))
    missing = confirmation_missing(call)
    period = call.document.review.notice_period
    context = {"call": call, "notice": notice, "proposed": proposed, "missing": missing, "period": period}
    if notice is not None:
        context |= {
            "phase": svc.phase(notice), "period_text": svc.period_text(notice),
            "objections": list(notice.objections.select_related("application", "handled_by")),
            "award_refusal": svc.award_refusal(notice),
            "awarded": list(_awarded(notice)) if notice.state == PublicNotice.State.AWARDED else None,
        }
    return render(request, "review/notice/manage.html", context)


@login_required
@require_POST
def handle(request, pk: int):
    objection = get_object_or_404(Objection.objects.select_related("notice__call__issuer"), pk=pk)
    outcome = request.POST.get("outcome")
    if outcome not in ("upheld", "dismissed"):
        messages.error(request, _("请选择异议是否成立"))
        return redirect("review:notice_manage", objection.notice.call.code)
    try:
        svc.handle_objection(actor=request.user, objection=objection, upheld=outcome == "upheld",
                             handling=request.POST.get("handling", ""), withdraw=bool(request.POST.get("withdraw")),
                             ip=client_ip(request))
    except NotAllowed as e:
        if not permissions.can_handle_objection(request.user, objection):
            return _refused(request, e.reason)
        messages.error(request, e.reason)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
    else:
        messages.success(request, _("已记录异议处理结果"))
    return redirect("review:notice_manage", objection.notice.call.code)


@login_required
@require_POST
def award(request, pk: int):
    notice = get_object_or_404(PublicNotice.objects.select_related("call__issuer"), pk=pk)
    try:
        done, job = svc.start_award(actor=request.user, notice=notice, ip=client_ip(request))
    except NotAllowed as e:
        if not permissions.can_publish_award(request.user, notice):
            return _refused(request, e.reason)
        messages.error(request, e.reason)
        return redirect("review:notice_manage", notice.call.code)
    if job is None:  # published already: a double click publishes once
        return redirect("review:notice_manage", done.call.code)
    return redirect(job.get_absolute_url())  # the job publishes it and links to the notifying job
