"""API of the expert pool and conflicts under /api/v1/review/: list, create, update experts, import and export
XLSX, the conflicts of an application or an expert with their causes, pin and lift. The same permission
functions and services as the pages (a refusal is 403 with the reason in Chinese)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status

from shenbao.applications.models import Application
from shenbao.core.decisions import NotAllowed, require
from shenbao.core.http import client_ip
from shenbao.orgs.models import Organisation, Role
from shenbao.review import conflicts, experts, permissions
from shenbao.review.api import router
from shenbao.review.models import Expert


class ExpertOut(Schema):
    id: int
    funder_id: int
    name: str
    organisation_name: str
    organisation_id: int | None
    title: str
    fields: list[str]
    keywords: list[str]
    region: str
    phone: str  # masked unless the viewer's role needs it (the funder's staff)
    email: str
    active: bool
    has_login: bool
    pledge_accepted: bool
    conflicts_declared: bool


class ExpertIn(Schema):
    name: str
    organisation_name: str
    title: str = ""
    fields: list[str] = []
    keywords: list[str] = []
    region: str = ""
    phone: str = ""
    email: str = ""


class ExpertCreateIn(ExpertIn):
    funder_id: int | None = None


class ExpertUpdateIn(ExpertIn):
    active: bool | None = None


class ProblemsOut(Schema):
    detail: str
    errors: dict[str, str]


class RowErrorOut(Schema):
    row: int
    column: str
    problem: str


class ImportOut(Schema):
    saved: bool
    created: int
    updated: int
    unchanged: int
    errors: list[RowErrorOut]
    ignored_columns: list[str]


class CauseOut(Schema):
    code: str
    text: str


class ExpertConflictOut(Schema):
    application_id: int
    application_number: str
    expert_id: int
    expert_name: str
    causes: list[CauseOut]
    lifted: list[CauseOut]


class OverrideIn(Schema):
    expert_id: int
    application_id: int
    kind: str  # pinned | lifted
    reason: str


class OverrideOut(Schema):
    id: int
    kind: str
    expert_id: int
    application_id: int | None
    organisation_id: int | None
    reason: str


def _out(e: Expert, user) -> dict:
    shown = experts.shown(e, masked=not permissions.sees_expert_phones(user, e.funder_id))
    return {"id": e.pk, "funder_id": e.funder_id, "name": e.name, "organisation_name": e.organisation_name,
            "organisation_id": e.organisation_id, "title": e.title, "fields": e.fields or [],
            "keywords": e.keywords or [], "region": e.region, "phone": shown["phone"], "email": shown["email"],
            "active": e.active, "has_login": e.user_id is not None, "pledge_accepted": e.pledge_accepted_at is not None,
            "conflicts_declared": e.conflicts_declared_at is not None}


def _funder(request, funder_id: int | None) -> Organisation:
    funders = experts.funders_of(request.user, (Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    if funder_id is not None:
        org = get_object_or_404(Organisation, pk=funder_id)
        require(permissions.can_view_experts(request.user, org))
        return org
    if not funders:
        require(permissions.can_view_experts(request.user, None))
    return funders[0]


def _expert(request, pk: int) -> Expert:
    e = get_object_or_404(Expert.objects.select_related("funder"), pk=pk)
    require(permissions.can_view_experts(request.user, e.funder_id))
    return e


def _data(payload: ExpertIn) -> dict:
    return payload.dict(exclude={"funder_id", "active"})


@router.get("/experts", response=list[ExpertOut], summary="评审专家库（可按关键字搜索）")
def list_experts(request, funder_id: int | None = None, q: str = "", active: bool | None = True):
    funder = _funder(request, funder_id)
    return [_out(e, request.user) for e in experts.pool(funder, q=q[:100], active=active)[:1000]]


@router.post("/experts", response={201: ExpertOut, 422: ProblemsOut}, summary="添加专家")
def create_expert(request, payload: ExpertCreateIn):
    funder = _funder(request, payload.funder_id)
    try:
        e = experts.create_expert(actor=request.user, funder=funder, data=_data(payload), ip=client_ip(request))
    except experts.ExpertInvalid as exc:
        return Status(422, {"detail": "；".join(exc.problems.values()), "errors": exc.problems})
    return Status(201, _out(e, request.user))


@router.get("/experts/export", summary="导出专家库（XLSX；手机号码按角色脱敏）")
def export_experts(request, funder_id: int | None = None):
    funder = _funder(request, funder_id)
    content = experts.export_xlsx(user=request.user, funder=funder, ip=client_ip(request))
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename=experts.xlsx"
    return response


@router.post("/experts/import", response={200: ImportOut, 422: ImportOut},
             summary="从 XLSX 导入专家（任何一行有错误则不保存，逐行列出行号、列和问题）")
def import_experts(request, funder_id: int | None = None, file: UploadedFile = File(...)):  # noqa: B008
    funder = _funder(request, funder_id)
    require(permissions.can_manage_experts(request.user, funder))
    if file.size > experts.MAX_BYTES:
        raise HttpError(413, "文件过大")
    result = experts.import_xlsx(actor=request.user, funder=funder, content=file.read(), ip=client_ip(request))
    body = {"saved": result.ok, "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "errors": [{"row": e.row, "column": e.column, "problem": e.problem} for e in result.errors],
            "ignored_columns": result.ignored_columns}
    return Status(200 if result.ok else 422, body)


@router.get("/experts/{int:pk}", response=ExpertOut, summary="一位专家")
def get_expert(request, pk: int):
    return _out(_expert(request, pk), request.user)


@router.put("/experts/{int:pk}", response={200: ExpertOut, 422: ProblemsOut}, summary="修改专家信息（active=false 移出专家库）")
def update_expert(request, pk: int, payload: ExpertUpdateIn):
    e = _expert(request, pk)
    try:
        e = experts.update_expert(actor=request.user, expert=e, data=_data(payload), ip=client_ip(request))
    except experts.ExpertInvalid as exc:
        return Status(422, {"detail": "；".join(exc.problems.values()), "errors": exc.problems})
    if payload.active is not None:
        e = experts.set_active(actor=request.user, expert=e, active=payload.active, ip=client_ip(request))
    return _out(e, request.user)


def _conflict_rows(apps, pool_experts) -> list[dict]:
    found = conflicts.conflicts_between(apps, pool_experts)
    raw = conflicts.conflicts_between(apps, pool_experts, lifts=False)
    rows = []
    names = {e.pk: e.name for e in pool_experts}
    numbers = {a.pk: a.number for a in apps}
    for pair in sorted(set(found) | set(raw)):
        causes = found.get(pair, [])
        lifted = [c for c in raw.get(pair, []) if c.code in conflicts.COMPUTED_CODES and c not in causes]
        if causes or lifted:
            rows.append({"application_id": pair[0], "application_number": numbers[pair[0]], "expert_id": pair[1],
                         "expert_name": names[pair[1]], "causes": [c.__dict__ for c in causes],
                         "lifted": [c.__dict__ for c in lifted]})
    return rows


@router.get("/applications/{int:pk}/conflicts", response=list[ExpertConflictOut],
            summary="一份申报需回避的专家及原因（lifted：已被工作人员解除的计算结果）")
def application_conflicts(request, pk: int):
    app = get_object_or_404(Application.objects.select_related("call"), pk=pk)
    require(permissions.can_view_experts(request.user, app.call.issuer_id))
    return _conflict_rows([app], list(experts.pool(app.call.issuer_id, active=True)))


@router.get("/experts/{int:pk}/conflicts", response=list[ExpertConflictOut], summary="一位专家需回避的申报及原因")
def expert_conflicts(request, pk: int):
    e = _expert(request, pk)
    return _conflict_rows(list(experts.reviewable_applications(e.funder_id)), [e])


@router.post("/conflicts", response={201: OverrideOut}, summary="设定（pinned）或解除（lifted）回避，须写理由")
def add_override(request, payload: OverrideIn):
    e = get_object_or_404(Expert, pk=payload.expert_id)
    require(permissions.can_manage_conflicts(request.user, e))
    app = get_object_or_404(Application, pk=payload.application_id, call__issuer_id=e.funder_id)
    service = {"pinned": conflicts.pin, "lifted": conflicts.lift}.get(payload.kind)
    if service is None:
        raise HttpError(422, "kind 须为 pinned（设定回避）或 lifted（解除回避）")
    try:
        o = service(actor=request.user, expert=e, application=app, reason=payload.reason, ip=client_ip(request))
    except NotAllowed as exc:  # the permission was checked above: this is the input (a missing reason)
        raise HttpError(422, exc.reason) from None
    return Status(201, {"id": o.pk, "kind": o.kind, "expert_id": o.expert_id, "application_id": o.application_id,
                        "organisation_id": o.organisation_id, "reason": o.reason})
