"""形式审查 (screening): the funder's queue per call and type, the automatic checks of each application, and
the decisions (accept, return for revision, reject; batch; two levels where the call says so, R-V3).

Rows: one `review.models.Screening` per application that reached the funder, made in bulk when the queue
is opened or when staff act (`open_queue`, a fixed number of queries whatever the number of rows), and
tied to the submitted version it screens (`snapshot`). A new version (the clerk resubmits after a return)
puts it back to pending (`sync`, transition `resubmitted`). States and who may move them:
`review/workflow.py` SCREENING, `review/permissions.py`.

The automatic checks (`run_checks`, one application) are each passed / failed / not applicable (and the
call's preferences, information only), with their text:
- complete: the submitted version's values validate in full against the type's form (forms.validation);
- stamp: the call asks for a stamped scan (submission.upload_stamped_scan) and the funder confirmed one
  of this version (Scan state confirmed);
- eligibility: the call's rules re-checked now, with the unit's facts of today (bars, category, tree,
  per-unit limit, joint partners); the deadline is not re-checked (the version was submitted in time);
- repeat: the most similar project the unit had funded in the call's repeat window (R-E6, similarity.py)
  and whether it reaches the call's threshold;
- conditions (R-C9): each 申报条件 of the type, held or not today;
- preferences (R-C9): the “优先” facts the reviewers see.
They are stored on the row with the time they were computed: the screening page of one application
computes them afresh, the queue shows the stored ones (a background job refreshes a whole queue), so a
queue page costs the same number of queries for 5 applications as for 500.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.applications import formdata, record
from shenbao.applications import services as application_services
from shenbao.applications.models import Application, Scan
from shenbao.applications.permissions import has_role_in
from shenbao.applications.similarity import best_match
from shenbao.calls.models import Call, ProjectType
from shenbao.core import audit, jobs
from shenbao.core.decisions import NotAllowed, require
from shenbao.orgs.models import Role, RoleAssignment
from shenbao.orgs.selectors import role_orgs
from shenbao.review import permissions
from shenbao.review.models import Screening
from shenbao.review.workflow import SCREENING

PASSED, FAILED, NOT_APPLICABLE, INFO = "passed", "failed", "na", "info"
MIN_REASON = 4
MAX_BATCH = 500
PAGE_SIZE = 50


# --- rows ---------------------------------------------------------------------------------------------------


def _state(s: Screening) -> dict:
    return {"state": s.state, "snapshot": s.snapshot_id, "reason": s.reason,
            "department_by": s.department_by_id, "decided_by": s.decided_by_id}


def open_queue(*, user, call: Call) -> int:
    """Make the missing Screening rows of the call's submitted applications (pending, on their current
    version) in bulk, and put back to pending those whose application has a new version (`sync`).
    Returns how many rows were made. A fixed number of queries when nothing changed."""
    require(permissions.can_screen_call(user, call))
    missing = list(Application.objects.filter(call=call, status="submitted", current_snapshot__isnull=False,
                                              screening__isnull=True).values_list("pk", "current_snapshot_id"))
    made = 0
    if missing:
        with transaction.atomic():
            rows = Screening.objects.bulk_create(
                [Screening(application_id=pk, snapshot_id=snap) for pk, snap in missing], ignore_conflicts=True)
            made = len(rows)
            audit.record(actor=user, action="screening.opened", obj=call,
                         after={"applications": [pk for pk, _snap in missing], "state": Screening.State.PENDING},
                         note=_("%(n)s 份申报进入形式审查") % {"n": len(missing)})
    sync(call=call)
    return made


def sync(*, call: Call | None = None, application: Application | None = None) -> int:
    """Screenings whose application was submitted again (a new current version): back to pending for the
    new version (transition `resubmitted`, audited; a pending one only follows the version). A rejection
    stands. Returns how many rows changed."""
    qs = Screening.objects.filter(application__status="submitted").exclude(
        snapshot_id=F("application__current_snapshot_id")).exclude(state=Screening.State.REJECTED)
    if call is not None:
        qs = qs.filter(application__call=call)
    if application is not None:
        qs = qs.filter(application=application)
    changed = 0
    for row in qs.select_related("application"):
        with transaction.atomic():
            locked = (Screening.objects.select_for_update(of=("self",))
                      .select_related("application", "application__call").get(pk=row.pk))
            app = locked.application
            if app.current_snapshot_id == locked.snapshot_id or app.status != "submitted":
                continue
            before = _state(locked)
            old = locked.snapshot_id
            if locked.state != Screening.State.PENDING:
                SCREENING.perform(user=None, obj=locked, action="resubmitted",
                                  extra_after={"snapshot": app.current_snapshot_id, "previous_snapshot": old})
            locked.snapshot_id = app.current_snapshot_id
            locked.state = Screening.State.PENDING
            locked.department_by = locked.decided_by = None
            locked.department_at = locked.decided_at = None
            locked.reason = ""
            locked.checks, locked.checked_at = [], None
            locked.save(update_fields=["snapshot", "state", "department_by", "department_at", "decided_by",
                                       "decided_at", "reason", "checks", "checked_at", "updated_at"])
            if before["state"] == Screening.State.PENDING:
                audit.record(actor=None, action="screening.new_version", obj=locked, before=before,
                             after=_state(locked))
            changed += 1
    return changed


def screening_of(*, user, application: Application) -> Screening:
    """The application's screening row (made if missing, following its current version)."""
    if Screening.objects.filter(application=application).exists():
        sync(application=application)
    else:
        open_queue(user=user, call=application.call)
    return (Screening.objects.select_related("application", "application__call", "application__call__issuer",
                                             "application__applicant", "application__current_snapshot",
                                             "department_by", "decided_by")
            .get(application=application))


