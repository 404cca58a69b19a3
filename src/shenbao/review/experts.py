"""The expert pool (评审专家库) of a funder: services to add, edit, deactivate, import from and export to XLSX,
give an expert a login, and the expert's own first steps (保密承诺, 回避申报); selectors for the pages.

Bank details are never stored: an imported sheet's bank columns (开户行, 银行账号 …) are ignored and the
import says so.

Import policy: all or nothing. A sheet with any bad row saves nothing and reports every bad row (row number
as Excel shows it, the column's header, the problem in Chinese); the user fixes the sheet and imports it
again. A row whose mobile number (else e-mail) matches an expert of the pool updates that expert, so an
exported sheet imported again changes nothing (a round trip).
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from shenbao.applications.models import Application
from shenbao.core import audit, jobs
from shenbao.core.decisions import NotAllowed, require
from shenbao.core.models import TaskEffect
from shenbao.core.privacy import mask_text
from shenbao.orgs import notify
from shenbao.orgs.models import Organisation, Role, RoleAssignment, User
from shenbao.orgs.validators import MOBILE_RE, normalize_phone
from shenbao.review import permissions
from shenbao.review.models import ConflictOverride, Expert

# (key, header, required) — the sheet's columns, in order; the headers are the import's and the export's
COLUMNS: list[tuple[str, str, bool]] = [
    ("name", gettext_noop("姓名"), True),
    ("organisation_name", gettext_noop("工作单位"), True),
    ("title", gettext_noop("职称"), False),
    ("fields", gettext_noop("专业领域"), False),
    ("keywords", gettext_noop("研究方向关键词"), False),
    ("region", gettext_noop("所在地区"), False),
    ("phone", gettext_noop("手机号码"), False),
    ("email", gettext_noop("电子邮箱"), False),
]
# other headers people write for the same columns
ALIASES = {
    "专家姓名": "name", "单位": "organisation_name", "所在单位": "organisation_name", "工作单位名称": "organisation_name",
    "职务/职称": "title", "职务职称": "title", "技术职称": "title", "专业": "fields", "研究领域": "fields",
    "专业方向": "fields", "关键词": "keywords", "研究方向": "keywords", "地区": "region", "所在地": "region",
    "手机": "phone", "联系电话": "phone", "电话": "phone", "邮箱": "email", "电子邮件": "email", "E-mail": "email",
    "Email": "email",
}
BANK_WORDS = ("银行", "开户", "账号", "帐号", "卡号")
MAX_ROWS = 3000
MAX_BYTES = 5 * 1024 * 1024
LIMITS = {"name": 50, "organisation_name": 200, "title": 50, "region": 100, "phone": 30, "email": 254}
_SPLIT = re.compile(r"[、,，;；\n/|]+")


@dataclass(frozen=True)
class RowError:
    row: int  # as Excel numbers it (the header is row 1); 0: the file itself
    column: str  # the column's header ('' for the whole row or file)
    problem: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def split_terms(value) -> list[str]:
    """专业领域 / 关键词 as a list: from a list, or a text separated by 、，,；; or new lines; duplicates dropped."""
    items = value if isinstance(value, list | tuple) else _SPLIT.split(str(value or ""))
    out: list[str] = []
    for item in items:
        text = " ".join(str(item or "").split())
        if text and text not in out:
            out.append(text)
    return out


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed as a number in Excel
    return " ".join(str(value).split())


def clean(data: dict) -> tuple[dict, dict[str, str]]:
    """An expert's fields from a form or a sheet row: (clean values, {key: problem}) — the problems in Chinese."""
    values = {k: _text(data.get(k)) for k, _h, _r in COLUMNS if k not in ("fields", "keywords")}
    values["fields"] = split_terms(data.get("fields"))
    values["keywords"] = split_terms(data.get("keywords"))
    problems: dict[str, str] = {}
    for key, _header, required in COLUMNS:
        if required and not values[key]:
            problems[key] = _("必填，不能为空")
        elif key in LIMITS and len(values[key]) > LIMITS[key]:
            problems[key] = _("不能超过%(n)s个字") % {"n": LIMITS[key]}
    if len(values["fields"]) > 20 or len(values["keywords"]) > 30 or any(
            len(t) > 50 for t in values["fields"] + values["keywords"]):
        problems.setdefault("keywords", _("专业领域最多20项、关键词最多30项，每项不超过50个字"))
    if values["phone"]:
        phone = normalize_phone(values["phone"])
        if not MOBILE_RE.match(phone):
            problems["phone"] = _("手机号码格式不正确：应为11位数字，以13–19开头，如 13800138000")
        else:
            values["phone"] = phone[-11:]
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            problems["email"] = _("电子邮箱格式不正确")
        values["email"] = values["email"].lower()
    if not values["phone"] and not values["email"] and "phone" not in problems:
        problems["phone"] = _("手机号码和电子邮箱至少填写一项，以便联系专家")
    return values, problems


