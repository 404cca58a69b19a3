"""The audit administrator's log: filter (time, actor, action, object, address), page, export the filtered
events as XLSX or CSV. Every read and every export is itself an audit event; personal data stays masked."""

from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from shenbao.core import audit
from shenbao.core.privacy import mask_personal
from shenbao.core.verify import verify
from shenbao.orgs import forms, permissions, selectors
from shenbao.orgs.views import denied

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows in one export; narrow the filter for more
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _filtered(request):
    """(form, queryset, filters as text) from the query string; an invalid filter shows its error."""
    form = forms.AuditFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    filters = {k: v for k, v in (form.cleaned_data.items() if valid and request.GET else []) if v}
    qs = selectors.audit_events(**filters) if valid else selectors.audit_events().none()
    shown = {k: str(v) for k, v in filters.items()}
    return form, valid, qs, shown


@login_required
def audit_log(request):
    decision = permissions.can_read_audit_log(request.user)
    if not decision:
        return denied(request, decision)
    form, valid, qs, shown = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(actor=request.user, action="audit.read",
                 after={"filters": shown, "page": page.number, "events": page.paginator.count})
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "orgs/audit.html", {"form": form, "page": page, "query": query.urlencode()},
                  status=200 if valid else 400)


@login_required
def audit_verify(request):
    """The auditor checks the hash chain from the page (as `shenbao audit-verify` does on the server); a read,
    like the page itself (the auditor's pages change nothing)."""
    decision = permissions.can_read_audit_log(request.user)
    if not decision:
        return denied(request, decision)
    verdict = verify()
    audit.record(actor=request.user, action="audit.verify", note=verdict.text(),
                 after={"ok": verdict.ok, "events": verdict.count, "broken_at": verdict.event_id})
    (messages.success if verdict.ok else messages.error)(request, verdict.text())
    return redirect("orgs:audit")


HEADERS = ["序号", "时间（北京时间）", "操作人", "事件", "对象类型", "对象编号", "对象", "说明", "变更前", "变更后",
           "IP", "浏览器", "哈希"]


def _rows(qs):
    for e in qs.iterator(chunk_size=2000):
        yield [
            e.seq or "", f"{timezone.localtime(e.at):%Y-%m-%d %H:%M:%S}", e.actor_name, e.action, e.object_type,
            e.object_id, e.object_repr, mask_personal(e.note, ""),
            _json(mask_personal(e.before)), _json(mask_personal(e.after)), e.ip or "", e.user_agent, e.hash,
        ]


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _xlsx_text(value):
    """A cell's value without the control characters XLSX cannot hold, and never a formula."""
    if not isinstance(value, str):
        return value
    text = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@login_required
def audit_export(request, fmt: str):
    decision = permissions.can_read_audit_log(request.user)
    if not decision:
        return denied(request, decision)
    if fmt not in FORMATS:
        return denied(request, _("不支持的导出格式"), status=400)
    form, valid, qs, shown = _filtered(request)
    if not valid:
        return render(request, "orgs/audit.html", {"form": form, "page": Paginator(qs, PAGE_SIZE).get_page(1),
                                                   "query": ""}, status=400)
    total = qs.count()
    qs = qs[:EXPORT_LIMIT]
    stamp = f"{timezone.localtime():%Y%m%d-%H%M%S}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADERS)
        for row in _rows(qs):
            writer.writerow([_xlsx_text(v) for v in row])  # no formulas for spreadsheets opening the CSV
        content = ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads it as UTF-8
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("审计日志"))
        sheet.append(HEADERS)
        for row in _rows(qs):
            sheet.append([_xlsx_text(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    audit.record(actor=request.user, action="audit.export",
                 after={"filters": shown, "format": fmt, "events": min(total, EXPORT_LIMIT), "matched": total},
                 note=_("导出上限 %(n)s 条，其余未导出") % {"n": EXPORT_LIMIT} if total > EXPORT_LIMIT else "")
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response.audit_recorded = True  # audit.export above says more than file.download would
    return response
