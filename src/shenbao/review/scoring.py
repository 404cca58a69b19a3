"""Scoring by experts (评分): each assigned expert fills the type's rubric (criteria with weights and ranges,
a comment of at least N 汉字), saves a draft and submits; staff may send a submitted sheet back with a
reason. Blind review hides the applicant's identity from the expert (forms/redaction.py). A daily task
reminds experts of unsubmitted sheets before the call's `review.scoring_deadline`; after it scoring is
refused. Staff export the scores per call and type as XLSX.

Services (changes: keyword-only, atomic, audited) and selectors (reads) of the sub-stage.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.applications.models import Application
from shenbao.calls.schema import Criterion, Rubric
from shenbao.core import audit, jobs, mail
from shenbao.core.decisions import NotAllowed, require
from shenbao.core.expressions import hanzi_count
from shenbao.core.privacy import mask_text
from shenbao.review import permissions
from shenbao.review.models import Assignment, Expert, ScoreSheet
from shenbao.review.workflow import SCORE_SHEET

TWO_PLACES = Decimal("0.01")


# --- the rubric ---------------------------------------------------------------------------------------


def rubric_of(application: Application) -> Rubric:
    """The type's 评分标准 from the call's data (its own, else the call's, else the platform's default)."""
    return application.call.document.rubric_for(application.project_type.document)


def _num(d: Decimal) -> str:
    """A value as typed back: 30, 7.5 (no trailing zeros, never exponent notation)."""
    text = format(d.normalize(), "f")
    return text


def criterion_range(c: Criterion) -> str:
    return _("%(min)s–%(max)s 分") % {"min": _num(c.min), "max": _num(c.max)}


def max_total(rubric: Rubric) -> Decimal:
    return sum((c.max * c.weight for c in rubric.criteria), Decimal(0)).quantize(TWO_PLACES)


def total_of(rubric: Rubric, values: Mapping[str, Decimal | str]) -> Decimal | None:
    """The weighted sum Σ weight × value, to 0.01; None while a criterion has no value."""
    total = Decimal(0)
    for c in rubric.criteria:
        v = values.get(c.key)
        if v in (None, ""):
            return None
        total += Decimal(str(v)) * c.weight
    return total.quantize(TWO_PLACES)


def parse_values(rubric: Rubric, raw: Mapping[str, object], *, complete: bool) -> tuple[dict[str, str], dict[str, str]]:
    """The posted values checked against the rubric: ({key: "7.5"}, {key: message}). Blank values are
    allowed in a draft (`complete=False`) and refused on submission."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for c in rubric.criteria:
        text = str(raw.get(c.key, "") if raw.get(c.key) is not None else "").strip().replace("，", ".")
        if text == "":
            if complete:
                errors[c.key] = _("请填写“%(name)s”的得分（%(range)s）") % {"name": c.name, "range": criterion_range(c)}
            continue
        try:
            d = Decimal(text)
            if not d.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[c.key] = _("“%(name)s”的得分须为数字（您填的是“%(value)s”）") % {"name": c.name, "value": text[:20]}
            continue
        if d < c.min or d > c.max:
            errors[c.key] = _("“%(name)s”的得分须在 %(range)s 之间（您填的是 %(value)s）") % {
                "name": c.name, "range": criterion_range(c), "value": text[:20]}
            continue
        if d != d.quantize(TWO_PLACES):
            errors[c.key] = _("“%(name)s”的得分最多保留两位小数") % {"name": c.name}
            continue
        values[c.key] = _num(d)
    return values, errors


def comment_error(rubric: Rubric, comment: str) -> str | None:
    """The comment's problem, if any: counted in 汉字 only (letters, digits and punctuation do not count)."""
    need = rubric.comment_min_hanzi
    have = hanzi_count(comment or "")
    if not (comment or "").strip():
        return _("请填写评审意见（不少于 %(need)d 个汉字）") % {"need": need} if need else _("请填写评审意见")
    if have < need:
        return _("评审意见须不少于 %(need)d 个汉字，目前只有 %(have)d 个汉字（字母、数字和标点不计）") % {
            "need": need, "have": have}
    return None