# --- the automatic checks -------------------------------------------------------------------------------------


def _check(key: str, label: str, status: str, text: str, **detail) -> dict:
    return {"key": key, "label": label, "status": status, "text": text, **({"detail": detail} if detail else {})}


def _complete(app: Application, snap) -> dict:
    label = _("材料完整")
    form = formdata.form_of(app)
    if form is None or snap is None:
        return _check("complete", label, NOT_APPLICABLE, _("本项目类型没有在线申报表"))
    frozen = snap.values or {}
    values = {k: v for k, v in (frozen.get("values") or {}).items() if not str(k).startswith("_")}
    track = (frozen.get("track") or {}).get("code")
    result = formdata.validate(app, values, partial=False, track_code=track)
    if result.errors:
        labels = {f.key: f.label for f in form.all_fields()}
        parts = [f"{labels.get(k, k)}：{'；'.join(str(m) for m in msgs[:1])}" for k, msgs in
                 list(result.errors.items())[:8]]
        more = _("等 %(n)s 处") % {"n": len(result.errors)} if len(result.errors) > 8 else ""
        return _check("complete", label, FAILED, _("申报表不完整：%(parts)s%(more)s") % {
            "parts": "；".join(parts), "more": more}, fields=sorted(result.errors)[:50])
    return _check("complete", label, PASSED, _("第 %(n)s 版申报表各栏目填写完整、格式正确") % {"n": snap.number})


def _stamp(app: Application, snap) -> dict:
    label = _("盖章扫描件")
    if not app.call.document.submission.upload_stamped_scan:
        return _check("stamp", label, NOT_APPLICABLE, _("本通知不要求在线上传盖章扫描件"))
    scans = list(Scan.objects.filter(snapshot=snap).order_by("-uploaded_at", "-id")) if snap else []
    if any(s.state == Scan.State.CONFIRMED for s in scans):
        return _check("stamp", label, PASSED, _("第 %(n)s 版的盖章扫描件已核验") % {"n": snap.number})
    if not scans:
        return _check("stamp", label, FAILED, _("尚未上传第 %(n)s 版的盖章扫描件") % {"n": snap.number if snap else "—"})
    return _check("stamp", label, FAILED, _("盖章未确认：%(state)s") % {"state": _(scans[0].get_state_display())})


