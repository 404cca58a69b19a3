"""Validation of filled application forms (附表 / 申报书) against their template in the call file.

    validate(*, form, values, call_doc=None, type_doc=None, track_code=None, partial=False) -> FormResult
    cel_form_context(form, values, type_doc, track, *, call_doc=None) -> {"form", "type", "track", "call"}

`form` is a `shenbao.calls.schema.FormTemplate`, `call_doc` a `schema.Call`, `type_doc` a
`schema.ProjectType`. `values` is keyed by field key (the shapes are the contract of issue 3):

- text, long_text, phone, mobile, email, url → str; number → str of a decimal; date → "YYYY-MM-DD";
- money → int whole yuan. An int is taken as yuan; a str is what a clerk typed in the field's display
  unit ("1.5" in a 万元 field is 15000);
- integer → int; period → {"start", "end"}; choice_one → option value (the track code for
  `options_from: tracks`); choice_many → [values]; a follow-up field → its own top-level key;
- person → {part: str} (`full_time` is "full_time" or "part_time"); table → [{column: value}];
- attachment → {"name": str, "document_id": int}; opinion → {"text", "signer", "date"}.

`values` may be raw (as `rendering.parse_post` returns them: strings as typed) or already clean (as
stored): `validate` accepts both and `validate(cleaned).cleaned == cleaned`. Keys starting with "_"
(`_fill_date`, `_meeting`) belong to the application and pass through untouched.

`FormResult.cleaned` holds every filled value that is valid, typed; a value with an error is left out
(re-render the form with the values as typed). `FormResult.errors` maps a key to Chinese messages:
the field key, "key.part" (person part, period start/end, opinion part), "key[2].column" (table cell,
rows counted from 0 as in the input names), or "__all__".

partial=True (drafts, autosave) checks formats and limits only; required-ness (required fields, follow-ups
of ticked options, required table cells, min_rows, the track to tick) and checks across fields (a total
equal to another field, caps taken from the type or track, the form's CEL `checks`) are left for submit.

A form check (`forms[].checks`, CEL over `cel_form_context`) runs once every field it reads is filled and
valid (a table always counts as filled), or when the expression itself tests the emptiness of the fields
it reads (`has(form.x)`, `form.x != null`). A false check puts its message on the first field it reads; an
expression that cannot be evaluated is reported under "__all__" in plain Chinese, never raised.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shenbao.calls.schema import PART_LABELS, Column, FormField, FormTemplate, ProjectType, Track, form_refs
from shenbao.core.expressions import ExpressionError, compile_expression

# Opinion blocks an applicant fills itself (its own head, its project lead, the society or host unit it
# is, the leading doctor and journal editor who sign its paper form). Blocks of others (home association,
# university association, finance, the funder) are read-only for applicants and never validated for them.
APPLICANT_OPINION_BY = frozenset(
    {"applicant", "unit_head", "project_lead", "society", "journal_editor", "leading_doctor", "host_unit"}
)
# What an attachment value names: the upload's id, and what the server fills in from it.
ATTACHMENT_PARTS = ("name", "document_id", "sha256", "size", "pages", "type")
# Parts of a required person block that may stay empty (not everyone has them).
OPTIONAL_PERSON_PARTS = frozenset({"wechat", "fax"})
FULL_TIME_VALUES = ("full_time", "part_time")
WAN = 10000
WAN_DECIMALS = 2  # amounts in 万元 carry at most two decimals

MOBILE_RE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
# 0772-2629066, 07712630981, (0731)85821051, （0731）85821051, 0772 2629066, with an optional extension
LANDLINE_RE = re.compile(
    r"^(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[-－—]?)[1-9]\d{6,7}(?:(?:[-－—]|转|分机|ext\.?|#)\d{1,6})?$",
    re.IGNORECASE,
)
PHONE_SEPARATORS = re.compile(r"[,，、/;；]")
DATE_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
NUMERIC_KINDS = ("money", "integer", "number")
MAX_DIGITS = 15  # digits before the decimal point of a number or amount (a trillion yuan has 13)

# R-S73: what a draft may hold at all. Between a field's own limit (max_chars, max_rows) and these, a value is
# kept with an error beside the field (typed text is never lost); beyond them it is refused and not stored.
HARD_TEXT = 1000          # a one-line field without max_chars
HARD_LONG_TEXT = 20000    # a long text without max_chars
HARD_ROWS = 200           # a table without max_rows
HARD_PART = 200           # a part of a person, period, attachment or opinion block, an option value
HARD_CHOICES = 50         # ticked options of a choice_many


class FieldError(ValueError):
    """A value that does not parse; the message is shown beside the field."""


@dataclass
class FormResult:
    cleaned: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- small helpers ------------------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set):
        return all(is_blank(v) for v in value)
    if isinstance(value, dict):
        return all(is_blank(v) for v in value.values())
    return False


def wan_text(yuan: int | Decimal) -> str:
    """15000 → "1.5万元"; money is always shown in 万元 in messages."""
    return _("{amount}万元").format(amount=format_decimal(Decimal(yuan) / WAN))


def format_decimal(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def money_display(yuan: int, unit: str) -> str:
    """The text a clerk sees in the input: 15000 → "1.5" (万元) or "15000" (元)."""
    return format_decimal(Decimal(yuan) / WAN) if unit == "wan" else str(yuan)


def unit_label(unit: str) -> str:
    return _("万元") if unit == "wan" else _("元")


def normalise_text(value: Any) -> str:
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def all_fields(form: FormTemplate) -> list[FormField]:
    """Every field of a form, follow-ups of options included, in order."""
    return form.every_field()


def guards_blank(source: str, key: str) -> bool:
    """Whether a check tests itself that `form.<key>` is filled (`has(form.key)`, `form.key != null`):
    such a check runs even when the field is empty, so it can require the field."""
    k = re.escape(key)
    ref = rf"form\s*(?:\.\s*{k}\b|\[\s*[\"']{k}[\"']\s*\])"
    return bool(re.search(rf"has\(\s*{ref}\s*\)|{ref}\s*[!=]=\s*null\b|\bnull\s*[!=]=\s*{ref}", source))


# --- parsing single values ----------------------------------------------------------------------------


def parse_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip().replace(" ", "")
    for rx in DATE_RES:
        m = rx.match(text)
        if m:
            y, mo, d = (int(x) for x in m.groups())
            try:
                return dt.date(y, mo, d).isoformat()
            except ValueError:
                raise FieldError(_("{text} 不是有效的日期").format(text=text)) from None
    raise FieldError(_("请填写正确的日期，如 2026-03-31"))


def parse_money(value: Any, unit: str) -> int:
    """Whole yuan from an int (yuan) or from typed text in the display unit."""
    if isinstance(value, bool):
        raise FieldError(_("请填写金额"))
    if isinstance(value, int):
        if value < 0:
            raise FieldError(_("金额不能为负数"))
        return value
    text = re.sub(r"[\s,，]", "", str(value))
    suffixes = ("万元", "万") if unit == "wan" else ("元",)
    for s in suffixes:
        if text.endswith(s):
            text = text[: -len(s)]
            break
    example = "1.5" if unit == "wan" else "15000"
    if not re.fullmatch(r"[-+－]?\d+(?:\.\d+)?", text):
        raise FieldError(_("请填写金额数字（单位：{unit}），如 {example}").format(unit=unit_label(unit), example=example))
    if len(text.split(".")[0].lstrip("+-－0")) > MAX_DIGITS:
        raise FieldError(_("金额过大，请核对"))
    if text[0] in "-－":
        raise FieldError(_("金额不能为负数"))
    amount = Decimal(text.lstrip("+"))
    if unit == "wan":
        if -amount.as_tuple().exponent > WAN_DECIMALS and amount != amount.quantize(Decimal("0.01")):
            raise FieldError(_("金额以万元为单位，最多保留两位小数"))
        return int(amount * WAN)
    if amount != amount.to_integral_value():
        raise FieldError(_("金额以元为单位，须为整数"))
    return int(amount)


def parse_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise FieldError(_("请填写整数，如 120"))
    if isinstance(value, int):
        if value < 0:
            raise FieldError(_("不能为负数"))
        return value
    text = re.sub(r"[\s,，]", "", str(value))
    if re.fullmatch(r"[-－]\d+", text):
        raise FieldError(_("不能为负数"))
    if not re.fullmatch(r"\+?\d+", text):
        raise FieldError(_("请填写整数，如 120"))
    if len(text.lstrip("+0")) > MAX_DIGITS:
        raise FieldError(_("数字过大，请核对"))
    return int(text)


def parse_number(value: Any) -> str:
    if isinstance(value, bool):
        raise FieldError(_("请填写数字，如 1.5"))
    text = re.sub(r"[\s,，]", "", str(value))
    if len(text) > 2 * MAX_DIGITS:
        raise FieldError(_("数字过大，请核对"))
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise FieldError(_("请填写数字，如 1.5")) from None
    if not d.is_finite() or not re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
        raise FieldError(_("请填写数字，如 1.5"))
    return format_decimal(d) if "." in text else str(int(d))


def check_mobile(text: str) -> bool:
    return bool(MOBILE_RE.match(re.sub(r"[\s\-－]", "", text)))


def check_landline(text: str) -> bool:
    return bool(LANDLINE_RE.match(re.sub(r"\s", "", text)))


def parse_phone(value: Any, *, mobile_only: bool = False) -> str:
    text = normalise_text(value)
    if mobile_only:
        if not check_mobile(text):
            raise FieldError(_("请填写正确的手机号码（11位，如 13800138000）"))
        return text
    numbers = [p.strip() for p in PHONE_SEPARATORS.split(text) if p.strip()]
    if not numbers or len(numbers) > 3 or not all(check_mobile(n) or check_landline(n) for n in numbers):
        raise FieldError(_("请填写正确的电话号码：手机如 13800138000，座机如 0772-2629066"))
    return text


def parse_email(value: Any) -> str:
    text = normalise_text(value)
    try:
        validate_email(text)
    except ValidationError:
        raise FieldError(_("请填写正确的电子邮箱，如 name@example.com")) from None
    return text


def parse_url(value: Any) -> str:
    text = normalise_text(value)
    probe = text if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I) else "http://" + text
    try:
        URLValidator(schemes=["http", "https"])(probe)
    except ValidationError:
        raise FieldError(_("请填写正确的网址，如 https://www.example.org")) from None
    return text


def char_limits(text: str, max_chars: int | None, min_chars: int | None = None) -> None:
    """Limits are counted in characters: a Chinese character counts one (R-F2)."""
    n = len(text)
    if max_chars is not None and n > max_chars:
        raise FieldError(_("不超过{max}字，当前{n}字").format(max=max_chars, n=n))
    if min_chars and n < min_chars:
        raise FieldError(_("不少于{min}字，当前{n}字").format(min=min_chars, n=n))


def parse_scalar(kind: str, value: Any, *, unit: str = "yuan", max_chars: int | None = None,
                 min_chars: int | None = None) -> Any:
    """One value of a field or table column of a scalar kind; FieldError with a Chinese message."""
    if kind in ("text", "long_text"):
        if isinstance(value, dict | list):
            raise FieldError(_("请填写文字"))
        text = normalise_text(value)
        char_limits(text, max_chars, min_chars)
        return text
    if kind == "phone":
        return parse_phone(value)
    if kind == "mobile":
        return parse_phone(value, mobile_only=True)
    if kind == "email":
        return parse_email(value)
    if kind == "url":
        return parse_url(value)
    if kind == "date":
        return parse_date(value)
    if kind == "money":
        return parse_money(value, unit)
    if kind == "integer":
        return parse_integer(value)
    if kind == "number":
        return parse_number(value)
    raise FieldError(f"unknown kind {kind}")  # pragma: no cover - the schema forbids it


# --- what may be stored at all (R-S73) -------------------------------------------------------------------


def hard_chars(kind: str, max_chars: int | None) -> int:
    """The longest text a draft keeps for a field or column: twice its own limit (and 200 more), else a
    fixed bound by kind."""
    if max_chars:
        return max(2 * max_chars, max_chars + 200)
    return HARD_LONG_TEXT if kind in ("long_text", "opinion") else HARD_TEXT


def _scalar_problem(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return None if not isinstance(value, int) or abs(value) < 10 ** (2 * MAX_DIGITS) else _("数字过大")
    if not isinstance(value, str):
        return _("填写格式不对：此处应填写文字或数字")
    if len(value) > limit:
        return _("内容过长（{n}字），此栏最多保存{max}字").format(n=len(value), max=limit)
    return None


def _parts_problem(value: Any, allowed: Collection[str], limits: dict[str, int] | None = None) -> str | None:
    if not isinstance(value, dict):
        return _("填写格式不对")
    extra = [str(k)[:40] for k in value if k not in allowed]
    if extra:
        return _("没有这些栏目：{keys}").format(keys="、".join(extra))
    for k, v in value.items():
        problem = _scalar_problem(v, (limits or {}).get(k, HARD_PART))
        if problem:
            return problem
    return None


def _field_problem(f: FormField, value: Any) -> str | None:
    k = f.kind
    if value is None:
        return None
    if k == "note":
        return None if is_blank(value) and not isinstance(value, dict | list) else _("此栏不需填写")
    if k == "person":
        return _parts_problem(value, f.parts)
    if k == "period":
        if isinstance(value, list | tuple):
            value = dict(zip(("start", "end"), value, strict=False)) if len(value) == 2 else None
        return _parts_problem(value, ("start", "end"))
    if k == "attachment":
        items = value if isinstance(value, list) else [value]
        if len(items) > max(f.max_files, 1) + 5:
            return _("附件过多")
        for item in items:
            problem = _parts_problem(item, ATTACHMENT_PARTS)
            if problem:
                return problem
        return None
    if k == "opinion":
        if isinstance(value, str):
            value = {"text": value}
        return _parts_problem(value, ("text", "signer", "date"), {"text": hard_chars("opinion", f.max_chars)})
    if k == "choice_many":
        if isinstance(value, list | tuple):
            if len(value) > max(HARD_CHOICES, len(f.options)):
                return _("选择的项目过多")
            return next((p for v in value if (p := _scalar_problem(v, HARD_PART))), None)
        return _scalar_problem(value, HARD_PART)
    if k == "choice_one":
        return _scalar_problem(value, HARD_PART)
    if k == "table":
        rows = value.get("rows") if isinstance(value, dict) and set(value) <= {"rows"} else value
        if not isinstance(rows, list | tuple):
            return _("填写格式不对")
        hard_rows = max(2 * f.max_rows, f.max_rows + 10) if f.max_rows else HARD_ROWS
        if len(rows) > hard_rows:
            return _("行数过多（{n}行），此表最多保存{max}行").format(n=len(rows), max=hard_rows)
        limits = {c.key: hard_chars(c.kind, c.max_chars) for c in f.columns}
        for i, row in enumerate(rows):
            problem = _parts_problem(row, limits.keys(), limits)
            if problem:
                return _("第{n}行：{msg}").format(n=i + 1, msg=problem)
        return None
    return _scalar_problem(value, hard_chars(k, f.max_chars))


def oversize(form: FormTemplate, values: dict) -> dict[str, list[str]]:
    """What in `values` (as posted, before anything is stored) a draft must not keep: keys the form does
    not define (the application's own "_" keys included: those are the server's), values of the wrong
    shape, texts and tables far beyond their field's limit (`hard_chars`, HARD_ROWS). {key: [message]};
    empty when everything may be stored (format errors are `validate`'s business)."""
    if not isinstance(values, dict):
        return {"__all__": [_("填写格式不对")]}
    fields = form.fields_by_key()
    out: dict[str, list[str]] = {}
    for key, value in values.items():
        f = fields.get(key) if isinstance(key, str) else None
        if f is None:
            out[str(key)[:100]] = [_("申报表中没有此栏目")]
            continue
        problem = _field_problem(f, value)
        if problem:
            out[key] = [_("{label}：{msg}").format(label=f.label, msg=problem)]
    return out


# --- caps -----------------------------------------------------------------------------------------------


def funding_cap(obj: ProjectType | Track | None) -> int | None:
    funding = getattr(obj, "funding", None)
    return funding.cap if funding is not None else None


def find_track(type_doc: ProjectType | None, code: str | None) -> Track | None:
    if type_doc is None or not code:
        return None
    return next((t for t in type_doc.tracks if t.code == code), None)


def effective_cap(type_doc: ProjectType | None, tracks: list[Track]) -> int | None:
    """The most one project may request: the ticked track's cap (a track without its own funding takes
    the type's), the sum when several tracks combine, else the type's cap."""
    type_cap = funding_cap(type_doc)
    if not tracks:
        return type_cap
    caps = [funding_cap(t) if t.funding is not None else type_cap for t in tracks]
    if any(c is None for c in caps):
        return None
    return sum(caps)


# --- the CEL context of form checks --------------------------------------------------------------------


def _cel_scalar(kind: str, value: Any) -> Any:
    if is_blank(value):
        return None
    if kind == "number":
        try:
            return float(Decimal(str(value)))
        except InvalidOperation:
            return None
    return value


def _numeric_sum(kind: str, rows: list[dict], key: str) -> Any:
    if kind == "number":
        total = 0.0
        for r in rows:
            v = r.get(key)
            if isinstance(v, int | float):
                total += v
        return total
    return sum(v for r in rows if isinstance(v := r.get(key), int) and not isinstance(v, bool))


def table_context(f: FormField, value: Any) -> dict:
    rows_in = value.get("rows") if isinstance(value, dict) else value
    rows = []
    for r in rows_in or []:
        if not isinstance(r, dict) or is_blank(r):
            continue
        rows.append({c.key: _cel_scalar(c.kind, r.get(c.key)) for c in f.columns})
    total = {c.key: _numeric_sum(c.kind, rows, c.key) for c in f.columns if c.kind in NUMERIC_KINDS}
    return {"rows": rows, "total": total}


def applicant_context(applicant: Any = None) -> dict:
    """The applicant unit as registered, for form checks (“申报单位须填写单位全称”): `name`, `short_name`,
    `credit_code` (统一社会信用代码), `region`; empty texts when unknown (a blank form)."""
    if isinstance(applicant, dict):
        src = applicant
    else:
        src = {k: getattr(applicant, k, "") for k in APPLICANT_KEYS} if applicant is not None else {}
    return {k: str(src.get(k) or "") for k in APPLICANT_KEYS}


APPLICANT_KEYS = ("name", "short_name", "credit_code", "region")


def cel_form_context(form: FormTemplate, values: dict, type_doc: ProjectType | None,
                     track: str | Track | list | None, *, call_doc=None, applicant: Any = None) -> dict:
    """The names a form check may use: `form` (every field key → clean value, null when empty, so test
    `form.x != null`; `has(form.x)` is always true;
    money in whole yuan; a table as {rows: [{column: value}], total: {column: sum}}), `type` {code, name,
    cap}, `track` {code, name, cap, codes} (cap: the track's own, else the type's; with no track ticked,
    code "" and the type's cap), `call` {code, year}, `applicant` {name, short_name, credit_code, region}
    (the unit as registered)."""
    ctx_form: dict[str, Any] = {}
    for f in all_fields(form):
        v = values.get(f.key)
        if f.kind == "table":
            ctx_form[f.key] = table_context(f, v)
        elif f.kind == "note":
            continue
        elif f.kind in ("person", "period", "attachment", "opinion"):
            ctx_form[f.key] = v if isinstance(v, dict) and not is_blank(v) else None
        elif f.kind == "choice_many":
            ctx_form[f.key] = list(v) if isinstance(v, list | tuple) else ([] if is_blank(v) else [v])
        else:
            ctx_form[f.key] = _cel_scalar(f.kind, v)
    if isinstance(track, str) or track is None:
        tracks = [t for t in [find_track(type_doc, track)] if t]
    elif isinstance(track, Track):
        tracks = [track]
    else:
        tracks = [t if isinstance(t, Track) else find_track(type_doc, t) for t in track]
        tracks = [t for t in tracks if t]
    type_ctx = {
        "code": type_doc.code if type_doc else "",
        "name": type_doc.name if type_doc else "",
        "cap": funding_cap(type_doc),
    }
    track_ctx = {
        "code": tracks[0].code if tracks else "",
        "name": tracks[0].name if tracks else "",
        "codes": [t.code for t in tracks],
        "cap": effective_cap(type_doc, tracks),
    }
    call_ctx = {"code": call_doc.code if call_doc else "", "year": call_doc.year if call_doc else 0}
    return {"form": ctx_form, "type": type_ctx, "track": track_ctx, "call": call_ctx,
            "applicant": applicant_context(applicant)}


# --- the validator ---------------------------------------------------------------------------------------


class _Run:
    def __init__(self, *, form: FormTemplate, values: dict, call_doc, type_doc: ProjectType | None,
                 track_code: str | None, partial: bool, opinion_by: Collection[str], applicant: Any = None):
        self.form = form
        self.applicant = applicant
        self.values = values or {}
        self.call_doc = call_doc
        self.type_doc = type_doc
        self.track_code = track_code
        self.partial = partial
        self.opinion_by = opinion_by
        self.cleaned: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}
        self.tracks: list[Track] = []
        self.track_field_seen = False

    def add(self, key: str, message: str) -> None:
        msgs = self.errors.setdefault(key, [])
        if message not in msgs:
            msgs.append(message)

    @property
    def strict(self) -> bool:
        return not self.partial

    def run(self) -> FormResult:
        for k, v in self.values.items():
            if isinstance(k, str) and k.startswith("_"):
                self.cleaned[k] = v
        fields = self.form.all_fields()
        # the track first: caps of tables depend on it
        for f in fields:
            if f.options_from == "tracks":
                self.field(f, required=f.required)
        if not self.track_field_seen:
            t = find_track(self.type_doc, self.track_code)
            self.tracks = [t] if t else []
        for f in fields:
            if f.options_from != "tracks":
                self.field(f, required=f.required)
        if self.strict:
            for f in all_fields(self.form):
                if f.kind == "table":
                    self.table_equalities(f)
            self.checks()
        return FormResult(cleaned=self.cleaned, errors=self.errors)

    # fields

    def field(self, f: FormField, *, required: bool) -> None:
        raw = self.values.get(f.key)
        k = f.kind
        if k == "note":
            return
        if k == "opinion":
            self.opinion(f, raw)
            return
        if k in ("choice_one", "choice_many"):
            self.choice(f, raw, required=required)
            return
        if k == "table":
            self.table(f, raw, required=required)
            return
        if k == "person":
            self.person(f, raw, required=required)
            return
        if k == "period":
            self.period(f, raw, required=required)
            return
        if k == "attachment":
            self.attachment(f, raw, required=required)
            return
        if is_blank(raw):
            if required and self.strict:
                self.add(f.key, _("请填写{label}").format(label=f.label))
            return
        try:
            self.cleaned[f.key] = parse_scalar(k, raw, unit=f.unit, max_chars=f.max_chars,
                                               min_chars=f.min_chars)
        except FieldError as exc:
            self.add(f.key, str(exc))

    def person(self, f: FormField, raw: Any, *, required: bool) -> None:
        data = raw if isinstance(raw, dict) else {}
        if raw is not None and not isinstance(raw, dict):
            self.add(f.key, _("{label}的填写格式不对").format(label=f.label))
            return
        if is_blank(data):
            if required and self.strict:
                self.add(f.key, _("请填写{label}").format(label=f.label))
            return
        out: dict[str, str] = {}
        for part in f.parts:
            v = data.get(part)
            key = f"{f.key}.{part}"
            if is_blank(v):
                need = (required and part not in OPTIONAL_PERSON_PARTS) or part == "name"
                if need and self.strict:
                    self.add(key, _("请填写{part}").format(part=PART_LABELS[part]))
                continue
            try:
                if part == "full_time":
                    value = str(v).strip()
                    value = {"专职": "full_time", "兼职": "part_time"}.get(value, value)
                    if value not in FULL_TIME_VALUES:
                        raise FieldError(_("请选择专职或兼职"))
                    out[part] = value
                elif part in ("phone", "office_phone", "fax"):
                    out[part] = parse_phone(v)
                elif part == "mobile":
                    out[part] = parse_phone(v, mobile_only=True)
                elif part == "email":
                    out[part] = parse_email(v)
                else:
                    out[part] = parse_scalar("text", v, max_chars=100)
            except FieldError as exc:
                self.add(key, str(exc))
        if out:
            self.cleaned[f.key] = out

    def period(self, f: FormField, raw: Any, *, required: bool) -> None:
        data = raw if isinstance(raw, dict) else {}
        if isinstance(raw, list | tuple) and len(raw) == 2:
            data = {"start": raw[0], "end": raw[1]}
        if is_blank(data):
            if required and self.strict:
                self.add(f.key, _("请填写{label}").format(label=f.label))
            return
        out = {}
        for part, name in (("start", _("开始日期")), ("end", _("结束日期"))):
            v = data.get(part)
            if is_blank(v):
                if self.strict:
                    self.add(f"{f.key}.{part}", _("请填写{name}").format(name=name))
                continue
            try:
                out[part] = parse_date(v)
            except FieldError as exc:
                self.add(f"{f.key}.{part}", str(exc))
        if "start" in out and "end" in out and out["start"] > out["end"]:
            self.add(f.key, _("开始日期不能晚于结束日期"))
            return
        if out:
            self.cleaned[f.key] = out

    def attachment(self, f: FormField, raw: Any, *, required: bool) -> None:
        items = [i for i in (raw if isinstance(raw, list) else [raw])
                 if isinstance(i, dict) and not is_blank(i.get("document_id"))]
        if not items:
            if required and self.strict:
                self.add(f.key, _("请上传{label}").format(label=f.label))
            return
        if len(items) > f.max_files:
            self.add(f.key, _("{label}最多上传 {n} 个文件").format(label=f.label, n=f.max_files))
            return
        out = []
        for item in items:
            try:
                doc_id = parse_integer(item.get("document_id"))
            except FieldError:
                self.add(f.key, _("附件信息不完整，请重新上传"))
                return
            ref = {"name": normalise_text(item.get("name") or ""), "document_id": doc_id}
            ref.update({p: item[p] for p in ("sha256", "size", "pages", "type") if item.get(p) is not None})
            out.append(ref)
        self.cleaned[f.key] = out if f.max_files > 1 else out[0]

    def opinion(self, f: FormField, raw: Any) -> None:
        if f.by not in self.opinion_by:
            return  # another organisation's block: not the applicant's to fill
        if isinstance(raw, str):
            raw = {"text": raw}
        if not isinstance(raw, dict) or is_blank(raw):
            if f.required and self.strict:
                self.add(f"{f.key}.text", _("请填写{label}").format(label=f.label))
            return
        out = {}
        for part in ("text", "signer", "date"):
            v = raw.get(part)
            if is_blank(v):
                if part == "text" and f.required and self.strict:
                    self.add(f"{f.key}.text", _("请填写{label}").format(label=f.label))
                continue
            try:
                if part == "date":
                    out[part] = parse_date(v)
                else:
                    out[part] = parse_scalar("text", v, max_chars=f.max_chars if part == "text" else 100)
            except FieldError as exc:
                self.add(f"{f.key}.{part}", str(exc))
        if out:
            self.cleaned[f.key] = out

    def choice(self, f: FormField, raw: Any, *, required: bool) -> None:
        is_tracks = f.options_from == "tracks"
        many = f.kind == "choice_many"
        if is_tracks:
            self.track_field_seen = True
            if self.type_doc is None or not self.type_doc.tracks:
                return  # the type has no tracks: nothing to tick
            allowed = {t.code: t.name for t in self.type_doc.tracks}
        else:
            allowed = {o.value: o.label for o in f.options}
        picked = [str(x).strip() for x in (raw if isinstance(raw, list | tuple) else [raw]) if not is_blank(x)]
        picked = list(dict.fromkeys(picked))
        if is_tracks and not picked and self.track_code:
            picked = [self.track_code]
        bad = [p for p in picked if p not in allowed]
        for p in bad:
            if is_tracks:
                self.add(f.key, _("申报类型“{value}”不是本项目的申报类型").format(value=p))
            else:
                self.add(f.key, _("“{value}”不是{label}的选项").format(value=p, label=f.label))
        picked = [p for p in picked if p in allowed]
        one_only = not many or (is_tracks and not self.type_doc.multiple_tracks)
        if len(picked) > 1 and one_only:
            # R-C3: exactly one track is ticked
            msg = _("只能勾选一个申报类型") if is_tracks else _("{label}只能选择一项").format(label=f.label)
            self.add(f.key, msg)
            picked = []
        elif not picked and not bad and self.strict and (required or is_tracks):
            self.add(f.key, _("请勾选申报类型") if is_tracks else _("请选择{label}").format(label=f.label))
        if picked:
            self.cleaned[f.key] = picked if many else picked[0]
        if is_tracks:
            self.tracks = [find_track(self.type_doc, p) for p in picked]
        for o in f.options:
            if o.follow_up is None:
                continue
            ticked = o.value in picked
            if ticked:
                self.field(o.follow_up, required=True)
            elif self.partial:
                self.field(o.follow_up, required=False)

    def table(self, f: FormField, raw: Any, *, required: bool) -> None:
        rows_in = raw.get("rows") if isinstance(raw, dict) else raw
        if rows_in is not None and not isinstance(rows_in, list | tuple):
            self.add(f.key, _("{label}的填写格式不对").format(label=f.label))
            return
        rows: list[dict] = []
        for i, row in enumerate(rows_in or []):
            if not isinstance(row, dict) or is_blank(row):
                continue
            out: dict[str, Any] = {}
            for c in f.columns:
                v = row.get(c.key)
                key = f"{f.key}[{i}].{c.key}"
                if is_blank(v):
                    if c.required and self.strict:
                        self.add(key, _("第{n}行：请填写{col}").format(n=i + 1, col=c.label))
                    continue
                try:
                    out[c.key] = parse_scalar(c.kind, v, unit=c.unit, max_chars=c.max_chars)
                except FieldError as exc:
                    self.add(key, _("第{n}行：{msg}").format(n=i + 1, msg=exc))
            rows.append(out)
        n = len(rows)
        if f.max_rows is not None and n > f.max_rows:
            self.add(f.key, _("最多填写{max}行，当前{n}行").format(max=f.max_rows, n=n))
        if self.strict:
            need = max(f.min_rows, 1 if required else 0)
            if n < need:
                self.add(f.key, _("{label}至少填写{min}行").format(label=f.label, min=need))
        for t in f.totals:
            col = next(c for c in f.columns if c.key == t.column)
            total = self.column_total(col, rows)
            cap: Decimal | None = t.max
            source = ""
            if t.max_from == "cap" and self.strict:
                from_cap = effective_cap(self.type_doc, self.tracks)
                if from_cap is not None and (cap is None or from_cap < cap):
                    source = pgettext("funding cap of", "申报类型") if self.tracks else _("本项目")
                    cap = Decimal(from_cap)
            if cap is not None and total > cap:
                self.add(f.key, self.cap_message(t.label, col, total, cap, source))
        if rows:
            self.cleaned[f.key] = rows

    @staticmethod
    def column_total(col: Column, rows: list[dict]) -> Decimal:
        total = Decimal(0)
        for r in rows:
            v = r.get(col.key)
            if v is None:
                continue
            total += Decimal(str(v))
        return total

    @staticmethod
    def amount_text(col: Column | FormField, amount: Decimal | int) -> str:
        if col.kind == "money":
            return wan_text(amount)
        return format_decimal(Decimal(amount))

    def cap_message(self, label: str, col: Column, total: Decimal, cap: Decimal, source: str) -> str:
        what = _("{label}（{col}）").format(label=label, col=col.label)
        limit = self.amount_text(col, cap)
        if source:
            return _("{what}不得超过{source}经费上限{cap}（当前{total}）").format(
                what=what, source=source, cap=limit, total=self.amount_text(col, total))
        return _("{what}不得超过{cap}（当前{total}）").format(what=what, cap=limit, total=self.amount_text(col, total))

    def table_equalities(self, f: FormField) -> None:
        keys = {x.key: x for x in all_fields(self.form)}
        rows = self.cleaned.get(f.key) or []
        for t in f.totals:
            if not t.equals_field or t.equals_field not in keys:
                continue
            other_f = keys[t.equals_field]
            other = self.cleaned.get(t.equals_field)
            if other is None or not rows:
                continue
            col = next(c for c in f.columns if c.key == t.column)
            total = self.column_total(col, rows)
            if total != Decimal(str(other)):
                self.add(f.key, _("{label}（{col}）{total}须等于“{other}”{value}").format(
                    label=t.label, col=col.label, total=self.amount_text(col, total), other=other_f.label,
                    value=self.amount_text(other_f, other)))

    # checks across fields

    def filled(self, key: str, kinds: dict[str, FormField]) -> bool:
        f = kinds.get(key)
        if f is None:
            return False
        if f.kind == "table":
            return not any(k == key or k.startswith(f"{key}[") for k in self.errors)
        return key in self.cleaned

    def checks(self) -> None:
        kinds = {f.key: f for f in all_fields(self.form)}
        ctx = None
        for check in self.form.checks:
            refs = form_refs(check.expr)
            unknown = [k for k in refs if k not in kinds]
            if unknown:
                self.add("__all__", _("申报表规则“{message}”使用了表中没有的字段 {keys}，无法检查，请联系主办方").format(
                    message=check.message, keys="、".join(unknown)))
                continue
            if not all(self.filled(k, kinds) or guards_blank(check.expr, k) for k in refs):
                continue  # evaluated once every field it reads is filled (or the rule itself tests it)
            if ctx is None:
                ctx = cel_form_context(self.form, self.cleaned, self.type_doc, self.tracks, call_doc=self.call_doc,
                                       applicant=self.applicant)
            try:
                result = compile_expression(check.expr).evaluate(ctx)
            except ExpressionError as exc:
                self.add("__all__", _("申报表规则“{message}”无法检查（{detail}），请联系主办方").format(
                    message=check.message, detail=exc))
                continue
            if result is not True and result is not False:
                self.add("__all__", _("申报表规则“{message}”的结果不是“是/否”，无法检查，请联系主办方").format(
                    message=check.message))
                continue
            if result is False:
                self.add(refs[0] if refs else "__all__", check.message)


def validate(*, form: FormTemplate, values: dict, call_doc=None, type_doc: ProjectType | None = None,
             track_code: str | None = None, partial: bool = False,
             opinion_by: Collection[str] = APPLICANT_OPINION_BY, applicant: Any = None) -> FormResult:
    """Check `values` against `form` for `type_doc` of `call_doc` (see the module text).

    `track_code` is the application's track when the form does not ask for it (or as the default of an
    unanswered 申报类型). `opinion_by`: the opinion blocks the person filling may fill (applicants: their
    own); the others are left out of `cleaned` — keep the stored ones when saving. `applicant`: the
    applicant unit (an Organisation or a dict of APPLICANT_KEYS), read by checks as `applicant.name` ….
    """
    return _Run(form=form, values=values, call_doc=call_doc, type_doc=type_doc, track_code=track_code,
                partial=partial, opinion_by=opinion_by, applicant=applicant).run()
