"""公示, objections (异议) and the award list (立项名单): the last sub-stage of review.

    publish_notice(actor=, call=)            the confirmed proposed list on the portal for the call's period
    file_objection(notice=, name=, contact=, text=)   anyone, during the period (a public form)
    handle_objection(actor=, objection=, upheld=, handling=)   staff record how it was handled
    publish_award(actor=, notice=)           after the period, no objection open: Decisions awarded, projects
                                             created (award_hooks), every applicant notified (a job)
    start_award(actor=, notice=) / start_award_list(actor=, call=)   the pages' buttons: the same checks at
                                             once, the publishing above run by a background job (award_job,
                                             award_list_job) whose page the person who clicked follows

The period is the call's `review.notice_period` (N calendar or working days on the official calendar,
shenbao.core.calendar); a period that reaches a year whose holidays are not known is refused with that reason.
Every change is audited; a second click finds the first one's result and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.applications.notify import _addresses
from shenbao.core import audit, calendar, jobs, mail
from shenbao.core.decisions import NotAllowed, require
from shenbao.core.models import Job
from shenbao.orgs.models import Role
from shenbao.review import award_hooks, permissions
from shenbao.review.models import Decision, Objection, PublicNotice
from shenbao.review.selectors import confirmation_missing
from shenbao.review.workflow import NOTICE, OBJECTION

NAME_MAX, CONTACT_MAX, TEXT_MIN, TEXT_MAX, HANDLING_MIN = 50, 100, 10, 2000, 5
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{6,19}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def today() -> dt.date:
    return timezone.localdate()


def notice_of(call) -> PublicNotice | None:
    """The call's 公示 (the latest, if it was ever published more than once)."""
    return PublicNotice.objects.filter(call=call).order_by("-published_at", "-pk").first()


def phase(notice: PublicNotice, on: dt.date | None = None) -> str:
    """open (within the period), pending (published, starting later), ended (period over, award list not yet
    published) or awarded."""
    on = on or today()
    if notice.state == PublicNotice.State.AWARDED:
        return "awarded"
    if notice.period_days == 0:  # a call without 公示 (review.public_notice false): straight to the award list
        return "ended"
    if on < notice.starts_on:
        return "pending"
    return "open" if on <= notice.ends_on else "ended"


def period_text(notice: PublicNotice) -> str:
    if notice.period_days == 0:
        return _("本通知不进行公示")
    unit = _("个工作日") if notice.working_days else _("天")
    return _("%(start)s 至 %(end)s（%(n)s%(unit)s）") % {
        "start": f"{notice.starts_on:%Y-%m-%d}", "end": f"{notice.ends_on:%Y-%m-%d}", "n": notice.period_days,
        "unit": unit}


def _entry(d: Decision) -> dict:
    app = d.application
    return {"application": app.pk, "number": app.number, "type_code": app.project_type.code,
            "type": app.project_type.name, "track": app.track.name if app.track_id else "",
            "title": app.title or app.project_type.name, "unit": app.applicant.name,
            "amount": d.amount, "score": str(d.score) if d.score is not None else None, "rank": d.rank}


def proposed(call):
    return (Decision.objects.filter(application__call=call, state=Decision.State.PROPOSED)
            .select_related("application__project_type", "application__track", "application__applicant")
            .order_by("application__project_type__order", "application__project_type__code", "rank",
                      "application__number", "pk"))


# --- 公示 ---------------------------------------------------------------------------------------------