# --- services -----------------------------------------------------------------------------------------


@dataclass
class SheetResult:
    sheet: ScoreSheet | None
    errors: dict[str, str] = field(default_factory=dict)  # criterion key or "comment" → message
    already: bool = False  # a second submit of a submitted sheet: nothing changed

    @property
    def ok(self) -> bool:
        return not self.errors


COMMENT_MAX = 5000


def _locked_sheet(assignment: Assignment) -> ScoreSheet:
    sheet, _created = ScoreSheet.objects.get_or_create(assignment=assignment)
    return ScoreSheet.objects.select_for_update().select_related(
        "assignment__application__call", "assignment__expert").get(pk=sheet.pk)


def save_draft(*, user, assignment: Assignment, values: Mapping[str, object], comment: str,
               ip: str | None = None) -> SheetResult:
    """Keep the expert's work: values checked for form and range (blanks allowed); nothing saved on error."""
    comment = (comment or "").strip()
    rubric = rubric_of(assignment.application)
    clean, errors = parse_values(rubric, values, complete=False)
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("评审意见不能超过 %(n)d 字") % {"n": COMMENT_MAX}
    with transaction.atomic():
        sheet = _locked_sheet(assignment)
        require(permissions.can_edit_sheet(user, sheet))
        if errors:
            return SheetResult(sheet, errors)
        before = {"values": sheet.values, "comment": sheet.comment}
        sheet.values, sheet.comment = clean, comment
        sheet.total = total_of(rubric, clean)
        sheet.saved_at = timezone.now()
        sheet.save(update_fields=["values", "comment", "total", "saved_at"])
        audit.record(actor=user, action="score_sheet.save", obj=sheet, before=before,
                     after={"values": clean, "comment": comment, "total": sheet.total}, ip=ip)
    return SheetResult(sheet)


def submit(*, user, assignment: Assignment, values: Mapping[str, object], comment: str,
           ip: str | None = None) -> SheetResult:
    """Submit the sheet: every criterion in range, the comment long enough. A second submit of the same
    sheet (double click, retried request) changes nothing."""
    comment = (comment or "").strip()
    rubric = rubric_of(assignment.application)
    with transaction.atomic():
        sheet = _locked_sheet(assignment)
        if sheet.state == ScoreSheet.State.SUBMITTED:
            require(permissions.can_read_assigned(user, assignment))
            return SheetResult(sheet, already=True)
        require(permissions.can_edit_sheet(user, sheet))
        clean, errors = parse_values(rubric, values, complete=True)
        problem = comment_error(rubric, comment)
        if problem:
            errors["comment"] = problem
        elif len(comment) > COMMENT_MAX:
            errors["comment"] = _("评审意见不能超过 %(n)d 字") % {"n": COMMENT_MAX}
        if errors:
            return SheetResult(sheet, errors)
        now = timezone.now()
        sheet.values, sheet.comment = clean, comment
        sheet.total = total_of(rubric, clean)
        sheet.saved_at = sheet.submitted_at = now
        sheet.save(update_fields=["values", "comment", "total", "saved_at", "submitted_at"])
        sheet = SCORE_SHEET.perform(user=user, obj=sheet, action="submit",
                                    extra_after={"values": clean, "total": str(sheet.total), "comment": comment})
    return SheetResult(sheet)


def reopen(*, user, sheet: ScoreSheet, reason: str, ip: str | None = None) -> ScoreSheet:
    """Staff send a submitted sheet back to its expert, with a reason the expert reads."""
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed(_("请填写退回重评的理由"))
    with transaction.atomic():
        locked = SCORE_SHEET.perform(user=user, obj=sheet, action="reopen", note=reason[:1000],
                                     extra_after={"reason": reason[:1000]})
        locked.reopen_reason = reason[:1000]
        locked.reopened_at = timezone.now()
        locked.reopened_by = user
        locked.save(update_fields=["reopen_reason", "reopened_at", "reopened_by"])
    return locked


# --- selectors ----------------------------------------------------------------------------------------


