"""The ranking and decisions of one call and project type as an XLSX workbook (issue 8 item 10): rank, number,
unit, title, track, contact and phone (masked unless the viewer's role needs them: the issuer's staff), the
sheets, the score, the decision, the amount and why."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from shenbao.core.privacy import mask_text


def _contact(app) -> tuple[str, str]:
    """The form's contact person (项目联系人, else 项目负责人): name and phone."""
    values = (app.current_snapshot.values.get("values") or {}) if app.current_snapshot_id else {}
    form = app.call.document.form_for(app.project_type.document)
    people = [f for f in form.all_fields() if f.kind == "person"] if form is not None else []
    people.sort(key=lambda f: (0 if "contact" in f.key else 1 if "lead" in f.key else 2))
    for f in people:
        v = values.get(f.key)
        if isinstance(v, dict) and v:
            phone = v.get("mobile") or v.get("phone") or v.get("office_phone") or ""
            return str(v.get("name") or ""), str(phone)
    return "", ""


def xlsx(*, user, call, project_type) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from shenbao.review import permissions, selectors

    tv = selectors.selection_view(call, project_type)
    full = permissions.sees_contacts(user, call)
    wb = Workbook()
    ws = wb.active
    ws.title = _("排名与立项建议")[:31]
    ws.append([f"{call.title} · {project_type.code} {project_type.name}"])
    ws["A1"].font = Font(bold=True)
    head = [_("排名"), _("申报编号"), _("申报单位"), _("项目名称"), _("申报类型"), _("联系人"), _("联系电话"),
            _("有效评分表"), _("各评分"), _("评审得分"), _("结果"), _("资助金额（元）"), _("并列"), _("说明")]
    ws.append(head)
    for c in ws[2]:
        c.font = Font(bold=True)
    states = {"proposed": _("拟立项"), "not_selected": _("未入选"), "awarded": _("已立项"), "withdrawn": _("撤销立项")}
    for row, entry, d in tv.rows:
        app = row.application
        name, phone = _contact(app)
        ws.append([
            entry.group_rank if row.complete else _("评分不足"), app.number, app.applicant.name,
            (app.current_snapshot.values.get("title") if app.current_snapshot_id else "") or app.title,
            entry.track.name if entry.track else "", name, phone if full else mask_text(phone) if phone else "",
            f"{row.sheets}/{row.needed}", "、".join(str(v) for v in row.values),
            float(row.score) if row.score is not None else None,
            states.get(d.state, d.state) if d else _("未生成建议"), d.amount if d else None,
            _("是") if d and d.tie else "", d.explanation if d else row.status_text,
        ])
    for col, width in zip("ABCDEFGHIJKLMN", (6, 14, 28, 36, 18, 10, 16, 10, 24, 10, 10, 14, 6, 60), strict=True):
        ws.column_dimensions[col].width = width
    for r in ws.iter_rows(min_row=3):
        for c in r:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