def publish_notice(*, actor, call, title: str = "", text: str = "", starts_on: dt.date | None = None,
                   ip: str | None = None, on: dt.date | None = None) -> PublicNotice:
    """Publish the confirmed proposed list for the call's period. Refused before the confirmation (R-V1),
    with nothing proposed, or when the period reaches a year whose holidays are unknown. A call that has its
    公示 already gets it back (a double click publishes once)."""
    require(permissions.can_publish_notice(actor, call))
    with transaction.atomic():
        type(call).objects.select_for_update().get(pk=call.pk)  # one publication at a time per call
        existing = PublicNotice.objects.filter(call=call).exclude(state=PublicNotice.State.AWARDED).first()
        if existing is not None:
            return existing
        if PublicNotice.objects.filter(call=call, state=PublicNotice.State.AWARDED).exists():
            raise NotAllowed(_("该通知的立项名单已发布，不能再次公示"))
        if not call.document.review.public_notice:
            raise NotAllowed(_("本通知不进行公示（review.public_notice 为 false）"))
        missing = confirmation_missing(call)
        if missing:
            raise NotAllowed(_("评审结果尚未确认，不能发布公示：%(missing)s") % {"missing": "；".join(missing)})
        rows = list(proposed(call))
        if not rows:
            raise NotAllowed(_("没有拟立项的申报，不能发布公示"))
        now = on or today()
        start = starts_on or now
        if start < now:
            raise NotAllowed(_("公示开始日期不能早于今天"))
        period = call.document.review.notice_period
        try:
            end = calendar.end_of_period(start, period.days, period.working_days)
        except calendar.UnknownYear as e:
            raise NotAllowed(_("不能计算公示期：%(reason)s") % {"reason": e.message}) from e
        title = (title or "").strip()[:200] or _("%(call)s拟立项项目公示") % {"call": call.title}
        notice = PublicNotice.objects.create(
            call=call, title=title, text=(text or "").strip()[:5000], starts_on=start, ends_on=end,
            period_days=period.days, working_days=period.working_days, published_by=actor,
            published_at=timezone.now(), entries=[_entry(d) for d in rows])
        audit.record(actor=actor, action="notice.publish", obj=notice, ip=ip,
                     after={"call": call.code, "starts_on": start, "ends_on": end, "days": period.days,
                            "working_days": period.working_days, "entries": len(rows)})
    return notice


def award_list_refusal(call) -> str:
    """Why the award list of a call without 公示 cannot be published yet ("" when it can): the call asks for a
    公示, the results are not confirmed (R-V1), or nothing is proposed."""
    if call.document.review.public_notice:
        return _("本通知须先公示，公示期满且无未处理异议后才能发布立项名单")
    missing = confirmation_missing(call)
    if missing:
        return _("评审结果尚未确认，不能发布立项名单：%(missing)s") % {"missing": "；".join(missing)}
    if not proposed(call).exists():
        return _("没有拟立项的申报，不能发布立项名单")
    return ""


def publish_award_list(*, actor, call, ip: str | None = None, on: dt.date | None = None):
    """A call without 公示 (review.public_notice false, 常德 2022): the confirmed proposed list is published
    as the award list at once (R-V1: confirmed first), through the same award as after a 公示. Returns
    (notice, job) as `publish_award`."""
    require(permissions.can_publish_notice(actor, call))
    with transaction.atomic():
        type(call).objects.select_for_update().get(pk=call.pk)
        existing = PublicNotice.objects.filter(call=call).first()
        if existing is not None:
            if existing.state == PublicNotice.State.AWARDED:
                return existing, None  # a double click publishes once
            notice = existing
        else:
            reason = award_list_refusal(call)
            if reason:
                raise NotAllowed(reason)
            rows = list(proposed(call))
            day = on or today()
            notice = PublicNotice.objects.create(
                call=call, title=_("%(call)s立项名单") % {"call": call.title}, starts_on=day, ends_on=day,
                period_days=0, working_days=False, published_by=actor, published_at=timezone.now(),
                entries=[_entry(d) for d in rows])
            audit.record(actor=actor, action="notice.publish", obj=notice, ip=ip,
                         after={"call": call.code, "without_notice": True, "entries": len(rows)})
        return publish_award(actor=actor, notice=notice, ip=ip, on=on)


def _manage_url(call) -> str:
    from django.urls import reverse

    return reverse("review:notice_manage", args=[call.code])


def _award_going(marker: str) -> Job | None:
    """The call's award job still queued or running (its result link is the call's page until it ends)."""
    return (Job.objects.filter(task_path__in=[award_list_job.module_path, award_job.module_path], result_url=marker)
            .exclude(state__in=[Job.State.DONE, Job.State.FAILED]).order_by("pk").first())


def _start_marked(task_fn, *, actor, call, marker: str, **kwargs) -> Job:
    """Queue an award job for `call` with `marker` (the call's page) as its result link until it ends, which is
    how `_award_going` finds it (inside the caller's transaction, which holds the call's or notice's lock)."""
    job = jobs.start(task_fn, user=actor, label=_("发布立项名单：%(call)s") % {"call": call.title[:150]}, **kwargs)
    Job.objects.filter(pk=job.pk).update(result_url=marker)
    job.result_url = marker
    return job


