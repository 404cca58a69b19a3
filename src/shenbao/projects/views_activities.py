"""Pages of a project's activities, under /projects/: the unit's projects (我的项目), the project page, an
event's registration and page (warnings of R-C4, filings of R-P6, QR code of its sign-in page, sign-in
sheet, photos of R-P7), news items (R-P9), deliverables (R-C8); and the public sign-in page a participant
opens from the QR code on a phone, without logging in."""

from __future__ import annotations

import datetime as dt

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications.views import attachment, refused
from shenbao.core import audit, ratelimit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.projects import activities, permissions
from shenbao.projects.models import DeliverableRecord, Event, EventPhoto, NewsItem, Project

# the sign-in page: many participants share the venue's address (one Wi-Fi), so the limit is per address
# and generous; it stops a script, not a room
DEFAULT_SIGNIN_RATE = (120, 600)


def _project(request, pk: int) -> Project:
    project = get_object_or_404(Project.objects.select_related(
        "call", "project_type", "track", "applicant", "funder"), pk=pk)
    decision = permissions.can_view_project(request.user, project)
    if not decision:
        audit.refused(decision.reason, project)  # shown as "not found"
        raise Http404(_("没有这个项目"))
    return project


def _event(request, pk: int) -> Event:
    event = get_object_or_404(Event.objects.select_related(
        "project__call", "project__project_type", "project__track", "project__applicant", "project__funder"), pk=pk)
    decision = permissions.can_view_project(request.user, event.project)
    if not decision:
        audit.refused(decision.reason, event.project)
        raise Http404(_("没有这个活动"))
    return event


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


# --- the unit's projects and the project page -------------------------------------------------------------


def unit_projects(user):
    """The projects of the units where the user is a clerk or head, newest first."""
    org_ids = user.roles.filter(role__in=permissions.UNIT_ROLES).values_list("organisation_id", flat=True)
    return (Project.objects.filter(applicant_id__in=list(org_ids)).select_related("call", "project_type", "track")
            .annotate(n_events=Count("events", filter=Q(events__status=Event.Status.REGISTERED), distinct=True))
            .order_by("-year", "-id"))


@login_required
def mine(request):
    """我的项目: the unit's awarded projects, from the applicant's work bench."""
    return render(request, "projects/activities/mine.html", {"projects": list(unit_projects(request.user))})


@login_required
def detail(request, pk: int):
    """The project page: what it is, its activities, news and deliverables (other sub-stages add theirs)."""
    project = _project(request, pk)
    events = list(project.events.annotate(n_signins=Count("signins", distinct=True)).order_by("starts_on", "id"))
    can_manage = permissions.can_manage_activities(request.user, project)
    return render(request, "projects/detail.html", {
        "project": project, "events": events, "can_manage": can_manage,
        "project_filings": activities.filings_for(project, None),
        "news": list(project.news.select_related("event")), "outlets": activities.news_outlets(project),
        "deliverables": activities.deliverables(project), "photos": activities.photo_status(project),
        "today": activities._today(),
    })


# --- events -----------------------------------------------------------------------------------------------


def _speakers_from(post) -> list[dict]:
    names, orgs, topics = post.getlist("speaker_name"), post.getlist("speaker_org"), post.getlist("speaker_topic")
    return [{"name": n, "organisation": o, "topic": t} for n, o, t in zip(names, orgs, topics, strict=False)]


