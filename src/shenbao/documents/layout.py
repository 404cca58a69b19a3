"""One layout model of an application form (附表 / 申报书), shared by the PDF and the DOCX renderers.

`build_layout(call=…, project_type=…, form=…, values=…)` turns a form template of the call format
(`shenbao.calls.schema.FormTemplate`) and, for a filled form, the values of an application into a
`FormLayout`: a header (附表1, title, 项目编号, 填表时间), an optional cover page and a list of blocks. Each
renderer only draws blocks; what a field looks like on paper is decided here, once.

`values` maps field keys to values, as an application stores them:

- text-like fields and long text: str; integer / number: int, Decimal, float or str;
- money: whole yuan (int); it is shown in the field's (or column's) unit, yuan or 万元;
- date: `datetime.date` or ISO text ("2026-12-31", "2026-12"); period: {"start": …, "end": …} or [start, end];
- choice_one: the option value (for `options_from: tracks`, the track code); choice_many: a list of values;
  a follow-up field of an option has its own key at the top level;
- person: {part: value}, e.g. {"name": "张三", "phone": "0772-…", "full_time": "full_time"} (full_time:
  "full_time" / "part_time", or True / False);
- opinion: {"text": …, "signer": …, "date": …} (or the text alone);
- table: a list of rows {column key: value}, or {"rows": [...], "total": {...}} (the CEL `form` shape);
  totals not given are summed from the rows;
- attachment: {"name": …, "document_id": …}, a file name, or a list of either.

Two keys that cannot be field keys (they start with "_") carry the rest: "_fill_date" (填表时间) and
"_meeting" (the meeting named in a commitment's `{meeting}`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from shenbao.calls.schema import PART_LABELS, Column, FormField, FormTemplate, ProjectType
from shenbao.calls.schema import Call as CallDoc

UNTICKED = "☐"
TICKED = "☑"
BLANK_DATE = "　　　　年　　月　　日"

FULL_TIME_OPTIONS = (("full_time", "专职"), ("part_time", "兼职"))
UNIT_LABELS = {"yuan": "元", "wan": "万元"}


# --- the model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A section title row (一、申报单位基本情况)."""

    title: str


@dataclass(frozen=True)
class Line:
    """A labelled cell: the label (about a quarter of the width) and the value. `lines` is the room left
    to write in on a blank form (1 for a single line); `help` is printed in the value cell."""

    key: str
    label: str
    value: str = ""
    help: str = ""
    lines: int = 1
    bare: bool = False  # the section title already says the label: the value takes the whole width


@dataclass(frozen=True)
class PersonPart:
    label: str
    value: str = ""
    options: tuple[tuple[str, bool], ...] = ()  # printed as ☐ 专职 ☐ 兼职 instead of a value


@dataclass(frozen=True)
class Person:
    """A person block (项目负责人 | 姓名 … 职务 … / 联系电话 …): the label spans the sub-rows; the parts are
    laid out two to a sub-row, a part with options takes a sub-row of its own."""

    key: str
    label: str
    parts: tuple[PersonPart, ...]

    def sub_rows(self) -> list[tuple[PersonPart, ...]]:
        rows: list[tuple[PersonPart, ...]] = []
        pending: list[PersonPart] = []
        for p in self.parts:
            if p.options:
                if pending:
                    rows.append(tuple(pending))
                    pending = []
                rows.append((p,))
                continue
            pending.append(p)
            if len(pending) == 2:
                rows.append(tuple(pending))
                pending = []
        if pending:
            rows.append(tuple(pending))
        return rows


@dataclass(frozen=True)
class Choice:
    """Tick one / tick many: ☐ option ☐ option (☑ when ticked)."""

    key: str
    label: str
    options: tuple[tuple[str, bool], ...]
    many: bool = False
    help: str = ""

    def text(self) -> str:
        return "　".join(f"{TICKED if on else UNTICKED} {label}" for label, on in self.options)