def start_award(*, actor, notice: PublicNotice, ip: str | None = None, on: dt.date | None = None):
    """The page's 发布立项名单 after a 公示: the checks of `publish_award` answered at once (who may, the period
    over, no objection open, the confirmation kept), the publishing queued as a background job. Returns
    (notice, None) when the list is already published, else (None, job); a second click while the job is
    queued or running returns that job, and the job publishes once (publish_award locks the notice)."""
    with transaction.atomic():
        notice = PublicNotice.objects.select_for_update().select_related("call__issuer").get(pk=notice.pk)
        if notice.state == PublicNotice.State.AWARDED:
            require(permissions.can_view_objections(actor, notice))
            return notice, None
        require(NOTICE.can(actor, notice, "award"))
        marker = _manage_url(notice.call)
        going = _award_going(marker)
        if going is not None:
            return None, going
        reason = award_refusal(notice, on)
        if reason:
            raise NotAllowed(reason)
        return None, _start_marked(award_job, actor=actor, call=notice.call, marker=marker, notice_id=notice.pk,
                                   ip=ip or "")


@task()
@jobs.tracked
def award_job(job, *, notice_id: int, ip: str = "") -> dict | None:
    """publish_award in the worker, for the person who asked: the same checks, audit and notifying job."""
    notice = PublicNotice.objects.select_related("call").filter(pk=notice_id).first()
    if notice is None or job.owner is None:
        raise jobs.JobError(_("该公示已不存在"))
    return _award_in_job(job, notice.call, lambda: publish_award(actor=job.owner, notice=notice, ip=ip or None))


def _award_in_job(job, call, publish) -> dict:
    jobs.report(job, 0, 1, _("正在发布立项名单"))
    try:
        notice, notify = publish()
    except NotAllowed as e:
        raise jobs.JobError(e.reason) from None
    if notify is None:  # published already (by an earlier run of this job or another click)
        jobs.finish(job, url=_manage_url(call), name=_("查看立项名单"), message=_("立项名单已发布"))
    else:
        jobs.finish(job, url=notify.get_absolute_url(), name=_("查看通知各申报单位的进度"),
                    message=_("立项名单已发布，正在通知各申报单位"))
    return {"notice": notice.pk, "notify_job": notify.pk if notify else None}


def start_award_list(*, actor, call, ip: str | None = None):
    """The page's 发布立项名单 of a call without 公示: the checks of `publish_award_list` answered at once, the
    publishing itself (decisions awarded, projects created, applicants notified) queued as a background job.
    Returns (notice, None) when the list is already published, else (None, job); a second click while the
    first job is queued or running returns that job (the job's result link names the call's page until it
    ends: that is how a job of this call is found), and the job itself publishes once (publish_award_list
    locks the call and finds the awarded notice)."""
    require(permissions.can_publish_notice(actor, call))
    marker = _manage_url(call)
    with transaction.atomic():
        type(call).objects.select_for_update().get(pk=call.pk)
        existing = PublicNotice.objects.filter(call=call).first()
        if existing is not None and existing.state == PublicNotice.State.AWARDED:
            return existing, None  # a double click publishes once
        going = _award_going(marker)
        if going is not None:
            return None, going
        reason = award_list_refusal(call) if existing is None else ""
        if reason:
            raise NotAllowed(reason)
        return None, _start_marked(award_list_job, actor=actor, call=call, marker=marker, call_id=call.pk,
                                   ip=ip or "")


@task()
@jobs.tracked
def award_list_job(job, *, call_id: int, ip: str = "") -> dict | None:
    """publish_award_list in the worker, for the person who asked: the same checks, audit and notifying job.
    Run again after its worker died, it finds the notice awarded and publishes nothing twice."""
    from shenbao.calls.models import Call

    call = Call.objects.filter(pk=call_id).first()
    if call is None or job.owner is None:
        raise jobs.JobError(_("该通知已不存在"))
    return _award_in_job(job, call, lambda: publish_award_list(actor=job.owner, call=call, ip=ip or None))


