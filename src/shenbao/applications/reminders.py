"""Remind every unit with an unfinished draft of a call: a job funder staff start from the call management
page, run by the task worker, its progress on /jobs/<id>/. One mail per unit (its clerks and head), each
sent once even if the worker dies in the middle and the job runs again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tasks import task

from shenbao.applications.models import Application
from shenbao.applications.notify import _addresses
from shenbao.calls.models import Call
from shenbao.core import audit, jobs, mail
from shenbao.core.decisions import ALLOW, Decision, deny, require
from shenbao.core.http import client_ip
from shenbao.orgs.models import Organisation, Role

UNFINISHED = (Application.Status.DRAFT, Application.Status.RETURNED)


def can_remind_drafts(user, call: Call) -> Decision:
    if not getattr(user, "is_authenticated", False):
        return deny(_("请先登录"))
    if not user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER], organisation=call.issuer).exists():
        return deny(_("只有%(unit)s的业务人员可以提醒申报单位") % {"unit": call.issuer.name})
    if call.deadline and call.deadline <= timezone.now():
        return deny(_("该通知已截止，不能再提醒未提交的单位"))
    return ALLOW


def units_with_drafts(call: Call):
    return Organisation.objects.filter(applications__call=call, applications__status__in=UNFINISHED) \
        .distinct().order_by("pk")


def start_draft_reminders(*, user, call: Call, ip: str | None = None):
    """Queue the reminder job; returns its Job."""
    require(can_remind_drafts(user, call))
    with transaction.atomic():
        job = jobs.start(send_draft_reminders, user=user,
                         label=_("提醒未提交的单位：%(call)s") % {"call": call.title}, call_id=call.pk)
        audit.record(actor=user, action="call.remind_drafts", obj=call, after={"job": job.pk}, ip=ip)
    return job


@task()
@jobs.tracked
def send_draft_reminders(job, *, call_id: int) -> int:
    call = Call.objects.get(pk=call_id)
    units = list(units_with_drafts(call))
    total = len(units)
    jobs.report(job, 0, total, _("共 %(n)d 个单位有未提交的申报") % {"n": total})
    deadline = timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M") if call.deadline else ""
    sent = 0
    for i, org in enumerate(units, 1):
        with transaction.atomic():
            if jobs.once(f"draft-reminder:{job.pk}:{org.pk}"):
                titles = [a.title or a.project_type.name for a in Application.objects.filter(
                    call=call, applicant=org, status__in=UNFINISHED).select_related("project_type").order_by("pk")]
                to = _addresses(org.pk, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))
                if to:
                    # The mail is Chinese, as the platform's other notifications (the recipients' language
                    # is not known); it is queued with this transaction.
                    mail.send(subject=f"【申报提醒】{call.title}：贵单位尚有未提交的申报",
                              body=(f"{org.name}：\n贵单位在《{call.title}》中尚有未提交的申报："
                                    f"{'、'.join(titles)}。\n截止时间：{deadline}（北京时间），请及时登录平台完成提交。"),
                              to=to)
                    sent += 1
        jobs.report(job, i, total, _("已处理 %(done)d / %(total)d 个单位") % {"done": i, "total": total})
    jobs.finish(job, message=_("已提醒 %(n)d 个单位") % {"n": total} if total
                else _("没有未提交申报的单位，无需提醒"))
    return sent


@login_required
@require_POST
def remind_drafts(request, code: str):
    call = get_object_or_404(Call, code=code)
    decision = can_remind_drafts(request.user, call)
    if not decision:
        return render(request, "calls/refused.html", {"reason": decision.reason}, status=403)
    job = start_draft_reminders(user=request.user, call=call, ip=client_ip(request))
    messages.success(request, _("提醒任务已开始，在后台发送"))
    return redirect(job)