# --- organisation matching --------------------------------------------------------------------------


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def match_organisations(names) -> dict[str, Organisation]:
    """{name as written: unit of the tree} for the names that match a registered unit's name or short name
    (spaces and full/half-width forms ignored). One query."""
    wanted = {_norm(n): n for n in names if n}
    if not wanted:
        return {}
    raw = {n.strip() for n in names if n}
    found: dict[str, Organisation] = {}
    candidates = Organisation.objects.filter(Q(name__in=raw) | Q(short_name__in=raw) | Q(name__in=list(wanted)))
    by_norm: dict[str, Organisation] = {}
    for org in candidates.order_by("id"):
        by_norm.setdefault(_norm(org.name), org)
        if org.short_name:
            by_norm.setdefault(_norm(org.short_name), org)
    for key, name in wanted.items():
        if key in by_norm:
            found[name] = by_norm[key]
    return found


def match_organisation(name: str) -> Organisation | None:
    return match_organisations([name]).get(name)


# --- selectors --------------------------------------------------------------------------------------


def funders_of(user, roles=(Role.FUNDER_STAFF,)) -> list[Organisation]:
    """The funders (call issuers) whose pool the user works with: where they hold one of `roles`."""
    if not getattr(user, "is_authenticated", False):
        return []
    ids = set()
    for org_id in RoleAssignment.objects.filter(user=user, role__in=roles).values_list("organisation_id", flat=True):
        ids.add(org_id or user.organisation_id)
    ids.discard(None)
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def pool(funder, *, q: str = "", active: bool | None = True) -> QuerySet[Expert]:
    """The funder's experts, searched by name, unit, title, field, keyword, region, phone or e-mail."""
    qs = Expert.objects.filter(funder=funder).select_related("organisation", "user")
    if active is not None:
        qs = qs.filter(active=active)
    words = (q or "").split()[:5]
    if words:
        # fields and keywords are JSON lists (stored escaped on SQLite): matched here, one query for the pool
        terms = {pk: " ".join([*(f or []), *(k or [])]).lower()
                 for pk, f, k in Expert.objects.filter(funder=funder).values_list("id", "fields", "keywords")}
        for word in words:
            in_terms = [pk for pk, text in terms.items() if word.lower() in text]
            qs = qs.filter(Q(name__icontains=word) | Q(organisation_name__icontains=word) | Q(title__icontains=word)
                           | Q(region__icontains=word) | Q(phone__icontains=word) | Q(email__icontains=word)
                           | Q(pk__in=in_terms))
    return qs.order_by("name", "id")


# the applications a funder's conflicts pages list: submitted ones (and those returned for revision)
REVIEWABLE = (Application.Status.SUBMITTED, Application.Status.RETURNED)


def reviewable_applications(funder_id: int) -> QuerySet[Application]:
    return (Application.objects.filter(call__issuer_id=funder_id, status__in=REVIEWABLE)
            .select_related("applicant", "call", "project_type").order_by("call_id", "number", "id"))


