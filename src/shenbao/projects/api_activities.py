"""Activities API (/api/v1/projects/…): the unit's projects, events (registration answers the warnings of
R-C4 and R-P6), filings, the sign-in sheet (phones masked for readers who do not need them) and its XLSX,
photos (R-P7), news (R-P9) and deliverables (R-C8). The same permission functions and services as the
pages: a refusal is 403 with the reason in Chinese, bad input 400 with the reason (and the field)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from shenbao.applications.views import attachment
from shenbao.core.decisions import require
from shenbao.core.http import client_ip
from shenbao.projects import activities, permissions
from shenbao.projects.api import router
from shenbao.projects.models import DeliverableRecord, Event, Project
from shenbao.projects.views_activities import signin_url, unit_projects


class FieldErrorOut(Schema):
    detail: str
    field: str = ""
    errors: dict[str, str] = {}


class ProjectOut(Schema):
    id: int
    title: str
    code: str
    year: int
    status: str
    call: str | None
    project_type: str | None
    track: str | None


class SpeakerIn(Schema):
    name: str = ""
    organisation: str = ""
    topic: str = ""


class EventIn(Schema):
    title: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    place: str
    expected_participants: int
    speakers: list[SpeakerIn] = []
    international: bool = False
    countries: list[str] = Field(default=[], description="境外参会者所属国家（地区）；中国计为其一，港澳台不单独计")
    task: int = Field(default=-1, description="对应任务的序号（项目类型的任务在前，申报类型的任务在后）；-1 不指定")


class FilingOut(Schema):
    key: int
    applies_to: str
    authority: str
    approval: bool
    scope: str
    done: bool
    filed_on: dt.date | None = None
    reference: str = ""


class EventOut(Schema):
    id: int
    project: int
    title: str
    task: int
    starts_on: dt.date
    ends_on: dt.date
    place: str
    expected_participants: int
    speakers: list[dict]
    international: bool
    countries: list[str]
    status: str
    warnings: list[str]
    filings: list[FilingOut]
    signin_url: str = ""
    signin_open: bool
    participants: int
    countries_incl_china: int


class FilingIn(Schema):
    key: int
    authority: str
    filed_on: dt.date
    reference: str = ""
    event: int | None = None


class SignInOut(Schema):
    n: int
    name: str
    organisation: str
    phone: str
    country: str
    at: dt.datetime


class PhotoOut(Schema):
    id: int
    event: int
    kind: str
    caption: str
    sha256: str
    size: int
    type: str


class NewsOut(Schema):
    id: int
    title: str
    outlet: str
    url: str
    published_on: dt.date
    event: int | None


class DeliverableOut(Schema):
    id: int
    name: str
    due: dt.date
    hard: bool
    status: str
    state: str = Field(description="due（待交付）、on_time（按时交付）、late（逾期交付，视为未完成）、overdue（逾期未交付）")
    label: str
    completed: bool
    delivered_on: dt.date | None


def _project(request, pk: int) -> Project:
    project = get_object_or_404(Project.objects.select_related("call", "project_type", "track", "applicant"), pk=pk)
    require(permissions.can_view_project(request.user, project))
    return project


def _event(request, pk: int) -> Event:
    ev = get_object_or_404(Event.objects.select_related("project__call", "project__project_type",
                                                        "project__track", "project__applicant"), pk=pk)
    require(permissions.can_view_project(request.user, ev.project))
    return ev


def _filing_out(f) -> dict:
    return {"key": f.key, "applies_to": f.applies_to, "authority": f.authority, "approval": f.approval,
            "scope": f.scope, "done": f.done is not None, "filed_on": f.done.filed_on if f.done else None,
            "reference": f.done.reference if f.done else ""}


def _event_out(request, ev: Event) -> dict:
    counts = activities.signin_counts(ev)
    return {"id": ev.pk, "project": ev.project_id, "title": ev.title, "task": ev.task, "starts_on": ev.starts_on,
            "ends_on": ev.ends_on, "place": ev.place, "expected_participants": ev.expected_participants,
            "speakers": ev.speakers, "international": ev.international, "countries": ev.countries,
            "status": ev.status, "warnings": activities.event_warnings(ev),
            "filings": [_filing_out(f) for f in activities.filings_for(ev.project, ev)],
            "signin_url": signin_url(request, ev), "signin_open": bool(activities.signin_open(ev)),
            "participants": counts["participants"], "countries_incl_china": counts["countries_incl_china"]}


def _deliverable_out(s) -> dict:
    r = s.record
    return {"id": r.pk, "name": r.name, "due": r.due, "hard": r.hard, "status": r.status, "state": s.state,
            "label": s.label, "completed": s.completed, "delivered_on": r.delivered_on}


@router.get("/mine", response=list[ProjectOut], summary="本单位的立项项目")
def my_projects(request):
    return [{"id": p.pk, "title": p.title, "code": p.code, "year": p.year, "status": p.status,
             "call": p.call.code if p.call else None, "project_type": p.project_type.code if p.project_type else None,
             "track": p.track.code if p.track else None} for p in unit_projects(request.user)]


@router.get("/{int:pk}/events", response=list[EventOut], summary="项目的活动")
def list_events(request, pk: int):
    project = _project(request, pk)
    return [_event_out(request, e) for e in project.events.select_related("project").order_by("starts_on", "id")]


@router.post("/{int:pk}/events", response={201: EventOut, 400: FieldErrorOut},
             summary="登记活动（返回名称要求、国际性会议国家数和备案提醒：warnings）")
def create_event(request, pk: int, payload: EventIn):
    project = _project(request, pk)
    try:
        ev, _warnings = activities.register_event(
            user=request.user, project=project, title=payload.title, starts_on=payload.starts_on,
            ends_on=payload.ends_on, place=payload.place, expected_participants=payload.expected_participants,
            speakers=[s.dict() for s in payload.speakers], international=payload.international,
            countries=payload.countries, task=payload.task, ip=client_ip(request))
    except activities.EventInvalid as exc:
        return Status(400, {"detail": "活动未登记", "errors": exc.errors})
    return Status(201, _event_out(request, ev))


@router.get("/events/{int:pk}", response=EventOut, summary="活动详情（含提醒和备案）")
def get_event(request, pk: int):
    return _event_out(request, _event(request, pk))


@router.post("/{int:pk}/filings", response={201: FilingOut, 400: FieldErrorOut},
             summary="登记备案（报批）已办理：日期和文号（event 为空：项目的备案事项）")
def record_filing(request, pk: int, payload: FilingIn):
    project = _project(request, pk)
    ev = get_object_or_404(Event, pk=payload.event, project=project) if payload.event else None
    try:
        row = activities.record_filing(user=request.user, project=project, event=ev, key=payload.key,
                                       authority=payload.authority, filed_on=payload.filed_on,
                                       reference=payload.reference, ip=client_ip(request))
    except activities.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return Status(201, {"key": row.key, "applies_to": row.applies_to, "authority": row.authority,
                        "approval": row.approval, "scope": "project" if ev is None else "event", "done": True,
                        "filed_on": row.filed_on, "reference": row.reference})


@router.get("/events/{int:pk}/signins", response=list[SignInOut],
            summary="签到表（手机号码对不需要的角色隐去中间四位）")
def list_signins(request, pk: int):
    ev = _event(request, pk)
    return activities.signin_rows(ev, masked=not permissions.can_see_signin_phones(request.user, ev.project))


@router.get("/events/{int:pk}/signins.xlsx", summary="签到表（XLSX）")
def signins_xlsx(request, pk: int):
    ev = _event(request, pk)
    masked = not permissions.can_see_signin_phones(request.user, ev.project)
    return attachment(activities.signin_xlsx(ev, masked=masked), f"signins-{ev.pk}.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.post("/events/{int:pk}/photos", response={201: PhotoOut, 400: FieldErrorOut},
             summary="上传活动相片（类别、JPG/PNG、大小和张数限制按通知验收材料）")
def upload_photo(request, pk: int, kind: Form[str], photo: File[UploadedFile], caption: Form[str] = ""):
    ev = _event(request, pk)
    try:
        p = activities.upload_photo(user=request.user, event=ev, kind=kind, upload=photo, caption=caption,
                                    ip=client_ip(request))
    except activities.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return Status(201, {"id": p.pk, "event": ev.pk, "kind": p.kind, "caption": p.caption, "sha256": p.sha256,
                        "size": p.size, "type": p.file_type})


@router.get("/events/{int:pk}/photos", response=list[PhotoOut], summary="活动相片")
def list_photos(request, pk: int):
    ev = _event(request, pk)
    return [{"id": p.pk, "event": ev.pk, "kind": p.kind, "caption": p.caption, "sha256": p.sha256, "size": p.size,
             "type": p.file_type} for p in ev.photos.filter(withdrawn=False)]


@router.post("/{int:pk}/news", response={201: NewsOut, 400: FieldErrorOut}, summary="登记新闻报道（链接和截图）")
def add_news(request, pk: int, title: Form[str], outlet: Form[str], url: Form[str], published_on: Form[dt.date],
             screenshot: File[UploadedFile], event: Form[int | None] = None):
    project = _project(request, pk)
    ev = get_object_or_404(Event, pk=event, project=project) if event else None
    try:
        n = activities.add_news(user=request.user, project=project, event=ev, title=title, outlet=outlet, url=url,
                                published_on=published_on, screenshot=screenshot, ip=client_ip(request))
    except activities.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return Status(201, {"id": n.pk, "title": n.title, "outlet": n.outlet, "url": n.url,
                        "published_on": n.published_on, "event": n.event_id})


@router.get("/{int:pk}/news", response=list[NewsOut], summary="新闻报道")
def list_news(request, pk: int):
    project = _project(request, pk)
    return [{"id": n.pk, "title": n.title, "outlet": n.outlet, "url": n.url, "published_on": n.published_on,
             "event": n.event_id} for n in project.news.all()]


@router.get("/{int:pk}/deliverables", response=list[DeliverableOut],
            summary="阶段性成果及其交付状态（逾期即视为未完成）")
def list_deliverables(request, pk: int):
    return [_deliverable_out(s) for s in activities.deliverables(_project(request, pk))]


@router.post("/deliverables/{int:pk}/deliver", response={200: DeliverableOut, 400: FieldErrorOut},
             summary="标记阶段性成果已交付（文件或链接）")
def deliver(request, pk: int, file: File[UploadedFile] | None = None, link: Form[str] = "",
            seconds: Form[int | None] = None, note: Form[str] = ""):
    record = get_object_or_404(DeliverableRecord, pk=pk)
    _project(request, record.project_id)
    try:
        state = activities.deliver(user=request.user, record=record, upload=file, link=link, seconds=seconds,
                                   note=note, ip=client_ip(request))
    except activities.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return Status(200, _deliverable_out(state))
