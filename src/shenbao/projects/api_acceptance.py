"""Acceptance, deferral, spot checks and closure through the API (/api/v1/projects/…), with the same
permission functions and services as the pages: a refusal is 403 with the reason in Chinese, bad input 400
with the reason (and the field)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import File, Form, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from shenbao.calls.models import Call
from shenbao.core.decisions import require
from shenbao.core.http import client_ip
from shenbao.projects import acceptance as acc
from shenbao.projects import permissions
from shenbao.projects.api import router
from shenbao.projects.models import Deferral, Project, SpotCheck, SpotCheckItem


class AcceptanceErrorOut(Schema):
    detail: str
    field: str = ""


class AcceptanceRuleOut(Schema):
    label: str
    ok: bool
    explanation: str
    key: str
    source: str


class AcceptanceTaskOut(Schema):
    index: int
    text: str
    ok: bool
    rules: list[AcceptanceRuleOut]


class AcceptanceMaterialOut(Schema):
    code: str
    name: str
    required: bool
    ok: bool
    auto: list[str]
    files: list[dict]
    explanation: str


class AcceptanceOut(Schema):
    project: int
    status: str
    due: dt.date | None
    due_text: str
    summary: str
    declared: dict
    submitted_at: dt.datetime | None
    late: bool
    result_note: str
    rectify_by: dt.date | None
    project_status: str
    tasks: list[AcceptanceTaskOut]
    materials: list[AcceptanceMaterialOut]


class AcceptanceIn(Schema):
    summary: str = ""
    declared: dict = {}


class AcceptanceDecideIn(Schema):
    result: str
    note: str = ""
    rectify_by: dt.date | None = None


class DeferralIn(Schema):
    until: dt.date
    reason: str


class DeferralDecideIn(Schema):
    approve: bool
    note: str = ""


class DeferralOut(Schema):
    id: int
    project: int
    until: dt.date
    reason: str
    status: str
    decision_note: str


class SpotCheckIn(Schema):
    call: int
    mode: str
    size: int | None = None
    seed: str = ""
    projects: list[int] = []
    reason: str = ""


class SpotItemOut(Schema):
    id: int
    project: int
    findings: str
    consequence: str
    recovery_amount: int | None
    recovery_reason: str
    recorded: bool


class SpotCheckOut(Schema):
    id: int
    call: int
    mode: str
    seed: str
    size: int
    population: list[int]
    status: str
    items: list[SpotItemOut]


class SpotFindingIn(Schema):
    findings: str
    consequence: str
    recovery_amount: int | None = None
    recovery_reason: str = ""
    rectify_by: dt.date | None = None


class DossierJobOut(Schema):
    job: int
    url: str


class ClosedProjectOut(Schema):
    id: int
    code: str
    title: str
    unit: str
    amount: int | None
    status: str
    result: str
    closed_on: dt.date | None


def _project(request, pk: int) -> Project:
    project = get_object_or_404(Project.objects.select_related("call", "project_type", "track", "applicant",
                                                               "funder"), pk=pk)
    require(permissions.can_view_project(request.user, project))
    return project


def _out(project: Project) -> dict:
    row = acc.acceptance_of(project)
    ev = acc.evidence(project)
    when = acc.due(project)
    return {
        "project": project.pk, "status": row.status if row else "draft", "due": when.date, "due_text": when.text,
        "summary": row.summary if row else "", "declared": row.declared if row else {},
        "submitted_at": row.submitted_at if row else None, "late": bool(row and row.late),
        "result_note": row.result_note if row else "", "rectify_by": row.rectify_by if row else None,
        "project_status": project.status,
        "tasks": [{"index": t.index, "text": t.text, "ok": t.ok,
                   "rules": [{"label": r.label, "ok": r.ok, "explanation": r.explanation, "key": r.key,
                              "source": r.source} for r in t.rules]}
                  for t in acc.minimums(project, row.declared if row else {}, ev)],
        "materials": [{"code": i.code, "name": i.name, "required": i.required, "ok": i.ok, "auto": i.auto,
                       "files": [{"id": f.pk, "name": f.original_name, "sha256": f.sha256} for f in i.files],
                       "explanation": i.explanation} for i in acc.checklist(project, row, ev)],
    }


def _bad(exc: acc.Refused):
    return Status(400, {"detail": exc.message, "field": exc.field})


@router.get("/{int:pk}/acceptance", response=AcceptanceOut, summary="项目验收：截止日期、任务指标核验、验收材料清单")
def get_acceptance(request, pk: int):
    return _out(_project(request, pk))


@router.put("/{int:pk}/acceptance", response={200: AcceptanceOut, 400: AcceptanceErrorOut},
            summary="保存单位填报的任务完成数和总结")
def put_acceptance(request, pk: int, payload: AcceptanceIn):
    project = _project(request, pk)
    try:
        acc.save_acceptance(user=request.user, project=project, summary=payload.summary, declared=payload.declared,
                            ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    return _out(project)


@router.post("/{int:pk}/acceptance/files", response={201: AcceptanceMaterialOut, 400: AcceptanceErrorOut}, summary="上传验收材料")
def upload_material(request, pk: int, code: Form[str], file: File[UploadedFile]):
    project = _project(request, pk)
    try:
        acc.upload_material(user=request.user, project=project, code=code, upload=file, ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    item = next(i for i in _out(project)["materials"] if i["code"] == code)
    return Status(201, item)


@router.post("/{int:pk}/acceptance/submit", response={200: AcceptanceOut, 400: AcceptanceErrorOut}, summary="提交验收")
def submit(request, pk: int):
    project = _project(request, pk)
    try:
        acc.submit_acceptance(user=request.user, project=project, ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    return _out(project)


@router.post("/{int:pk}/acceptance/decide", response={200: AcceptanceOut, 400: AcceptanceErrorOut},
             summary="验收结论：pass（通过）、rectify（限期整改，须给出 rectify_by）、fail（不通过）")
def decide(request, pk: int, payload: AcceptanceDecideIn):
    project = _project(request, pk)
    row = acc.acceptance_of(project)
    if row is None:
        return Status(400, {"detail": "尚未提交验收", "field": ""})
    require(permissions.can_decide_acceptance(request.user, row))
    try:
        acc.decide_acceptance(user=request.user, acceptance=row, result=payload.result, note=payload.note,
                              rectify_by=payload.rectify_by, ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    project.refresh_from_db()
    return _out(project)


def _deferral_out(d: Deferral) -> dict:
    return {"id": d.pk, "project": d.project_id, "until": d.until, "reason": d.reason, "status": d.status,
            "decision_note": d.decision_note}


@router.post("/{int:pk}/deferrals", response={201: DeferralOut, 400: AcceptanceErrorOut}, summary="申请延期验收（R-P8）")
def request_deferral(request, pk: int, payload: DeferralIn):
    project = _project(request, pk)
    try:
        d = acc.request_deferral(user=request.user, project=project, until=payload.until, reason=payload.reason,
                                 ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    return Status(201, _deferral_out(d))


@router.post("/deferrals/{int:pk}/decide", response={200: DeferralOut, 400: AcceptanceErrorOut}, summary="审批延期验收申请")
def decide_deferral(request, pk: int, payload: DeferralDecideIn):
    d = get_object_or_404(Deferral.objects.select_related("project"), pk=pk)
    _project(request, d.project_id)
    try:
        d = acc.decide_deferral(user=request.user, deferral=d, approve=payload.approve, note=payload.note,
                                ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    return _deferral_out(d)


def _spot_out(check: SpotCheck) -> dict:
    return {"id": check.pk, "call": check.call_id, "mode": check.mode, "seed": check.seed, "size": check.size,
            "population": check.population, "status": check.status,
            "items": [{"id": i.pk, "project": i.project_id, "findings": i.findings, "consequence": i.consequence,
                       "recovery_amount": i.recovery_amount, "recovery_reason": i.recovery_reason,
                       "recorded": i.recorded_at is not None} for i in check.items.all()]}


@router.post("/spot-checks", response={201: SpotCheckOut, 400: AcceptanceErrorOut},
             summary="抽查（R-P5）：random 随机抽取 size 个（记录随机种子），targeted 定向抽查 projects（须写明理由）")
def draw(request, payload: SpotCheckIn):
    call = get_object_or_404(Call.objects.select_related("issuer"), pk=payload.call)
    try:
        check = acc.draw_spot_check(user=request.user, call=call, mode=payload.mode, size=payload.size,
                                    seed=payload.seed, project_ids=payload.projects, reason=payload.reason,
                                    ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    return Status(201, _spot_out(check))


@router.get("/spot-checks/{int:pk}", response=SpotCheckOut, summary="一次抽查及其结果")
def get_spot_check(request, pk: int):
    check = get_object_or_404(SpotCheck.objects.select_related("call__issuer"), pk=pk)
    require(permissions.can_spot_check(request.user, check.call))
    return _spot_out(check)


@router.post("/spot-check-items/{int:pk}", response={200: SpotItemOut, 400: AcceptanceErrorOut},
             summary="记录抽查发现和处理结果（追回经费须写明金额和原因）")
def finding(request, pk: int, payload: SpotFindingIn):
    item = get_object_or_404(SpotCheckItem.objects.select_related("spot_check__call__issuer"), pk=pk)
    require(permissions.can_spot_check(request.user, item.spot_check.call))
    try:
        item = acc.record_finding(user=request.user, item=item, findings=payload.findings,
                                  consequence=payload.consequence, recovery_amount=payload.recovery_amount,
                                  recovery_reason=payload.recovery_reason, rectify_by=payload.rectify_by,
                                  ip=client_ip(request))
    except acc.Refused as exc:
        return _bad(exc)
    return {"id": item.pk, "project": item.project_id, "findings": item.findings, "consequence": item.consequence,
            "recovery_amount": item.recovery_amount, "recovery_reason": item.recovery_reason, "recorded": True}


@router.post("/{int:pk}/dossier", response={202: DossierJobOut}, summary="生成结题项目档案（ZIP，后台任务）")
def dossier(request, pk: int):
    project = _project(request, pk)
    job = acc.start_dossier(user=request.user, project=project)
    return Status(202, {"job": job.pk, "url": f"/api/v1/jobs/{job.pk}"})


@router.get("/closed", response=list[ClosedProjectOut], summary="本主办方的结题项目（可按 call 筛选）")
def closed(request, call: int | None = None):
    from shenbao.orgs.models import Organisation

    org_ids = set(request.user.roles.filter(role__in=permissions.FUNDER_ROLES).values_list("organisation_id", flat=True))
    out = []
    for funder in Organisation.objects.filter(pk__in=org_ids):
        c = Call.objects.filter(pk=call, issuer=funder).first() if call else None
        if call and c is None:
            continue
        for r in acc.closed_projects(funder, c):
            p = r["project"]
            out.append({"id": p.pk, "code": p.code, "title": p.title, "unit": p.applicant.name, "amount": p.amount,
                        "status": p.status, "result": r["result"], "closed_on": r["closed_on"]})
    return out
