"""The applicant's pages (可申报项目, the form, own approval and participants, submit, print, scan upload,
dashboard), the home association's endorsement pages and the funder's list of received applications.
Views are thin: permissions from permissions.py, changes through services.py, reads from selectors.py."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications import formdata, permissions, printing, selectors, services
from shenbao.applications.models import Application, ApplicationParticipant, Attachment, Scan
from shenbao.applications.workflow import APPLICATION, submit_action
from shenbao.calls.models import ProjectType, Track
from shenbao.core import audit, ratelimit
from shenbao.core.decisions import Decision, NotAllowed
from shenbao.core.http import client_ip, posted_id
from shenbao.orgs.models import Organisation, User
from shenbao.orgs.selectors import unit_of


def refused(request, reason: Decision | str, status: int = 403):
    text = reason.reason if isinstance(reason, Decision) else reason
    audit.refused(text)  # written to the audit log as access.denied (core/audit_middleware.py)
    return render(request, "applications/refused.html", {"reason": text}, status=status)


def _say_refused(request, reason: str) -> None:
    """A refusal told as a message on the next page: audited like a refusal page."""
    audit.refused(reason)
    messages.error(request, reason)


def attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return response


def _application(request, pk: int, *also: str) -> Application:
    app = get_object_or_404(Application.objects.select_related(
        "call", "call__issuer", "project_type", "track", "applicant", "applicant__category", "current_snapshot",
        "endorser", "saved_by", "returned_by", "screening", "decision", *also), pk=pk)  # review's 形式审查 and result
    app.share_call()
    decision = permissions.can_view(request.user, app)
    if not decision:
        _hide(decision.reason, app)
    return app


def _hide(reason: str, app: Application) -> NoReturn:
    audit.refused(reason, app)  # a refusal, shown as "not found" (R-S31)
    raise Http404(_("没有这份申报"))


def _local(value: str) -> dt.datetime | None:
    """A datetime-local input (Beijing time) → an aware instant."""
    try:
        naive = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return timezone.make_aware(naive, timezone.get_fixed_timezone(8 * 60)) if timezone.is_naive(naive) else naive


# --- the applicant's dashboard and 可申报项目 ---------------------------------------------------------------


@login_required
def mine(request):
    apps = list(selectors.for_user(request.user).select_related("decision"))
    # the scans of the versions submitted (what the next step of each depends on): one query for the list
    prefetch_related_objects([a.current_snapshot for a in apps if a.current_snapshot is not None], "scans")
    unit = next((a.applicant for a in apps if a.applicant_id == request.user.organisation_id), None)
    if unit is not None and not User.organisation.is_cached(request.user):
        request.user.organisation = unit  # the page names the user's unit: read with its applications
    now = timezone.now()
    from shenbao.review.notice import decisions_for_applicant  # pages compose: the review stage's result

    decisions = decisions_for_applicant(apps)
    blocked = selectors.unsubmittable(apps, request.user, now)
    rows = [{"app": a, "next": selectors.next_step(a, request.user), "deadlines": selectors.deadlines(a, now),
             "lead": a.applicant_id == request.user.organisation_id, "blocked": blocked.get(a.pk, []),
             "decision": decisions.get(a.pk)}
            for a in apps]
    return render(request, "applications/mine.html", {
        "rows": rows,
        "invitations": selectors.pending_participations(request.user),
        "can_apply": permissions.can_apply(request.user),
    })


@login_required
def offers(request):
    # the unit with what the rules read of it in one query, for the permission, every verdict and the header
    org = unit_of(request.user)
    decision = permissions.can_apply(request.user, org)
    if not decision:
        return refused(request, decision)
    from shenbao.applications.eligibility import eligible_offers, usage

    own = list(Application.objects.filter(applicant=org).exclude(status="discarded"))
    mine_by_type: dict[int, list[Application]] = {}
    for a in own:
        mine_by_type.setdefault(a.project_type_id, []).append(a)
    groups: list[dict] = []
    for offer in eligible_offers(org=org, applications=own):  # R-E3 counts from the same list
        if not groups or groups[-1]["call"].pk != offer.call.pk:
            # R-E3 before any work: 已用 1/2 项，另有草稿 1 份 (from the list read above: no query per call)
            groups.append({"call": offer.call, "offers": [], "usage": usage(call=offer.call, applications=own)})
        doc = offer.call.document
        tdoc = offer.project_type.document
        groups[-1]["offers"].append({
            "offer": offer,
            "tracks": offer.project_type.open_tracks,
            "existing": mine_by_type.get(offer.project_type.pk, []),
            "has_form": doc.application_form_for(tdoc) is not None,
            "not_in_notice": bool(doc.form_for(tdoc) and doc.form_for(tdoc).not_in_notice),
            "results_form": doc.results_form_for(tdoc) if doc.form_for(tdoc) is None else None,
        })
    for g in groups:
        g["open"] = sum(1 for o in g["offers"] if o["offer"].verdict.ok)
        g["refused"] = len(g["offers"]) - g["open"]
    groups.sort(key=lambda g: g["open"] == 0)  # calls with something to apply for first (stable: by deadline)
    return render(request, "applications/offers.html", {"groups": groups, "org": org,
                                                         "open_count": sum(1 for g in groups for o in g["offers"]
                                                                           if o["offer"].verdict.ok)})


@login_required
def start(request, type_pk: int):
    """在线申报 from the call page (after logging in or registering, `next` leads here): straight to the
    unit's draft of this type if there is one, else the type with its verdict and the button that starts the
    draft (a POST), or why the unit may not apply."""
    ptype = get_object_or_404(ProjectType.objects.select_related("call", "call__issuer"), pk=type_pk, retired=False)
    org = unit_of(request.user)  # with what the rules read of it, in one query
    decision = permissions.can_apply(request.user, org)
    if not decision:
        return refused(request, decision)
    mine = selectors.unit_application_of_type(org, ptype)
    if mine is not None:
        if mine.status in permissions.EDITABLE and permissions.can_edit(request.user, mine):
            messages.info(request, _("本单位已有该类型的申报草稿，请继续填写"))
            return redirect("applications:edit", mine.pk)
        messages.info(request, _("本单位已提交该类型的申报"))
        return redirect("applications:detail", mine.pk)
    from shenbao.applications.eligibility import eligible_offers

    offer = next((o for o in eligible_offers(org=org) if o.project_type.pk == ptype.pk), None)
    return render(request, "applications/start.html", {
        "ptype": ptype, "call": ptype.call, "offer": offer,
        "o": {"offer": offer, "tracks": list(ptype.tracks.filter(retired=False)), "existing": [],
              "has_form": ptype.call.document.application_form_for(ptype.document) is not None} if offer else None,
    })


@login_required
@require_POST
def create(request):
    # whether the type has open tracks is read with the type (one query)
    ptype = get_object_or_404(ProjectType.objects.select_related("call").annotate(
        has_tracks=Exists(Track.objects.filter(project_type=OuterRef("pk"), retired=False))),
        pk=posted_id(request.POST, "project_type", what=_("项目类型")))
    code = request.POST.get("track") or ""
    track = ptype.tracks.filter(code=code, retired=False).first() if code else None
    if ptype.has_tracks and track is None:
        messages.error(request, _("请选择申报类型"))
        return redirect("applications:offers")
    try:
        app = services.create_draft(user=request.user, project_type=ptype, track=track, ip=client_ip(request))
    except NotAllowed as exc:
        return refused(request, exc.reason)
    messages.success(request, _("已创建草稿，请填写申报表"))
    return redirect("applications:edit", app.pk)


# --- one application ----------------------------------------------------------------------------------------


def viewer_role(user, app: Application) -> str:
    """Whose page this is: the applicant's (its units and participants), the endorsing association's or
    the funder's. Each reads its own breadcrumbs and wording, the deciders their form below the content."""
    from shenbao.orgs.models import Role

    if permissions.has_role_in(user, app.applicant_id, (Role.APPLICANT_CLERK, Role.UNIT_HEAD)):
        return "applicant"
    if app.endorser_id and permissions.has_role_in(user, app.endorser_id, (Role.HOME_REVIEWER,)):
        return "endorser"
    if permissions.is_funder_of(user, app):
        return "funder"
    return "applicant"  # a participant unit