@dataclass(frozen=True)
class Table:
    """A repeating table: its label, a header row, the rows (blank ones on a blank form) and the total row."""

    key: str
    label: str
    headers: tuple[str, ...]
    widths: tuple[float, ...]  # relative widths of the columns
    numeric: tuple[bool, ...]  # right-aligned columns
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, ...] | None = None
    help: str = ""
    bare: bool = False  # the section title already says the label: no label row


@dataclass(frozen=True)
class Opinion:
    """An opinion block with room to write, the signer line, the date and the stamp."""

    key: str
    label: str
    text: str = ""  # fixed text (a commitment)
    value: str = ""
    signer: str = ""
    date: bool = True
    stamp_label: str = ""
    lines: int = 4
    co_signers: tuple[str, ...] = ()  # further signature lines (期刊负责人签名 …), each dated
    signed_by: str = ""  # the name typed after the signer line (a filled form)
    signed_on: str = ""  # the date, printed (a filled form); blank: 年 月 日 to write in

    def signatures(self) -> list[tuple[str, tuple[str, ...]]]:
        """(signer line, right-aligned lines under it): the signer with the stamp and the date, then each
        co-signer with its date."""
        blank = ("年　　月　　日",) if self.date else ()
        date = (self.signed_on,) if self.date and self.signed_on else blank
        stamp = ()
        if self.stamp_label:
            stamp = (self.stamp_label if self.stamp_label.startswith("（") else f"（{self.stamp_label}）",)
        signer = f"{self.signer}：{self.signed_by}" if self.signer else ""
        out = [(signer, stamp + date)]
        out.extend((f"{c}：", blank) for c in self.co_signers)
        return out


@dataclass(frozen=True)
class Note:
    """A full-width note (a field of kind `note`, or the form's 备注)."""

    key: str
    label: str
    text: str = ""


Block = Section | Line | Person | Choice | Table | Opinion | Note


@dataclass(frozen=True)
class Cover:
    """The cover fields of a form. When the template says `cover_page` (常德's 申报书) they make a cover
    page of their own (programme line, title, 项目编号, the fields, the maker); else they are lines under
    the title (广西's 附表7: 申报单位（盖章）：…  填表日期：…)."""

    programme: str
    fields: tuple[Line, ...]
    maker: str = ""
    page: bool = False


@dataclass(frozen=True)
class FormLayout:
    label: str  # 附表1
    title: str
    code_line: str  # (项目编号：2026-1 号) or ""
    fill_date: str  # 填表时间：…  or ""
    cover: Cover | None
    blocks: tuple[Block, ...]
    note: str = ""
    maker: str = ""  # printed at the end when there is no cover
    author: str = ""  # the issuer (document metadata)
    subject: str = ""  # the call's title (document metadata)
    labels: tuple[str, ...] = field(default=(), compare=False)  # every field label, in order


# --- formatting values ---------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None


def _plain(d: Decimal) -> str:
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def money_amount(value: Any, unit: str) -> str:
    """Whole yuan shown in `unit` without the unit: 15000 → "15000" (yuan) or "1.5" (万元)."""
    d = _decimal(value)
    if d is None:
        return "" if value in (None, "") else str(value)
    if unit == "wan":
        d = d / Decimal(10000)
    return _plain(d)


def money_text(value: Any, unit: str) -> str:
    amount = money_amount(value, unit)
    return f"{amount} {UNIT_LABELS[unit]}" if amount else ""


def date_text(value: Any) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    s = str(value).strip()
    parts = s.split("T")[0].split("-")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
        y, m, *d = (int(p) for p in parts)
        return f"{y}年{m}月" + (f"{d[0]}日" if d else "")
    return s


def period_text(value: Any) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, dict):
        start, end = value.get("start"), value.get("end")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        start, end = value
    else:
        return str(value)
    return f"{date_text(start)} 至 {date_text(end)}"


