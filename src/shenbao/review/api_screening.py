"""形式审查 in the API (/api/v1/review/screening/…): the queue of a call, one application's checks and the
decisions, with the same permission functions and services as the pages (a refusal is 403 with the reason
in Chinese)."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from ninja import Field, Schema
from ninja.errors import HttpError

from shenbao.applications import selectors as application_selectors
from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.core.decisions import require
from shenbao.core.http import client_ip
from shenbao.review import permissions, screening
from shenbao.review.api import router
from shenbao.review.models import Screening


class CheckOut(Schema):
    key: str
    label: str
    status: str = Field(description="passed / failed / na（不适用）/ info（供参考）")
    text: str


class ScreeningOut(Schema):
    application_id: int
    number: str
    applicant: str
    title: str
    type_code: str
    submitted_at: dt.datetime | None
    version: int | None
    state: str
    state_label: str
    reason: str
    department_by: str | None
    decided_by: str | None
    checked_at: dt.datetime | None
    checks: list[CheckOut]


class QueueOut(Schema):
    call: str
    levels: list[str]
    count: int
    page: int
    pages: int
    items: list[ScreeningOut]


class ScreeningCallOut(Schema):
    call: str
    title: str
    levels: list[str]
    counts: dict[str, int]


class AcceptIn(Schema):
    opinion: str = ""


class ReturnIn(Schema):
    reason: str
    new_deadline: dt.datetime


class RejectIn(Schema):
    reason: str


class BatchIn(Schema):
    action: str = Field(description="accept 或 reject")
    application_ids: list[int]
    reason: str = ""


class BatchOut(Schema):
    done: list[int]
    refused: dict[int, str]


def _out(s: Screening, user) -> ScreeningOut:
    app = application_selectors.as_submitted(s.application, user)
    return ScreeningOut(
        application_id=app.pk, number=app.number, applicant=app.applicant.name, title=app.title,
        type_code=app.project_type.code, submitted_at=app.submitted_at,
        version=s.snapshot.number if s.snapshot_id and s.snapshot else None, state=s.state,
        state_label=str(s.get_state_display()), reason=s.reason,
        department_by=s.department_by.get_username() if s.department_by_id else None,
        decided_by=s.decided_by.get_username() if s.decided_by_id else None, checked_at=s.checked_at,
        checks=[CheckOut(key=c["key"], label=c["label"], status=c["status"], text=c["text"]) for c in s.checks])


def _call(request, code: str) -> Call:
    call = get_object_or_404(Call.objects.select_related("issuer"), code=code)
    require(permissions.can_screen_call(request.user, call))
    return call


def _row(request, code: str, app_id: int) -> Screening:
    call = _call(request, code)
    app = get_object_or_404(Application.objects.select_related("call", "call__issuer"), pk=app_id, call=call)
    reached = app.current_snapshot_id is not None and app.status not in ("draft", "awaiting_endorsement", "discarded")
    if not reached and not Screening.objects.filter(application=app).exists():
        raise HttpError(404, "该申报尚未报送主办方")
    return screening.screening_of(user=request.user, application=app)


def _fresh(request, row: Screening) -> ScreeningOut:
    row = (Screening.objects.select_related("application", "application__applicant", "application__project_type",
                                            "application__track", "application__current_snapshot", "snapshot",
                                            "department_by", "decided_by").get(pk=row.pk))
    return _out(row, request.user)


@router.get("/screening/calls", response=list[ScreeningCallOut], summary="形式审查：本主办方的通知及各状态数量")
def screening_calls(request):
    require(permissions.can_see_screening(request.user))
    return [ScreeningCallOut(call=c["call"].code, title=c["call"].title, levels=c["levels"], counts=c["counts"])
            for c in screening.funder_calls(request.user)]


@router.get("/screening/{code}", response=QueueOut, summary="形式审查：一个通知的审查队列（可按项目类型、状态筛选）")
def screening_queue(request, code: str, type_id: int | None = None, state: str = "", q: str = "", page: int = 1):
    call = _call(request, code)
    screening.open_queue(user=request.user, call=call)
    qs = screening.queue(user=request.user, call=call, type_id=type_id, state=state, q=q[:100]).select_related(
        "snapshot")
    paginator = Paginator(qs, screening.PAGE_SIZE)
    current = paginator.get_page(page)
    return QueueOut(call=call.code, levels=permissions.screening_levels(call), count=paginator.count,
                    page=current.number, pages=paginator.num_pages,
                    items=[_out(s, request.user) for s in current.object_list])


@router.get("/screening/{code}/{int:app_id}", response=ScreeningOut, summary="形式审查：一份申报（自动检查即时重算）")
def screening_detail(request, code: str, app_id: int):
    row = _row(request, code, app_id)
    if row.application.status == "submitted" and row.snapshot_id == row.application.current_snapshot_id:
        screening.refresh_checks(screening=row)
    return _fresh(request, row)


@router.post("/screening/{code}/{int:app_id}/accept", response=ScreeningOut,
             summary="形式审查通过（两级审查时：初审通过，或领导审核通过）")
def screening_accept(request, code: str, app_id: int, payload: AcceptIn):
    row = _row(request, code, app_id)
    screening.accept(user=request.user, screening=row, opinion=payload.opinion, ip=client_ip(request))
    return _fresh(request, row)


@router.post("/screening/{code}/{int:app_id}/return", response=ScreeningOut, summary="退回修改（理由与新的截止时间）")
def screening_return(request, code: str, app_id: int, payload: ReturnIn):
    row = _row(request, code, app_id)
    screening.return_for_revision(user=request.user, screening=row, reason=payload.reason,
                                  new_deadline=payload.new_deadline, ip=client_ip(request))
    return _fresh(request, row)


@router.post("/screening/{code}/{int:app_id}/reject", response=ScreeningOut, summary="不予受理（理由；申报保留）")
def screening_reject(request, code: str, app_id: int, payload: RejectIn):
    row = _row(request, code, app_id)
    screening.reject(user=request.user, screening=row, reason=payload.reason, ip=client_ip(request))
    return _fresh(request, row)


@router.post("/screening/{code}/batch", response=BatchOut, summary="批量通过或不予受理（每份申报单独记录）")
def screening_batch(request, code: str, payload: BatchIn):
    call = _call(request, code)
    result = screening.batch(user=request.user, call=call, application_ids=payload.application_ids,
                             action=payload.action, reason=payload.reason, ip=client_ip(request))
    return BatchOut(done=result.done, refused=result.refused)
