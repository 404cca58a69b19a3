"""The API of ranking, selection and confirmation (/api/v1/review/…): the same permissions and services as
the pages (review/views_selection.py); a refusal is 403 with the reason in Chinese."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Schema
from ninja.responses import Status

from shenbao.calls.models import Call
from shenbao.core.decisions import require
from shenbao.review import permissions, selection, selectors
from shenbao.review.api import router
from shenbao.review.models import Confirmation, Decision


class GroupOut(Schema):
    key: str
    label: str
    count_min: int
    count_max: int | None
    pool: int | None = Field(None, description="资金总额（元）")


class SelectionRowOut(Schema):
    application_id: int
    number: str
    applicant: str
    track: str | None
    sheets: int
    sheets_needed: int
    score: Decimal | None = Field(None, description="评审得分；评分未完成时为空")
    rank: int | None = Field(None, description="在名额范围（申报类型或项目类型）内的排名")
    decision_id: int | None
    state: str | None = Field(None, description="proposed（拟立项）/ not_selected（未入选）…")
    amount: int | None
    tie: bool
    explanation: str
    amount_rule: str


class TypeSelectionOut(Schema):
    type_code: str
    type_name: str
    groups: list[GroupOut]
    rows: list[SelectionRowOut]
    problems: list[str]
    warnings: list[str]


class ConfirmationOut(Schema):
    id: int
    party: str
    by: str
    at: dt.datetime
    note: str
    revoked_at: dt.datetime | None
    revoke_reason: str


class SelectionOut(Schema):
    call: str
    types: list[TypeSelectionOut]
    confirmations: list[ConfirmationOut]
    missing: list[str] = Field(description="公示前尚缺的确认；为空即已确认")


class SelectionJobOut(Schema):
    job: int
    url: str


class AmountIn(Schema):
    amount: int
    reason: str = ""


class MoveIn(Schema):
    selected: bool
    reason: str
    amount: int | None = None


class SelectionConfirmIn(Schema):
    party: str = Field(description="funder 或 finance")
    note: str = ""


class RevokeIn(Schema):
    reason: str


class DecisionOut(Schema):
    id: int
    application_id: int
    state: str
    amount: int | None
    explanation: str
    source: str


def _call(user, code: str) -> Call:
    call = get_object_or_404(Call.objects.select_related("issuer"), code=code)
    require(permissions.can_view_selection(user, call))
    return call


def _type_out(tv) -> TypeSelectionOut:
    rows = []
    for row, entry, d in tv.rows:
        app = row.application
        rows.append(SelectionRowOut(application_id=app.pk, number=app.number, applicant=app.applicant.name,
                           track=row.track_code, sheets=row.sheets, sheets_needed=row.needed, score=row.score,
                           rank=entry.group_rank, decision_id=d.pk if d else None, state=d.state if d else None,
                           amount=d.amount if d else None, tie=bool(d and d.tie),
                           explanation=d.explanation if d else row.status_text, amount_rule=entry.rule.basis))
    return TypeSelectionOut(type_code=tv.project_type.code, type_name=tv.project_type.name,
                            groups=[GroupOut(key=g.key, label=g.label, count_min=g.count_lo, count_max=g.count_hi,
                                             pool=g.pool) for g in tv.groups],
                            rows=rows, problems=tv.problems, warnings=tv.warnings)


def _confirmation_out(c: Confirmation) -> ConfirmationOut:
    return ConfirmationOut(id=c.pk, party=c.party, by=str(c.by), at=c.at, note=c.note, revoked_at=c.revoked_at,
                           revoke_reason=c.revoke_reason)


def _decision_out(d: Decision) -> DecisionOut:
    return DecisionOut(id=d.pk, application_id=d.application_id, state=d.state, amount=d.amount,
                       explanation=d.explanation, source=d.source)


@router.get("/selection/{code}", response=SelectionOut, summary="评审排名与立项建议（各项目类型）及确认情况")
def selection_of(request, code: str):
    call = _call(request.user, code)
    types = [_type_out(selectors.selection_view(call, t)) for t in selection.iter_types(call)]
    confirmations = [_confirmation_out(c) for c in Confirmation.objects.filter(call=call).select_related("by")]
    return SelectionOut(call=call.code, types=types, confirmations=confirmations,
                        missing=selectors.confirmation_missing(call))


@router.post("/selection/{code}/types/{type_code}/proposal", response={202: SelectionJobOut},
             summary="生成立项建议（CP-SAT，后台任务；进度与结果见 /api/v1/jobs/{id}）")
def propose(request, code: str, type_code: str):
    call = _call(request.user, code)
    ptype = get_object_or_404(call.types, code=type_code)
    job = selection.start_proposal(user=request.user, call=call, project_type=ptype)
    return Status(202, SelectionJobOut(job=job.pk, url=f"/api/v1/jobs/{job.pk}"))


@router.get("/selection/{code}/types/{type_code}/xlsx", summary="排名与立项建议（XLSX）")
def export_xlsx(request, code: str, type_code: str):
    from shenbao.review import exports_selection

    call = _call(request.user, code)
    ptype = get_object_or_404(call.types, code=type_code)
    content = exports_selection.xlsx(user=request.user, call=call, project_type=ptype)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="selection-{call.code}-{ptype.code}.xlsx"'
    return response


def _decision(user, pk: int) -> Decision:
    d = get_object_or_404(Decision.objects.select_related("application", "application__call",
                                                          "application__project_type"), pk=pk)
    require(permissions.can_view_selection(user, d.application.call))
    return d


@router.post("/decisions/{pk}/amount", response=DecisionOut, summary="设定资助金额（须符合经费规则与资金总额）")
def set_amount(request, pk: int, payload: AmountIn):
    d = selection.set_amount(user=request.user, decision=_decision(request.user, pk), amount=payload.amount,
                             reason=payload.reason)
    return _decision_out(d)


@router.post("/decisions/{pk}/move", response=DecisionOut, summary="人工调入或调出（须填写理由）")
def move(request, pk: int, payload: MoveIn):
    d = selection.move(user=request.user, decision=_decision(request.user, pk), selected=payload.selected,
                       reason=payload.reason, amount=payload.amount)
    return _decision_out(d)


@router.post("/selection/{code}/confirmations", response=ConfirmationOut, summary="确认评审结果（R-V1）")
def confirm(request, code: str, payload: SelectionConfirmIn):
    call = get_object_or_404(Call.objects.select_related("issuer"), code=code)
    return _confirmation_out(selection.confirm(user=request.user, call=call, party=payload.party, note=payload.note))


@router.post("/confirmations/{pk}/revoke", response=ConfirmationOut, summary="撤销确认（须填写理由）")
def revoke(request, pk: int, payload: RevokeIn):
    c = get_object_or_404(Confirmation.objects.select_related("call", "call__issuer"), pk=pk)
    return _confirmation_out(selection.revoke_confirmation(user=request.user, confirmation=c, reason=payload.reason))