def _eligibility(verdict) -> dict:
    label = _("申报资格（按今天的单位信息重新核对）")
    kept = [r for r in verdict.reasons if r.code not in ("deadline", "not_open", "repeat")
            and not (r.code == "condition" and r.detail.get("rule") == "conditions")]
    if kept:
        return _check("eligibility", label, FAILED, "；".join(r.message for r in kept),
                      codes=[r.code for r in kept])
    return _check("eligibility", label, PASSED, _("仍符合本通知的申报资格"))


def _repeat(app: Application, doc, ptype) -> dict:
    label = _("重复申报（与既往项目的相似度）")
    excl = doc.effective(ptype, "exclusions")
    if excl is None or not excl.repeat_years:
        return _check("repeat", label, NOT_APPLICABLE, _("本通知未规定不得重复申报的年限"))
    from shenbao.applications import eligibility

    snap = app.current_snapshot
    frozen = snap.values if snap else {}
    title = (frozen.get("title") if frozen else "") or app.title
    content = eligibility.application_text(app.call, ptype.code, (frozen or {}).get("values") or {})
    earliest = doc.year - excl.repeat_years
    candidates = [(p, f"{p.title}\n{p.content}") for p in record.keeper().projects(app.applicant)
                  if earliest <= p.year <= doc.year and p.call_id != app.call_id
                  and p.funder_id in (None, app.call.issuer_id)]
    match = best_match("\n".join(t for t in (title, content) if t), candidates)
    if match is None:
        return _check("repeat", label, PASSED, _("该单位近 %(n)s 年没有本主办方支持的项目") % {"n": excl.repeat_years})
    p = match.item
    pct = round(match.score * 100)
    text = _("最相似的既往项目：《%(title)s》（%(year)s年），相似度 %(pct)s%%（阈值 %(limit)s%%）") % {
        "title": p.title, "year": p.year, "pct": pct, "limit": round(float(excl.repeat_similarity) * 100)}
    detail = {"project_id": p.pk, "title": p.title, "year": p.year, "score": round(match.score, 4)}
    if match.score < float(excl.repeat_similarity):
        return _check("repeat", label, PASSED, text, **detail)
    exempt = next((k for k in (ptype.kind,) if k in excl.repeat_exempt), None)
    if exempt:
        return _check("repeat", label, PASSED, text + _("；本项目类型不受重复申报限制"), **detail)
    return _check("repeat", label, FAILED, _("疑似重复申报。") + text, **detail)


def _conditions(elig, verdict) -> dict:
    label = _("申报条件")
    conditions = (elig.conditions if elig else None) or []
    if not conditions:
        return _check("conditions", label, NOT_APPLICABLE, _("本项目类型没有另列申报条件"))
    unmet = {r.detail.get("expr") for r in verdict.reasons
             if r.code == "condition" and r.detail.get("rule") == "conditions"}
    lines = [("✗ " if c.expr in unmet else "✓ ") + c.message for c in conditions]
    status = FAILED if unmet else PASSED
    return _check("conditions", label, status, "；".join(lines), unmet=len(unmet))


def _preferences(elig) -> dict:
    label = _("优先条件（供评审参考）")
    prefs = (elig.preferences if elig else None) or []
    if not prefs:
        return _check("preferences", label, NOT_APPLICABLE, _("本项目类型没有优先条件"))
    return _check("preferences", label, INFO, "；".join(prefs))


def run_checks(application: Application, *, at: dt.datetime | None = None) -> list[dict]:
    """The automatic checks of the application's current submitted version, as of `at` (default now)."""
    from shenbao.applications import eligibility

    app = application
    snap = app.current_snapshot
    doc = app.call.document
    ptype = app.project_type.document
    elig = doc.effective(ptype, "eligibility")
    verdict = eligibility.check(org=app.applicant, call=app.call, project_type=app.project_type, track=app.track,
                                at=at or timezone.now(), application=app)
    return [_complete(app, snap), _stamp(app, snap), _eligibility(verdict), _repeat(app, doc, ptype),
            _conditions(elig, verdict), _preferences(elig)]