def _detail_context(request, app: Application) -> dict:
    user = request.user
    snap = app.current_snapshot
    # the application's scans and endorsements, each read once: the current version's are among them (a
    # draft never submitted has no version, so neither: submitting sets current_snapshot, which stays)
    submitted = app.current_snapshot_id is not None
    scans = list(selectors.scans_of(app)) if submitted else []
    endorsements = list(app.endorsements.select_related("organisation", "reviewer").all()) if submitted else []
    if snap is not None:
        selectors.hold_scans(snap, [s for s in scans if s.snapshot_id == snap.pk])  # the scan selectors below
        if snap.submitted_by_id == user.pk:
            snap.submitted_by = user  # 提交人: the viewer, already read
    if user.organisation_id == app.applicant_id and not User.organisation.is_cached(user):
        user.organisation = app.applicant  # the page head names the viewer's unit: read with the application
    rule = services.own_approval_rule(app)
    steps = selectors.progress(app)
    return {
        "viewer": viewer_role(user, app),
        "app": app,
        "snap": snap,
        "progress": steps,
        "now_step": next((st.key for st in steps if st.state in ("now", "waiting")), ""),
        # a withdrawn or returned version: its print and scan are no longer valid
        "superseded": bool(snap) and app.status in ("draft", "returned"),
        "next": selectors.next_step(app, user),
        "deadlines": selectors.deadlines(app),
        "can_edit": permissions.can_edit(user, app),
        "can_submit": APPLICATION.can(user, app, submit_action(app)) if app.status in permissions.EDITABLE else None,
        "can_withdraw": APPLICATION.can(user, app, "withdraw"),
        "can_print": permissions.can_print(user, app),
        "can_upload": permissions.can_upload_scan(user, app),
        "can_endorse": APPLICATION.can(user, app, "endorse"),
        "finance_required": app.status == "awaiting_endorsement" and services.finance_required(app),
        "can_return": APPLICATION.can(user, app, "return_for_revision"),
        "can_accept_scan": permissions.can_accept_scan_manually(user, app),
        "limit": selectors.limit_state(app),
        "can_accept_over_limit": permissions.can_accept_over_limit(user, app),
        "own_rule": rule,
        "approval": selectors.own_approval(app),
        "approval_problems": services.own_approval_problems(app) if rule else [],
        "participants": list(services.active_participants(app)),
        "scans": scans,
        "current_scan": selectors.current_scan(snap),
        "latest_scan": selectors.latest_scan(snap),
        "endorsements": endorsements,
        "history": selectors.history(app, scans=scans),
        "snapshots": list(app.snapshots.order_by("-number")) if submitted else [],
        "form_html": (formdata.render(app, values=selectors.display_values(snap, endorsements=endorsements),
                                      editable=False) if snap else ""),
        "stamped": app.call.document.submission.stamped,
        "route": None if snap else services.route_for(app),
        "default_revision_deadline": timezone.localtime(timezone.now() + dt.timedelta(days=7)).strftime("%Y-%m-%dT17:00"),
        "screening_result": _screening_result(app),
        "decision": _decision(app),
    }