# --- 异议 ---------------------------------------------------------------------------------------------


def _check_objection(name: str, contact: str, text: str, application_id, notice: PublicNotice) -> dict:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("请填写姓名")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("姓名不能超过%(n)s个字") % {"n": NAME_MAX}]
    if not contact:
        errors["contact"] = [_("请填写联系电话或电子邮箱，以便告知处理结果")]
    elif len(contact) > CONTACT_MAX or not (PHONE.match(contact) or EMAIL.match(contact)):
        errors["contact"] = [_("联系方式应为电话号码或电子邮箱")]
    if len(text) < TEXT_MIN:
        errors["text"] = [_("异议内容至少%(n)s个字，请写明事实和理由") % {"n": TEXT_MIN}]
    elif len(text) > TEXT_MAX:
        errors["text"] = [_("异议内容不能超过%(n)s个字") % {"n": TEXT_MAX}]
    if application_id not in (None, ""):
        ids = {e["application"] for e in notice.entries}
        try:
            ok = int(application_id) in ids
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors["application"] = [_("所选项目不在本次公示名单中")]
    return errors


def file_objection(*, notice: PublicNotice, name: str, contact: str, text: str, application_id=None,
                   ip: str | None = None, on: dt.date | None = None) -> Objection:
    """异议 by anyone during the period, with a name and contact details (checked; nothing stored when a
    field is wrong: ValidationError with an error per field). The same objection posted twice is stored once."""
    name, contact, text = (name or "").strip(), (contact or "").strip(), (text or "").strip()
    with transaction.atomic():
        notice = PublicNotice.objects.select_for_update().get(pk=notice.pk)
        p = phase(notice, on)
        if p == "pending":
            raise NotAllowed(_("公示尚未开始（%(start)s 开始）") % {"start": f"{notice.starts_on:%Y-%m-%d}"})
        if p != "open":
            raise NotAllowed(_("公示期已于%(end)s结束，不再受理异议") % {"end": f"{notice.ends_on:%Y-%m-%d}"})
        errors = _check_objection(name, contact, text, application_id, notice)
        if errors:
            raise ValidationError(errors)
        app_id = int(application_id) if application_id not in (None, "") else None
        same = Objection.objects.filter(notice=notice, name=name, contact=contact, text=text,
                                        application_id=app_id).first()
        if same is not None:
            return same
        obj = Objection.objects.create(notice=notice, application_id=app_id, name=name, contact=contact, text=text)
        audit.record(actor=None, actor_name=name, action="objection.file", obj=obj, ip=ip,
                     after={"notice": notice.pk, "application": app_id, "length": len(text)})
    return obj


def handle_objection(*, actor, objection: Objection, upheld: bool, handling: str, withdraw: bool = False,
                     ip: str | None = None) -> Objection:
    """Record how an objection was handled (异议成立 / 不成立, with the text). Upheld against one application,
    `withdraw` takes that application off the proposed list (its Decision withdrawn, audited)."""
    handling = (handling or "").strip()
    action = "uphold" if upheld else "dismiss"
    with transaction.atomic():
        obj = Objection.objects.select_for_update().select_related("notice__call__issuer").get(pk=objection.pk)
        target = Objection.State.UPHELD if upheld else Objection.State.DISMISSED
        if obj.state == target and obj.handling == handling:
            return obj  # the same answer posted twice
        require(OBJECTION.can(actor, obj, action))
        if len(handling) < HANDLING_MIN:
            raise ValidationError({"handling": [_("请写明处理结果（至少%(n)s个字）") % {"n": HANDLING_MIN}]})
        if withdraw and not (upheld and obj.application_id):
            raise NotAllowed(_("只有针对某一项目且成立的异议可以撤销该项目的拟立项"))
        if obj.notice.state == PublicNotice.State.AWARDED:
            raise NotAllowed(_("立项名单已发布，不能再处理异议"))
        before = {"state": obj.state}
        obj.state, obj.handling, obj.handled_by, obj.handled_at = target, handling[:5000], actor, timezone.now()
        obj.save(update_fields=["state", "handling", "handled_by", "handled_at"])
        audit.record(actor=actor, action=f"objection.{action}", obj=obj, before=before, ip=ip,
                     after={"state": target, "handling": obj.handling, "withdraw": withdraw})
        if withdraw:
            d = Decision.objects.select_for_update().filter(application_id=obj.application_id).first()
            if d is not None and d.state == Decision.State.PROPOSED:
                d.state, d.decided_by = Decision.State.WITHDRAWN, actor
                d.explanation = (d.explanation + "\n" if d.explanation else "") + _("异议成立，撤销拟立项：") + handling
                d.save(update_fields=["state", "decided_by", "explanation", "updated_at"])
                audit.record(actor=actor, action="decision.withdraw", obj=d, ip=ip,
                             before={"state": Decision.State.PROPOSED},
                             after={"state": Decision.State.WITHDRAWN, "objection": obj.pk})
    return obj