def refresh_checks(*, screening: Screening) -> Screening:
    """Compute the checks now and keep them on the row (not a decision: not audited)."""
    app = (Application.objects.select_related("call", "call__issuer", "project_type", "track", "applicant",
                                              "applicant__category", "current_snapshot")
           .get(pk=screening.application_id))
    checks = run_checks(app)
    now = timezone.now()
    Screening.objects.filter(pk=screening.pk).update(checks=checks, checked_at=now)
    screening.checks, screening.checked_at = checks, now
    return screening


@task()
@jobs.tracked
def check_queue(job, *, user_id: int, call_id: int, type_id: int | None = None) -> int:
    """Background job: the checks of every screening of a call (one type, if given), with progress."""
    from shenbao.orgs.models import User

    user = User.objects.get(pk=user_id)
    call = Call.objects.select_related("issuer").get(pk=call_id)
    require(permissions.can_screen_call(user, call))
    rows = list(queue(user=user, call=call, type_id=type_id).select_related(None).only("pk", "application_id"))
    total = len(rows)
    jobs.report(job, 0, total, _("正在检查 %(n)d 份申报") % {"n": total})
    for i, row in enumerate(rows, 1):
        refresh_checks(screening=row)
        jobs.report(job, i, total, _("已检查 %(done)d / %(total)d 份") % {"done": i, "total": total})
    from django.urls import reverse

    url = reverse("review:screening_queue", args=[call.code]) + (f"?type={type_id}" if type_id else "")
    jobs.finish(job, url=url, name=_("返回形式审查"), message=_("已检查 %(n)d 份申报") % {"n": total})
    return total


# --- decisions --------------------------------------------------------------------------------------------------


def _lock(screening: Screening) -> Screening:
    return (Screening.objects.select_for_update(of=("self",))
            .select_related("application", "application__call", "application__call__issuer",
                            "application__applicant", "department_by")
            .get(pk=screening.pk))


def _already(row: Screening, action: str) -> None:
    """A decision sent twice (double click, a retried request): said plainly, nothing changed."""
    done = {"accept": Screening.State.ACCEPTED, "return": Screening.State.RETURNED,
            "reject": Screening.State.REJECTED}.get(action)
    if row.state == done:
        raise NotAllowed(_("该申报已是“%(state)s”，无需重复操作") % {"state": _(row.get_state_display())})


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise NotAllowed(_("请写明%(what)s的理由（不少于%(n)s个字）") % {"what": what, "n": MIN_REASON})
    return reason


def _decide(*, user, row: Screening, action: str, reason: str = "", extra: dict | None = None) -> Screening:
    """One transition with its fields (who decided which level, when, why), in the caller's transaction."""
    require(SCREENING.can(user, row, action))
    now = timezone.now()
    fields = ["updated_at"]
    if action == "pass_department" or (row.state == Screening.State.PENDING and action in ("return", "reject")
                                       and permissions.two_levels(row.application.call)):
        row.department_by, row.department_at = user, now
        fields += ["department_by", "department_at"]
    if action != "pass_department":
        row.decided_by, row.decided_at = user, now
        fields += ["decided_by", "decided_at"]
    if reason or action in ("accept", "pass_department"):
        row.reason = reason
        fields.append("reason")
    row.save(update_fields=fields)
    SCREENING.perform(user=user, obj=row, action=action, note=reason,
                      extra_after={"application": row.application_id, "number": row.application.number,
                                   "snapshot": row.snapshot_id, **({"reason": reason} if reason else {}),
                                   **(extra or {})})
    return row