@login_required
def event_new(request, pk: int):
    """登记活动: title, dates, place, expected participants, speakers and topics, international or not and
    the countries of foreign participants; the warnings of R-C4 and R-P6 are shown once it is saved."""
    project = _project(request, pk)
    decision = permissions.can_manage_activities(request.user, project)
    if not decision:
        return refused(request, decision)
    values, errors = {"task": "-1", "speakers": [{}] * 3}, {}
    if request.method == "POST":
        p = request.POST
        values = {k: p.get(k, "") for k in ("title", "starts_on", "ends_on", "place", "expected_participants",
                                            "countries", "task")}
        values["international"] = p.get("international") == "1"
        values["speakers"] = _speakers_from(p) or [{}]
        try:
            event, warnings = activities.register_event(
                user=request.user, project=project, title=values["title"], starts_on=_date(values["starts_on"]),
                ends_on=_date(values["ends_on"]) or _date(values["starts_on"]), place=values["place"],
                expected_participants=_int(values["expected_participants"]), speakers=values["speakers"],
                international=values["international"], countries=values["countries"],
                task=_int(values["task"]) if _int(values["task"]) is not None else -1, ip=client_ip(request))
        except activities.EventInvalid as exc:
            errors = exc.errors
        except NotAllowed as exc:
            return refused(request, exc.reason)
        else:
            # the warnings (R-C4, R-P6) are shown in the event page's 提醒 card
            messages.success(request, _("活动已登记") if not warnings else
                             _("活动已登记，请查看下方提醒（%(n)s 项）") % {"n": len(warnings)})
            return redirect("projects:event", event.pk)
    # what the rules are, shown beside the form
    naming = [(i, t.naming) for i, t in enumerate(activities.tasks(project)) if t.naming]
    need, source = activities.min_countries(project)
    return render(request, "projects/activities/event_form.html", {
        "project": project, "values": values, "errors": errors, "tasks": activities.task_choices(project),
        "naming": naming, "min_countries": need, "min_countries_source": source,
        "filings": [f for f in (getattr(activities.post_award(project), "filings", None) or [])
                    if f.scope != "project"],
    }, status=400 if errors else 200)


def signin_url(request, event: Event) -> str:
    return request.build_absolute_uri(reverse("projects:signin", args=[event.signin_token]))


def _qr_svg(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=5, dark="#111", light="#fff", border=3)
    return mark_safe(svg)  # noqa: S308 (segno's output for our own URL)


@login_required
def event(request, pk: int):
    ev = _event(request, pk)
    project = ev.project
    can_manage = permissions.can_manage_activities(request.user, project)
    masked = not permissions.can_see_signin_phones(request.user, project)
    url = signin_url(request, ev)
    photos = list(ev.photos.filter(withdrawn=False).order_by("kind", "id"))
    return render(request, "projects/activities/event.html", {
        "project": project, "event": ev, "can_manage": can_manage, "warnings": activities.event_warnings(ev),
        "naming": activities.naming_problems(project, ev.title, ev.task),
        "countries": activities.country_problems(project, international=ev.international, countries=ev.countries,
                                                 task=ev.task),
        "filings": activities.filings_for(project, ev), "signin_url": url, "qr": _qr_svg(url),
        "signin_open": activities.signin_open(ev), "counts": activities.signin_counts(ev),
        "signins": activities.signin_rows(ev, masked=masked), "masked": masked,
        "photos": photos, "photo_status": activities.photo_status(project, ev),
        "task": dict(activities.task_choices(project)).get(ev.task, ""), "tasks": activities.task_choices(project),
        "news": list(ev.news.all()), "outlets": activities.news_outlets(project), "today": activities._today(),
    })


@login_required
def event_qr(request, pk: int):
    """The QR code of the sign-in page as a PNG to print (a poster at the venue's door)."""
    ev = _event(request, pk)
    import io

    buf = io.BytesIO()
    segno.make(signin_url(request, ev), error="m").save(buf, kind="png", scale=10, border=4)
    return attachment(buf.getvalue(), f"签到二维码-{ev.pk}.png", "image/png")


@login_required
@require_POST
def event_rename(request, pk: int):
    """Rename an event (or name its task) after a naming warning (R-C4)."""
    ev = _event(request, pk)
    task = _int(request.POST.get("task"))
    try:
        activities.rename_event(user=request.user, event=ev, title=request.POST.get("title", ""),
                                                task=-1 if task is None else task, ip=client_ip(request))
    except activities.EventInvalid as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    except activities.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("活动名称已修改"))
    return redirect("projects:event", ev.pk)


