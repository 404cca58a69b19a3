"""The funder's exports of 收到的申报: the list as an XLSX workbook (the list's columns, then the form's
fields, one column each; phones and other personal data masked unless the viewer's role needs them), and
a ZIP of the printed PDFs and stamped scans of a selection (built here; a background job may call it).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shenbao.applications import permissions, printing, selectors
from shenbao.applications.models import Application, Scan
from shenbao.core.privacy import PERSONAL_KEYS, mask_text
from shenbao.orgs.models import Role

PERSONAL_KINDS = {"phone", "mobile", "email"}
SKIP_KINDS = {"note", "opinion", "attachment"}
MAX_ZIP_APPLICATIONS = 500


def sees_contacts(user, issuer_id: int) -> bool:
    """Funder staff call applicants about their applications: they see phones in full. Others (the
    funder's leaders) get them masked (core.privacy)."""
    return permissions.has_role_in(user, issuer_id, (Role.FUNDER_STAFF,))


def _columns_of(apps: list[Application]) -> list[tuple[str, str, str, str, dict]]:
    """(key, part, label, kind, option labels) of every form field the selection's forms have, in the
    order met."""
    seen: dict[tuple[str, str], tuple[str, str, str, str, dict]] = {}
    forms: dict[tuple[int, str], Any] = {}
    for app in apps:
        k = (app.call_id, app.project_type.code)
        if k not in forms:
            forms[k] = app.call.document.application_form_for(app.project_type.document)
    from shenbao.calls.schema import PART_LABELS

    for form in forms.values():
        for f in form.all_fields() if form is not None else []:
            if f.kind in SKIP_KINDS or getattr(f, "title", False):  # the title is the list's 项目名称 column
                continue
            if f.kind == "person":
                for part in f.parts:
                    seen.setdefault((f.key, part), (f.key, part, f"{f.label}·{PART_LABELS.get(part, part)}", part, {}))
            else:
                seen.setdefault((f.key, ""), (f.key, "", f.label, f.kind, {o.value: o.label for o in f.options}))
    return list(seen.values())


def _flat(value: Any) -> str:
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        if "rows" in value:
            return "\n".join(" / ".join(_flat(v) for v in row.values()) for row in value.get("rows") or [])
        return "；".join(_flat(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return "、".join(_flat(v) for v in value)
    return str(value)


def _cell(value: Any, part: str, kind: str, options: dict, masked: bool) -> Any:
    if part:
        value = value.get(part) if isinstance(value, dict) else None
    if value in (None, "", [], {}):
        return ""
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return value  # whole yuan, a number in the sheet
    if kind in ("integer", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if options:
        value = [options.get(v, v) for v in value] if isinstance(value, list) else options.get(value, value)
    text = _flat(value)
    if masked and (kind in PERSONAL_KINDS or part in PERSONAL_KEYS):
        return mask_text(text)
    return text


def values_title(app: Application) -> str:
    """The title of the submitted version (the funder never reads a draft's, R-S70)."""
    return (app.current_snapshot.values.get("title") or "") if app.current_snapshot_id else ""


def xlsx(*, user, applications: Iterable[Application]) -> bytes:
    """The list as a workbook: one row per application, the list's columns and then the form's fields of
    its current submitted version (phones masked unless `user` is the call issuer's staff)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    apps = list(applications)
    fields = _columns_of(apps)
    wb = Workbook()
    ws = wb.active
    ws.title = _("收到的申报")[:31]
    head = [_("申报编号"), _("申报单位"), _("统一社会信用代码"), _("通知"), _("项目类型"), _("申报类型"), _("项目名称"),
            _("状态"), _("申请经费（元）"), _("提交时间"), _("盖章扫描件"), _("推荐")]
    ws.append(head + [label for _k, _p, label, _kind, _o in fields])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    scan_labels = dict(Scan.State.choices)
    for app in apps:
        masked = not sees_contacts(user, app.call.issuer_id)
        values = (app.current_snapshot.values.get("values") or {}) if app.current_snapshot_id else {}
        state = getattr(app, "scan_state", None)
        endorsed = getattr(app, "endorsed", False)
        row = [app.number, app.applicant.name, app.applicant.credit_code, app.call.title,
               f"{app.project_type.code} {app.project_type.name}", app.track.name if app.track_id else "",
               values_title(app), _(app.get_status_display()), app.amount_asked,
               timezone.localtime(app.submitted_at).strftime("%Y-%m-%d %H:%M") if app.submitted_at else "",
               _(scan_labels[state]) if state else _("未上传"),
               (app.endorser.name if app.endorser_id else "") + ("（" + _("同意推荐") + "）" if endorsed else "")]
        row += [_cell(values.get(key), part, kind, options, masked) for key, part, _label, kind, options in fields]
        ws.append(row)
    for column in ws.columns:
        width = max((len(str(c.value or "")) for c in column[:50]), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(max(width * 1.6, 8), 60)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _safe(name: str) -> str:
    return "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in name).strip() or "_"


def documents_zip(*, user, applications: Iterable[Application], out, progress: Callable[[int, int], None] | None = None
                  ) -> int:
    """Write into `out` (a binary file) a ZIP with, per application, the printed PDF of its current version
    and its stamped scans of that version, in a folder named by its number and unit. Only applications the
    user may see are included; `progress(done, total)` is called after each (for a job's progress bar).
    Returns the number of applications written."""
    apps = [a for a in applications if permissions.can_view(user, a) and a.current_snapshot_id]
    if len(apps) > MAX_ZIP_APPLICATIONS:
        raise ValueError(_("一次最多打包 %(n)s 份申报，请缩小筛选范围") % {"n": MAX_ZIP_APPLICATIONS})
    total = len(apps)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for done, app in enumerate(apps, start=1):
            snap = app.current_snapshot
            folder = _safe(f"{app.number or app.pk}-{app.applicant.name}")[:80]
            zf.writestr(f"{folder}/{_safe(selectors.print_filename(snap, 'pdf'))}", printing.pdf(snap))
            for scan in snap.scans.exclude(state=Scan.State.RETURNED).order_by("uploaded_at", "id"):
                ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(scan.content_type, "bin")
                with scan.file.open("rb") as fh:
                    zf.writestr(f"{folder}/盖章扫描件-{scan.pk}-{scan.state}.{ext}", fh.read())
            if progress:
                progress(done, total)
    return total
