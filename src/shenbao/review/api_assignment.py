"""Assignment API (/api/v1/review/assignment/…): run the automatic assignment of a call (a background job,
followed at /api/v1/jobs/{id}), read the result (objective, bound, each application's experts with affinity
and conflicts), add, remove (with a reason) and swap by hand. The same permission functions and services as
the pages: a refusal (a conflicted pair among them) is 403 with the reason in Chinese."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Schema

from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.core.decisions import NotAllowed, require
from shenbao.core.http import client_ip
from shenbao.review import assignment, permissions
from shenbao.review.api import router
from shenbao.review.models import Assignment, AssignmentRun, Expert


class RunIn(Schema):
    type_code: str | None = None


class AssignmentJobOut(Schema):
    job: int
    url: str


class RunOut(Schema):
    id: int
    state: str
    type_code: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    experts_per_application: int
    max_load: int
    outside_region: bool
    applications: int
    experts: int
    conflicts: int
    assigned: int
    kept: int
    replaced: int
    objective: float | None
    bound: float | None
    message: str
    problem_applications: list[int]


class AssignmentOut(Schema):
    id: int
    application: int
    expert: int
    expert_name: str
    source: str
    affinity: float
    created_at: dt.datetime
    removed_at: dt.datetime | None = None
    removed_reason: str = ""
    conflicts: list[str] = []


class ApplicationAssignmentsOut(Schema):
    application: int
    number: str
    title: str
    type_code: str
    experts: list[AssignmentOut]


class OverviewOut(Schema):
    call: str
    experts_per_application: int
    max_load: int
    outside_region: bool
    latest_run: RunOut | None
    applications: list[ApplicationAssignmentsOut]


class AddIn(Schema):
    application: int
    expert: int
    reason: str = ""


class RemoveIn(Schema):
    reason: str


class SwapIn(Schema):
    expert: int
    reason: str


def _run_out(r: AssignmentRun) -> dict:
    return {"id": r.pk, "state": r.state, "type_code": r.project_type.code if r.project_type_id else None,
            "created_at": r.created_at, "finished_at": r.finished_at,
            "experts_per_application": r.experts_per_application, "max_load": r.max_load,
            "outside_region": r.outside_region, "applications": r.applications, "experts": r.experts,
            "conflicts": r.conflicts, "assigned": r.assigned, "kept": r.kept, "replaced": r.replaced,
            "objective": r.objective, "bound": r.bound, "message": r.message,
            "problem_applications": r.problem_applications or []}


def _a_out(a: Assignment) -> dict:
    return {"id": a.pk, "application": a.application_id, "expert": a.expert_id, "expert_name": a.expert.name,
            "source": a.source, "affinity": a.affinity, "created_at": a.created_at, "removed_at": a.removed_at,
            "removed_reason": a.removed_reason,
            "conflicts": [c.text for c in getattr(a, "conflict_causes", [])]}


def _call(code: str) -> Call:
    return get_object_or_404(Call, code=code)


def _ptype(call: Call, type_code: str | None):
    if not type_code:
        return None
    ptype = call.types.filter(code=type_code).first()
    if ptype is None:
        raise NotAllowed("该通知没有此项目类型")
    return ptype


@router.post("/assignment/calls/{code}/run", response=AssignmentJobOut,
             summary="自动分配评审专家（后台任务；进度见 /api/v1/jobs/{id}）")
def run(request, code: str, payload: RunIn):
    call = _call(code)
    job = assignment.start_run(actor=request.user, call=call, project_type=_ptype(call, payload.type_code),
                               ip=client_ip(request))
    return {"job": job.pk, "url": job.get_absolute_url()}


@router.get("/assignment/calls/{code}", response=OverviewOut, summary="分配结果：每份申报的专家、匹配度与回避")
def overview(request, code: str, type_code: str | None = None):
    call = _call(code)
    require(permissions.can_see_assignment(request.user, call))
    data = assignment.overview(call, _ptype(call, type_code))
    cfg = data["settings"]
    return {"call": call.code, "experts_per_application": cfg.k, "max_load": cfg.max_load,
            "outside_region": cfg.outside_region,
            "latest_run": _run_out(data["latest"]) if data["latest"] else None,
            "applications": [{"application": r["application"].pk, "number": r["application"].number,
                              "title": r["application"].title, "type_code": r["application"].project_type.code,
                              "experts": [_a_out(a) for a in r["assignments"]]} for r in data["applications"]]}


@router.get("/assignment/calls/{code}/runs", response=list[RunOut], summary="自动分配记录（目标值与上界，或无法分配的原因）")
def runs(request, code: str):
    call = _call(code)
    require(permissions.can_see_assignment(request.user, call))
    return [_run_out(r) for r in AssignmentRun.objects.filter(call=call).select_related("project_type")[:50]]


def _expert_of(call: Call, pk: int) -> Expert:
    expert = Expert.objects.filter(pk=pk, funder_id=call.issuer_id).first()
    if expert is None:
        raise NotAllowed("该专家不在本通知主办方的专家库中")
    return expert


@router.post("/assignment/assignments", response=AssignmentOut, summary="人工增加一位评审专家（回避关系一律拒绝）")
def add(request, payload: AddIn):
    app = get_object_or_404(Application.objects.select_related("call"), pk=payload.application)
    require(permissions.can_adjust_assignment(request.user, app.call))
    row = assignment.add(actor=request.user, application=app, expert=_expert_of(app.call, payload.expert),
                         reason=payload.reason, ip=client_ip(request))
    return _a_out(row)


def _assignment(pk: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("application__call", "expert"), pk=pk)


@router.post("/assignment/assignments/{int:pk}/remove", response=AssignmentOut, summary="移除一位评审专家（须写理由，记录保留）")
def remove(request, pk: int, payload: RemoveIn):
    row = assignment.remove(actor=request.user, assignment=_assignment(pk), reason=payload.reason,
                            ip=client_ip(request))
    return _a_out(row)


@router.post("/assignment/assignments/{int:pk}/swap", response=AssignmentOut, summary="替换评审专家（须写理由；回避关系一律拒绝）")
def swap(request, pk: int, payload: SwapIn):
    row = _assignment(pk)
    require(permissions.can_adjust_assignment(request.user, row.application.call))
    new = assignment.swap(actor=request.user, assignment=row, expert=_expert_of(row.application.call, payload.expert),
                          reason=payload.reason, ip=client_ip(request))
    return _a_out(new)