def open_objections(notice: PublicNotice) -> int:
    return Objection.objects.filter(notice=notice, state=Objection.State.OPEN).count()


# --- 立项名单 -------------------------------------------------------------------------------------------


def award_refusal(notice: PublicNotice, on: dt.date | None = None) -> str:
    """Why the award list cannot be published now ("" if it can)."""
    p = phase(notice, on)
    if p == "awarded":
        return _("立项名单已发布")
    if p in ("pending", "open"):
        return _("公示期至%(end)s（含）尚未结束，不能发布立项名单") % {"end": f"{notice.ends_on:%Y-%m-%d}"}
    n = open_objections(notice)
    if n:
        return _("尚有%(n)s条异议未处理，处理完毕后才能发布立项名单") % {"n": n}
    missing = confirmation_missing(notice.call)
    if missing:
        return _("评审结果的确认已撤回，不能发布立项名单：%(missing)s") % {"missing": "；".join(missing)}
    return ""


def publish_award(*, actor, notice: PublicNotice, ip: str | None = None, on: dt.date | None = None):
    """Publish the award list: every proposed Decision of the call awarded, its project created (the hooks of
    review/award_hooks.py), and a job that tells every applicant of the call's decided applications the
    decision (mail; the application page and 我的申报 show it). Returns (notice, job); a second click on an
    awarded notice returns it with no job."""
    with transaction.atomic():
        notice = PublicNotice.objects.select_for_update().select_related("call__issuer").get(pk=notice.pk)
        if notice.state == PublicNotice.State.AWARDED:
            require(permissions.can_view_objections(actor, notice))
            return notice, None
        require(NOTICE.can(actor, notice, "award"))
        reason = award_refusal(notice, on)
        if reason:
            raise NotAllowed(reason)
        awarded_on = on or today()
        # the application's call (with its issuer, the project's funder) and snapshot joined: the hooks read them
        rows = list(proposed(notice.call).select_related("application__call__issuer", "application__current_snapshot")
                    .select_for_update(of=("self",)))
        for d in rows:
            d.state, d.decided_by = Decision.State.AWARDED, actor
            d.save(update_fields=["state", "decided_by", "updated_at"])
            audit.record(actor=actor, action="decision.award", obj=d, ip=ip,
                         before={"state": Decision.State.PROPOSED},
                         after={"state": Decision.State.AWARDED, "amount": d.amount, "notice": notice.pk})
            award_hooks.run(actor=actor, decision=d, awarded_on=awarded_on)
        NOTICE.perform(user=actor, obj=notice, action="award", extra_after={"awarded": len(rows)})
        PublicNotice.objects.filter(pk=notice.pk).update(awarded_by=actor, awarded_at=timezone.now())
        notice.refresh_from_db()
        job = jobs.start(notify_decisions, user=actor, label=_("通知申报单位立项结果：%(call)s")
                         % {"call": notice.call.title}, notice_id=notice.pk)
        audit.record(actor=actor, action="notice.notify", obj=notice, after={"job": job.pk}, ip=ip)
    return notice, job


def decided(call):
    """The call's decided applications (awarded, not selected, withdrawn), one Decision each."""
    return (Decision.objects.filter(application__call=call)
            .exclude(state=Decision.State.PROPOSED)
            .select_related("application__applicant", "application__project_type").order_by("pk"))