def _screening_result(app: Application):
    """The funder's screening (形式审查) of the application and its reason, shown on its page (review composes)."""
    from shenbao.review import screening

    return screening.for_applicant(app)


def _decision(app: Application) -> dict | None:
    """The review stage's result as the unit may see it (pages compose: applications views read review)."""
    from shenbao.review.notice import decision_for_applicant

    return decision_for_applicant(app)


def _posted_version(request) -> int:
    """The draft version the page was built on (-1 when missing: the save is then told of a conflict)."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1


@login_required
def detail(request, pk: int):
    # its own approval and an accepted excess over the limit (both shown on the page) read with it
    app = selectors.as_submitted(_application(request, pk, *selectors.DETAIL_RELATED), request.user)
    return render(request, "applications/detail.html", _detail_context(request, app))


def _edit_context(request, app: Application, *, values: dict, errors: dict, conflict=None, reasons=None) -> dict:
    return {
        "app": app,
        "form_html": formdata.render(app, values=values, errors=errors, editable=True),
        "version": conflict.version if conflict else app.version,
        "conflict": conflict,
        "conflict_rows": _differences(app, values, conflict.theirs) if conflict else [],
        "reasons": reasons or [],
        "errors": errors,
        "deadlines": selectors.deadlines(app),
        "can_submit": APPLICATION.can(request.user, app, submit_action(app)),
    }


def _differences(app: Application, mine: dict, theirs: dict) -> list[dict]:
    """The fields where the other clerk's saved values differ from what this clerk typed."""
    form = formdata.form_of(app)
    if form is None:
        return []
    out = []
    for f in form.all_fields():
        a, b = mine.get(f.key), theirs.get(f.key)
        if a != b and f.kind not in ("note", "opinion"):
            out.append({"label": f.label, "theirs": _plain(b), "mine": _plain(a)})
    return out


