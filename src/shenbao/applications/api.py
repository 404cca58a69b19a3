"""The applications API (/api/v1/applications): what the unit may apply for, drafts with the version
check, submission, withdrawal, the printed form and the stamped scan. Session authentication; the same
permission functions and services as the pages (a refusal is 403 with the reason in Chinese)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import django_auth

from shenbao.applications import permissions, printing, selectors, services
from shenbao.applications.models import Application
from shenbao.calls.models import ProjectType
from shenbao.core import audit
from shenbao.core.decisions import require
from shenbao.core.http import client_ip
from shenbao.orgs.selectors import unit_of

router = Router(tags=["applications"], auth=django_auth)


class ReasonOut(Schema):
    code: str
    message: str


class TrackOut(Schema):
    code: str
    name: str


class OfferOut(Schema):
    call: str
    call_title: str
    deadline: dt.datetime
    deadline_is_placeholder: bool = Field(False, description="true：通知未写明截止时间，此为暂定时间")
    project_type_id: int
    type_code: str
    type_name: str
    tracks: list[TrackOut]
    eligible: bool
    reasons: list[ReasonOut]
    notes: list[ReasonOut]


class SnapshotOut(Schema):
    number: int
    fingerprint: str
    submitted_at: dt.datetime
    submitted_by: str


class ApplicationOut(Schema):
    id: int
    number: str  # 申报编号 (given at the first submission; empty for a draft never submitted)
    call: str
    type_code: str
    track: str | None
    applicant: str
    title: str
    status: str
    status_label: str
    version: int
    values: dict[str, Any]
    next_step: str
    deadline: dt.datetime
    deadline_is_placeholder: bool = Field(False, description="true：通知未写明截止时间，此为暂定时间")
    snapshot: SnapshotOut | None
    return_reason: str
    endorser: str | None


class CreateIn(Schema):
    project_type_id: int
    track: str | None = None


class SaveIn(Schema):
    values: dict[str, Any]
    version: int
    autosave: bool = False


class SaveOut(Schema):
    version: int
    changed: bool
    errors: dict[str, list[str]]


class ConflictOut(Schema):
    detail: str
    version: int
    theirs: dict[str, Any]


class SubmitIn(Schema):
    version: int | None = None


class SubmitOut(Schema):
    created: bool
    status: str
    number: str
    snapshot: SnapshotOut


class RefusedOut(Schema):
    detail: str
    reasons: list[ReasonOut]
    errors: dict[str, list[str]]


class WithdrawIn(Schema):
    reason: str = ""


class ScanOut(Schema):
    id: int
    verified: bool  # the QR matched the version; the stamp is confirmed by the funder (state "confirmed")
    state: str
    method: str
    message: str


class AttachmentOut(Schema):
    document_id: int = Field(description="草稿中附件栏的值写 {\"document_id\": 此编号}（多个文件时为列表）")
    name: str
    sha256: str
    size: int
    pages: int | None = None
    type: str
    url: str


class DetailOut(Schema):
    detail: str
    code: str = ""


def _ip(request) -> str | None:
    return client_ip(request)


def _snap(s) -> dict | None:
    if s is None:
        return None
    return {"number": s.number, "fingerprint": s.fingerprint, "submitted_at": s.submitted_at,
            "submitted_by": s.values.get("submitted_by", "")}


def _out(app: Application, user) -> dict:
    """Outside the applicant unit: the submitted version's values, title and track only (R-S70)."""
    values = selectors.visible_values(app, user)
    app = selectors.as_submitted(app, user)
    return {
        "id": app.pk, "number": app.number, "call": app.call.code, "type_code": app.project_type.code,
        "track": app.track.code if app.track_id else None, "applicant": app.applicant.name, "title": app.title,
        "status": app.status, "status_label": app.get_status_display(), "version": app.version, "values": values,
        "next_step": selectors.next_step(app, user), "deadline": app.deadline,
        "deadline_is_placeholder": app.revision_deadline is None and app.call.document.deadline_placeholder,
        "snapshot": _snap(app.current_snapshot), "return_reason": app.return_reason,
        "endorser": app.endorser.name if app.endorser_id else None,
    }


def _get(request, pk: int) -> Application:
    app = get_object_or_404(Application.objects.select_related(
        "call", "project_type", "track", "applicant", "current_snapshot", "endorser"), pk=pk)
    decision = permissions.can_view(request.user, app)
    if not decision:
        audit.refused(decision.reason, app)  # a refusal, answered as "not found" (R-S31)
        raise HttpError(404, "没有这份申报")
    return app


@router.get("/eligible", response=list[OfferOut], summary="可申报项目：每个项目类型能否申报及原因")
def eligible(request):
    from shenbao.applications.eligibility import eligible_offers

    org = unit_of(request.user)  # with what the rules read of it
    require(permissions.can_apply(request.user, org))
    out = []
    for o in eligible_offers(org=org):
        out.append({
            "call": o.call.code, "call_title": o.call.title, "deadline": o.call.deadline,
            "deadline_is_placeholder": o.call.document.deadline_placeholder,
            "project_type_id": o.project_type.pk, "type_code": o.project_type.code, "type_name": o.project_type.name,
            "tracks": [{"code": t.code, "name": t.name} for t in o.project_type.open_tracks],  # read with the types
            "eligible": o.verdict.ok,
            "reasons": [{"code": r.code, "message": r.message} for r in o.verdict.reasons],
            "notes": [{"code": r.code, "message": r.message} for r in o.verdict.notes],
        })
    return out