def accept(*, user, screening: Screening, opinion: str = "", ip: str | None = None) -> Screening:
    """Accept (形式审查通过). On a two-level call the department's acceptance is 初审通过 (to the leaders) and a
    leader's is the acceptance (审核通过)."""
    with transaction.atomic():
        row = _lock(screening)
        _already(row, "accept")
        action = ("pass_department" if row.state == Screening.State.PENDING
                  and permissions.two_levels(row.application.call) else "accept")
        _decide(user=user, row=row, action=action, reason=(opinion or "").strip())
    screening.state = row.state
    return row


def return_for_revision(*, user, screening: Screening, reason: str, new_deadline: dt.datetime | None,
                        ip: str | None = None) -> Screening:
    """Return for revision with the reason the clerk reads and a new deadline: the application goes back
    to the clerk through applications.services.return_for_revision (in the same transaction); the clerk's
    new version is screened again (`sync`)."""
    reason = _reason(reason, _("退回修改"))
    if new_deadline is None:
        raise NotAllowed(_("请填写修改后提交的截止时间"))
    if new_deadline <= timezone.now():
        raise NotAllowed(_("新的截止时间须晚于现在"))
    with transaction.atomic():
        row = _lock(screening)
        _already(row, "return")
        _decide(user=user, row=row, action="return", reason=reason, extra={"revision_deadline": new_deadline})
        application_services.return_for_revision(user=user, application=row.application, reason=reason,
                                                 new_deadline=new_deadline, ip=ip)
    screening.state = row.state
    return row


def reject(*, user, screening: Screening, reason: str, ip: str | None = None) -> Screening:
    """不予受理 with the reason: the application and its versions stay as they are (nothing deleted)."""
    reason = _reason(reason, _("不予受理"))
    with transaction.atomic():
        row = _lock(screening)
        _already(row, "reject")
        _decide(user=user, row=row, action="reject", reason=reason)
    screening.state = row.state
    return row


@dataclass
class BatchResult:
    done: list[int]  # application ids
    refused: dict[int, str]  # application id → why


def batch(*, user, call: Call, application_ids: list[int], action: str, reason: str = "",
          ip: str | None = None) -> BatchResult:
    """Accept or reject many with one reason: each application in its own transaction, each audited; one
    refused does not stop the others (its reason is returned)."""
    if action not in ("accept", "reject"):
        raise NotAllowed(_("批量操作只能是通过或不予受理"))
    ids = list(dict.fromkeys(int(i) for i in application_ids))
    if not ids:
        raise NotAllowed(_("请先勾选申报"))
    if len(ids) > MAX_BATCH:
        raise NotAllowed(_("一次最多处理 %(n)s 份申报") % {"n": MAX_BATCH})
    if action == "reject":
        reason = _reason(reason, _("不予受理"))
    open_queue(user=user, call=call)
    rows = {s.application_id: s for s in Screening.objects.filter(application__call=call, application_id__in=ids)}
    out = BatchResult(done=[], refused={})
    for app_id in ids:
        row = rows.get(app_id)
        if row is None:
            out.refused[app_id] = _("不是本通知已报送主办方的申报")
            continue
        try:
            if action == "accept":
                accept(user=user, screening=row, opinion=reason, ip=ip)
            else:
                reject(user=user, screening=row, reason=reason, ip=ip)
        except NotAllowed as exc:
            out.refused[app_id] = exc.reason
        else:
            out.done.append(app_id)
    return out


# --- reads ------------------------------------------------------------------------------------------------------


