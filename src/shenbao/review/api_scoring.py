"""Scoring API (/api/v1/review/scoring/…): the expert's assignments, their score sheets (save a draft,
submit), staff's 退回重评 and the scores of a type as XLSX. The same permission functions and services as
the pages: a refusal is 403 with the reason in Chinese, a sheet that does not pass is 400 with an error per
criterion (and `comment`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Schema
from ninja.responses import Status

from shenbao.calls.models import Call
from shenbao.core.decisions import require
from shenbao.core.http import client_ip
from shenbao.review import permissions, scoring
from shenbao.review.api import router
from shenbao.review.models import Assignment, ScoreSheet


class CriterionOut(Schema):
    key: str
    name: str
    min: Decimal
    max: Decimal
    weight: Decimal
    description: str = ""


class SheetOut(Schema):
    assignment: int
    state: str = Field(description="none（未开始）、draft、submitted、reopened")
    values: dict[str, str]
    total: Decimal | None
    comment: str
    submitted_at: dt.datetime | None
    reopen_reason: str = ""


class TaskOut(Schema):
    assignment: int
    call: str
    type_code: str
    number: str
    title: str
    blind: bool
    scoring_deadline: dt.date | None
    closed: bool
    sheet: SheetOut


class RubricSheetOut(Schema):
    rubric: list[CriterionOut]
    comment_min_hanzi: int
    max_total: Decimal
    sheet: SheetOut


class SheetIn(Schema):
    values: dict[str, str | int | float | None] = {}
    comment: str = ""


class SheetErrorsOut(Schema):
    detail: str
    errors: dict[str, str]


class ReopenIn(Schema):
    reason: str


def _sheet_out(a: Assignment, sheet: ScoreSheet | None) -> dict:
    if sheet is None:
        return {"assignment": a.pk, "state": "none", "values": {}, "total": None, "comment": "", "submitted_at": None}
    return {"assignment": a.pk, "state": sheet.state, "values": sheet.values or {}, "total": sheet.total,
            "comment": sheet.comment, "submitted_at": sheet.submitted_at, "reopen_reason": sheet.reopen_reason}


def _assignment(request, pk: int) -> Assignment:
    a = get_object_or_404(Assignment.objects.select_related(
        "application__call", "application__project_type", "application__applicant",
        "application__current_snapshot", "expert"), pk=pk)
    require(permissions.can_read_assigned(request.user, a))
    return a


def _current(a: Assignment) -> ScoreSheet | None:
    return ScoreSheet.objects.filter(assignment=a).first()


@router.get("/scoring/assignments", response=list[TaskOut], summary="评审任务：分配给我的项目及评分表状态")
def my_tasks(request):
    require(permissions.expert_gate(request.user))
    expert = permissions.expert_of(request.user)
    return [{"assignment": r.assignment.pk, "call": r.assignment.application.call.code,
             "type_code": r.assignment.application.project_type.code, "number": r.assignment.application.number,
             "title": r.title, "blind": scoring.blind(r.assignment.application), "scoring_deadline": r.deadline,
             "closed": r.closed, "sheet": _sheet_out(r.assignment, r.sheet)} for r in scoring.bench(expert)]


@router.get("/scoring/assignments/{int:pk}/sheet", response=RubricSheetOut, summary="评分标准与我的评分表")
def get_sheet(request, pk: int):
    a = _assignment(request, pk)
    rubric = scoring.rubric_of(a.application)
    return {"rubric": [c.model_dump() for c in rubric.criteria], "comment_min_hanzi": rubric.comment_min_hanzi,
            "max_total": scoring.max_total(rubric), "sheet": _sheet_out(a, _current(a))}


@router.put("/scoring/assignments/{int:pk}/sheet", response={200: SheetOut, 400: SheetErrorsOut},
            summary="保存评分草稿（空项允许；超出分值范围或不是数字返回 400）")
def save_sheet(request, pk: int, payload: SheetIn):
    a = _assignment(request, pk)
    result = scoring.save_draft(user=request.user, assignment=a, values=payload.values, comment=payload.comment,
                                ip=client_ip(request))
    if not result.ok:
        return Status(400, {"detail": "评分未保存", "errors": result.errors})
    return Status(200, _sheet_out(a, result.sheet))


@router.post("/scoring/assignments/{int:pk}/sheet/submit", response={200: SheetOut, 400: SheetErrorsOut},
             summary="提交评分（每项在分值范围内，评审意见不少于规定汉字数；重复提交不改变什么）")
def submit_sheet(request, pk: int, payload: SheetIn):
    a = _assignment(request, pk)
    result = scoring.submit(user=request.user, assignment=a, values=payload.values, comment=payload.comment,
                            ip=client_ip(request))
    if not result.ok:
        return Status(400, {"detail": "评分未提交", "errors": result.errors})
    return Status(200, _sheet_out(a, result.sheet))


@router.post("/scoring/sheets/{int:sheet_id}/reopen", response=SheetOut, summary="退回重评（主办方业务人员，须写理由）")
def reopen_sheet(request, sheet_id: int, payload: ReopenIn):
    sheet = get_object_or_404(ScoreSheet.objects.select_related("assignment__application__call"), pk=sheet_id)
    sheet = scoring.reopen(user=request.user, sheet=sheet, reason=payload.reason, ip=client_ip(request))
    return _sheet_out(sheet.assignment, sheet)


@router.get("/scoring/calls/{code}/types/{type_code}/scores.xlsx", summary="导出评分（XLSX：每位专家每个评分项）")
def scores_xlsx(request, code: str, type_code: str):
    call = get_object_or_404(Call, code=code)
    require(permissions.can_view_scores(request.user, call))
    ptype = get_object_or_404(call.types, code=type_code)
    response = HttpResponse(scoring.scores_xlsx(call=call, project_type=ptype),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename=\"scores-{ptype.pk}.xlsx\""
    return response
