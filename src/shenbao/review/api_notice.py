"""API of the 公示 and the award list (/api/v1/review/…): the public list and notice and the objection form
need no login (`auth=None`); publishing, the objections with contact details, their handling and the award
list are the funder staff's, with the same permission functions and services as the pages."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from shenbao.calls.models import Call
from shenbao.core import ratelimit
from shenbao.core.decisions import require
from shenbao.core.http import client_ip
from shenbao.review import notice as svc
from shenbao.review import permissions
from shenbao.review.api import router
from shenbao.review.models import Decision, Objection, PublicNotice
from shenbao.review.views_notice import objection_rate


class EntryOut(Schema):
    application: int
    number: str | None = None
    type_code: str
    type: str
    track: str = ""
    title: str
    unit: str
    amount: int | None = None


class NoticeOut(Schema):
    id: int
    call: str
    call_title: str
    issuer: str
    title: str
    text: str
    starts_on: dt.date
    ends_on: dt.date = Field(description="公示截止（含）")
    period_days: int
    working_days: bool = Field(description="true：按国家法定节假日安排的工作日计")
    phase: str = Field(description="pending 即将公示 / open 公示中 / ended 公示期满 / awarded 已发布立项名单")
    entries: list[EntryOut]
    awarded: list[EntryOut] | None = Field(None, description="立项名单（发布后）")


class ObjectionIn(Schema):
    name: str = Field(max_length=200)
    contact: str = Field(max_length=200)
    text: str = Field(max_length=10000)
    application: int | None = Field(None, description="所涉项目（公示名单中的申报 id），不填为整个名单")


class ObjectionOut(Schema):
    id: int
    state: str
    application: int | None = None
    name: str
    contact: str
    text: str
    handling: str
    handled_by: str | None = None
    handled_at: dt.datetime | None = None
    created_at: dt.datetime


class FiledOut(Schema):
    id: int
    state: str


class PublishIn(Schema):
    title: str = Field("", max_length=200)
    text: str = Field("", max_length=5000)


class HandlingIn(Schema):
    outcome: str = Field(description="upheld 异议成立 / dismissed 异议不成立", pattern="^(upheld|dismissed)$")
    handling: str = Field(max_length=5000)
    withdraw: bool = Field(False, description="异议成立时撤销所涉项目的拟立项")


class AwardOut(Schema):
    notice: NoticeOut
    job: int | None = Field(None, description="通知申报单位的后台任务（/api/v1/jobs/{id}）")


def _notice_out(n: PublicNotice) -> dict:
    awarded = None
    if n.state == PublicNotice.State.AWARDED:
        awarded = [svc._entry(d) for d in Decision.objects.filter(
            application__call=n.call, state=Decision.State.AWARDED).select_related(
            "application__project_type", "application__track", "application__applicant").order_by("pk")]
    return {"id": n.pk, "call": n.call.code, "call_title": n.call.title, "issuer": n.call.issuer.name,
            "title": n.title, "text": n.text, "starts_on": n.starts_on, "ends_on": n.ends_on,
            "period_days": n.period_days, "working_days": n.working_days, "phase": svc.phase(n),
            "entries": n.entries, "awarded": awarded}


def _public(pk: int) -> PublicNotice:
    n = PublicNotice.objects.select_related("call__issuer").filter(pk=pk, call__status=Call.Status.PUBLISHED).first()
    if n is None:
        raise HttpError(404, "没有这个公示")
    return n


def _invalid(e: ValidationError):
    return HttpError(422, "；".join(f"{m}" for msgs in e.message_dict.values() for m in msgs))


@router.get("/notices", response=list[NoticeOut], auth=None, summary="公示公告（公开）")
def notices(request):
    rows = PublicNotice.objects.filter(call__status=Call.Status.PUBLISHED).select_related("call__issuer") \
        .order_by("-published_at", "-pk")[:200]
    return [_notice_out(n) for n in rows]


@router.get("/notices/{notice_id}", response=NoticeOut, auth=None, summary="一次公示（公开）")
def notice(request, notice_id: int):
    return _notice_out(_public(notice_id))


@router.post("/notices/{notice_id}/objections", response={201: FiledOut}, auth=None, summary="提出异议（公开，限流）")
def file_objection(request, notice_id: int, payload: ObjectionIn):
    n = _public(notice_id)
    rate, window = objection_rate()
    if not ratelimit.hit("objection", client_ip(request), limit=rate, window=window):
        raise HttpError(429, f"操作过于频繁，请 {window // 60} 分钟后再试。")
    try:
        o = svc.file_objection(notice=n, name=payload.name, contact=payload.contact, text=payload.text,
                               application_id=payload.application, ip=client_ip(request))
    except ValidationError as e:
        raise _invalid(e) from e
    return Status(201, {"id": o.pk, "state": o.state})


@router.post("/calls/{code}/notice", response={201: NoticeOut}, summary="发布公示")
def publish(request, code: str, payload: PublishIn):
    call = get_object_or_404(Call.objects.select_related("issuer"), code=code)
    n = svc.publish_notice(actor=request.user, call=call, title=payload.title, text=payload.text,
                           ip=client_ip(request))
    return Status(201, _notice_out(n))


def _objection_out(o: Objection) -> dict:
    return {"id": o.pk, "state": o.state, "application": o.application_id, "name": o.name, "contact": o.contact,
            "text": o.text, "handling": o.handling, "handled_by": str(o.handled_by) if o.handled_by_id else None,
            "handled_at": o.handled_at, "created_at": o.created_at}


@router.get("/notices/{notice_id}/objections", response=list[ObjectionOut], summary="公示的异议（主办方）")
def objections(request, notice_id: int):
    n = get_object_or_404(PublicNotice.objects.select_related("call__issuer"), pk=notice_id)
    require(permissions.can_view_objections(request.user, n))
    return [_objection_out(o) for o in n.objections.select_related("handled_by")]


@router.post("/objections/{objection_id}/handling", response=ObjectionOut, summary="记录异议处理结果")
def handle(request, objection_id: int, payload: HandlingIn):
    o = get_object_or_404(Objection.objects.select_related("notice__call__issuer"), pk=objection_id)
    require(permissions.can_handle_objection(request.user, o))
    try:
        o = svc.handle_objection(actor=request.user, objection=o, upheld=payload.outcome == "upheld",
                                 handling=payload.handling, withdraw=payload.withdraw, ip=client_ip(request))
    except ValidationError as e:
        raise _invalid(e) from e
    return _objection_out(o)


@router.post("/notices/{notice_id}/award", response=AwardOut, summary="发布立项名单")
def award(request, notice_id: int):
    n = get_object_or_404(PublicNotice.objects.select_related("call__issuer"), pk=notice_id)
    n, job = svc.publish_award(actor=request.user, notice=n, ip=client_ip(request))
    return {"notice": _notice_out(n), "job": job.pk if job else None}