def funder_calls(user) -> list[dict]:
    """The calls of the user's funder(s) with their screening counts per type (two queries)."""
    orgs = set(RoleAssignment.objects.filter(user=user, role__in=permissions.SCREENERS)
               .values_list("organisation_id", flat=True))
    if None in orgs:
        orgs.discard(None)
        if user.organisation_id:
            orgs.add(user.organisation_id)
    calls = list(Call.objects.filter(issuer_id__in=orgs).order_by("-deadline", "id"))
    counts: dict[int, dict[str, int]] = {}
    rows = (Application.objects.filter(call__in=calls, current_snapshot__isnull=False)
            .filter(Q(status="submitted") | Q(screening__isnull=False))
            .values("call_id", "screening__state").annotate(n=Count("id")).order_by())
    for r in rows:
        state = r["screening__state"] or Screening.State.PENDING
        counts.setdefault(r["call_id"], {}).setdefault(state, 0)
        counts[r["call_id"]][state] += r["n"]
    return [{"call": c, "counts": counts.get(c.pk, {}), "total": sum(counts.get(c.pk, {}).values()),
             "levels": permissions.screening_levels(c)} for c in calls]


def queue(*, user, call: Call, type_id: int | None = None, state: str = "", q: str = "") -> QuerySet[Screening]:
    """The call's screenings (one type, one state, a search by number or unit), oldest submission first,
    with what a row shows selected in the same query."""
    qs = (Screening.objects.filter(application__call=call)
          .select_related("application", "application__applicant", "application__project_type",
                          "application__track", "application__current_snapshot", "department_by", "decided_by")
          .order_by("application__project_type__order", "application__submitted_at", "application_id"))
    if type_id:
        qs = qs.filter(application__project_type_id=type_id)
    if state in Screening.State.values:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(Q(application__number__icontains=q) | Q(application__applicant__name__icontains=q))
    return qs


def queue_counts(call: Call, type_id: int | None = None) -> dict[str, int]:
    qs = Screening.objects.filter(application__call=call)
    if type_id:
        qs = qs.filter(application__project_type_id=type_id)
    return dict(qs.values_list("state").annotate(n=Count("id")).order_by().values_list("state", "n"))


def types_of(call: Call) -> list[ProjectType]:
    return list(call.types.order_by("order", "id"))


def summary(checks: list[dict]) -> dict:
    """How many checks failed / passed, for a queue row."""
    return {"failed": [c for c in checks if c.get("status") == FAILED],
            "passed": sum(1 for c in checks if c.get("status") == PASSED)}


def for_applicant(application: Application) -> Screening | None:
    """The screening result the applicant unit sees on its application page (state and reason)."""
    if not application.current_snapshot_id:
        return None
    try:
        row = application.screening  # selected with the application on its page: no query
    except Screening.DoesNotExist:
        return None
    waiting = row.state in (Screening.State.PENDING, Screening.State.DEPARTMENT_PASSED)
    if waiting and (application.status != "submitted" or row.snapshot_id != application.current_snapshot_id):
        return None  # withdrawn or returned meanwhile: nothing is being screened now
    return row


def actions_for(user, screening: Screening) -> dict:
    """Which decisions the user may take on the row now, each a Decision (with the reason when not)."""
    two = permissions.two_levels(screening.application.call)
    accept_action = "pass_department" if two and screening.state == Screening.State.PENDING else "accept"
    return {"accept": SCREENING.can(user, screening, accept_action),
            "return": SCREENING.can(user, screening, "return"),
            "reject": SCREENING.can(user, screening, "reject"),
            "accept_label": (permissions.screening_levels(screening.application.call)[0] + _("通过")) if two
            and screening.state == Screening.State.PENDING else (
                (permissions.screening_levels(screening.application.call)[1] + _("通过")) if two else _("形式审查通过"))}


def accepted(call: Call) -> QuerySet[Application]:
    """The call's applications that passed screening on the version now submitted: what expert review
    (assignment, scoring) and selection work on."""
    return Application.objects.filter(call=call, status="submitted", screening__state=Screening.State.ACCEPTED,
                                      screening__snapshot_id=F("current_snapshot_id"))


def is_screener(user, call: Call) -> bool:
    return has_role_in(user, call.issuer_id, permissions.SCREENERS)


def leaders(call: Call) -> bool:
    return RoleAssignment.objects.filter(role=Role.FUNDER_LEADER, organisation_id=call.issuer_id).exists()