def _plain(value) -> str:
    if value in (None, "", [], {}):
        return _("（空）")
    if isinstance(value, dict):
        return "；".join(str(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return "；".join(_plain(v) for v in value)
    return str(value)


@login_required
def edit(request, pk: int):
    app = _application(request, pk)
    decision = permissions.can_edit(request.user, app)
    if not decision:
        messages.info(request, decision.reason)
        return redirect("applications:detail", app.pk)
    if request.method != "POST":
        check = request.GET.get("check") == "1"
        errors = formdata.validate(app, app.data, partial=not check).errors
        return render(request, "applications/edit.html", _edit_context(request, app, values=app.data, errors=errors))
    values = formdata.parse_post(app, request.POST)
    version = _posted_version(request)
    refused = _take_attachments(request, app, values)
    if refused:
        messages.error(request, _("附件未上传：%(why)s") % {"why": _("；").join(m for ms in refused.values() for m in ms)})
        return render(request, "applications/edit.html",
                      _edit_context(request, app, values=values, errors=refused), status=400)
    try:
        result = services.save_draft(user=request.user, application=app, values=values, expected_version=version,
                                     ip=client_ip(request))
    except services.Conflict as exc:
        return render(request, "applications/edit.html",
                      _edit_context(request, app, values=values, errors={}, conflict=exc), status=409)
    except services.InputRefused as exc:
        messages.error(request, exc.message)
        return render(request, "applications/edit.html",
                      _edit_context(request, app, values=values, errors=exc.errors), status=400)
    except NotAllowed as exc:
        return refused(request, exc.reason)
    app = result.application
    if request.POST.get("action") == "submit":
        return _submit(request, app.pk, app.version, app)
    if request.POST.get("action") == "check":
        # 检查是否填写完整 checks what is on the page: saved first, then the whole form validated
        full = formdata.validate(app, app.data, partial=False).errors
        reasons = [*services.own_approval_problems(app), *services.participant_problems(app)]
        if full:
            messages.warning(request, _("已保存。检查发现 %(n)s 处需要填写或修改，见各栏下方的提示。") % {"n": len(full)})
        elif not reasons:
            messages.success(request, _("已保存。检查完毕，申报表已填写完整。"))
        return render(request, "applications/edit.html",
                      _edit_context(request, app, values=values, errors=full, reasons=reasons))
    if result.errors:
        messages.warning(request, _("已保存。有 %(n)s 处格式需要修改，见各栏下方的提示。") % {"n": len(result.errors)})
        return render(request, "applications/edit.html", _edit_context(request, app, values=values, errors=result.errors))
    messages.success(request, _("已保存（第 %(v)s 版草稿）") % {"v": app.version})
    return redirect("applications:edit", app.pk)


def _take_attachments(request, app: Application, values: dict) -> dict[str, list[str]]:
    """Keep the files chosen in attachment fields (`f-<key>`) and put them into `values`: a field of one
    file takes the new file in place of the old, a field of several adds it. A refused file leaves the
    field's previous value; the refusals are returned by key."""
    form = formdata.form_of(app)
    refused: dict[str, list[str]] = {}
    for f in (form.all_fields() if form else []):
        if f.kind != "attachment":
            continue
        for upload in request.FILES.getlist(f"f-{f.key}"):
            try:
                row = services.upload_attachment(user=request.user, application=app, field_key=f.key, upload=upload,
                                                 ip=client_ip(request))
            except services.AttachmentRefused as exc:
                refused.setdefault(f.key, []).append(exc.message)
                values[f.key] = app.data.get(f.key) if f.key in app.data else values.get(f.key)
                continue
            except NotAllowed as exc:
                refused.setdefault(f.key, []).append(exc.reason)
                continue
            if f.max_files > 1:
                current = values.get(f.key)
                items = current if isinstance(current, list) else ([current] if isinstance(current, dict) else [])
                values[f.key] = [*items, row.ref()]
            else:
                values[f.key] = row.ref()
    return refused


def _login_expired():
    """An autosave after the 30-minute idle logout: never a login page (fetch would follow the redirect and
    the page would claim the text was saved), but a JSON 401 the form answers with its login dialog."""
    return JsonResponse({"ok": False, "login": True, "login_url": reverse("orgs:login_json"),
                         "message": _("登录已过期，内容尚未保存到服务器（已暂存在本浏览器中）。请重新登录后自动保存。")},
                        status=401)


@require_POST
def autosave(request, pk: int):
    if not request.user.is_authenticated:
        return _login_expired()
    app = get_object_or_404(Application, pk=pk)
    decision = permissions.can_view(request.user, app)
    if not decision:
        audit.refused(decision.reason, app)
        return JsonResponse({"ok": False, "message": _("没有这份申报")}, status=404)
    values = formdata.parse_post(app, request.POST)
    version = _posted_version(request)
    try:
        result = services.autosave(user=request.user, application=app, values=values, expected_version=version,
                                   ip=client_ip(request))
    except services.Conflict as exc:
        return JsonResponse({"ok": False, "conflict": True, "message": exc.message, "version": None}, status=409)
    except services.InputRefused as exc:
        return JsonResponse({"ok": False, "message": exc.message, "errors": exc.errors, "version": None}, status=400)
    except NotAllowed as exc:
        audit.refused(exc.reason)
        return JsonResponse({"ok": False, "message": exc.reason}, status=403)
    saved_at = timezone.localtime(result.application.saved_at) if result.application.saved_at else None
    message = (_("已自动保存 %(t)s（第 %(v)s 版草稿）") % {"t": f"{saved_at:%H:%M:%S}" if saved_at else "",
                                                   "v": result.application.version})
    if result.errors:
        message += _("；有 %(n)s 处格式需要修改") % {"n": len(result.errors)}
    return JsonResponse({"ok": True, "version": result.application.version, "message": message,
                         "errors": result.errors, "changed": result.changed})


def _submit(request, pk: int, version: int | None, app: Application | None = None):
    """Submit and say how it went. `app`: the row the page has already read; without it the service reads
    the row once, locked, and checks that the user may see it."""
    try:
        result = services.submit(user=request.user, application=app, application_id=None if app else pk,
                                 expected_version=version, ip=client_ip(request))
    except Application.DoesNotExist:
        raise Http404(_("没有这份申报")) from None
    except services.Hidden as exc:
        _hide(exc.reason, exc.application)
    except services.Refused as exc:
        app = _application(request, pk)  # as it stands: the refused submit changed nothing
        messages.error(request, _("未能提交：请按提示修改后再提交。"))
        return render(request, "applications/edit.html",
                      _edit_context(request, app, values=app.data, errors=exc.errors, reasons=exc.reasons), status=400)
    except services.Conflict as exc:
        messages.error(request, exc.message)
        return redirect("applications:edit", pk)
    except NotAllowed as exc:
        return refused(request, exc.reason)
    snap, app = result.snapshot, result.application
    if result.created:
        where = (_("已提交，等待%(who)s审核推荐") % {"who": app.endorser.name}) if app.status == "awaiting_endorsement" \
            else _("已提交")
        messages.success(request, _("%(where)s。申报编号 %(number)s（版本指纹 %(fp)s…），请打印申报表签字盖章后上传扫描件。")
                         % {"where": where, "number": app.number, "fp": snap.short_fingerprint})
    else:
        messages.info(request, _("此申报已提交（第 %(n)s 版），没有重复提交。") % {"n": snap.number})
    return redirect("applications:detail", app.pk)


@login_required
@require_POST
def submit(request, pk: int):
    try:
        version = int(request.POST["version"]) if request.POST.get("version") else None
    except ValueError:
        version = None
    return _submit(request, pk, version)  # the service reads the row once, locked (and hides it as _application)


@login_required
@require_POST
def withdraw(request, pk: int):
    app = _application(request, pk)
    try:
        services.withdraw(user=request.user, application=app, reason=request.POST.get("reason", ""),
                          ip=client_ip(request))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已撤回为草稿，修改后请在截止时间前重新提交"))
    return redirect("applications:detail", app.pk)


@login_required
@require_POST
def discard(request, pk: int):
    app = _application(request, pk)
    try:
        services.discard(user=request.user, application=app, ip=client_ip(request))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
        return redirect("applications:detail", app.pk)
    messages.success(request, _("已放弃该草稿"))
    return redirect("applications:mine")


# --- own approval and participants -----------------------------------------------------------------------------


@login_required
def approval(request, pk: int):
    app = selectors.as_submitted(_application(request, pk), request.user)
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "meeting":
                try:
                    day = dt.date.fromisoformat(request.POST.get("meeting_date", ""))
                except ValueError:
                    raise NotAllowed(_("请填写会议日期")) from None
                services.record_own_approval(user=user, application=app, meeting_kind=request.POST.get("meeting_kind", ""),
                                             meeting_name=request.POST.get("meeting_name", ""), meeting_date=day,
                                             ip=client_ip(request))
                messages.success(request, _("已登记审议会议，请单位负责人确认承诺"))
            elif action == "accept":
                services.accept_commitment(user=user, application=app, ip=client_ip(request))
                messages.success(request, _("单位负责人已确认承诺"))
            elif action == "add":
                rate, window = settings.SHENBAO_PARTICIPANT_LOOKUP_RATE
                if not ratelimit.hit("participant", str(user.pk), limit=rate, window=window):  # R-S64
                    raise NotAllowed(_("查找参与单位过于频繁，请 %(minutes)s 分钟后再试") % {"minutes": window // 60})
                org = _find_unit(request.POST.get("unit", ""))
                if org is None:
                    raise NotAllowed(_("没有找到该单位：请填写已在平台注册的单位全称或统一社会信用代码"))
                services.add_participant(user=user, application=app, organisation=org, ip=client_ip(request))
                messages.success(request, _("已添加参与单位%(name)s，请该单位登录平台确认") % {"name": org.name})
            elif action == "remove":
                row = get_object_or_404(ApplicationParticipant, application=app,
                                        pk=posted_id(request.POST, "participant", what=_("参与单位")))
                services.remove_participant(user=user, participant=row, ip=client_ip(request))
                messages.success(request, _("已移除参与单位"))
        except NotAllowed as exc:
            _say_refused(request, exc.reason)
        return redirect("applications:approval", app.pk)
    rule = services.own_approval_rule(app)
    meeting = services.meeting_rule(app)
    joint = app.call.document.effective(app.project_type.document, "joint")
    return render(request, "applications/approval.html", {
        "app": app,
        "rule": rule,
        "meeting": meeting,
        "approval": selectors.own_approval(app),
        "problems": services.own_approval_problems(app) if rule else [],
        "can_edit": permissions.can_edit(user, app),
        "can_accept": permissions.can_accept_commitment(user, app),
        "commitment_preview": services.commitment_text(app, "____") if rule else "",
        "joint": joint,
        "participants": list(services.active_participants(app)),
        "today": timezone.localdate().isoformat(),
    })


def _find_unit(text: str) -> Organisation | None:
    """A participant unit by full name or credit code: registered and approved units only, so that a
    credit code never turns into the name of a unit still waiting for approval (R-S64)."""
    text = (text or "").strip()
    if not text:
        return None
    active = Organisation.objects.filter(status=Organisation.Status.ACTIVE)
    return active.filter(credit_code=text.upper()).first() or active.filter(name=text).first()


@login_required
@require_POST
def confirm_participation(request, pk: int):
    row = get_object_or_404(ApplicationParticipant.objects.select_related("application", "organisation"), pk=pk)
    try:
        services.confirm_participation(user=request.user, participant=row, ip=client_ip(request))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已确认参与《%(t)s》") % {"t": row.application.title or row.application.project_type.name})
    return redirect("applications:mine")


# --- print and scans ----------------------------------------------------------------------------------------------


@login_required
def print_form(request, pk: int, number: int, fmt: str):
    app = _application(request, pk)
    decision = permissions.can_print(request.user, app)
    if not decision:
        return refused(request, decision)
    snap = get_object_or_404(app.snapshots, number=number)
    if fmt == "pdf":
        response = attachment(printing.pdf(snap), selectors.print_filename(snap, "pdf"), "application/pdf")
    else:
        response = attachment(printing.docx(snap), selectors.print_filename(snap, "docx"),
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.audit_object = app  # the download is audited (core/audit_middleware.py)
    return response


@login_required
@require_POST
def upload_scan(request, pk: int):
    app = _application(request, pk)
    upload = request.FILES.get("scan")
    if upload is None:
        messages.error(request, _("请选择扫描件文件"))
        return redirect("applications:detail", app.pk)
    try:
        result = services.upload_scan(user=request.user, application=app, upload=upload, ip=client_ip(request))
    except services.ScanRefused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        (messages.success if result.scan.verified else messages.warning)(request, result.message)
    return redirect(reverse("applications:detail", args=[app.pk]) + "#scans")


@login_required
def scan_file(request, pk: int):
    scan = get_object_or_404(Scan.objects.select_related("application"), pk=pk)
    decision = permissions.can_view(request.user, scan.application)
    if not decision:
        audit.refused(decision.reason, scan.application)
        raise Http404(_("没有这个文件"))
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(scan.content_type, "bin")
    response = FileResponse(scan.file.open("rb"), content_type=scan.content_type, as_attachment=True,
                            filename=f"scan-{scan.application_id}-v{scan.snapshot.number}-{scan.pk}.{ext}")
    response.audit_object = scan.application  # the download is audited (core/audit_middleware.py)
    return response


@login_required
def attachment_file(request, pk: int):
    row = get_object_or_404(Attachment.objects.select_related("application"), pk=pk)
    decision = permissions.can_view(request.user, row.application)
    if not decision:
        audit.refused(decision.reason, row.application)
        raise Http404(_("没有这个文件"))
    response = FileResponse(row.file.open("rb"), content_type=row.content_type, as_attachment=True,
                            filename=row.original_name or f"{row.sha256[:12]}.{row.kind}")
    response.audit_object = row.application  # the download is audited (core/audit_middleware.py)
    return response


@login_required
@require_POST
def decide_scan(request, pk: int):
    """The funder's decision on a stamped scan: confirm the stamp, or return the scan with a reason."""
    scan = get_object_or_404(Scan.objects.select_related("application"), pk=pk)
    if not permissions.can_view(request.user, scan.application):
        raise Http404(_("没有这个文件"))
    decision = request.POST.get("decision")
    try:
        if decision == "confirm":
            services.confirm_stamp(user=request.user, scan=scan, ip=client_ip(request))
            messages.success(request, _("已确认盖章，扫描件已核验"))
        elif decision == "return":
            services.return_scan(user=request.user, scan=scan, reason=request.POST.get("reason", ""),
                                 ip=client_ip(request))
            messages.success(request, _("已退回扫描件，申报单位将重新上传"))
        else:
            messages.error(request, _("请选择确认盖章或退回"))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    return redirect(reverse("applications:detail", args=[scan.application_id]) + "#scans")


@login_required
@require_POST
def accept_scan(request, pk: int):
    scan = get_object_or_404(Scan.objects.select_related("application"), pk=pk)
    try:
        services.accept_scan_manually(user=request.user, scan=scan, reason=request.POST.get("reason", ""),
                                      ip=client_ip(request))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已人工核验该扫描件"))
    return redirect(reverse("applications:detail", args=[scan.application_id]) + "#scans")


@login_required
@require_POST
def accept_over_limit(request, pk: int):
    """R-E3: the funder accepts an application beyond a soft per-unit limit, with its reason."""
    app = _application(request, pk)
    try:
        services.accept_over_limit(user=request.user, application=app, reason=request.POST.get("reason", ""),
                                   ip=client_ip(request))
    except NotAllowed as exc:
        messages.error(request, exc.reason)
        context = _detail_context(request, app)
        context["limit_reason"] = request.POST.get("reason", "")
        return render(request, "applications/detail.html", context, status=400)
    messages.success(request, _("已同意超额受理，理由已记录"))
    return redirect(reverse("applications:detail", args=[app.pk]) + "#limit")


# --- the home association and the funder ------------------------------------------------------------------------


@login_required
def endorse_queue(request):
    decision = permissions.can_see_endorsements(request.user)
    if not decision:
        return refused(request, decision)
    return render(request, "applications/endorse_queue.html", {
        "waiting": selectors.endorsement_queue(request.user),
        "done": [selectors.as_submitted(a, request.user) for a in selectors.endorsed_by(request.user)[:50]],
    })


@login_required
@require_POST
def endorse(request, pk: int):
    app = _application(request, pk)
    decision = request.POST.get("decision")
    try:
        if decision == "endorse":
            services.endorse(user=request.user, application=app, opinion=request.POST.get("opinion", ""),
                             with_finance=request.POST.get("with_finance") == "1", ip=client_ip(request))
            messages.success(request, _("已推荐，申报已报送主办方"))
        elif decision == "return":
            services.return_by_endorser(user=request.user, application=app, reason=request.POST.get("opinion", ""),
                                        new_deadline=_local(request.POST.get("new_deadline", "")),
                                        ip=client_ip(request))
            messages.success(request, _("已退回申报单位修改"))
        else:
            messages.error(request, _("请选择同意推荐或退回修改"))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    return redirect("applications:detail", app.pk)


DESK_PAGE_SIZE = 50


@login_required
def received(request):
    """收到的申报: the funder's desk, filtered, sorted and paged (a bounded number of queries per page)."""
    from django.core.paginator import Paginator

    decision = permissions.can_see_received(request.user)
    if not decision:
        return refused(request, decision)
    f = selectors.DeskFilter.from_query(request.GET)
    paginator = Paginator(selectors.desk(request.user, f), DESK_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [selectors.as_submitted(a, request.user) for a in page.object_list]  # R-S70
    sorts = []
    for key, label in (("number", _("申报编号")), ("unit", _("申报单位")), ("type", _("项目类型")),
                       ("track", _("申报类型")), ("amount", _("申请经费")), ("submitted", _("提交时间"))):
        current = f.sort.lstrip("-") == key
        descending = f.sort.startswith("-")
        sorts.append({"key": key, "label": label, "current": current, "descending": current and descending,
                      "query": f.query(sort=f"-{key}" if current and not descending else key, page=None)})
    return render(request, "applications/received.html", {
        "page": page, "filter": f, "choices": selectors.desk_choices(request.user), "sorts": sorts,
        "query": f.query(), "scan_states": Scan.State.choices,
    })


@login_required
def received_xlsx(request):
    """The list of 收到的申报 as filtered on the page, as an XLSX workbook with the form's fields."""
    from shenbao.applications import exports

    decision = permissions.can_see_received(request.user)
    if not decision:
        return refused(request, decision)
    f = selectors.DeskFilter.from_query(request.GET)
    apps = selectors.desk(request.user, f).select_related("call__issuer")
    content = exports.xlsx(user=request.user, applications=apps)
    name = f"收到的申报-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    return attachment(content, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
@require_POST
def received_zip(request):
    """A ZIP of the printed PDFs and stamped scans of the ticked applications (or of the whole filter), built
    by a background job (applications.tasks.documents_zip): the funder watches its progress bar."""
    from shenbao.applications import exports, tasks
    from shenbao.core import jobs

    decision = permissions.can_see_received(request.user)
    if not decision:
        return refused(request, decision)
    f = selectors.DeskFilter.from_query(request.POST)
    back = reverse("applications:received") + (f"?{f.query()}" if f.query() else "")
    ids = None
    if request.POST.get("all") != "1":
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        if not ids:
            messages.error(request, _("请先勾选要打包的申报"))
            return redirect(back)
    count = selectors.desk(request.user, f).filter(**({"pk__in": ids} if ids is not None else {})).count()
    if count > exports.MAX_ZIP_APPLICATIONS:
        messages.error(request, _("一次最多打包 %(n)s 份申报，请缩小筛选范围") % {"n": exports.MAX_ZIP_APPLICATIONS})
        return redirect(back)
    query = {k: v for k, v in f.__dict__.items() if v not in (None, "")}
    job = jobs.start(tasks.documents_zip, user=request.user,
                     label=_("打包申报材料（%(n)s 份）") % {"n": count}, user_id=request.user.pk, query=query, ids=ids)
    return redirect(job.get_absolute_url())


@login_required
@require_POST
def return_for_revision(request, pk: int):
    app = _application(request, pk)
    deadline = _local(request.POST.get("new_deadline", ""))
    try:
        if deadline is None:
            raise NotAllowed(_("请填写修改后提交的截止时间"))
        services.return_for_revision(user=request.user, application=app, reason=request.POST.get("reason", ""),
                                     new_deadline=deadline, ip=client_ip(request))
    except NotAllowed as exc:
        _say_refused(request, exc.reason)
    else:
        messages.success(request, _("已退回修改"))
    return redirect("applications:detail", app.pk)