MAIL_TEXT = {
    Decision.State.AWARDED: ("已立项", "经评审、公示，贵单位申报的《{title}》（申报编号 {number}）已批准立项{amount}。"
                                       "请登录平台查看立项结果及后续要求。"),
    Decision.State.NOT_SELECTED: ("未入选", "经评审，贵单位申报的《{title}》（申报编号 {number}）未入选本次立项名单。"
                                            "感谢贵单位的参与。"),
    Decision.State.WITHDRAWN: ("未立项", "贵单位申报的《{title}》（申报编号 {number}）经公示期异议处理，未予立项。"
                                        "请登录平台查看说明。"),
}


@task()
@jobs.tracked
def notify_decisions(job, *, notice_id: int) -> int:
    """One mail per decided application to its unit's clerks and head, each once even if the job runs again."""
    notice = PublicNotice.objects.select_related("call").get(pk=notice_id)
    rows = list(decided(notice.call))
    total = len(rows)
    jobs.report(job, 0, total, _("共 %(n)d 项申报需通知") % {"n": total})
    sent = 0
    for i, d in enumerate(rows, 1):
        app = d.application
        with transaction.atomic():
            if jobs.once(f"award-notice:{notice.pk}:{d.pk}"):
                to = _addresses(app.applicant_id, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))
                label, body = MAIL_TEXT[d.state]
                amount = f"，资助金额 {d.amount} 元" if d.state == Decision.State.AWARDED and d.amount else ""
                if to:
                    # Chinese, as the platform's other notifications (the recipients' language is not known)
                    mail.send(subject=f"【立项结果】{notice.call.title}：{app.title or app.project_type.name}{label}",
                              body=f"{app.applicant.name}：\n"
                                   + body.format(title=app.title or app.project_type.name, number=app.number,
                                                 amount=amount),
                              to=to)
                    sent += 1
        jobs.report(job, i, total, _("已通知 %(done)d / %(total)d 项") % {"done": i, "total": total})
    jobs.finish(job, message=_("已通知 %(n)d 个申报单位") % {"n": sent})
    return sent


# --- what the applicant sees ----------------------------------------------------------------------------


def _decision_of(application) -> Decision | None:
    """The application's Decision: the one joined by select_related("decision") when it was, else read."""
    cache = application._state.fields_cache
    if "decision" in cache:
        return cache["decision"]
    return Decision.objects.filter(application_id=application.pk).first()


def _shown(d: Decision, notice: PublicNotice | None) -> dict | None:
    if notice is None:
        return None
    if notice.state != PublicNotice.State.AWARDED:
        if d.state != Decision.State.PROPOSED:
            return None
        return {"state": "proposed", "label": _("拟立项（公示中）"), "amount": d.amount,
                "note": _("公示期 %(period)s") % {"period": period_text(notice)}, "notice": notice}
    label = {Decision.State.AWARDED: _("已立项"), Decision.State.NOT_SELECTED: _("未入选"),
             Decision.State.WITHDRAWN: _("未立项（公示期异议成立）")}.get(d.state)
    if label is None:
        return None
    note = d.explanation if d.state == Decision.State.WITHDRAWN else ""
    return {"state": d.state, "label": label, "amount": d.amount if d.state == Decision.State.AWARDED else None,
            "note": note, "notice": notice}


def decision_for_applicant(application) -> dict | None:
    """The decision as the unit may see it: nothing before the 公示; 拟立项 during it; the result once the
    award list is out. {"state", "label", "amount", "note", "notice"} or None."""
    d = _decision_of(application)
    return _shown(d, notice_of(application.call)) if d is not None else None


def decisions_for_applicant(applications) -> dict[int, dict]:
    """`decision_for_applicant` of many (joined with select_related("decision")): one query for their calls'
    notices, none when no application has a decision."""
    with_d = [(a, _decision_of(a)) for a in applications]
    with_d = [(a, d) for a, d in with_d if d is not None]
    if not with_d:
        return {}
    notices: dict[int, PublicNotice] = {}
    for n in PublicNotice.objects.filter(call_id__in={a.call_id for a, _d in with_d}).order_by("published_at", "pk"):
        notices[n.call_id] = n  # the latest wins
    out = {}
    for a, d in with_d:
        shown = _shown(d, notices.get(a.call_id))
        if shown is not None:
            out[a.pk] = shown
    return out