# --- the work bench (applications/selectors.py TODO_HOOKS, registered in review/apps.py) ------------------------


def todo(user) -> list:
    """待形式审查 on the work bench, for those who may screen (R-V3): the funder's staff see what waits for
    their decision (one-level calls: 待形式审查) or for their 初审 (two-level calls: 待形式审查（初审）); a
    leader of a funder with a two-level call sees what waits for the 审核 (待形式审查（审核）), less those
    whose 初审 they made themselves (they may not decide them). Counted as the queue will show them when
    opened: submitted applications without a screening row yet, or whose row is pending or follows an
    older version (`sync` puts it back to pending; a rejection stands). Each item links to the call's
    queue (filtered to the state) where one call has them all, else to the list of calls.
    Two queries (the funder's calls and their levels; the counts by call), none for other users."""
    from django.db.models import Case, CharField, Value, When
    from django.urls import reverse

    from shenbao.applications.selectors import Todo

    if not getattr(user, "is_authenticated", False):
        return []
    staff = role_orgs(user, (Role.FUNDER_STAFF,), own_unit=True, keep=True)
    leaders = role_orgs(user, (Role.FUNDER_LEADER,), own_unit=True, keep=True)
    if not staff and not leaders:
        return []
    # the levels straight from the stored document (only that key: not each call's whole document)
    calls = {pk: (code, issuer, len(levels or []) >= 2) for pk, code, issuer, levels in
             Call.objects.filter(issuer_id__in=staff | leaders).order_by()
             .values_list("pk", "code", "issuer_id", "spec__review__funder_levels")}
    counts: dict[str, dict[int, int]] = {"single": {}, "first": {}, "second": {}}
    if calls:
        current = Q(screening__snapshot_id=F("current_snapshot_id"))
        bucket = Case(
            When(screening__isnull=True, then=Value("first")),
            When(screening__state=Screening.State.REJECTED, then=None),
            When(current & Q(screening__state=Screening.State.PENDING), then=Value("first")),
            When(current & Q(screening__state=Screening.State.DEPARTMENT_PASSED, screening__department_by_id=user.pk),
                 then=None),
            When(current & Q(screening__state=Screening.State.DEPARTMENT_PASSED), then=Value("second")),
            When(current, then=None),
            default=Value("first"),  # a row on an older version: pending again once the queue is opened
            output_field=CharField())
        rows = (Application.objects.filter(call_id__in=list(calls), status="submitted", current_snapshot__isnull=False)
                .annotate(bucket=bucket).exclude(bucket__isnull=True)
                .values_list("call_id", "bucket").annotate(n=Count("id")).order_by())
        for call_id, kind, n in rows:
            _code, issuer, two = calls[call_id]
            if kind == "first" and issuer in staff:
                counts["first" if two else "single"][call_id] = n
            elif kind == "second" and two and issuer in leaders:
                counts["second"][call_id] = n

    def item(key: str, label: str, kind: str, state: str) -> Todo:
        per_call = counts[kind]
        url = reverse("review:screening")
        if len(per_call) == 1:
            url = reverse("review:screening_queue", args=[calls[next(iter(per_call))][0]]) + f"?state={state}"
        return Todo(key, label, sum(per_call.values()), url)

    out = []
    two_level = {issuer for _code, issuer, two in calls.values() if two}
    one_level = {issuer for _code, issuer, two in calls.values() if not two}
    # a funder with a one-level call, or with no call yet (its calls will have one level unless they say two)
    if staff & one_level or staff - two_level:
        out.append(item("to_screen", _("待形式审查"), "single", Screening.State.PENDING))
    if staff & two_level:
        out.append(item("to_screen_first", _("待形式审查（初审）"), "first", Screening.State.PENDING))
    if leaders & two_level:
        out.append(item("to_screen_second", _("待形式审查（审核）"), "second", Screening.State.DEPARTMENT_PASSED))
    return out