def shown(expert: Expert, *, masked: bool) -> dict:
    """The expert's fields as a viewer sees them (phone and e-mail masked unless the role needs them)."""
    return {
        "phone": mask_text(expert.phone) if masked and expert.phone else expert.phone,
        "email": mask_text(expert.email) if masked and expert.email else expert.email,
    }


# --- services: the pool ------------------------------------------------------------------------------


def _snapshot(expert: Expert) -> dict:
    return {"name": expert.name, "organisation_name": expert.organisation_name,
            "organisation": expert.organisation_id, "title": expert.title, "fields": expert.fields,
            "keywords": expert.keywords, "region": expert.region, "phone": mask_text(expert.phone) if expert.phone else "",
            "email": mask_text(expert.email) if expert.email else "", "active": expert.active}


class ExpertInvalid(ValidationError):
    """Bad input for an expert: `problems` maps each field to its message (Chinese)."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("；".join(problems.values()))


def _duplicate(funder, values: dict, exclude_pk=None) -> Expert | None:
    if not values.get("phone"):
        return None
    qs = Expert.objects.filter(funder=funder, phone=values["phone"])
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def create_expert(*, actor, funder: Organisation, data: dict, ip: str | None = None) -> Expert:
    require(permissions.can_manage_experts(actor, funder))
    values, problems = clean(data)
    if problems:
        raise ExpertInvalid(problems)
    with transaction.atomic():
        other = _duplicate(funder, values)
        if other is not None:
            raise ExpertInvalid({"phone": _("该手机号码已登记为专家：%(name)s") % {"name": other.name}})
        org = match_organisation(values["organisation_name"])
        expert = Expert.objects.create(funder=funder, organisation=org, **values)
        audit.record(actor=actor, action="review.expert.create", obj=expert, ip=ip, after=_snapshot(expert))
    return expert


def update_expert(*, actor, expert: Expert, data: dict, ip: str | None = None) -> Expert:
    require(permissions.can_manage_experts(actor, expert.funder_id))
    values, problems = clean(data)
    if problems:
        raise ExpertInvalid(problems)
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        other = _duplicate(expert.funder_id, values, exclude_pk=expert.pk)
        if other is not None:
            raise ExpertInvalid({"phone": _("该手机号码已登记为专家：%(name)s") % {"name": other.name}})
        before = _snapshot(expert)
        if values["organisation_name"] != expert.organisation_name or expert.organisation_id is None:
            expert.organisation = match_organisation(values["organisation_name"])
        for k, v in values.items():
            setattr(expert, k, v)
        expert.save()
        after = _snapshot(expert)
        if after != before:
            audit.record(actor=actor, action="review.expert.update", obj=expert, ip=ip, before=before, after=after)
    return expert


def set_active(*, actor, expert: Expert, active: bool, reason: str = "", ip: str | None = None) -> Expert:
    """Take an expert out of the pool (出库) or back in; the row and its history stay. Out of the pool, the
    expert's login can no longer pass the gate."""
    require(permissions.can_manage_experts(actor, expert.funder_id))
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        if expert.active != active:
            expert.active = active
            expert.save(update_fields=["active", "updated_at"])
            audit.record(actor=actor, action="review.expert.activate" if active else "review.expert.deactivate",
                         obj=expert, ip=ip, note=(reason or "").strip()[:300],
                         before={"active": not active}, after={"active": active})
    return expert


def set_organisation(*, actor, expert: Expert, organisation: Organisation | None, ip: str | None = None) -> Expert:
    """Link the expert to a unit of the tree by hand (when the written name does not match one)."""
    require(permissions.can_manage_experts(actor, expert.funder_id))
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        if expert.organisation_id != (organisation.pk if organisation else None):
            before = {"organisation": expert.organisation_id}
            expert.organisation = organisation
            expert.save(update_fields=["organisation", "updated_at"])
            audit.record(actor=actor, action="review.expert.update", obj=expert, ip=ip, before=before,
                         after={"organisation": expert.organisation_id})
    return expert