@dataclass
class BenchRow:
    assignment: Assignment
    sheet: ScoreSheet | None
    title: str
    deadline: dt.date | None
    closed: bool

    @property
    def state(self) -> str:
        return self.sheet.state if self.sheet else "none"

    @property
    def state_label(self) -> str:
        if self.sheet is None:
            return _("未开始")
        return _(self.sheet.get_state_display())


def live_assignments(expert: Expert):
    return (Assignment.objects.filter(expert=expert, removed_at__isnull=True)
            .select_related("application__call", "application__project_type", "application__current_snapshot",
                            "application__applicant", "sheet")
            .order_by("application__call_id", "application__project_type__order", "application__number",
                      "application_id"))


def _sheet(a: Assignment) -> ScoreSheet | None:
    try:
        return a.sheet
    except ScoreSheet.DoesNotExist:
        return None


def shown_title(application: Application, user=None) -> str:
    """The title as the expert reads it: the submitted version's, with the applicant hidden in blind review."""
    snap = application.current_snapshot
    title = ((snap.values or {}).get("title") if snap else "") or application.title or application.project_type.name
    if blind(application):
        from shenbao.forms.redaction import _Scrubber

        title = _Scrubber(identity_names(application)).text(title)
    return title


def bench(expert: Expert) -> list[BenchRow]:
    """The expert's live assignments with their sheets, call by call."""
    today = timezone.localdate()
    rows = []
    for a in live_assignments(expert):
        call = a.application.call
        deadline = call.document.review.scoring_deadline
        rows.append(BenchRow(assignment=a, sheet=_sheet(a), title=shown_title(a.application),
                             deadline=deadline, closed=bool(deadline and today > deadline)))
    return rows


def blind(application: Application) -> bool:
    return bool(application.call.document.review.blind)


def identity_names(application: Application) -> list[str]:
    """The applicant unit's and joint units' names (short names too): hidden wherever met in blind review."""
    names = [application.applicant.name, getattr(application.applicant, "short_name", "") or ""]
    snap = application.current_snapshot
    for p in ((snap.values or {}).get("participants") or []) if snap else []:
        if isinstance(p, dict):
            names.append(p.get("name") or "")
    return [n for n in names if n]


def expert_values(application: Application) -> dict:
    """The submitted version's values as an expert sees them: the applicant's identity hidden when the call
    says `review.blind` (forms/redaction.py decides what from the form template's fields)."""
    from shenbao.applications import selectors as app_selectors
    from shenbao.applications.formdata import form_of
    from shenbao.forms.redaction import redact

    snap = application.current_snapshot
    if snap is None:
        return {}
    values = app_selectors.print_values(snap)
    form = form_of(application)
    if blind(application) and form is not None:
        values = redact(form, values, names=identity_names(application))
    return values


def frozen_attachment_ids(application: Application) -> set[int]:
    """The ids of the attachments the submitted version names (an expert may download only these)."""
    ids: set[int] = set()

    def walk(v):
        if isinstance(v, dict):
            if "document_id" in v:
                try:
                    ids.add(int(v["document_id"]))
                except (TypeError, ValueError):
                    pass
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    snap = application.current_snapshot
    walk((snap.values or {}).get("values") if snap else None)
    return ids


def expert_pdf(application: Application) -> bytes:
    """The application's form as PDF for its expert (redacted in blind review; no QR code: it is not the
    stamped original)."""
    from shenbao.documents.render import form_pdf

    number = application.number
    footer = _("评审用副本 · 申报编号 %(number)s") % {"number": number} if number else _("评审用副本")
    if blind(application):
        footer += _(" · 盲审：已隐去申报单位和人员信息")
    return form_pdf(call=application.call, project_type=application.project_type,
                    values=expert_values(application), footer=footer)


def sheets_of_call(call, project_type=None):
    """Every sheet of live assignments of a call (or one of its types), for staff."""
    qs = (Assignment.objects.filter(application__call=call, removed_at__isnull=True)
          .select_related("application__project_type", "application__applicant", "expert", "sheet")
          .order_by("application__project_type__order", "application__number", "application_id", "expert__name"))
    if project_type is not None:
        qs = qs.filter(application__project_type=project_type)
    return qs


