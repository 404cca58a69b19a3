"""The public portal, the call page with its blank forms, and the funder's call administration."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.calls import page_hooks, permissions, schema, selectors, services
from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.decisions import Decision, NotAllowed

MAX_UPLOAD = 2 * 1024 * 1024  # a call file is a few dozen kB


def refused(request, decision: Decision | str, status: int = 403):
    reason = decision.reason if isinstance(decision, Decision) else decision
    audit.refused(reason)  # written to the audit log as access.denied (core/audit_middleware.py)
    return render(request, "calls/refused.html", {"reason": reason}, status=status)


def attachment(content: bytes, filename: str, content_type: str, fallback: str = "") -> HttpResponse:
    """A download whose (Chinese) file name survives every browser: an ASCII fallback and RFC 5987."""
    response = HttpResponse(content, content_type=content_type)
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_"
                       for ch in (fallback or filename))
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    return response


# --- public ----------------------------------------------------------------------------------------------


def portal(request):
    phase = request.GET.get("phase")
    phase = phase if phase in selectors.PHASES else None
    groups = selectors.portal_groups(phase)
    now = timezone.now()
    for g in groups:
        for c in g.calls:
            c.remaining = selectors.remaining_text(c, now)
    counts = selectors.phase_counts()
    return render(request, "calls/portal.html", {
        "groups": groups,
        "phase": phase,
        "counts": counts,
        "count": sum(counts.values()),
        "funder_count": selectors.public_calls().values("issuer").distinct().count(),
        "can_manage": bool(permissions.can_manage_calls(request.user)),
    })


def _visible_call(request, code: str) -> Call:
    call = Call.objects.select_related("issuer").filter(code=code).first()
    if call is None:
        raise Http404(_("没有这个申报通知"))
    decision = permissions.can_preview(request.user, call)
    if not decision:
        audit.refused(decision.reason, call)  # a refusal, shown as "not found" (R-S31)
        raise Http404(_("没有这个申报通知"))
    return call


def call_detail(request, code: str):
    call = _visible_call(request, code)
    document = call.document
    return render(request, "calls/call_detail.html", {
        "call": call,
        "doc": document,
        "types": selectors.type_views(call),
        "deadline": selectors.deadline_local(call),
        "opens": selectors.opens_local(call),
        "remaining": selectors.remaining_text(call),
        "phase": call.phase,
        "preview": call.status != Call.Status.PUBLISHED,
        "common": selectors.call_common(call),
        "annexes": getattr(document, "annexes", []),
        "sections": page_hooks.sections(request, call),  # later stages' sections (the 公示)
    })


FORMATS = {
    "pdf": ("application/pdf", "blank_form_pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "blank_form_docx"),
}


def blank_form(request, code: str, type_code: str):
    call = _visible_call(request, code)
    fmt = request.GET.get("format", "pdf")
    if fmt not in FORMATS:
        raise Http404(_("不支持的格式"))
    ptype = call.types.filter(code=type_code, retired=False).first()
    form = (call.document.form_for(ptype.document) or call.document.results_form_for(ptype.document)) if ptype else None
    if form is None:
        raise Http404(_("该项目类型没有申报表"))
    from shenbao.documents import render as documents_render

    content_type, func = FORMATS[fmt]
    content = getattr(documents_render, func)(call=call, project_type=ptype)
    name = " ".join(p for p in [form.label, ptype.code, form.title] if p)
    response = attachment(content, f"{name}.{fmt}", content_type, fallback=f"{call.code}-{ptype.code}.{fmt}")
    response.audit_object = call  # the download is audited (core/audit_middleware.py)
    return response


# --- the funder's pages --------------------------------------------------------------------------------


def _registrations_url() -> str:
    try:
        return reverse("orgs:registrations")
    except NoReverseMatch:
        return "/accounts/registrations/"


@login_required
def manage(request):
    decision = permissions.can_manage_calls(request.user)
    if not decision:
        return refused(request, decision)
    return render(request, "calls/manage.html", {
        "calls": selectors.funder_calls(request.user),
        "organisations": selectors.funder_organisations(request.user),
        "registrations_url": _registrations_url(),
    })


def _managed_call(code: str) -> Call:
    call = Call.objects.select_related("issuer").filter(code=code).first()
    if call is None:
        raise Http404(_("没有这个申报通知"))
    return call


@login_required
@require_POST
def set_published(request, code: str):
    call = _managed_call(code)
    published = request.POST.get("published") == "1"
    if not published and request.POST.get("confirm") != "1":
        decision = permissions.can_publish(request.user, call)
        if not decision:
            return refused(request, decision)
        return redirect("calls:unpublish", call.code)  # 撤回发布 is confirmed on its own page first
    try:
        services.set_published(call=call, published=published, actor=request.user)
    except NotAllowed as exc:
        return refused(request, exc.reason)
    messages.success(request, _("已发布：%s") % call.title if published else _("已撤回：%s") % call.title)
    return redirect("calls:manage")


@login_required
def unpublish(request, code: str):
    """撤回发布, confirmed: the page says what withdrawing the call means before the button does it."""
    call = _managed_call(code)
    decision = permissions.can_publish(request.user, call)
    if not decision:
        return refused(request, decision)
    if call.status != Call.Status.PUBLISHED:
        messages.info(request, _("该通知未发布，无需撤回：%s") % call.title)
        return redirect("calls:manage")
    return render(request, "calls/unpublish.html", {"call": call, **selectors.call_counts(call)})


@login_required
def export_call(request, code: str):
    call = _managed_call(code)
    decision = permissions.can_export(request.user, call)
    if not decision:
        return refused(request, decision)
    filename = call.source_name or f"{call.code}.yaml"
    response = attachment(call.source_yaml.encode("utf-8"), filename, "application/yaml; charset=utf-8")
    response.audit_object = call  # the export is audited (core/audit_middleware.py)
    return response


def _read_upload(request) -> tuple[str, str] | tuple[None, str]:
    """(text, filename) from the uploaded file, else from the pasted text; (None, reason) when neither."""
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > MAX_UPLOAD:
            return None, _("文件太大（超过 2 MB）")
        try:
            return upload.read().decode("utf-8-sig"), Path(upload.name).name
        except UnicodeDecodeError:
            return None, _("文件须为 UTF-8 编码的 YAML 文本")
    text = request.POST.get("text", "").strip()
    if len(text.encode("utf-8")) > MAX_UPLOAD:  # R-S76: pasted text has the file's limit
        return None, _("粘贴的内容过大（超过 2 MB）")
    if text:
        return text + "\n", Path(request.POST.get("filename", "").strip()[:200]).name or "pasted.yaml"
    return None, _("请上传 YAML 文件或粘贴文件内容")


@login_required
def import_call(request):
    decision = permissions.can_manage_calls(request.user)
    if not decision:
        return refused(request, decision)
    context = {"problems": [], "filename": "", "text": "", "refusal": ""}
    if request.method != "POST":
        return render(request, "calls/import.html", context)
    text, filename = _read_upload(request)
    if text is None:
        context["refusal"] = filename
        return render(request, "calls/import.html", context, status=400)
    context["filename"] = filename
    if "file" not in request.FILES:
        context["text"] = text
    try:
        doc = services.validate_call_text(text, filename)
        existing = Call.objects.select_related("issuer").filter(code=doc.code).first()
        allowed = permissions.can_import_call(request.user, doc.issuer.name, existing)
        if not allowed:
            context["refusal"] = allowed.reason
            audit.refused(allowed.reason)
            return render(request, "calls/import.html", context, status=403)
        result = services.load_call(text=text, filename=filename, actor=request.user)
    except schema.CallFormatError as exc:
        context["problems"] = [{"file": exc.filename, "path": p, "message": m} for p, m in exc.problems]
        return render(request, "calls/import.html", context, status=400)
    except services.CallInUseError as exc:
        context["problems"] = [{"file": exc.filename, "path": "", "message": m} for m in exc.problems]
        return render(request, "calls/import.html", context, status=409)
    except NotAllowed as exc:
        context["refusal"] = exc.reason
        audit.refused(exc.reason)
        return render(request, "calls/import.html", context, status=403)
    call = result.call
    if result.created:
        messages.success(request, _("已导入新通知（未发布）：%s") % call.title)
    elif result.changed:
        messages.success(request, _("已更新通知（第 %(rev)s 版）：%(title)s") % {"rev": call.revision,
                                                                                 "title": call.title})
    else:
        messages.info(request, _("文件与现有通知相同，未作更改：%s") % call.title)
    return redirect("calls:manage")


# --- a new call from an existing one, edited on pages --------------------------------------------------------


@login_required
def copy_call(request, code: str):
    """复制为新通知: the same call file under a new code and title, not published, then the edit page."""
    source = _managed_call(code)
    decision = permissions.can_import_call(request.user, source.issuer.name, None)
    if not decision:
        return refused(request, decision)
    context = {"source": source, "code": request.POST.get("code", f"{source.code}-copy"),
               "title": request.POST.get("title", source.title), "refusal": "", "problems": []}
    if request.method == "POST":
        try:
            result = services.copy_call(actor=request.user, source=source, code=context["code"],
                                        title=context["title"])
        except NotAllowed as exc:
            context["refusal"] = exc.reason
            return render(request, "calls/copy.html", context, status=400)
        except schema.CallFormatError as exc:
            context["problems"] = [{"path": p, "message": m} for p, m in exc.problems]
            return render(request, "calls/copy.html", context, status=400)
        messages.success(request, _("已复制为新通知（未发布），请修改日期、数量、金额和联系人：%s") % result.call.title)
        return redirect("calls:edit", result.call.code)
    return render(request, "calls/copy.html", context)


def _local_iso(value: str) -> str | None:
    """A datetime-local input (Beijing time) as ISO with the zone; None when not a date and time."""
    import datetime as dt

    try:
        naive = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return naive.replace(tzinfo=None).isoformat(timespec="seconds") + "+08:00"


def _whole(value: str) -> int | str | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    return int(value) if value.isdigit() else "bad"


@login_required
def edit_call(request, code: str):
    """修改通知: title, dates, each type's quota and amount, and the contacts, on a page."""
    call = _managed_call(code)
    decision = permissions.can_import_call(request.user, call.issuer.name, call)
    if not decision:
        return refused(request, decision)
    doc = call.document
    local = timezone.get_fixed_timezone(8 * 60)
    contacts = [c.model_dump() for c in doc.contacts] + [{}]
    types = []
    for t in doc.project_types:
        q, f = t.quota, t.funding
        amount_key = {"fixed": "amount", "tiered": "amount", "cap": "max", "range": "max", "pool": "total"}.get(
            f.kind) if f else None
        types.append({"code": t.code, "name": t.name,
                      "quota": q.n if q and q.kind in ("exactly", "at_most", "about") else None,
                      "quota_editable": bool(q and q.kind in ("exactly", "at_most", "about")),
                      "amount": getattr(f, amount_key) if amount_key else None, "amount_editable": bool(amount_key)})
    context = {"call": call, "types": types, "contacts": contacts, "errors": [], "problems": [],
               "title": call.title,
               "opens_at": call.opens_at.astimezone(local).strftime("%Y-%m-%dT%H:%M") if call.opens_at else "",
               "deadline": call.deadline.astimezone(local).strftime("%Y-%m-%dT%H:%M")}
    if request.method != "POST":
        return render(request, "calls/edit.html", context)
    p = request.POST
    errors = []
    edit = services.CallEdit(title=p.get("title", "").strip() or None)
    deadline = _local_iso(p.get("deadline", ""))
    if deadline is None:
        errors.append(_("请填写截止时间（年-月-日 时:分）"))
    edit.deadline = deadline
    opens = p.get("opens_at", "").strip()
    edit.opens_at = "" if not opens else _local_iso(opens)
    if edit.opens_at is None:
        errors.append(_("开始时间格式不正确"))
        edit.opens_at = None
    for t in types:
        change = {}
        for key in ("quota", "amount"):
            value = _whole(p.get(f"{key}-{t['code']}", ""))
            if value == "bad":
                errors.append(_("%(type)s：%(what)s须为整数") % {"type": t["code"],
                                                             "what": _("数量") if key == "quota" else _("金额（元）")})
            elif value is not None:
                change[key] = value
            t[key] = p.get(f"{key}-{t['code']}", "")
        edit.types[t["code"]] = change
    rows = []
    for i in range(len(contacts)):
        row = {k: p.get(f"contact-{i}-{k}", "").strip() for k in ("name", "department", "phone", "email")}
        if any(row.values()) and not row["name"]:
            errors.append(_("第 %(n)s 位联系人须填写姓名") % {"n": i + 1})
        old = contacts[i] if i < len(contacts) else {}
        rows.append({**{k: v for k, v in old.items() if v}, **row})
    edit.contacts = rows
    context.update(title=p.get("title", ""), opens_at=opens, deadline=p.get("deadline", ""), contacts=[*rows, {}])
    if errors:
        context["errors"] = errors
        return render(request, "calls/edit.html", context, status=400)
    try:
        result = services.edit_call(actor=request.user, call=call, edit=edit)
    except schema.CallFormatError as exc:
        context["problems"] = [{"path": p_, "message": m} for p_, m in exc.problems]
        return render(request, "calls/edit.html", context, status=400)
    except services.CallInUseError as exc:
        context["problems"] = [{"path": "", "message": m} for m in exc.problems]
        return render(request, "calls/edit.html", context, status=409)
    except NotAllowed as exc:
        return refused(request, exc.reason)
    if result.changed:
        messages.success(request, _("已保存通知的修改（第 %(rev)s 版）") % {"rev": result.call.revision})
    else:
        messages.info(request, _("没有修改"))
    return redirect("calls:manage")