@router.get("/", response=list[ApplicationOut], summary="本单位的申报")
def mine(request):
    return [_out(a, request.user) for a in selectors.for_user(request.user)]


@router.post("/", response={201: ApplicationOut}, summary="新建草稿")
def create(request, payload: CreateIn):
    ptype = get_object_or_404(ProjectType, pk=payload.project_type_id)
    track = ptype.tracks.filter(code=payload.track, retired=False).first() if payload.track else None
    if payload.track and track is None:
        raise HttpError(422, f"项目类型 {ptype.code} 没有申报类型 {payload.track}")
    if track is None and ptype.tracks.filter(retired=False).exists():
        raise HttpError(422, "请选择申报类型（track）")
    app = services.create_draft(user=request.user, project_type=ptype, track=track, ip=_ip(request))
    return Status(201, _out(app, request.user))


@router.get("/{int:pk}", response=ApplicationOut, summary="一份申报")
def detail(request, pk: int):
    return _out(_get(request, pk), request.user)


class InputRefusedOut(Schema):
    detail: str
    errors: dict[str, list[str]]


@router.put("/{int:pk}", response={200: SaveOut, 400: InputRefusedOut, 409: ConflictOut},
            summary="保存草稿（带版本号；版本过期返回 409；表中没有的栏目或超长内容返回 400）")
def save(request, pk: int, payload: SaveIn):
    app = _get(request, pk)
    try:
        result = services.save_draft(user=request.user, application=app, values=payload.values,
                                     expected_version=payload.version, autosave=payload.autosave, ip=_ip(request))
    except services.InputRefused as exc:
        return Status(400, {"detail": exc.message, "errors": exc.errors})
    except services.Conflict as exc:
        return Status(409, {"detail": exc.message, "version": exc.version, "theirs": exc.theirs})
    return Status(200, {"version": result.application.version, "changed": result.changed, "errors": result.errors})


@router.post("/{int:pk}/submit", response={200: SubmitOut, 201: SubmitOut, 409: ConflictOut, 422: RefusedOut},
             summary="提交（幂等：重复提交返回已有版本，200）")
def submit(request, pk: int, payload: SubmitIn):
    app = _get(request, pk)
    try:
        result = services.submit(user=request.user, application=app, expected_version=payload.version, ip=_ip(request))
    except services.Refused as exc:
        return Status(422, {"detail": exc.message, "errors": exc.errors,
                            "reasons": [{"code": r.code, "message": r.message} for r in exc.reasons]})
    except services.Conflict as exc:
        return Status(409, {"detail": exc.message, "version": exc.version, "theirs": exc.theirs})
    app.refresh_from_db()
    return Status(201 if result.created else 200,
                  {"created": result.created, "status": app.status, "number": app.number,
                   "snapshot": _snap(result.snapshot)})


@router.post("/{int:pk}/withdraw", response=ApplicationOut, summary="撤回（截止前）")
def withdraw(request, pk: int, payload: WithdrawIn):
    app = _get(request, pk)
    services.withdraw(user=request.user, application=app, reason=payload.reason, ip=_ip(request))
    app.refresh_from_db()
    return _out(app, request.user)


def _printed(request, pk: int, number: int | None, fmt: str) -> HttpResponse:
    from shenbao.applications.views import attachment

    app = _get(request, pk)
    require(permissions.can_print(request.user, app))
    snap = app.current_snapshot if number is None else get_object_or_404(app.snapshots, number=number)
    if fmt == "pdf":
        response = attachment(printing.pdf(snap), selectors.print_filename(snap, "pdf"), "application/pdf")
    else:
        response = attachment(printing.docx(snap), selectors.print_filename(snap, "docx"),
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.audit_object = app  # the download is audited (core/audit_middleware.py)
    return response


@router.get("/{int:pk}/pdf", summary="打印版 PDF（默认当前提交版本）")
def pdf(request, pk: int, version: int | None = None):
    return _printed(request, pk, version, "pdf")


@router.get("/{int:pk}/docx", summary="Word 版（默认当前提交版本）")
def docx(request, pk: int, version: int | None = None):
    return _printed(request, pk, version, "docx")


@router.post("/{int:pk}/scan", response={201: ScanOut, 422: DetailOut}, summary="上传盖章扫描件（PDF/JPG/PNG ≤ 20 MB）")
def scan(request, pk: int, file: UploadedFile = File(...)):  # noqa: B008 - ninja's way to declare a file
    app = _get(request, pk)
    try:
        result = services.upload_scan(user=request.user, application=app, upload=file, ip=_ip(request))
    except services.ScanRefused as exc:
        return Status(422, {"detail": exc.message, "code": exc.code})
    s = result.scan
    return Status(201, {"id": s.pk, "verified": s.verified, "state": s.state, "method": s.method, "message": result.message})


@router.post("/{int:pk}/attachments/{key}", response={201: AttachmentOut, 422: DetailOut},
             summary="上传附件栏的文件（类型按内容识别，受该栏 accept、max_mb 限制）；草稿中以 document_id 引用")
def upload_attachment(request, pk: int, key: str, file: UploadedFile = File(...)):  # noqa: B008
    from django.urls import reverse

    app = _get(request, pk)
    try:
        row = services.upload_attachment(user=request.user, application=app, field_key=key, upload=file,
                                         ip=_ip(request))
    except services.AttachmentRefused as exc:
        return Status(422, {"detail": exc.message, "code": exc.code})
    return Status(201, {**row.ref(), "url": reverse("applications:attachment_file", args=[row.pk])})
