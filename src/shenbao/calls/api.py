"""The public calls API: published calls, their project types, tracks, quotas and money (yuan)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Router, Schema
from ninja.errors import HttpError

from shenbao.calls import schema, selectors
from shenbao.calls.models import Call

router = Router(tags=["calls"])

Phase = Literal["open", "upcoming", "closed"]


class IssuerOut(Schema):
    name: str
    short_name: str = ""
    level: str
    region: str = ""


class QuotaOut(Schema):
    kind: Literal["exactly", "at_most", "about", "range", "unstated"]
    n: int | None = None
    min: int | None = None
    max: int | None = None
    text: str = Field(description="计划立项数量，如“2个”“不超过3个”；通知未写明（unstated）时为空")


class TierOut(Schema):
    label: str
    amount: int


class FundingOut(Schema):
    kind: Literal["fixed", "range", "cap", "pool", "tiered", "by_review"]
    amount: int | None = Field(None, description="元")
    min: int | None = Field(None, description="元")
    max: int | None = Field(None, description="元")
    total: int | None = Field(None, description="元，该类型计划总额")
    cap: int | None = Field(None, description="单项最多可申请的经费（元）")
    tiers: list[TierOut] = []
    text: str = Field(description="经费额度，如“1—2万元/个”")


class CallTrackOut(Schema):
    code: str
    name: str
    quota: QuotaOut | None = None
    funding: FundingOut | None = None


class ProjectTypeOut(Schema):
    code: str
    name: str
    group: str = ""
    kind: Literal["standard", "post_funded", "commissioned", "continued"]
    quota: QuotaOut | None = None
    funding: FundingOut | None = None
    tracks: list[CallTrackOut] = []
    eligible_categories: list[str] = Field(description="可申报的单位类别代码（含其下级类别）")
    eligible: list[str] = Field(description="申报单位（通知原文的称谓）")
    named_applicants: list[str] = []
    completion_by: dt.date | None = None
    form: str | None = Field(None, description="申报表代码")


class CallSummaryOut(Schema):
    id: int
    code: str
    title: str
    document_number: str = ""
    issuer: IssuerOut
    programme: str
    year: int
    published_on: dt.date | None = None
    opens_at: dt.datetime | None = Field(None, description="ISO 8601，北京时间（+08:00）")
    deadline: dt.datetime = Field(description="ISO 8601，北京时间（+08:00）")
    deadline_is_placeholder: bool = Field(
        False, description="true：通知未写明截止时间，deadline 为暂定时间，以主办方公布为准")
    phase: Phase
    url: str


class CallOut(CallSummaryOut):
    addressees: str = ""
    summary: str = ""
    max_applications_per_unit: int | None = None
    project_types: list[ProjectTypeOut]


class ErrorOut(Schema):
    detail: str


def _quota(q: schema.Quota | None) -> dict | None:
    if q is None:
        return None
    return {"kind": q.kind, "n": q.n, "min": q.min, "max": q.max, "text": q.text()}


def _funding(f: schema.Funding | None) -> dict | None:
    if f is None:
        return None
    return {"kind": f.kind, "amount": f.amount, "min": f.min, "max": f.max, "total": f.total, "cap": f.cap,
            "tiers": [{"label": t.label, "amount": t.amount} for t in f.tiers], "text": f.text()}


def _summary(call: Call) -> dict:
    issuer = call.document.issuer
    opens = selectors.opens_local(call)
    return {
        "id": call.pk, "code": call.code, "title": call.title, "document_number": call.document_number,
        "issuer": {"name": issuer.name, "short_name": issuer.short_name, "level": issuer.level,
                   "region": issuer.region},
        "programme": call.programme, "year": call.year, "published_on": call.published_on,
        # explicit: the notice's own zone, whatever TIME_ZONE the server runs with
        "opens_at": opens, "deadline": selectors.deadline_local(call),
        "deadline_is_placeholder": call.document.deadline_placeholder,
        "phase": call.phase, "url": f"/calls/{call.code}/",
    }


def _detail(call: Call) -> dict:
    document = call.document
    names = selectors.call_category_names(document)
    types = []
    for t in document.project_types:
        elig = document.effective(t, "eligibility")
        codes: list[str] = []
        for g in (elig.groups if elig and elig.groups else []):
            codes.extend(c for c in g.categories if c not in codes)
        types.append({
            "code": t.code, "name": t.name, "group": t.group, "kind": t.kind,
            "quota": _quota(t.quota), "funding": _funding(t.funding),
            "tracks": [{"code": tr.code, "name": tr.name, "quota": _quota(tr.quota),
                        "funding": _funding(tr.funding or t.funding)} for tr in t.tracks],
            "eligible_categories": codes,
            "eligible": selectors.who_may_apply(document, t, names),
            "named_applicants": [a.name for a in t.named_applicants],
            "completion_by": document.effective(t, "completion_by"),
            "form": t.form,
        })
    return {**_summary(call), "addressees": document.addressees, "summary": document.summary,
            "max_applications_per_unit": document.max_applications_per_unit, "project_types": types}


@router.get("", response=list[CallSummaryOut], summary="已发布的申报通知",
            description="可按发文单位（全称或简称）和阶段（open 申报中 / upcoming 即将开始 / closed 已截止）筛选。")
def list_calls(request, issuer: str | None = None, phase: Phase | None = None):
    return [_summary(c) for c in selectors.filter_calls(issuer=issuer, phase=phase)]


@router.get("/{key}", response={200: CallOut, 404: ErrorOut}, summary="一个申报通知",
            description="按编号（数字 id）或通知代码查询；未发布的通知不公开（404）。")
def get_call(request, key: str):
    call = selectors.get_call(key, published_only=True)
    if call is None:
        raise HttpError(404, f"没有这个申报通知：{key}")
    return _detail(call)