def unsubmitted_assignments(*, call=None):
    """Live assignments whose sheet is not submitted (none yet, a draft, or reopened)."""
    qs = Assignment.objects.filter(removed_at__isnull=True).exclude(sheet__state=ScoreSheet.State.SUBMITTED)
    if call is not None:
        qs = qs.filter(application__call=call)
    return qs


# --- reminders (a daily task) -------------------------------------------------------------------------


def _expert_address(expert: Expert) -> str:
    return expert.email or (expert.user.email if expert.user_id else "")


@task()
def send_scoring_reminders(day: str | None = None) -> int:
    """Daily (core/daily.py, `shenbao daily`): mail every expert who has unsubmitted sheets of a call whose
    scoring deadline is today or later. One mail per expert and day, even if the task runs twice."""
    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    pending = (unsubmitted_assignments().filter(expert__active=True)
               .select_related("expert__user", "application__call").order_by("expert_id", "application_id"))
    by_expert: dict[int, tuple[Expert, dict]] = {}
    for a in pending:
        call = a.application.call
        deadline = call.document.review.scoring_deadline
        if deadline is None or today > deadline:
            continue  # no deadline to remind of, or past it (scoring is refused then)
        expert, calls = by_expert.setdefault(a.expert_id, (a.expert, {}))
        calls.setdefault(call.pk, [call, deadline, 0])[2] += 1
    sent = 0
    for expert, calls in by_expert.values():
        to = _expert_address(expert)
        if not to:
            continue
        with transaction.atomic():
            if not jobs.once(f"scoring-reminder:{today.isoformat()}:{expert.pk}"):
                continue
            lines = [f"《{call.title}》：尚有 {n} 份评分表未提交，评审截止日期 {deadline.isoformat()}"
                     for call, deadline, n in calls.values()]
            # Chinese, as the platform's other mail (the recipient's language is not known)
            mail.send(subject="【评审提醒】您有未提交的评分表",
                      body=f"{expert.name}专家：\n" + "\n".join(lines) + "\n请在截止日期前登录平台完成评分并提交。",
                      to=[to])
            audit.record(action="score_sheet.remind", obj=expert, actor_name="daily",
                         after={"day": today.isoformat(), "calls": [c.pk for c, _d, _n in calls.values()],
                                "unsubmitted": sum(n for _c, _d, n in calls.values())})
            sent += 1
    return sent


# --- export -------------------------------------------------------------------------------------------


def scores_xlsx(*, call, project_type) -> bytes:
    """The scores of a call's type as XLSX: one row per application and expert, a column per criterion
    (the type's rubric), the weighted total, the comment and the sheet's state. Experts are named (staff
    read this); their phones are masked."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    rubric = call.document.rubric_for(project_type.document)
    wb = Workbook()
    ws = wb.active
    ws.title = str(project_type.code)[:31] or "评分"
    head = ["申报编号", "项目名称", "申报单位", "评审专家", "专家单位", "专家手机"]
    head += [f"{c.name}（{_num(c.min)}-{_num(c.max)}分，权重{_num(c.weight)}）" for c in rubric.criteria]
    head += ["总分", "评审意见", "状态", "提交时间"]
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for a in sheets_of_call(call, project_type):
        app = a.application
        sheet = _sheet(a)
        values = sheet.values if sheet else {}
        row = [app.number, app.title or project_type.name, app.applicant.name, a.expert.name,
               a.expert.organisation_name, mask_text(a.expert.phone) if a.expert.phone else ""]
        row += [float(values[c.key]) if values.get(c.key) not in (None, "") else None for c in rubric.criteria]
        row += [float(sheet.total) if sheet and sheet.total is not None else None,
                sheet.comment if sheet else "",
                sheet.get_state_display() if sheet else "未开始",
                timezone.localtime(sheet.submitted_at).strftime("%Y-%m-%d %H:%M")
                if sheet and sheet.submitted_at and sheet.state == ScoreSheet.State.SUBMITTED else ""]
        ws.append(row)
    widths = [14, 30, 26, 10, 22, 14] + [14] * len(rubric.criteria) + [8, 50, 10, 17]
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = w
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_filename(call, project_type) -> str:
    return f"评分汇总-{call.code}-{project_type.code}.xlsx"