# --- import and export ------------------------------------------------------------------------------


def _header_map(row) -> tuple[dict[int, str], list[str]]:
    keys = {_h: k for k, _h, _r in COLUMNS}
    keys |= ALIASES
    found: dict[int, str] = {}
    ignored: list[str] = []
    for i, cell in enumerate(row):
        text = _text(cell)
        if not text:
            continue
        key = keys.get(text) or keys.get(text.replace("*", "").replace("（必填）", "").strip())
        if key and key not in found.values():
            found[i] = key
        else:
            ignored.append(text)
    return found, ignored


def read_sheet(content: bytes) -> tuple[list[tuple[int, dict]], list[RowError], list[str]]:
    """The rows of the first sheet: ([(row number, {key: raw value})], file-level errors, ignored headers)."""
    from openpyxl import load_workbook

    if len(content) > MAX_BYTES:
        return [], [RowError(0, "", _("文件超过 %(mb)s MB，请拆分后导入") % {"mb": MAX_BYTES // 1024 // 1024})], []
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        return [], [RowError(0, "", _("文件无法读取：请上传 Excel 2007 及以上版本的 .xlsx 文件"))], []
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return [], [RowError(1, "", _("表格是空的：第1行应为表头（姓名、工作单位……）"))], []
        columns, ignored = _header_map(header)
        missing = [_(h) for k, h, r in COLUMNS if r and k not in columns.values()]
        if missing:
            return [], [RowError(1, m, _("缺少必需的列")) for m in missing], ignored
        out: list[tuple[int, dict]] = []
        for number, row in enumerate(rows, start=2):
            if not any(_text(v) for v in row):
                continue
            if len(out) >= MAX_ROWS:
                return [], [RowError(number, "", _("一次最多导入 %(n)s 位专家，请拆分后导入") % {"n": MAX_ROWS})], ignored
            out.append((number, {key: row[i] if i < len(row) else None for i, key in columns.items()}))
        if not out:
            return [], [RowError(2, "", _("表格中没有专家数据"))], ignored
        return out, [], ignored
    finally:
        wb.close()


def import_xlsx(*, actor, funder: Organisation, content: bytes, ip: str | None = None) -> ImportResult:
    """Import a sheet into the funder's pool. All or nothing: any bad row and nothing is saved (the result
    lists every problem by row and column)."""
    require(permissions.can_manage_experts(actor, funder))
    rows, errors, ignored = read_sheet(content)
    result = ImportResult(errors=errors, ignored_columns=[c for c in ignored if any(w in c for w in BANK_WORDS)]
                          + [c for c in ignored if not any(w in c for w in BANK_WORDS)])
    if errors:
        return result
    header = {k: _(h) for k, h, _r in COLUMNS}
    cleaned: list[tuple[int, dict]] = []
    seen_phone: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    for number, raw in rows:
        values, problems = clean(raw)
        for key, problem in problems.items():
            result.errors.append(RowError(number, header[key], problem))
        if values["phone"] and "phone" not in problems:
            if values["phone"] in seen_phone:
                result.errors.append(RowError(number, header["phone"], _("与第%(row)s行的手机号码重复") % {
                    "row": seen_phone[values["phone"]]}))
            seen_phone.setdefault(values["phone"], number)
        elif values["email"] and "email" not in problems:
            if values["email"] in seen_email:
                result.errors.append(RowError(number, header["email"], _("与第%(row)s行的电子邮箱重复") % {
                    "row": seen_email[values["email"]]}))
            seen_email.setdefault(values["email"], number)
        cleaned.append((number, values))
    if result.errors:
        return result

    orgs = match_organisations([v["organisation_name"] for _n, v in cleaned])
    with transaction.atomic():
        existing = list(Expert.objects.select_for_update().filter(funder=funder))
        by_phone = {e.phone: e for e in existing if e.phone}
        by_email: dict[str, list[Expert]] = {}
        for e in existing:
            if e.email:
                by_email.setdefault(e.email.lower(), []).append(e)
        new: list[Expert] = []
        for _number, values in cleaned:
            expert = by_phone.get(values["phone"]) if values["phone"] else None
            if expert is None and not values["phone"] and len(by_email.get(values["email"], [])) == 1:
                expert = by_email[values["email"]][0]
            org = orgs.get(values["organisation_name"])
            if expert is None:
                new.append(Expert(funder=funder, organisation=org, **values))
                continue
            before = _snapshot(expert)
            for k, v in values.items():
                setattr(expert, k, v)
            if org is not None or expert.organisation_name != before["organisation_name"]:
                expert.organisation = org or expert.organisation
            if not expert.active:
                expert.active = True
            if _snapshot(expert) == before:
                result.unchanged += 1
                continue
            expert.save()
            result.updated += 1
        Expert.objects.bulk_create(new, batch_size=500)
        result.created = len(new)
        audit.record(actor=actor, action="review.expert.import", obj=funder, ip=ip,
                     after={"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                            "rows": len(cleaned)},
                     note=_("忽略的列：%(cols)s") % {"cols": "、".join(result.ignored_columns)}
                     if result.ignored_columns else "")
    return result


XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a ZIP archive
IMPORT_DIR = "imports/experts"


def upload_problem(upload) -> RowError | None:
    """The checks made in the request before an upload is queued: its size and that it is an .xlsx (a ZIP)."""
    if upload.size > MAX_BYTES:
        return RowError(0, "", _("文件超过 %(mb)s MB，请拆分后导入") % {"mb": MAX_BYTES // 1024 // 1024})
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if head != XLSX_MAGIC:
        return RowError(0, "", _("文件无法读取：请上传 Excel 2007 及以上版本的 .xlsx 文件"))
    return None


def start_import(*, actor, funder: Organisation, upload, ip: str | None = None):
    """Keep the upload (streamed in chunks to the app's storage, under media/imports/, not served) and queue
    its import as a background job; the job's page shows the counts, or every problem by row and column."""
    require(permissions.can_manage_experts(actor, funder))
    path = default_storage.save(f"{IMPORT_DIR}/{uuid.uuid4().hex}.xlsx", upload)
    try:
        return jobs.start(import_job, user=actor, label=_("导入评审专家：%(funder)s") % {"funder": funder.name[:80]},
                          funder_id=funder.pk, path=path, ip=ip or "")
    except Exception:
        default_storage.delete(path)
        raise


def problems_text(result: ImportResult) -> str:
    """Every problem of a failed import, one a line: row, column, reason (shown on the job's page)."""
    lines = [_("发现 %(n)d 处错误，未导入任何数据：") % {"n": len(result.errors)}]
    for e in result.errors:
        where = _("第%(row)s行") % {"row": e.row} if e.row else _("文件")
        lines.append(f"{where} · {e.column}：{e.problem}" if e.column else f"{where}：{e.problem}")
    if result.ignored_columns:
        lines.append(_("已忽略的列：") + "、".join(result.ignored_columns))
    return "\n".join(lines)


@task()
@jobs.tracked
def import_job(job, *, funder_id: int, path: str, ip: str = "") -> dict | None:
    """The expert pool's import, all or nothing (import_xlsx). A run again after its worker died finds the
    import done (jobs.once) and does not import twice."""
    funder = Organisation.objects.filter(pk=funder_id).first()
    if funder is None or job.owner is None:
        raise jobs.JobError(_("该单位已不存在，未导入"))
    key = f"expert-import:{job.pk}"
    try:
        if TaskEffect.objects.filter(key=key).exists():  # run again after its worker died: imported already
            jobs.finish(job, url=_pool_url(funder), name=_("查看专家库"), message=_("导入已完成"))
            return None
        try:
            with default_storage.open(path, "rb") as f:
                content = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            raise jobs.JobError(_("上传的文件已不在，请重新导入")) from None
        jobs.report(job, 0, 1, _("正在检查并导入"))
        with transaction.atomic():
            if not jobs.once(key):
                jobs.finish(job, url=_pool_url(funder), name=_("查看专家库"), message=_("导入已完成"))
                return None
            try:
                result = import_xlsx(actor=job.owner, funder=funder, content=content, ip=ip or None)
            except NotAllowed as e:
                raise jobs.JobError(e.reason) from None
            if not result.ok:
                transaction.set_rollback(True)
        if not result.ok:
            raise jobs.JobError(problems_text(result))
        text = _("导入完成：新增 %(c)s 位，更新 %(u)s 位，未变 %(n)s 位") % {
            "c": result.created, "u": result.updated, "n": result.unchanged}
        if result.ignored_columns:
            text += "；" + _("已忽略的列：") + "、".join(result.ignored_columns)
        jobs.finish(job, url=_pool_url(funder), name=_("查看专家库"), message=text)
        return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    finally:
        default_storage.delete(path)


def _pool_url(funder: Organisation) -> str:
    from django.urls import reverse

    return f"{reverse('review:experts')}?funder={funder.pk}"


def export_xlsx(*, user, funder: Organisation, experts=None, ip: str | None = None) -> bytes:
    """The pool as a workbook with the import's columns (so it can be imported back), phones and e-mail
    masked unless the viewer's role needs them (the funder's staff). Audited as an export."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    require(permissions.can_view_experts(user, funder))
    masked = not permissions.sees_expert_phones(user, funder.pk)
    experts = list(experts if experts is not None else pool(funder, active=None))
    wb = Workbook()
    ws = wb.active
    ws.title = _("评审专家库")[:31]
    ws.append([_(h) for _k, h, _r in COLUMNS] + [_("在库")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for e in experts:
        s = shown(e, masked=masked)
        ws.append([e.name, e.organisation_name, e.title, "、".join(e.fields or []), "、".join(e.keywords or []),
                   e.region, s["phone"], s["email"], _("是") if e.active else _("否")])
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"  # never a formula
    for column in ws.columns:
        width = max((len(str(c.value or "")) for c in column[:50]), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(max(width * 1.6, 8), 50)
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    audit.record(actor=user, action="review.expert.export", obj=funder, ip=ip,
                 after={"experts": len(experts), "masked": masked})
    return out.getvalue()


def template_xlsx() -> bytes:
    """An empty sheet with the import's headers and one example row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("评审专家库")[:31]
    ws.append([_(h) for _k, h, _r in COLUMNS])
    ws.append(["张三", "广西科技大学", "教授", "机械工程、智能制造", "工业机器人、数控技术", "广西柳州", "13800138000",
               "zhangsan@example.com"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- services: the expert's login ------------------------------------------------------------------


def create_login(*, actor, expert: Expert, username: str, ip: str | None = None) -> User:
    """Staff open a login for the expert: a user with the expert role in the funder, no password yet; a
    one-time link to set one is mailed to the expert's e-mail (nobody else ever sees a password)."""
    require(permissions.can_manage_experts(actor, expert.funder_id))
    username = (username or "").strip()
    if not username:
        raise ExpertInvalid({"username": _("请填写用户名")})
    if not re.fullmatch(r"[\w.@+-]{3,150}", username):
        raise ExpertInvalid({"username": _("用户名只能包含字母、数字和 @ . + - _，至少3个字符")})
    if not expert.email:
        raise ExpertInvalid({"email": _("该专家没有登记电子邮箱：设置密码的一次性链接只发送到本人邮箱，请先补充邮箱")})
    if not expert.active:
        raise NotAllowed(_("该专家已不在专家库中"))
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        if expert.user_id:
            return expert.user  # a double submit: the login exists
        if User.objects.filter(username__iexact=username).exists():
            raise ExpertInvalid({"username": _("该用户名已被使用")})
        user = User.objects.create_user(username=username, password=None, display_name=expert.name,
                                        organisation=expert.funder, phone=expert.phone, email=expert.email,
                                        must_change_password=False)
        RoleAssignment.objects.create(user=user, role=Role.EXPERT, organisation=expert.funder)
        expert.user = user
        expert.save(update_fields=["user", "updated_at"])
        audit.record(actor=actor, action="review.expert.login_create", obj=expert, ip=ip,
                     after={"username": username, "role": Role.EXPERT, "email": notify.masked(expert.email)})
        notify.password_link(user, new_account=True)
    return user


# --- services: the expert's first steps (保密承诺, 回避申报) -----------------------------------------------

PLEDGE_TEXT = gettext_noop(
    "本人自愿担任评审专家，郑重承诺：\n"
    "一、对评审工作中知悉的申报材料、评审意见、评审结果及其他未公开信息严格保密，不以任何形式泄露、复制或用于评审以外的用途；\n"
    "二、不私下接触申报单位及其人员，不接受请托、礼品、礼金或其他利益；\n"
    "三、与申报单位或项目存在利害关系的，主动申报回避；\n"
    "四、独立、客观、公正地评审，对所提意见负责；\n"
    "五、评审结束后按要求交回或删除评审材料。\n"
    "如有违反，愿承担相应责任，并接受取消专家资格等处理。")


def _own(actor, expert: Expert) -> Expert:
    if not getattr(actor, "is_authenticated", False) or expert.user_id != actor.pk:
        raise NotAllowed(_("只有专家本人可以办理"))
    if not expert.active:
        raise NotAllowed(_("您已不在专家库中，不能参加评审"))
    return expert


def accept_pledge(*, actor, expert: Expert, ip: str | None = None) -> Expert:
    _own(actor, expert)
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        if expert.pledge_accepted_at is None:
            expert.pledge_accepted_at = timezone.now()
            expert.save(update_fields=["pledge_accepted_at", "updated_at"])
            audit.record(actor=actor, action="review.expert.pledge", obj=expert, ip=ip,
                         after={"pledge_accepted_at": expert.pledge_accepted_at})
    return expert


def finish_declaration(*, actor, expert: Expert, ip: str | None = None) -> Expert:
    """The expert confirms the 回避申报: the relations declared so far (none: 无需回避)."""
    _own(actor, expert)
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        if expert.pledge_accepted_at is None:
            raise NotAllowed(_("请先阅读并接受保密承诺"))
        declared = ConflictOverride.objects.filter(expert=expert, kind=ConflictOverride.Kind.DECLARED,
                                                   revoked_at__isnull=True).count()
        if expert.conflicts_declared_at is None:
            expert.conflicts_declared_at = timezone.now()
            expert.save(update_fields=["conflicts_declared_at", "updated_at"])
            audit.record(actor=actor, action="review.expert.declared", obj=expert, ip=ip,
                         after={"conflicts_declared_at": expert.conflicts_declared_at, "declared": declared},
                         note=_("无需回避") if not declared else _("申报回避 %(n)s 项") % {"n": declared})
    return expert


def declare_unit(*, actor, expert: Expert, unit_name: str, reason: str, ip: str | None = None):
    """The expert declares a relation with a unit, named as registered on the platform."""
    from shenbao.review import conflicts

    _own(actor, expert)
    name = (unit_name or "").strip()
    if not name:
        raise ExpertInvalid({"unit": _("请填写单位名称")})
    org = match_organisation(name)
    if org is None:
        raise ExpertInvalid({"unit": _("平台上没有名为“%(name)s”的单位，请核对全称") % {"name": name}})
    return conflicts.declare(actor=actor, expert=expert, organisation=org, reason=reason, ip=ip)
