"""Change requests API (/api/v1/projects/…/changes): the plan versions and the requests, filing one (before the
fact, with a reason), the funder's decision. Refusals by rule are 400 with the reasons, by permission 403."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Schema
from ninja.responses import Status

from shenbao.core.http import client_ip
from shenbao.projects import changes, contracts
from shenbao.projects.api import router
from shenbao.projects.api_contracts import ContractRefusedOut, LineIO, ScheduleIO, _project, _refused
from shenbao.projects.models import ChangeRequest


class ChangeOut(Schema):
    id: int
    status: str
    changes: list[str]
    reason: str
    effective_on: dt.date
    filed_at: dt.datetime
    based_on: int
    proposed: dict
    decision_note: str
    result: int | None


class VersionOut(Schema):
    number: int
    created_at: dt.datetime
    total: int
    change_request: int | None
    budget_diff: list[tuple[str, int, int]]
    schedule_changed: bool
    content_changed: bool


class ChangesOut(Schema):
    versions: list[VersionOut]
    requests: list[ChangeOut]


class ChangeIn(Schema):
    reason: str
    effective_on: dt.date
    budget: list[LineIO] | None = None
    schedule: list[ScheduleIO] | None = None
    content: str | None = None


class DecisionIn(Schema):
    approve: bool
    note: str = ""


def _change_out(r: ChangeRequest) -> dict:
    return {"id": r.pk, "status": r.status, "changes": r.changes, "reason": r.reason, "effective_on": r.effective_on,
            "filed_at": r.filed_at, "based_on": r.based_on.number, "proposed": r.proposed,
            "decision_note": r.decision_note, "result": r.result.number if r.result_id else None}


@router.get("/{int:pk}/changes", response=ChangesOut, summary="计划版本历史与变更申请")
def list_changes(request, pk: int):
    project = _project(request, pk)
    return {"versions": [{"number": h.plan.number, "created_at": h.plan.created_at, "total": h.total,
                          "change_request": h.change.pk if h.change else None, "budget_diff": h.budget_diff,
                          "schedule_changed": h.schedule_changed, "content_changed": h.content_changed}
                         for h in changes.history(project)],
            "requests": [_change_out(r) for r in project.change_requests.select_related("based_on", "result")]}


@router.post("/{int:pk}/changes", response={200: ChangeOut, 400: ContractRefusedOut},
             summary="提交变更申请（承担单位经办人；拟生效日期须晚于申请日期，事后变更不予受理）")
def file_change(request, pk: int, payload: ChangeIn):
    project = _project(request, pk)
    try:
        row = changes.file_change(
            actor=request.user, project=project, reason=payload.reason, effective_on=payload.effective_on,
            budget=[b.dict() for b in payload.budget] if payload.budget is not None else None,
            schedule=[s.dict() for s in payload.schedule] if payload.schedule is not None else None,
            content=payload.content, ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _change_out(row))


@router.post("/changes/{int:change_id}/decision", response={200: ChangeOut, 400: ContractRefusedOut},
             summary="审批变更申请（主办方；不予批准须写理由）")
def decide(request, change_id: int, payload: DecisionIn):
    row = get_object_or_404(ChangeRequest.objects.select_related("project"), pk=change_id)
    _project(request, row.project_id)
    try:
        row = changes.decide(actor=request.user, change=row, approve=payload.approve, note=payload.note,
                             ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _change_out(ChangeRequest.objects.select_related("based_on", "result").get(pk=row.pk)))