@login_required
@require_POST
def event_cancel(request, pk: int):
    ev = _event(request, pk)
    try:
        activities.cancel_event(user=request.user, event=ev, reason=request.POST.get("reason", ""),
                                ip=client_ip(request))
    except activities.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("活动已取消，签到页已关闭"))
    return redirect("projects:event", ev.pk)


@login_required
@require_POST
def filing_record(request, pk: int):
    """R-P6: record a filing as done, for an event (`event` posted) or for the project."""
    project = _project(request, pk)
    event_id = _int(request.POST.get("event"))
    ev = get_object_or_404(Event, pk=event_id, project=project) if event_id else None
    try:
        activities.record_filing(user=request.user, project=project, event=ev,
                                 key=_int(request.POST.get("key")) if _int(request.POST.get("key")) is not None else -1,
                                 authority=request.POST.get("authority", ""),
                                 filed_on=_date(request.POST.get("filed_on")),
                                 reference=request.POST.get("reference", ""), ip=client_ip(request))
    except activities.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("备案已登记"))
    return redirect("projects:event", ev.pk) if ev else redirect("projects:detail", project.pk)


@login_required
def signins_xlsx(request, pk: int):
    """签到表 (XLSX): phones masked for readers who do not need them."""
    ev = _event(request, pk)
    masked = not permissions.can_see_signin_phones(request.user, ev.project)
    response = attachment(activities.signin_xlsx(ev, masked=masked), f"签到表-{ev.title[:40]}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.audit_object = ev  # the download is audited (core/audit_middleware.py)
    return response


# --- the public sign-in page ---------------------------------------------------------------------------


def _signin_event(token: str) -> Event:
    if not token or len(token) > 64:
        raise Http404(_("没有这个签到页"))
    return get_object_or_404(Event.objects.select_related("project"), signin_token=token)


def signin(request, token: str):
    """活动签到 (no login): name, organisation, phone (and country at an international event)."""
    ev = _signin_event(token)
    open_ = activities.signin_open(ev)
    values, error, status = {}, "", 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "organisation", "phone", "country")}
        rate, window = getattr(settings, "SHENBAO_SIGNIN_RATE", DEFAULT_SIGNIN_RATE)
        if not ratelimit.hit("signin", client_ip(request), limit=rate, window=window):
            error, status = _("操作过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": max(1, window // 60)}, 429
        else:
            try:
                row = activities.sign_in(event=ev, ip=client_ip(request), **values)
            except activities.SignInRefused as exc:
                error, status = exc.message, 400
            else:
                request.session[f"signed_{ev.pk}"] = row.pk
                return redirect("projects:signin_done", token)
    return render(request, "projects/activities/signin.html",
                  {"event": ev, "open": open_, "values": values, "error": error}, status=status)


def signin_done(request, token: str):
    ev = _signin_event(token)
    row_id = request.session.get(f"signed_{ev.pk}")
    row = ev.signins.filter(pk=row_id).first() if row_id else None
    return render(request, "projects/activities/signin_done.html", {"event": ev, "row": row})


# --- photos and news -------------------------------------------------------------------------------------


@login_required
@require_POST
def photo_upload(request, pk: int):
    ev = _event(request, pk)
    files = request.FILES.getlist("photo")
    if not files:
        messages.error(request, _("请选择要上传的相片"))
    done = 0
    for f in files:
        try:
            activities.upload_photo(user=request.user, event=ev, kind=request.POST.get("kind", ""), upload=f,
                                    caption=request.POST.get("caption", ""), ip=client_ip(request))
        except activities.Refused as exc:
            messages.error(request, f"{f.name}：{exc.message}")
        except NotAllowed as exc:
            messages.error(request, exc.reason)
            break
        else:
            done += 1
    if done:
        messages.success(request, _("已上传 %(n)s 张相片") % {"n": done})
    return redirect(reverse("projects:event", args=[ev.pk]) + "#photos")


def _file_response(request, field, name: str, content_type: str, obj):
    if not field:
        raise Http404(_("没有这个文件"))
    response = FileResponse(field.open("rb"), content_type=content_type, filename=name,
                            as_attachment=request.GET.get("download") == "1")
    response.audit_object = obj
    return response


@login_required
def photo_file(request, pk: int):
    photo = get_object_or_404(EventPhoto.objects.select_related("event__project"), pk=pk)
    if not permissions.can_view_project(request.user, photo.event.project):
        raise Http404(_("没有这个文件"))
    return _file_response(request, photo.file, photo.original_name or f"{photo.sha256[:12]}.{photo.file_type}",
                          photo.content_type, photo.event)


@login_required
@require_POST
def photo_withdraw(request, pk: int):
    photo = get_object_or_404(EventPhoto.objects.select_related("event__project"), pk=pk)
    if not permissions.can_view_project(request.user, photo.event.project):
        raise Http404(_("没有这个文件"))
    try:
        activities.withdraw_photo(user=request.user, photo=photo, ip=client_ip(request))
    except NotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("相片已撤下"))
    return redirect(reverse("projects:event", args=[photo.event_id]) + "#photos")


@login_required
@require_POST
def news_add(request, pk: int):
    project = _project(request, pk)
    event_id = _int(request.POST.get("event"))
    ev = get_object_or_404(Event, pk=event_id, project=project) if event_id else None
    try:
        activities.add_news(user=request.user, project=project, event=ev, title=request.POST.get("title", ""),
                            outlet=request.POST.get("outlet", ""), url=request.POST.get("url", ""),
                            published_on=_date(request.POST.get("published_on")),
                            screenshot=request.FILES.get("screenshot"), ip=client_ip(request))
    except activities.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("新闻报道已登记"))
    target = reverse("projects:event", args=[ev.pk]) if ev else reverse("projects:detail", args=[project.pk])
    return redirect(target + "#news")


