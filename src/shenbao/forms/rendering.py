"""Server-rendered application forms (附表 / 申报书) and the parsing of their POST.

    render_form(*, form, values, errors, call_doc=None, type_doc=None, editable=True) -> SafeString
    parse_post(*, form, data) -> dict          # raw values, as typed; `validation.validate` cleans them

`render_form` returns the fields only (no <form> element, no buttons, no CSRF token): the page wraps them in

    <form method="post" enctype="multipart/form-data" novalidate data-sb-autosave="{autosave url}">
      {% csrf_token %}<input type="hidden" name="version" value="{{ application.version }}">
      {{ form_html }}
      <p class="sb-autosave" data-sb-autosave-status aria-live="polite"></p>
      <button class="btn" name="action" value="save">保存</button> …
    </form>

and loads the assets with `{% include "forms/_assets.html" %}` in `{% block head %}` (see forms.js for
the autosave protocol). Input names: `f-<key>`, `f-<key>-<part>` (person parts, period start/end,
opinion text/signer/date, attachment name/document_id), `f-<key>-<row>-<column>` (table cells), and the
attachment's file input is `f-<key>` (the upload itself is the application's).

`values` may be clean (as stored: money int yuan, shown in the field's unit) or raw (as typed, shown as
typed), so a form re-rendered with the POSTed values after an error keeps every typed character:
`validate(values=parse_post(render_form(values=v)…)).cleaned == v` for clean `v`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shenbao.calls.schema import Column, FormField, FormTemplate, ProjectType
from shenbao.forms.validation import (
    APPLICANT_OPINION_BY,
    FULL_TIME_VALUES,
    PART_LABELS,
    WAN,
    all_fields,
    find_track,
    format_decimal,
    funding_cap,
    is_blank,
    money_display,
    parse_money,
    unit_label,
    wan_text,
)

BY_LABELS = {
    "applicant": gettext_lazy("申报单位"),
    "unit_head": gettext_lazy("单位负责人"),
    "project_lead": gettext_lazy("项目负责人"),
    "society": gettext_lazy("学会"),
    "journal_editor": gettext_lazy("期刊负责人"),
    "leading_doctor": gettext_lazy("领衔博士"),
    "host_unit": gettext_lazy("建站单位"),
    "home_association": gettext_lazy("属地科协"),
    "university_association": gettext_lazy("高校科协"),
    "home_or_university_association": gettext_lazy("属地市科协或高校科协"),
    "finance": gettext_lazy("财政（财务）部门"),
    "funder_department": gettext_lazy("主办方业务部门"),
    "funder_leadership": gettext_lazy("主办方领导"),
}
FULL_TIME_LABELS = {"full_time": "专职", "part_time": "兼职"}
ACCEPT = {"pdf": ".pdf", "doc": ".doc", "docx": ".docx", "jpg": ".jpg,.jpeg", "png": ".png", "xls": ".xls",
          "xlsx": ".xlsx", "zip": ".zip"}
ROW_PLACEHOLDER = "__ROW__"


# --- display values ------------------------------------------------------------------------------------


def display_scalar(kind: str, value: Any, unit: str = "yuan") -> str:
    """The text an input shows: clean values in the display unit, raw text as typed."""
    if value is None:
        return ""
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return money_display(value, unit)
    if isinstance(value, list | tuple | dict):
        return ""
    return str(value)


def _input_attrs(kind: str, value: str = "") -> dict:
    """type / inputmode / autocomplete of an input for a scalar kind (no browser validation: the server's
    Chinese messages stand beside the field)."""
    if kind in ("phone", "mobile"):
        return {"type": "tel", "inputmode": "tel", "autocomplete": "tel"}
    if kind == "email":
        return {"type": "text", "inputmode": "email", "autocomplete": "email"}
    if kind == "url":
        return {"type": "text", "inputmode": "url", "autocomplete": "url"}
    if kind == "date":
        iso = not value or re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
        return {"type": "date" if iso else "text", "inputmode": "", "autocomplete": "off"}
    if kind in ("money", "number"):
        return {"type": "text", "inputmode": "decimal", "autocomplete": "off"}
    if kind == "integer":
        return {"type": "text", "inputmode": "numeric", "autocomplete": "off"}
    return {"type": "text", "inputmode": "", "autocomplete": "off"}


def _column_header(c: Column) -> str:
    if c.kind == "money" and "元" not in c.label:
        return f"{c.label}（{unit_label(c.unit)}）"
    return c.label


def _textarea_rows(f: FormField, text: str) -> int:
    base = 6
    if f.max_chars:
        base = max(3, min(14, f.max_chars // 70))
    return max(base, min(24, text.count("\n") + 2))


# --- the builder -----------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, *, form: FormTemplate, values: dict, errors: dict, call_doc, type_doc: ProjectType | None,
                 editable: bool, opinion_by: Collection[str], attachment_url: Callable[[dict], str] | None):
        self.form = form
        self.values = values or {}
        self.errors = errors or {}
        self.call_doc = call_doc
        self.type_doc = type_doc
        self.editable = editable
        self.opinion_by = opinion_by
        self.attachment_url = attachment_url
        self.labels = {f.key: f for f in all_fields(form)}

    def errs(self, key: str) -> list[str]:
        return list(self.errors.get(key) or [])

    def cap_yuan(self, track_code: str | None) -> int | None:
        t = find_track(self.type_doc, track_code)
        if t is not None and t.funding is not None:
            return funding_cap(t)
        return funding_cap(self.type_doc)

    def ticked_track(self) -> str | None:
        for f in self.form.all_fields():
            if f.options_from == "tracks":
                v = self.values.get(f.key)
                if isinstance(v, list | tuple):
                    v = v[0] if len(v) == 1 else None
                return v if isinstance(v, str) and v else None
        return None

    # fields

    def field(self, f: FormField, follow_up_of: tuple[str, str] | None = None) -> SafeString:
        ctx: dict[str, Any] = {
            "f": f,
            "key": f.key,
            "kind": f.kind,
            "id": f"f-{f.key}",
            "name": f"f-{f.key}",
            "wrapper_id": f"fld-{f.key}",
            "label": f.label,
            "help": f.help + (_("（可另附页）") if f.may_attach and "附" not in f.help else ""),
            "required": f.required or follow_up_of is not None,
            "errors": self.errs(f.key),
            "editable": self.editable,
            "follow_up_of": follow_up_of,
        }
        builder = getattr(self, f"ctx_{f.kind}", self.ctx_scalar)
        builder(f, ctx)
        ctx["describedby"] = " ".join(
            x for x in (f"help-{f.key}" if ctx["help"] else "", f"err-{f.key}" if ctx["errors"] else "") if x
        )
        return mark_safe(render_to_string("forms/_field.html", ctx))  # noqa: S308 - a template's output

    def ctx_scalar(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        value = display_scalar(f.kind, raw, f.unit)
        ctx["value"] = value
        ctx.update(_input_attrs(f.kind, value))
        if f.kind == "money":
            ctx["unit_label"] = unit_label(f.unit)
            ctx["read_value"] = f"{value} {unit_label(f.unit)}" if value else ""
        else:
            ctx["read_value"] = value
        if f.kind == "long_text":
            text = value.replace("\r\n", "\n")
            ctx["count"] = len(text.strip())
            ctx["max_chars"] = f.max_chars
            ctx["rows"] = _textarea_rows(f, text)
            ctx["template"] = "textarea"
        else:
            ctx["template"] = "input"

    def ctx_note(self, f: FormField, ctx: dict) -> None:
        ctx["text"] = f.text

    def ctx_choice_one(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        picked = {str(x) for x in (raw if isinstance(raw, list | tuple) else [raw]) if not is_blank(x)}
        many = f.kind == "choice_many"
        options = []
        if f.options_from == "tracks":
            tracks = self.type_doc.tracks if self.type_doc else []
            extra = {o.value: o for o in f.options}  # follow-ups a template attaches to a track's code
            for t in tracks:
                hint = t.funding.text() if t.funding else ""
                o = extra.get(t.code)
                fu = self.field(o.follow_up, follow_up_of=(f.key, t.code)) if o and o.follow_up else ""
                options.append({"value": t.code, "label": t.name, "hint": hint, "follow_up": fu})
            ctx["no_options"] = not tracks
            ctx["is_tracks"] = True
        else:
            for o in f.options:
                fu = self.field(o.follow_up, follow_up_of=(f.key, o.value)) if o.follow_up else ""
                options.append({"value": o.value, "label": o.label, "hint": "", "follow_up": fu})
        for i, o in enumerate(options):
            o["id"] = f"f-{f.key}-opt{i}"
            o["checked"] = o["value"] in picked
        ctx["options"] = options
        ctx["input_type"] = "checkbox" if many else "radio"
        ctx["many"] = many
        ctx["read_value"] = "、".join(o["label"] for o in options if o["checked"])

    ctx_choice_many = ctx_choice_one

    def ctx_person(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        data = raw if isinstance(raw, dict) else {}
        parts = []
        for part in f.parts:
            v = data.get(part)
            p = {
                "part": part,
                "label": PART_LABELS[part],
                "id": f"f-{f.key}-{part}",
                "name": f"f-{f.key}-{part}",
                "value": "" if v is None else str(v),
                "errors": self.errs(f"{f.key}.{part}"),
                "required": ctx["required"] and part not in ("wechat", "fax"),
            }
            if part == "full_time":
                value = {"专职": "full_time", "兼职": "part_time"}.get(p["value"], p["value"])
                p["options"] = [
                    {"value": code, "label": FULL_TIME_LABELS[code], "checked": value == code,
                     "id": f"f-{f.key}-{part}-{code}"}
                    for code in FULL_TIME_VALUES
                ]
                p["read_value"] = FULL_TIME_LABELS.get(value, p["value"])
            else:
                kind = {"phone": "phone", "office_phone": "phone", "fax": "phone", "mobile": "mobile",
                        "email": "email"}.get(part, "text")
                p.update(_input_attrs(kind))
                p["read_value"] = p["value"]
            parts.append(p)
        ctx["parts"] = parts
        ctx["part_errors"] = any(p["errors"] for p in parts)

    def ctx_period(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        data = raw if isinstance(raw, dict) else {}
        if isinstance(raw, list | tuple) and len(raw) == 2:
            data = {"start": raw[0], "end": raw[1]}
        ends = []
        for part, label in (("start", _("开始日期")), ("end", _("结束日期"))):
            value = "" if data.get(part) is None else str(data.get(part))
            e = {"part": part, "label": label, "id": f"f-{f.key}-{part}", "name": f"f-{f.key}-{part}",
                 "value": value, "errors": self.errs(f"{f.key}.{part}")}
            e.update(_input_attrs("date", value))
            ends.append(e)
        ctx["ends"] = ends
        ctx["read_value"] = " 至 ".join(e["value"] for e in ends) if any(e["value"] for e in ends) else ""

    def ctx_attachment(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        items = raw if isinstance(raw, list) else [raw]
        currents = [{"name": str(c.get("name") or ""), "document_id": str(c.get("document_id")),
                     "url": self.attachment_url(c) if self.attachment_url else "", "facts": attachment_facts(c)}
                    for c in items if isinstance(c, dict) and not is_blank(c.get("document_id"))]
        current = currents[0] if currents else None
        ctx["current"] = current
        ctx["currents"] = currents
        ctx["multiple"] = f.max_files > 1
        ctx["max_files"] = f.max_files
        ctx["accept"] = ",".join(ACCEPT[a] for a in f.accept)
        limits = []
        if f.accept:
            limits.append("、".join(a.upper() for a in f.accept))
        if f.max_mb:
            limits.append(_("不超过 {n} MB").format(n=f.max_mb))
        ctx["limits"] = "，".join(limits)
        if f.max_files > 1:
            limits.append(_("最多 {n} 个文件").format(n=f.max_files))
        ctx["limits"] = "，".join(limits)
        ctx["read_value"] = "、".join(c["name"] for c in currents)

    def ctx_opinion(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        data = raw if isinstance(raw, dict) else ({"text": raw} if isinstance(raw, str) else {})
        fills = self.editable and f.by in self.opinion_by
        meeting = self.values.get("_meeting")
        ctx.update({
            "fills": fills,
            "by_label": BY_LABELS.get(f.by or "", f.by or ""),
            "fixed_text": f.text.replace("{meeting}", str(meeting) if meeting else "________") if f.text else "",
            "signer": f.signer,
            "co_signers": f.co_signers,
            "has_date": f.date,
            "stamp_label": f.stamp_label or (_("单位盖章") if f.stamp else ""),
            "text": "" if data.get("text") is None else str(data.get("text")),
            "signer_value": "" if data.get("signer") is None else str(data.get("signer")),
            "date_value": "" if data.get("date") is None else str(data.get("date")),
            "text_errors": self.errs(f"{f.key}.text"),
            "signer_errors": self.errs(f"{f.key}.signer"),
            "date_errors": self.errs(f"{f.key}.date"),
        })
        ctx["date_type"] = _input_attrs("date", ctx["date_value"])["type"]
        ctx["rows"] = 4

    def ctx_table(self, f: FormField, ctx: dict) -> None:
        raw = self.values.get(f.key)
        rows_in = raw.get("rows") if isinstance(raw, dict) else raw
        rows_in = [r for r in rows_in if isinstance(r, dict)] if isinstance(rows_in, list | tuple) else []
        columns = [{"key": c.key, "label": _column_header(c), "required": c.required, "kind": c.kind}
                   for c in f.columns]
        n_rows = len(rows_in)
        if self.editable:
            # blank rows to type in without JavaScript: the printed number when empty, else one more
            n_rows = max(f.rows, f.min_rows, 1) if not rows_in else n_rows + 1
            if f.max_rows:
                n_rows = max(len(rows_in), min(n_rows, f.max_rows))
        rows = []
        cell_errors = []
        for i in range(n_rows):
            data = rows_in[i] if i < len(rows_in) else {}
            cells = []
            for c in f.columns:
                value = display_scalar(c.kind, data.get(c.key), c.unit)
                errs = self.errs(f"{f.key}[{i}].{c.key}")
                cell_errors.extend(errs)
                cell = {"key": c.key, "kind": c.kind, "name": f"f-{f.key}-{i}-{c.key}", "id": f"f-{f.key}-{i}-{c.key}",
                        "value": value, "errors": errs, "label": c.label, "unit": c.unit,
                        "long": c.kind == "long_text"}
                cell.update(_input_attrs(c.kind, value))
                cells.append(cell)
            rows.append({"index": i, "number": self.row_label(f, i), "cells": cells})
        template_cells = []
        for c in f.columns:
            cell = {"key": c.key, "kind": c.kind, "name": f"f-{f.key}-{ROW_PLACEHOLDER}-{c.key}",
                    "id": f"f-{f.key}-{ROW_PLACEHOLDER}-{c.key}", "value": "", "errors": [], "label": c.label,
                    "unit": c.unit, "long": c.kind == "long_text"}
            cell.update(_input_attrs(c.kind))
            template_cells.append(cell)
        # a first column printed as 序号 is the row number column: its input shows the number as a hint
        seq = f.columns[0].label.replace(" ", "").replace("\u3000", "") == "序号"
        if seq:
            for r in rows:
                r["cells"][0]["placeholder"] = r["number"]
                r["cells"][0]["rownum"] = True
            template_cells[0]["rownum"] = True
        ctx["seq_column"] = seq
        ctx["columns"] = columns
        ctx["rows"] = rows
        ctx["template_cells"] = template_cells
        ctx["next_index"] = n_rows
        ctx["row_labels"] = json.dumps(f.fixed_first_column, ensure_ascii=False)
        ctx["max_rows"] = f.max_rows or ""
        ctx["min_rows"] = f.min_rows
        ctx["footer"] = self.table_footer(f, rows_in)
        ctx["cell_errors"] = cell_errors

    @staticmethod
    def row_label(f: FormField, i: int) -> str:
        return f.fixed_first_column[i] if i < len(f.fixed_first_column) else str(i + 1)

    def table_footer(self, f: FormField, rows_in: list[dict]) -> list[dict] | None:
        if not f.totals:
            return None
        by_col = {t.column: t for t in f.totals}
        label_done = False
        cells = []
        track = self.ticked_track()
        for c in f.columns:
            t = by_col.get(c.key)
            if t is None:
                cells.append({"label": "" if label_done else f.totals[0].label, "total": None})
                label_done = True
                continue
            total = Decimal(0)
            for r in rows_in:
                v = r.get(c.key)
                try:
                    if c.kind == "money":
                        total += parse_money(v, c.unit) if not is_blank(v) else 0
                    elif not is_blank(v):
                        total += Decimal(str(v).replace(",", "").strip())
                except Exception:  # noqa: S112 - a cell that does not parse adds nothing to the live total
                    continue
            cap = t.max
            cap_from = t.max_from == "cap"
            if cap_from:
                c_yuan = self.cap_yuan(track)
                if c_yuan is not None and (cap is None or c_yuan < cap):
                    cap = Decimal(c_yuan)
            shown = format_decimal(total / WAN) if c.kind == "money" and c.unit == "wan" else format_decimal(total)
            cap_text = ""
            if cap is not None:
                cap_text = _("不超过{cap}").format(cap=wan_text(cap) if c.kind == "money" else format_decimal(cap))
            cells.append({
                "label": "", "total": shown, "column": c.key, "kind": c.kind, "unit": c.unit,
                "cap": format_decimal(cap) if cap is not None else "", "cap_from": cap_from,
                "fixed_cap": format_decimal(t.max) if t.max is not None else "",
                "cap_text": cap_text, "over": cap is not None and total > cap,
            })
        if not label_done:
            cells.insert(0, {"label": f.totals[0].label, "total": None, "lead": True})
        return cells

    # the whole form

    def error_summary(self) -> list[dict]:
        out = []
        for key, msgs in self.errors.items():
            base = re.split(r"[.\[]", key, maxsplit=1)[0]
            f = self.labels.get(base)
            anchor = f"fld-{base}" if f else "sb-form-top"
            label = f.label if f else ""
            if f and f.kind == "person" and "." in key:
                part = key.split(".", 1)[1]
                label = f"{f.label}·{PART_LABELS.get(part, part)}"
            for m in msgs:
                out.append({"anchor": anchor, "label": label, "message": m})
        return out

    def track_caps(self) -> str:
        if self.type_doc is None:
            return ""
        caps = {"": funding_cap(self.type_doc)}
        for t in self.type_doc.tracks:
            caps[t.code] = self.cap_yuan(t.code)
        return json.dumps(caps)

    def render(self) -> SafeString:
        sections = []
        if self.form.cover:
            sections.append({"title": _("封面"), "fields": [self.field(f) for f in self.form.cover], "cover": True})
        for s in self.form.sections:
            sections.append({"title": s.title, "fields": [self.field(f) for f in s.fields], "cover": False,
                             "on_page_only": not s.print, "note": s.note})
        ctx = {
            "form": self.form,
            "type_code": self.type_doc.code if self.type_doc and self.form.show_type_code else "",
            "sections": sections,
            "editable": self.editable,
            "summary": self.error_summary(),
            "general_errors": self.errs("__all__"),
            "caps": self.track_caps(),
        }
        return mark_safe(render_to_string("forms/form.html", ctx))  # noqa: S308 - a template's output


def render_form(*, form: FormTemplate, values: dict | None, errors: dict | None, call_doc=None,
                type_doc: ProjectType | None = None, editable: bool = True,
                opinion_by: Collection[str] = APPLICANT_OPINION_BY,
                attachment_url: Callable[[dict], str] | None = None) -> SafeString:
    """The form's fields as HTML (see the module text). editable=False shows the values read-only (a
    submitted application, a reviewer's view). `opinion_by`: the opinion blocks the viewer fills
    (applicants: their own; the others are shown read-only with who signs them). `attachment_url(value)`
    gives a link for a stored attachment."""
    return _Builder(form=form, values=values or {}, errors=errors or {}, call_doc=call_doc, type_doc=type_doc,
                    editable=editable, opinion_by=opinion_by, attachment_url=attachment_url).render()


# --- parsing the POST -------------------------------------------------------------------------------------


def _text(value: str | None) -> str | None:
    return None if value is None else value.replace("\r\n", "\n").replace("\r", "\n")


def attachment_facts(ref: dict) -> str:
    """What the page shows beside an attached file: its pages or size, and its hash prefix."""
    parts = []
    if ref.get("pages"):
        parts.append(_("{n} 页").format(n=ref["pages"]))
    elif ref.get("size"):
        size = int(ref["size"])
        parts.append(f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} KB")
    if ref.get("sha256"):
        parts.append(f"SHA-256 {str(ref['sha256'])[:12]}…")
    return "，".join(parts)


def parse_post(*, form: FormTemplate, data) -> dict:
    """The values a POST of `render_form`'s inputs carries, as typed (strings; person, period, opinion and
    attachment as dicts, tables as lists of rows without the blank ones, choice_many as a list). Fields
    whose inputs are absent are absent. `data` is a QueryDict (or any mapping with getlist)."""
    out: dict[str, Any] = {}
    keys = list(data.keys())
    for f in all_fields(form):
        name = f"f-{f.key}"
        k = f.kind
        if k == "note":
            continue
        if k == "choice_one":
            picked = [v for v in data.getlist(name) if v != ""]
            if len(picked) == 1:
                out[f.key] = picked[0]
            elif picked:
                out[f.key] = picked  # several ticked: validation says only one may be
        elif k == "choice_many":
            if name in data or f"{name}-shown" in data:
                out[f.key] = [v for v in data.getlist(name) if v != ""]
        elif k == "person":
            parts = {p: data.get(f"{name}-{p}") for p in f.parts if f"{name}-{p}" in data}
            if parts:
                out[f.key] = parts
        elif k == "period":
            parts = {p: data.get(f"{name}-{p}") for p in ("start", "end") if f"{name}-{p}" in data}
            if parts:
                out[f.key] = parts
        elif k == "opinion":
            parts = {p: _text(data.get(f"{name}-{p}")) for p in ("text", "signer", "date") if f"{name}-{p}" in data}
            if parts:
                out[f.key] = parts
        elif k == "attachment":
            docs, names = data.getlist(f"{name}-document_id"), data.getlist(f"{name}-name")
            clear = set(data.getlist(f"{name}-clear"))
            kept = [{"name": (names[i] if i < len(names) else "") or "", "document_id": d}
                    for i, d in enumerate(docs) if d and "1" not in clear and d not in clear]
            if kept:
                out[f.key] = kept if f.max_files > 1 else kept[0]
        elif k == "table":
            rx = re.compile(rf"^{re.escape(name)}-(\d+)-([a-z][a-z0-9_]*)$")
            cols = {c.key for c in f.columns}
            rows: dict[int, dict] = {}
            for key in keys:
                m = rx.match(key)
                if m and m.group(2) in cols:
                    rows.setdefault(int(m.group(1)), {})[m.group(2)] = _text(data.get(key))
            if rows or f"{name}-shown" in data:
                out[f.key] = [rows[i] for i in sorted(rows) if not is_blank(rows[i])]
        elif name in data:
            out[f.key] = _text(data.get(name))
    return out
