"""Plausible filled values for any form template: for the demo, the benchmark and tests that need a
complete application without caring what it says. Every value follows the form contract; checks across
fields that a generic filler cannot guess (a form's own CEL checks) may still need `overrides`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shenbao.calls import schema

PERSON = {
    "name": "张明", "position": "秘书长", "professional_title": "高级工程师", "phone": "0772-2629066",
    "mobile": "13877200001", "office_phone": "0772-2629067", "email": "zhangming@example.cn", "wechat": "zm_wx",
    "employer": "柳州市机械工程学会", "full_time": "full_time", "fax": "0772-2629068",
}


def _text_for(f: schema.FormField, org_name: str) -> str:
    if f.title:
        return "智能制造产学研协同创新服务"
    if f.key in ("applicant_unit", "unit_name", "applicant"):
        return org_name
    if "地址" in f.label:
        return "柳州市城中区文昌路1号"
    return f"{f.label}（示例）"[: f.max_chars or 100]


def _long_text(f: schema.FormField) -> str:
    base = (f"围绕{f.label}，组织专家深入企业开展技术服务与学术交流，形成可推广的工作经验，"
            "服务地方产业高质量发展。")
    text = base
    while f.min_chars and len(text) < f.min_chars:
        text += base
    return text[: f.max_chars] if f.max_chars else text


def _scalar(kind: str, f, org_name: str, cap: int | None, today: dt.date) -> Any:
    if kind == "text":
        return _text_for(f, org_name) if isinstance(f, schema.FormField) else f"{f.label}示例"
    if kind == "long_text":
        return _long_text(f) if isinstance(f, schema.FormField) else f"{f.label}示例"
    if kind == "phone":
        return "0772-2629066"
    if kind == "mobile":
        return "13877200001"
    if kind == "email":
        return "office@example.cn"
    if kind == "url":
        return "https://www.example.cn"
    if kind == "date":
        return (today + dt.timedelta(days=120)).isoformat()
    if kind == "money":
        return min(10000, cap) if cap else 10000
    if kind == "integer":
        return 120
    if kind == "number":
        return "1"
    return ""


def sample_values(*, form: schema.FormTemplate, type_doc: schema.ProjectType, org_name: str = "示例学会",
                  track: str | None = None, today: dt.date | None = None,
                  overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    from shenbao.forms.validation import APPLICANT_OPINION_BY

    today = today or dt.date.today()
    track_doc = next((t for t in type_doc.tracks if t.code == track), None) if track else None
    funding = (track_doc.funding if track_doc and track_doc.funding else None) or type_doc.funding
    cap = funding.cap if funding else None
    out: dict[str, Any] = {}
    for f in form.all_fields():
        k = f.kind
        if k in ("note", "attachment"):
            continue
        if k == "opinion":
            if f.by in APPLICANT_OPINION_BY:
                out[f.key] = {"text": "同意申报。", "signer": "李华", "date": today.isoformat()}
            continue
        if k == "choice_one":
            if f.options_from == "tracks":
                code = track or (type_doc.tracks[0].code if type_doc.tracks else None)
                if code:
                    out[f.key] = code
            elif f.options:
                out[f.key] = f.options[0].value
            continue
        if k == "choice_many":
            if f.options_from == "tracks":
                out[f.key] = [track or type_doc.tracks[0].code] if type_doc.tracks else []
            elif f.options:
                out[f.key] = [f.options[0].value]
            continue
        if k == "person":
            out[f.key] = {p: PERSON[p] for p in f.parts}
            continue
        if k == "period":
            out[f.key] = {"start": (today + dt.timedelta(days=30)).isoformat(),
                          "end": (today + dt.timedelta(days=60)).isoformat()}
            continue
        if k == "table":
            n = max(f.min_rows, 1)
            rows = []
            for i in range(n):
                row = {}
                for c in f.columns:
                    if c.kind == "money":
                        row[c.key] = 1000
                    elif c.kind == "integer":
                        row[c.key] = 10
                    elif c.kind == "text":
                        row[c.key] = f"{c.label}{i + 1}"
                    else:
                        row[c.key] = _scalar(c.kind, c, org_name, cap, today)
                rows.append(row)
            out[f.key] = rows
            continue
        out[f.key] = _scalar(k, f, org_name, cap, today)
    out.update(overrides or {})
    return out