@login_required
def news_screenshot(request, pk: int):
    item = get_object_or_404(NewsItem.objects.select_related("project"), pk=pk)
    if not permissions.can_view_project(request.user, item.project):
        raise Http404(_("没有这个文件"))
    from shenbao.documents.attachments import CONTENT_TYPES

    return _file_response(request, item.screenshot, f"新闻截图-{item.pk}.{item.screenshot_type}",
                          CONTENT_TYPES.get(item.screenshot_type, "application/octet-stream"), item.project)


# --- deliverables ----------------------------------------------------------------------------------------


@login_required
@require_POST
def deliver(request, pk: int):
    record = get_object_or_404(DeliverableRecord.objects.select_related("project"), pk=pk)
    project = _project(request, record.project_id)
    record.project = project
    try:
        state = activities.deliver(user=request.user, record=record, upload=request.FILES.get("file"),
                                   link=request.POST.get("link", ""), seconds=_int(request.POST.get("seconds")),
                                   note=request.POST.get("note", ""), ip=client_ip(request))
    except activities.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        (messages.success if state.completed else messages.warning)(request, f"{record.name}：{state.label}")
    return redirect(reverse("projects:detail", args=[project.pk]) + "#deliverables")


@login_required
def deliverable_file(request, pk: int):
    record = get_object_or_404(DeliverableRecord.objects.select_related("project"), pk=pk)
    if not permissions.can_view_project(request.user, record.project):
        raise Http404(_("没有这个文件"))
    from shenbao.documents.attachments import CONTENT_TYPES

    return _file_response(request, record.file, record.original_name or f"{record.sha256[:12]}.{record.file_type}",
                          CONTENT_TYPES.get(record.file_type, "application/octet-stream"), record.project)