def attachment_line(item: Any) -> str:
    """One attached file as printed: its name, pages (a PDF) or size, and the prefix of its SHA-256."""
    if not isinstance(item, dict):
        return str(item)
    name = str(item.get("name") or item.get("filename") or "")
    facts = []
    if item.get("pages"):
        facts.append(f"{item['pages']}页")
    elif item.get("size"):
        size = int(item["size"])
        facts.append(f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} KB")
    if item.get("sha256"):
        facts.append(f"SHA-256 {str(item['sha256'])[:12]}")
    return f"{name}（{'，'.join(facts)}）" if facts and name else name


def _attachment_text(value: Any) -> str:
    if value in (None, ""):
        return ""
    items = value if isinstance(value, (list, tuple)) else [value]
    lines = [attachment_line(i) for i in items]
    return "\n".join(f"{n}. {t}" if len(lines) > 1 else t for n, t in enumerate(lines, start=1) if t)


def _number_text(value: Any) -> str:
    if value in (None, ""):
        return ""
    d = _decimal(value)
    return _plain(d) if d is not None else str(value)


def cell_text(kind: str, value: Any, unit: str = "yuan", *, with_unit: bool = True) -> str:
    """A value of a field or column kind, as printed."""
    if value is None or value == "":
        return ""
    if kind == "money":
        return money_text(value, unit) if with_unit else money_amount(value, unit)
    if kind == "date":
        return date_text(value)
    if kind == "period":
        return period_text(value)
    if kind in ("integer", "number"):
        return _number_text(value)
    if kind == "attachment":
        return _attachment_text(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


# --- building the layout ---------------------------------------------------------------------------------


def _long_lines(f: FormField) -> int:
    if f.max_chars:
        return max(4, min(14, f.max_chars // 70))
    return 6


def _help(f: FormField) -> str:
    out = f.help
    if f.may_attach and "附" not in out and "加页" not in out:
        out += "（可另附页）"
    return out


_UNIT_RE = re.compile(r"^[（(]?([^\s（）()，,。；;：:]{1,4})[）)]?$")


def _unit_suffix(f: FormField) -> str | None:
    """The unit a numeric field's help gives (help: 人 / （个） / 元), or None."""
    if f.kind not in ("integer", "number", "money") or not f.help:
        return None
    m = _UNIT_RE.match(f.help.strip())
    return m.group(1) if m else None


def _blank_value(f: FormField) -> str:
    if f.kind in ("date", "period") and "年" in f.help:
        return ""  # the help already is the blank to fill (年 月 日起至 …)
    if f.kind == "date":
        return BLANK_DATE
    if f.kind == "period":
        return f"{BLANK_DATE} 至 {BLANK_DATE}"
    if f.kind == "money":
        return f"　　　　　　{UNIT_LABELS[f.unit]}"
    return ""


def _ticks(options: list[tuple[str, str]], chosen: Any, many: bool) -> tuple[tuple[str, bool], ...]:
    if many:
        picked = set(chosen or []) if isinstance(chosen, (list, tuple, set)) else {chosen}
    else:
        picked = {chosen}
    return tuple((label, value in picked) for value, label in options)


def _full_time(value: Any) -> tuple[tuple[str, bool], ...]:
    if isinstance(value, bool):
        chosen = "full_time" if value else "part_time"
    elif value in ("专职",):
        chosen = "full_time"
    elif value in ("兼职",):
        chosen = "part_time"
    else:
        chosen = value
    return tuple((label, chosen == code) for code, label in FULL_TIME_OPTIONS)


def _column_weight(c: Column, fixed: list[str], first: bool) -> float:
    if first and fixed and max(len(x) for x in fixed) <= 3:
        return 0.7
    base = {"long_text": 3.2, "text": 2.0, "email": 2.0, "phone": 1.6, "mobile": 1.6, "date": 1.5,
            "money": 1.3, "integer": 1.0, "number": 1.0}[c.kind]
    return max(base, min(3.2, len(c.label) * 0.35))


def _table_rows(value: Any) -> tuple[list[dict], dict]:
    if isinstance(value, dict):
        return list(value.get("rows") or []), dict(value.get("total") or {})
    return list(value or []), {}


def _table(f: FormField, value: Any, filled: bool) -> Table:
    headers = tuple(
        f"{c.label}（{UNIT_LABELS[c.unit]}）" if c.kind == "money" and "元" not in c.label else c.label
        for c in f.columns
    )
    widths = tuple(_column_weight(c, f.fixed_first_column, i == 0) for i, c in enumerate(f.columns))
    numeric = tuple(c.kind in ("money", "integer", "number") for c in f.columns)
    rows_in, given_total = _table_rows(value)
    fixed = f.fixed_first_column
    first = f.columns[0].key
    n = max(len(rows_in), len(fixed)) if filled else max(f.rows, f.min_rows, len(fixed))
    rows = []
    for i in range(n):
        data = rows_in[i] if i < len(rows_in) and isinstance(rows_in[i], dict) else {}
        cells = [cell_text(c.kind, data.get(c.key), c.unit, with_unit=False) for c in f.columns]
        if i < len(fixed):
            cells[0] = fixed[i]  # fixed rows keep their printed names
        elif not cells[0] and filled and not data.get(first) and f.columns[0].label in ("序号", "序 号"):
            cells[0] = str(i + 1)
        rows.append(tuple(cells))
    total = None
    if f.totals:
        by_col = {t.column: t for t in f.totals}
        cells = []
        for c in f.columns:
            if c.key not in by_col:
                cells.append("")
                continue
            if not filled:
                cells.append("")
                continue
            amount = given_total.get(c.key)
            if amount is None:
                nums = [_decimal(r.get(c.key)) for r in rows_in if isinstance(r, dict)]
                amount = sum((x for x in nums if x is not None), Decimal(0))
            cells.append(cell_text(c.kind if c.kind in ("money", "integer", "number") else "number",
                                   amount, c.unit, with_unit=False))
        label_at = next((i for i, c in enumerate(f.columns) if c.key not in by_col), 0)
        cells[label_at] = f.totals[0].label
        total = tuple(cells)
    return Table(key=f.key, label=f.label, headers=headers, widths=widths, numeric=numeric,
                 rows=tuple(rows), total=total, help=_help(f))


_NUMBERING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+[.、．])\s*")


def _said_by(section: str, label: str) -> bool:
    """Whether a section title already names the field (三、项目选题背景依据 / 项目选题背景依据)."""
    core = _NUMBERING.sub("", section or "")
    return bool(core) and core.startswith(label)


def _blocks_for(f: FormField, values: dict, filled: bool, ptype: ProjectType, labels: list[str],
                extra_help: str = "", section: str = "") -> list[Block]:
    labels.append(f.label)
    v = values.get(f.key)
    help_text = (extra_help + _help(f)).strip()
    k = f.kind
    if k == "person":
        pv = v if isinstance(v, dict) else {}
        parts = []
        for part in f.parts:
            labels.append(PART_LABELS.get(part, part))
            if part == "full_time":
                parts.append(PersonPart(label=PART_LABELS[part], options=_full_time(pv.get(part))))
            else:
                parts.append(PersonPart(label=PART_LABELS.get(part, part), value=cell_text("text", pv.get(part))))
        return [Person(key=f.key, label=f.label, parts=tuple(parts))]
    if k in ("choice_one", "choice_many"):
        if f.options_from == "tracks":
            opts = [(t.code, t.name) for t in ptype.tracks]
        else:
            opts = [(o.value, o.label) for o in f.options]
        many = k == "choice_many"
        out: list[Block] = [Choice(key=f.key, label=f.label, options=_ticks(opts, v, many), many=many,
                                   help=help_text)]
        for o in f.options:
            if o.follow_up:
                out.extend(_blocks_for(o.follow_up, values, filled, ptype, labels,
                                       extra_help=f"（选“{o.label}”时填写）"))
        return out
    if k == "table":
        t = _table(f, v, filled)
        labels.extend(t.headers)
        if _said_by(section, f.label):
            t = replace(t, bare=True)
        return [t]
    if k == "opinion":
        text = f.text.replace("{meeting}", str(values.get("_meeting") or "_" * 12)) if f.text else ""
        ov = v if isinstance(v, dict) else {"text": v}
        return [Opinion(key=f.key, label=f.label, text=text, value=cell_text("text", ov.get("text")),
                        signer=f.signer, date=f.date,
                        stamp_label=f.stamp_label or ("单位盖章" if f.stamp else ""),
                        lines=2 if text else 4, co_signers=tuple(f.co_signers),
                        signed_by=cell_text("text", ov.get("signer")), signed_on=date_text(ov.get("date")))]
    if k == "note":
        return [Note(key=f.key, label=f.label, text=" ".join(x for x in (f.text, help_text) if x))]
    text = cell_text(k, v, f.unit)
    suffix = _unit_suffix(f)
    if suffix is not None:
        # a help that is only a unit (人, 个, 元) follows the value: “12 人”, a blank “　　　　人”
        help_text = extra_help.strip()
        if k == "money" and suffix in UNIT_LABELS.values():
            suffix = ""  # the money's own unit is printed already
        if suffix:
            text = f"{text} {suffix}" if text else ("" if filled else f"　　　　　　{suffix}")
    if not text and not filled:
        text = _blank_value(f)
    if filled and k in ("date", "period") and "年" in help_text:
        help_text = ""  # the help was the blank to fill in (年 月 日起至 …)
    if k == "attachment" and not help_text:
        help_text = "（另附）"
    lines = _long_lines(f) if k == "long_text" else 1
    if filled and k == "long_text":
        lines = 2
    bare = k == "long_text" and _said_by(section, f.label)
    return [Line(key=f.key, label=f.label, value=text, help=help_text, lines=lines, bare=bare)]


def build_layout(*, call: CallDoc, project_type: ProjectType, form: FormTemplate,
                 values: dict | None = None) -> FormLayout:
    """The layout of `form` for `project_type` of `call` (schema objects), blank or filled with `values`."""
    filled = values is not None
    vals = values or {}
    labels: list[str] = []
    blocks: list[Block] = []
    for s in form.sections:
        if not s.print:  # asked on the page only: the official form is printed as the notice has it
            continue
        if s.title:
            blocks.append(Section(s.title))
        for f in s.fields:
            blocks.extend(_blocks_for(f, vals, filled, project_type, labels, section=s.title))
    cover = None
    if form.cover:
        cover_fields = []
        for f in form.cover:
            labels.append(f.label)
            text = cell_text(f.kind, vals.get(f.key), f.unit)
            if not text and f.kind == "date":
                text = BLANK_DATE
            cover_fields.append(Line(key=f.key, label=f.label, value=text))
        cover = Cover(programme=call.programme if call.programme != form.title else "",
                      fields=tuple(cover_fields), maker=form.maker, page=form.cover_page)
    fill_date = ("填表时间：" + (date_text(vals.get("_fill_date")) or BLANK_DATE)) if form.fill_date else ""
    note = form.note
    if note and not note.startswith("备注"):
        note = f"备注：{note}"
    return FormLayout(
        label=form.label,
        title=form.title,
        code_line=f"（项目编号：{project_type.code} 号）" if form.show_type_code else "",
        fill_date=fill_date,
        cover=cover,
        blocks=tuple(blocks),
        note=note,
        maker=form.maker if not (cover and cover.page) else "",
        author=call.issuer.name,
        subject=call.title,
        labels=tuple(labels),
    )
