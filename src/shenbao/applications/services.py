"""Changes to applications: drafts, saves with a version check, submission into an immutable snapshot,
withdrawal, return for revision, endorsement, participants and the applicant's own approval.

Every function takes keyword arguments only, runs in one transaction, checks its permission (or the
workflow's `who`) and writes an audit event with the state before and after. Status changes go through
`workflow.APPLICATION.perform` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shenbao.applications import formdata, notify, permissions
from shenbao.applications.models import (
    Application,
    ApplicationParticipant,
    Attachment,
    Endorsement,
    LimitAcceptance,
    NumberCounter,
    OwnApproval,
    Scan,
    Snapshot,
)
from shenbao.applications.routing import route_for
from shenbao.applications.workflow import APPLICATION, SCAN, submit_action
from shenbao.calls import schema
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed, require
from shenbao.orgs.models import Organisation
from shenbao.orgs.selectors import unit_of, unit_related

# --- errors the pages and the API show ------------------------------------------------------------------


class Conflict(Exception):
    """The draft was saved by someone else since `expected_version`: nothing was saved. `theirs` are the
    values now stored (version `version`, saved by `saved_by` at `saved_at`)."""

    def __init__(self, *, application: Application, theirs: dict, version: int, saved_by, saved_at):
        self.application = application
        self.theirs = theirs
        self.version = version
        self.saved_by = saved_by
        self.saved_at = saved_at
        who = str(saved_by) if saved_by else _("另一位经办人")
        when = _("于%(time)s") % {"time": f"{timezone.localtime(saved_at):%H:%M:%S}"} if saved_at else ""
        self.message = _("%(who)s%(when)s已保存了此申报的新内容（第%(version)s版草稿），您的修改尚未保存。"
                         "您填写的内容仍在页面上：请核对对方的修改后再保存。") % {
            "who": who, "when": when, "version": version}
        super().__init__(self.message)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    detail: dict = field(default_factory=dict)


class Refused(Exception):
    """Submission refused: the reasons (eligibility, own approval, participants) and the form's errors."""

    def __init__(self, *, reasons: list | None = None, errors: dict | None = None):
        self.reasons = list(reasons or [])
        self.errors = dict(errors or {})
        parts = [r.message for r in self.reasons]
        if self.errors:
            parts.append(_("申报表有 %(n)s 处需要修改") % {"n": len(self.errors)})
        self.message = _("；").join(parts) or _("不能提交")
        super().__init__(self.message)


class InputRefused(Exception):
    """Posted values a draft must not hold (R-S72, R-S73): keys the form does not define, values of the
    wrong shape or far beyond their field's limit. Nothing was stored; `errors` are by key (HTTP 400)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        unknown = [k for k, msgs in errors.items() if msgs == [_("申报表中没有此栏目")]]
        parts = []
        if unknown:
            parts.append(_("申报表中没有这些栏目：%(keys)s") % {"keys": "、".join(unknown[:20])})
        parts.extend(m for k, msgs in errors.items() if k not in unknown for m in msgs[:1])
        self.message = _("未保存：%(why)s") % {"why": _("；").join(parts[:10])}
        super().__init__(self.message)


@dataclass
class SaveResult:
    application: Application
    errors: dict[str, list[str]]
    changed: bool


@dataclass
class SubmitResult:
    snapshot: Snapshot
    created: bool
    application: Application | None = None  # the row as it stands after the submit (locked, relations loaded)


class Hidden(Exception):
    """The user may not even see the application: shown as "not found" (R-S31), the reason noted as a
    refusal. Raised by `submit` when it is given the id only (the page had not read the row)."""

    def __init__(self, reason: str, application: Application):
        self.reason = reason
        self.application = application
        super().__init__(reason)


def _state(app: Application) -> dict[str, Any]:
    return {"status": app.status, "version": app.version, "title": app.title,
            "track": app.track.code if app.track_id else None}


# The applicant is joined with its category's lineage and its parents (`unit_related`), which eligibility
# reads at submission (R-E1, within_issuer): the organisation and category rows are never changed by what
# takes an application's lock (submit, withdraw, endorse …), so reading them in the locking statement gives
# what a read after it would (an administrator's edit at the same moment lands before or after either way).
_LOCK_RELATED = ("call", "call__issuer", "project_type", "track", "applicant", *unit_related("applicant"))


def _lock(application: Application | int, *, related: tuple[str, ...] = ()) -> Application:
    """The application's row, locked, with what checks and audits read. Only rows nobody changes under the
    application's lock are joined: on PostgreSQL a query that waited for the lock returns the joined rows as
    they were when it started (a snapshot or own approval made meanwhile would be missing), so those are
    read after it (`related`: more to join where that cannot happen, see `_one_snapshot`)."""
    pk = application if isinstance(application, int) else application.pk
    app = Application.objects.select_for_update(of=("self",)).select_related(*_LOCK_RELATED, *related).get(pk=pk)
    return app.share_call()  # the type's document is read from its call: the same row, not read again


def _relock(application: Application) -> Application:
    """As `_lock`, reusing what the caller already read: the row is read again under the lock (its state,
    version and values), while the call, the project type and the applicant unit the caller holds are taken
    over when the row still points at them (a page that has just read the application with them does not
    read them twice); those it does not hold are read with the row, as `_lock` does."""
    opts = Application._meta
    held = {}
    related = ["track"]
    for name, deeper in (("call", "call__issuer"), ("project_type", None), ("applicant", "applicant__category")):
        f = opts.get_field(name)
        if f.is_cached(application):
            held[name] = f.get_cached_value(application)
        else:
            related += [name] + ([deeper] if deeper else [])
    app = Application.objects.select_for_update(of=("self",)).select_related(*related).get(pk=application.pk)
    for name, obj in held.items():
        if getattr(app, f"{name}_id") == obj.pk:
            opts.get_field(name).set_cached_value(app, obj)
    return app.share_call()


def _one_snapshot() -> bool:
    """Does every read of a transaction see the database as at its first one? On SQLite yes: BEGIN IMMEDIATE
    takes the write lock before the first read, so nobody writes until the commit (and with Django's deferred
    BEGIN a WAL reader keeps the snapshot of its first read; a later write that would conflict fails). There
    a row joined into the locking statement is the one a read after it would give; on PostgreSQL (READ
    COMMITTED) it may not be (see `_lock`)."""
    return connection.vendor == "sqlite"


# --- drafts ----------------------------------------------------------------------------------------------


def create_draft(*, user, project_type, track=None, ip: str | None = None) -> Application:
    """A new draft of the user's unit for a project type (and track). The call's rules are checked in full
    at submission (and shown on the 可申报项目 page); a draft that could never be submitted (the unit is not
    eligible, the hard per-unit limit is used up, the deadline passed) is refused here, with the reasons."""
    org = unit_of(user)  # with what the rules read of it (its category's lineage, its parents): one query
    require(permissions.can_apply(user, org))
    call = project_type.call
    if call.status != call.Status.PUBLISHED:
        raise NotAllowed(_("该通知未发布"))
    if project_type.retired:
        raise NotAllowed(_("该项目类型已取消"))
    if track is not None and track.project_type_id != project_type.pk:
        raise NotAllowed(_("申报类型不属于该项目类型"))
    if timezone.now() >= (deadline := project_type.own_deadline or call.deadline):
        raise NotAllowed(_("申报已于%(deadline)s截止") % {"deadline": f"{timezone.localtime(deadline):%Y-%m-%d %H:%M}"})
    from shenbao.applications import eligibility

    require(eligibility.start_verdict(org=org, call=call, project_type=project_type, track=track).decision())
    data: dict[str, Any] = {}
    form = call.document.application_form_for(project_type.document)
    tf = formdata.track_field(form)
    if track is not None and tf is not None:
        data[tf.key] = track.code if tf.kind == "choice_one" else [track.code]
    if form is not None and any(f.key == "applicant_unit" for f in form.all_fields()):
        data["applicant_unit"] = org.name
    if form is not None and any(f.key == "address" for f in form.all_fields()) and org.address:
        data["address"] = org.address
    with transaction.atomic():
        app = Application.objects.create(call=call, project_type=project_type, track=track, applicant=org,
                                         created_by=user, data=data, saved_by=user, saved_at=timezone.now())
        audit.record(actor=user, action="application.create", obj=app, after=_state(app), ip=ip)
    return app


def _apply_values(app: Application, values: dict) -> None:
    app.data = values
    app.title = formdata.title_from(app, values) or app.title
    code = formdata.track_code_from(app, values)
    if code is not None:
        app.track = app.project_type.tracks.filter(code=code, retired=False).first() or app.track


def save_draft(*, user, application: Application, values: dict, expected_version: int,
               autosave: bool = False, ip: str | None = None) -> SaveResult:
    """Store the typed values of a draft. `expected_version` is the version the user's page was loaded
    with: if someone saved since, a `Conflict` carries their values and nothing is stored. Formats are
    checked (partial validation); the values are stored as typed even with errors, which are returned
    for display beside the fields. Saving what is already stored changes nothing. Keys the form does not
    define and values far beyond their field's limit raise `InputRefused` and nothing is stored."""
    with transaction.atomic():
        app = _relock(application)
        require(permissions.can_edit(user, app))
        refused = formdata.oversize(app, values)
        if refused:
            raise InputRefused(refused)
        values = resolve_attachments(app, values)
        new = formdata.merge_kept(app, app.data, values)
        if new == app.data:
            result = formdata.validate(app, new, partial=True)
            return SaveResult(application=app, errors=result.errors, changed=False)
        if expected_version != app.version:
            raise Conflict(application=app, theirs=app.data, version=app.version, saved_by=app.saved_by,
                           saved_at=app.saved_at)
        result = formdata.validate(app, new, partial=True)
        before = {**_state(app), "data": app.data}
        _apply_values(app, new)
        app.version += 1
        app.saved_by = user
        app.saved_at = timezone.now()
        app.save(update_fields=["data", "title", "track", "version", "saved_by", "saved_at", "updated_at"])
        audit.record(actor=user, action="application.autosave" if autosave else "application.save", obj=app,
                     before=before, after={**_state(app), "data": app.data, "errors": len(result.errors)}, ip=ip)
    application.__dict__.update({k: getattr(app, k) for k in ("data", "title", "track_id", "version",
                                                               "saved_by_id", "saved_at", "status")})
    return SaveResult(application=app, errors=result.errors, changed=True)


def autosave(*, user, application: Application, values: dict, expected_version: int,
             ip: str | None = None) -> SaveResult:
    """The page's periodic save: the same as save_draft (same version check, partial validation)."""
    return save_draft(user=user, application=application, values=values, expected_version=expected_version,
                      autosave=True, ip=ip)


def discard(*, user, application: Application, ip: str | None = None) -> Application:
    """Give up a draft that was never submitted: kept, marked discarded (it stops counting anywhere)."""
    return APPLICATION.perform(user=user, obj=application, action="discard")


# --- the applicant's own approval (R-E8) ------------------------------------------------------------------


def own_approval_rule(application: Application) -> schema.OwnApproval | None:
    doc = application.call.document
    return doc.effective(application.project_type.document, "own_approval")


def meeting_rule(application: Application) -> schema.MeetingRule | None:
    """The meeting kinds that apply to the applicant's category (the first rule that names one of its
    categories, else the first rule that names none)."""
    rule = own_approval_rule(application)
    if rule is None:
        return None
    lineage = set(application.applicant.category.lineage())
    named = [m for m in rule.meetings if m.categories and lineage & set(m.categories)]
    if named:
        return named[0]
    return next((m for m in rule.meetings if not m.categories), None)


def commitment_text(application: Application, meeting: str) -> str:
    rule = own_approval_rule(application)
    return rule.commitment.replace("{meeting}", meeting) if rule else ""


def record_own_approval(*, user, application: Application, meeting_kind: str, meeting_name: str = "",
                        meeting_date: dt.date, ip: str | None = None) -> OwnApproval:
    """Record the meeting that approved the application. A change after the head accepted the commitment
    asks the head to accept again."""
    with transaction.atomic():
        app = _lock(application)
        require(permissions.can_record_own_approval(user, app))
        rule = meeting_rule(app)
        if rule is None:
            raise NotAllowed(_("本项目类型不要求单位内部审议"))
        meeting_kind = (meeting_kind or "").strip()
        meeting_name = (meeting_name or "").strip()
        if meeting_kind not in rule.kinds:
            raise NotAllowed(_("会议类型须为：%(kinds)s") % {"kinds": "、".join(rule.kinds)})
        if rule.named_by_applicant and not meeting_name:
            raise NotAllowed(_("请填写会议名称（承诺书中“经____会议研究审议”处）"))
        if meeting_date > timezone.localdate():
            raise NotAllowed(_("会议日期不能晚于今天：须先开会审议，再提交申报"))
        text = commitment_text(app, meeting_name or meeting_kind)
        current = OwnApproval.objects.filter(application=app).first()
        before = _approval_state(current)
        facts = {"meeting_kind": meeting_kind, "meeting_name": meeting_name, "meeting_date": meeting_date,
                 "commitment": text}
        if current is None:
            current = OwnApproval.objects.create(application=app, recorded_by=user, recorded_at=timezone.now(),
                                                 **facts)
        else:
            changed = any(getattr(current, k) != v for k, v in facts.items())
            for k, v in facts.items():
                setattr(current, k, v)
            current.recorded_by, current.recorded_at = user, timezone.now()
            if changed:
                current.accepted_by, current.accepted_at = None, None
            current.save()
        audit.record(actor=user, action="application.own_approval", obj=app, before=before,
                     after=_approval_state(current), ip=ip)
    return current


def _approval_state(a: OwnApproval | None) -> dict | None:
    if a is None:
        return None
    return {"meeting_kind": a.meeting_kind, "meeting_name": a.meeting_name, "meeting_date": a.meeting_date,
            "commitment": a.commitment, "accepted_by": a.accepted_by.get_username() if a.accepted_by_id else None,
            "accepted_at": a.accepted_at}


def accept_commitment(*, user, application: Application, ip: str | None = None) -> OwnApproval:
    """The unit head accepts the commitment text as it stands (with the recorded meeting)."""
    with transaction.atomic():
        app = _lock(application)
        require(permissions.can_accept_commitment(user, app))
        current = OwnApproval.objects.select_for_update().filter(application=app).first()
        if current is None:
            raise NotAllowed(_("请经办人先登记审议会议，再由单位负责人确认承诺"))
        before = _approval_state(current)
        current.accepted_by, current.accepted_at = user, timezone.now()
        current.save(update_fields=["accepted_by", "accepted_at"])
        audit.record(actor=user, action="application.commitment_accepted", obj=app, before=before,
                     after=_approval_state(current), ip=ip)
    return current


_UNREAD = object()


def own_approval_problems(application: Application, approval: OwnApproval | object | None = _UNREAD) -> list[Problem]:
    """What R-E8 still asks before submission (`approval`: the application's own approval, when already read)."""
    rule = own_approval_rule(application)
    if rule is None:
        return []
    if approval is _UNREAD:
        approval = OwnApproval.objects.filter(application=application).first()
    if approval is None:
        kinds = "、".join(meeting_rule(application).kinds) if meeting_rule(application) else ""
        return [Problem("own_approval", _("提交前须登记本单位审议会议（%(kinds)s）并由单位负责人确认承诺") % {"kinds": kinds},
                        {"kinds": kinds})]
    if rule.head_signs and not approval.accepted_at:
        return [Problem("own_approval", _("单位负责人尚未确认承诺"), {})]
    return []


# --- joint applications (R-E4) ----------------------------------------------------------------------------


def active_participants(application: Application):
    return (application.participants.filter(removed_at__isnull=True)
            .select_related("organisation", "organisation__category", "confirmed_by").order_by("order", "id"))


def add_participant(*, user, application: Application, organisation: Organisation,
                    ip: str | None = None) -> ApplicationParticipant:
    """The lead names a participant unit; it must confirm from its own account. The number of units and
    who may take part are the eligibility function's `joint` rules."""
    from shenbao.applications import eligibility

    with transaction.atomic():
        app = _lock(application)
        require(permissions.can_edit(user, app))
        if organisation.status != Organisation.Status.ACTIVE:
            raise NotAllowed(_("%(unit)s尚未通过注册审核，不能作为参与单位") % {"unit": organisation.name})
        current = [p.organisation for p in active_participants(app)]
        if organisation.pk in {o.pk for o in current}:
            raise NotAllowed(_("%(unit)s已是参与单位") % {"unit": organisation.name})
        verdict = eligibility.check(org=app.applicant, call=app.call, project_type=app.project_type,
                                    track=app.track, application=app, participants=[*current, organisation])
        joint = [r for r in verdict.reasons if r.code == "joint"]
        if joint:
            raise NotAllowed(_("；").join(r.message for r in joint))
        row = ApplicationParticipant.objects.create(application=app, organisation=organisation,
                                                    order=len(current) + 1, invited_by=user)
        audit.record(actor=user, action="application.participant_added", obj=app,
                     before={"participants": [o.name for o in current]},
                     after={"participants": [*(o.name for o in current), organisation.name]}, ip=ip)
    transaction.on_commit(lambda: notify.participant_invited(row))
    return row


def remove_participant(*, user, participant: ApplicationParticipant, ip: str | None = None) -> None:
    with transaction.atomic():
        app = _lock(participant.application)
        require(permissions.can_edit(user, app))
        row = ApplicationParticipant.objects.select_for_update().get(pk=participant.pk)
        if row.removed_at:
            return
        row.removed_at, row.removed_by = timezone.now(), user
        row.save(update_fields=["removed_at", "removed_by"])
        audit.record(actor=user, action="application.participant_removed", obj=app,
                     before={"participant": row.organisation.name, "confirmed": bool(row.confirmed_at)},
                     after={"participant": row.organisation.name, "removed": True}, ip=ip)


def confirm_participation(*, user, participant: ApplicationParticipant, ip: str | None = None) -> ApplicationParticipant:
    """A participant unit confirms, from its own account, that it takes part."""
    with transaction.atomic():
        app = _lock(participant.application)
        row = ApplicationParticipant.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=participant.pk)
        row.application = app
        require(permissions.can_confirm_participation(user, row))
        if row.confirmed_at:
            return row
        row.confirmed_at, row.confirmed_by = timezone.now(), user
        row.save(update_fields=["confirmed_at", "confirmed_by"])
        audit.record(actor=user, action="application.participant_confirmed", obj=app,
                     before={"participant": row.organisation.name, "confirmed": False},
                     after={"participant": row.organisation.name, "confirmed": True}, ip=ip)
    return row


def participant_problems(application: Application, participants=None) -> list[Problem]:
    """R-E4: the participant units that have not confirmed (`participants`: its active participants, when
    already read)."""
    rows = active_participants(application) if participants is None else participants
    return [Problem("participant_unconfirmed", _("参与单位%(unit)s尚未确认参与") % {"unit": p.organisation.name},
                    {"organisation_id": p.organisation_id})
            for p in rows if not p.confirmed_at]


# --- submission ----------------------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """The one text a snapshot's fingerprint is computed over: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fingerprint_of(frozen: dict) -> str:
    return hashlib.sha256(canonical_json(frozen).encode("utf-8")).hexdigest()


def _frozen(app: Application, cleaned: dict, *, number: int, user, at: dt.datetime, approval: OwnApproval | None,
            participants: list[ApplicationParticipant]) -> dict:
    values = dict(cleaned)
    if approval is not None:
        values["_meeting"] = approval.meeting_name or approval.meeting_kind
    values["_fill_date"] = timezone.localtime(at).date().isoformat()
    frozen = {
        "application": app.pk,
        "application_number": app.number,
        "number": number,
        "call": {"code": app.call.code, "title": app.call.title, "document_number": app.call.document_number},
        "project_type": {"code": app.project_type.code, "name": app.project_type.name},
        "track": {"code": app.track.code, "name": app.track.name} if app.track_id else None,
        "applicant": {"id": app.applicant_id, "name": app.applicant.name, "credit_code": app.applicant.credit_code},
        "participants": [{"id": p.organisation_id, "name": p.organisation.name,
                          "credit_code": p.organisation.credit_code, "confirmed_at": p.confirmed_at}
                         for p in participants],
        "own_approval": _approval_state(approval),
        "title": app.title,
        "values": values,
        "draft_version": app.version,
        "submitted_at": at,
        "submitted_by": user.get_username(),
    }
    return json.loads(canonical_json(frozen))  # exactly what the database will hold


def number_parts(app: Application) -> tuple[str, dict]:
    """The counter scope and the placeholder values of an application's number under its call's pattern.
    The counter runs per project type when the pattern names the type, else across the call."""
    doc = app.call.document
    pattern = doc.number_pattern
    codes = [t.code for t in doc.project_types]
    code = app.project_type.code
    type_seq = codes.index(code) + 1 if code in codes else app.project_type.order + 1
    names = schema.number_fields(pattern)
    scope = code if names & {"type", "type_seq"} else ""
    if "track" in names:
        scope = f"{scope}/{app.track.code if app.track_id else ''}"
    return scope, {"year": doc.year, "type": code, "type_seq": type_seq,
                   "track": app.track.code if app.track_id else ""}


def _next_seq(call_id: int, scope: str) -> int:
    """Add one to the counter of (call, scope), created at 1 if missing, and return it: one statement
    (INSERT … ON CONFLICT DO UPDATE … RETURNING, PostgreSQL and SQLite 3.35+) that leaves the row locked
    (written) until the caller's transaction ends, so a concurrent allocation waits for it."""
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35: the same in three
        NumberCounter.objects.get_or_create(call_id=call_id, scope=scope)
        NumberCounter.objects.filter(call_id=call_id, scope=scope).update(last=F("last") + 1)
        return NumberCounter.objects.filter(call_id=call_id, scope=scope).values_list("last", flat=True).get()
    qn = connection.ops.quote_name
    table, call_col, scope_col, last_col = (qn(NumberCounter._meta.db_table), qn("call_id"), qn("scope"),
                                            qn(NumberCounter._meta.get_field("last").column))
    # the names come from the model, quoted; the values are bound
    sql = (f"INSERT INTO {table} ({call_col}, {scope_col}, {last_col}) VALUES (%s, %s, 1) "  # noqa: S608
           f"ON CONFLICT ({call_col}, {scope_col}) DO UPDATE SET {last_col} = {table}.{last_col} + 1 "
           f"RETURNING {last_col}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [call_id, scope])
        return cursor.fetchone()[0]


def allocate_number(app: Application) -> str:
    """The next 申报编号 of the application's call (inside the caller's transaction). The counter row is
    incremented and so locked until the transaction ends (`_next_seq`), so two first submissions at once
    never get the same number; a number already taken (a pattern changed mid-call) is skipped; the unique
    constraint (call, number) is the last guard."""
    scope, parts = number_parts(app)
    pattern = app.call.document.number_pattern
    while True:
        number = pattern.format(seq=_next_seq(app.call_id, scope[:64]), **parts)[:40]
        if not Application.objects.filter(call_id=app.call_id, number=number).exists():
            return number


def submit(*, user, application: Application | None = None, application_id: int | None = None,
           expected_version: int | None = None, ip: str | None = None) -> SubmitResult:
    """Submit the draft: once. The row is locked; a second submit (double click, retried request, twenty
    at once) finds the snapshot the first one made and creates nothing. Checks, in this order: who may
    (workflow), the version on screen, own approval (R-E8), participants confirmed (R-E4), the form in
    full (FORMS), eligibility (ELIG: every call rule, the deadline included). Then freezes a Snapshot and
    moves the status (to the endorsing association when the call routes it, R-E9).

    `application_id` instead of `application`: the row is read only here (locked); a user who may not see
    it gets `Hidden` (R-S31), a missing one Application.DoesNotExist. The result carries the row as saved."""
    from shenbao.applications import eligibility

    with transaction.atomic():
        # the own approval comes with the row where that reads the same (SQLite), else it is read after the lock
        joined = _one_snapshot()
        app = _lock(application.pk if application is not None else application_id,
                    related=("own_approval", "own_approval__accepted_by") if joined else ())
        if application is None:
            seen = permissions.can_view(user, app)
            if not seen:
                raise Hidden(seen.reason, app)
        if app.status in ("submitted", "awaiting_endorsement") and app.current_snapshot_id:
            snap = app.current_snapshot
            if expected_version is None or snap.draft_version == expected_version:
                require(permissions.can_view(user, app))
                return SubmitResult(snapshot=snap, created=False, application=app)
        action = submit_action(app)
        require(APPLICATION.can(user, app, action))
        if expected_version is not None and expected_version != app.version:
            raise Conflict(application=app, theirs=app.data, version=app.version, saved_by=app.saved_by,
                           saved_at=app.saved_at)
        # the own approval the call asks for (R-E8): none is read or frozen for a type without the rule (a row
        # recorded under an earlier version of the call, whose rule was removed since, is no longer asked for)
        if own_approval_rule(app) is None:
            approval = None
        elif joined:
            approval = app.own_approval if hasattr(app, "own_approval") else None  # joined: no query
        else:
            approval = OwnApproval.objects.filter(application=app).select_related("accepted_by").first()
        rows = list(active_participants(app))  # read once: the checks, eligibility and the snapshot
        problems: list = [*own_approval_problems(app, approval), *participant_problems(app, rows)]
        track_code = formdata.track_code_from(app, app.data)
        data = resolve_attachments(app, app.data)  # the snapshot freezes each file's id and hash
        result = formdata.validate(app, data, partial=False, track_code=track_code)
        verdict = eligibility.check(org=app.applicant, call=app.call, project_type=app.project_type,
                                    track=app.track, application=app, participants=[p.organisation for p in rows])
        reasons = list(verdict.reasons)
        if app.status == "returned" and app.revision_deadline and timezone.now() < app.revision_deadline:
            # a return for revision gives its own deadline, which replaces the call's for this resubmission
            reasons = [r for r in reasons if r.code != "deadline"]
        elif app.status == "returned" and app.revision_deadline:
            reasons = [r for r in reasons if r.code != "deadline"]
            reasons.append(Problem("deadline", _("修改后提交已于%(deadline)s截止")
                                   % {"deadline": f"{timezone.localtime(app.revision_deadline):%Y-%m-%d %H:%M}"}))
        if problems or reasons or result.errors:
            raise Refused(reasons=[*reasons, *problems], errors=result.errors)
        now = timezone.now()
        fields = ["current_snapshot", "submitted_at", "amount_asked", "endorser", "routing_label", "updated_at"]
        if not app.number:
            app.number = allocate_number(app)
            fields.append("number")
        # only submit makes snapshots, and it sets current_snapshot: without one there is none yet
        number = 1 if not app.current_snapshot_id else (
            app.snapshots.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        frozen = _frozen(app, result.cleaned, number=number, user=user, at=now, approval=approval,
                         participants=rows)
        snap = Snapshot.objects.create(application=app, number=number, draft_version=app.version, values=frozen,
                                       fingerprint=fingerprint_of(frozen), submitted_at=now, submitted_by=user)
        route = route_for(app)
        app.current_snapshot = snap
        app.submitted_at = now
        app.amount_asked = formdata.amount_asked(app, result.cleaned)
        app.endorser = route.endorser if route else None
        app.routing_label = route.label if route else ""
        # the status and the fields above in one UPDATE; the audit event and the notice as for any transition
        APPLICATION.perform(user=user, obj=app, action=action, notify=notify.transition, locked=True,
                            update_fields=fields,
                            extra_after={"snapshot": number, "number": app.number, "fingerprint": snap.fingerprint,
                                         "endorser": route.endorser.name if route else None})
    if application is not None:
        application.status = app.status
        application.current_snapshot = snap
        application.number = app.number
    return SubmitResult(snapshot=snap, created=True, application=app)


def withdraw(*, user, application: Application, reason: str = "", ip: str | None = None) -> Application:
    """Back to draft before the deadline; the snapshot and its history stay."""
    with transaction.atomic():
        app = _lock(application)
        APPLICATION.perform(user=user, obj=app, action="withdraw", note=reason, notify=notify.transition,
                            extra_after={"snapshot": app.current_snapshot.number if app.current_snapshot_id else None})
    application.status = app.status
    return app


def return_for_revision(*, user, application: Application, reason: str, new_deadline: dt.datetime,
                        ip: str | None = None) -> Application:
    """Funder staff send a submitted application back with the reason shown to the applicant and a new
    deadline for the revised version."""
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed(_("请写明退回修改的理由"))
    if new_deadline <= timezone.now():
        raise NotAllowed(_("新的截止时间须晚于现在"))
    with transaction.atomic():
        app = _lock(application)
        require(APPLICATION.can(user, app, "return_for_revision"))
        app.return_reason, app.revision_deadline = reason, new_deadline
        app.returned_at, app.returned_by = timezone.now(), user
        app.save(update_fields=["return_reason", "revision_deadline", "returned_at", "returned_by", "updated_at"])
        APPLICATION.perform(user=user, obj=app, action="return_for_revision", note=reason, notify=notify.transition,
                            extra_after={"reason": reason, "revision_deadline": new_deadline})
    application.status = app.status
    return app


# --- endorsement by the home association (R-E9) -------------------------------------------------------------


def finance_required(application: Application) -> bool:
    """Whether the route asks the endorsing association to summarise jointly with finance (R-E9)."""
    route = route_for(application)
    return bool(route and route.rule.with_finance)


def endorse(*, user, application: Application, opinion: str, with_finance: bool = False,
            ip: str | None = None) -> Endorsement:
    """The endorsing association's reviewer recommends the application with an opinion; it then reaches
    the funder, who sees the opinion. Where the route says “会同财政部门”, the reviewer confirms that the
    summary was made jointly with the finance department."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise NotAllowed(_("请填写推荐意见"))
    with transaction.atomic():
        app = _lock(application)
        require(APPLICATION.can(user, app, "endorse"))
        if finance_required(app) and not with_finance:
            raise NotAllowed(_("本通知要求会同财政部门汇总后推荐：请确认已会同财政部门汇总"))
        row = Endorsement.objects.create(application=app, snapshot=app.current_snapshot, organisation=app.endorser,
                                         reviewer=user, decision=Endorsement.Decision.ENDORSE, opinion=opinion,
                                         with_finance=with_finance)
        APPLICATION.perform(user=user, obj=app, action="endorse", note=opinion, notify=notify.transition,
                            extra_after={"endorser": app.endorser.name, "opinion": opinion,
                                         "with_finance": with_finance})
    application.status = app.status
    return row


def return_by_endorser(*, user, application: Application, reason: str, new_deadline: dt.datetime | None = None,
                       ip: str | None = None) -> Endorsement:
    """The endorsing association returns the application to the applicant with a reason (and, if it
    gives one, a new deadline; else the call's deadline applies)."""
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed(_("请写明退回理由"))
    if new_deadline is not None and new_deadline <= timezone.now():
        raise NotAllowed(_("新的截止时间须晚于现在"))
    with transaction.atomic():
        app = _lock(application)
        require(APPLICATION.can(user, app, "return"))
        row = Endorsement.objects.create(application=app, snapshot=app.current_snapshot, organisation=app.endorser,
                                         reviewer=user, decision=Endorsement.Decision.RETURN, opinion=reason)
        app.return_reason, app.returned_at, app.returned_by = reason, timezone.now(), user
        fields = ["return_reason", "returned_at", "returned_by", "updated_at"]
        if new_deadline is not None:
            app.revision_deadline = new_deadline
            fields.append("revision_deadline")
        app.save(update_fields=fields)
        APPLICATION.perform(user=user, obj=app, action="return", note=reason, notify=notify.transition,
                            extra_after={"endorser": app.endorser.name, "reason": reason,
                                         "revision_deadline": new_deadline})
    application.status = app.status
    return row


# --- stamped scans ---------------------------------------------------------------------------------------

MAX_SCAN_BYTES = 20 * 1024 * 1024


class ScanRefused(Exception):
    """The upload is not kept (wrong type, too large, a QR of another version or application)."""

    def __init__(self, message: str, code: str, params: dict | None = None):
        """`message` is the Chinese msgid (marked with gettext_noop), `params` fill its placeholders:
        `message` becomes the text in the user's language, `chinese` the one the audit log keeps."""
        self.chinese = message % params if params else message
        self.message = _(message) % params if params else _(message)
        self.code = code
        super().__init__(self.message)


@dataclass
class ScanResult:
    scan: Scan
    message: str


def _scan_dir(app: Application):
    from pathlib import Path

    from django.conf import settings

    path = Path(settings.MEDIA_ROOT) / "scans" / str(app.pk)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _mismatch(app: Application, snap: Snapshot, refs) -> ScanRefused:
    ref = refs[0]
    if ref.application_id != app.pk:
        return ScanRefused(gettext_noop("扫描件上的二维码属于另一份申报，不是本申报"
                                        "（申报编号 %(this)s）的申报表，请上传本申报打印盖章后的扫描件"),
                           "other_application", {"this": app.number or "—"})
    if ref.number != snap.number:
        return ScanRefused(gettext_noop("扫描件是第 %(scanned)s 版的申报表，当前提交的是第 %(current)s 版：请打印第 "
                                        "%(current)s 版（页脚指纹 %(fingerprint)s…）盖章后重新上传"), "other_version",
                           {"scanned": ref.number, "current": snap.number, "fingerprint": snap.short_fingerprint})
    return ScanRefused(gettext_noop("扫描件二维码中的版本指纹（%(scanned)s…）与提交版本的指纹"
                                    "（%(current)s…）不一致：纸质版与电子版内容不一致"), "fingerprint",
                       {"scanned": ref.fingerprint[:16], "current": snap.short_fingerprint})


def upload_scan(*, user, application: Application, upload, ip: str | None = None) -> ScanResult:
    """Keep a stamped scan of the printed form of the current snapshot. The file is written under a
    temporary name and moved into place only once it is known good, so a failed or interrupted upload
    leaves every earlier file and the current verified scan as they were.

    QR of this version → verified. QR of another version or application → refused with a clear message.
    No readable QR → kept unverified, for the funder's staff to accept with a reason (or a better scan)."""
    import os
    import uuid

    from django.conf import settings

    from shenbao.documents import scans, uploads

    app = Application.objects.select_related("current_snapshot", "applicant", "call").get(pk=application.pk)
    require(permissions.can_upload_scan(user, app))
    snap = app.current_snapshot
    limit = getattr(settings, "SHENBAO_MAX_SCANS_PER_APPLICATION", 20)
    if Scan.objects.filter(application=app).count() >= limit:  # R-S84
        raise ScanRefused(gettext_noop("本申报已上传 %(n)s 份扫描件，已达上限，不能再上传；如需更正请联系主办方"),
                          "too_many", {"n": limit})
    size = getattr(upload, "size", None)
    if getattr(upload, "too_large", False) or (size is not None and size > MAX_SCAN_BYTES):
        raise ScanRefused(gettext_noop("文件过大（%(size)s MB）：扫描件不能超过 20 MB"), "too_large",
                          {"size": f"{(size or 0) / 1024 / 1024:.1f}"})
    folder = _scan_dir(app)
    token = uuid.uuid4().hex
    tmp = folder / uploads.incoming_name(token, "part")
    final = None
    try:
        digest, total, head = hashlib.sha256(), 0, b""
        with open(tmp, "wb") as out:
            for chunk in upload.chunks():
                total += len(chunk)
                if total > MAX_SCAN_BYTES:
                    raise ScanRefused(gettext_noop("文件过大：扫描件不能超过 20 MB"), "too_large")
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if total == 0:
            raise ScanRefused(gettext_noop("文件是空的"), "empty")
        kind = scans.sniff(head)
        if kind is None:
            raise ScanRefused(gettext_noop("只接受 PDF、JPG 或 PNG 格式的扫描件（按文件内容识别，不看扩展名）"), "type")
        expected = scans.qr_text(app.pk, snap.number, snap.fingerprint)
        try:
            scans.inspect(tmp, kind)  # R-S80, R-S81: before anything is decoded or rendered
            texts = scans.read_qr_limited(tmp, kind, want_text=expected)  # R-S82
        except scans.ScanTooLarge as exc:
            raise ScanRefused(exc.message, exc.code, exc.params) from None
        except scans.ReaderFailed as exc:
            if exc.code == "timeout":
                raise ScanRefused(gettext_noop("读取扫描件超时：请以 150–300 dpi 重新扫描后上传"), "timeout") from None
            raise ScanRefused(gettext_noop("扫描件无法读取（文件过大或已损坏）：请重新扫描后上传"), "unreadable") from None
        verified = expected in texts
        refs = [r for r in (scans.parse_qr(t) for t in texts) if r is not None]
        if not verified and refs:
            raise _mismatch(app, snap, refs)
        final = folder / f"v{snap.number}-{token}.{kind}"
        os.replace(tmp, final)
        now = timezone.now()
        with transaction.atomic():
            scan = Scan.objects.create(
                application=app, snapshot=snap, file=str(final.relative_to(_media_root())),
                original_name=(getattr(upload, "name", "") or "")[:200], content_type=scans.KINDS[kind],
                size=total, sha256=digest.hexdigest(), qr_text=expected if verified else "",
                verified=verified, method=Scan.Method.QR if verified else "", uploaded_by=user,
                state=Scan.State.MATCHED if verified else Scan.State.UNREAD,
                verified_by=user if verified else None, verified_at=now if verified else None)
            audit.record(actor=user, action="application.scan_verified" if verified else "application.scan_unreadable",
                         obj=app, after={"scan": scan.pk, "snapshot": snap.number, "verified": verified,
                                         "sha256": scan.sha256, "size": total, "type": kind}, ip=ip)
    except ScanRefused as exc:
        with transaction.atomic():
            audit.record(actor=user, action="application.scan_refused", obj=app, note=exc.chinese,
                         after={"code": exc.code, "snapshot": snap.number}, ip=ip)
        raise
    except BaseException:
        if final is not None:
            final.unlink(missing_ok=True)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    if verified:
        message = _("版本一致：扫描件二维码与第 %(number)s 版（指纹 %(fingerprint)s…）一致。"
                    "盖章待主办方确认，确认后为已核验") % {"number": snap.number, "fingerprint": snap.short_fingerprint}
    else:
        message = _("未能从扫描件中识别出本平台的二维码。文件已保存，等待主办方人工核验；"
                   "也可重新扫描（建议 300 dpi，二维码完整清晰）后再上传")
    return ScanResult(scan=scan, message=message)


def _media_root():
    from pathlib import Path

    from django.conf import settings

    return Path(settings.MEDIA_ROOT)


def _decide_scan(*, user, scan: Scan, action: str, reason: str = "", ip: str | None = None) -> Scan:
    """One transition of a scan (workflow.SCAN) with the decision's fields, in one transaction, audited
    on the scan (the application's history shows it)."""
    with transaction.atomic():
        row = (Scan.objects.select_for_update(of=("self",))
               .select_related("application", "application__call", "application__call__issuer", "snapshot")
               .get(pk=scan.pk))
        require(SCAN.can(user, row, action))
        now = timezone.now()
        fields: list[str] = []
        if action == "accept_manually":
            row.verified, row.method, row.reason = True, Scan.Method.MANUAL, reason
            row.verified_by, row.verified_at = user, now
            fields += ["verified", "method", "reason", "verified_by", "verified_at"]
        if action in ("accept_manually", "confirm_stamp"):
            row.confirmed_by, row.confirmed_at = user, now
            fields += ["confirmed_by", "confirmed_at"]
        if action == "return_scan":
            row.return_reason, row.returned_by, row.returned_at = reason, user, now
            fields += ["return_reason", "returned_by", "returned_at"]
        row.save(update_fields=fields)
        SCAN.perform(user=user, obj=row, action=action, note=reason,
                     extra_after={"scan": row.pk, "snapshot": row.snapshot.number, "verified": row.verified,
                                  **({"reason": reason} if reason else {})})
        if action == "return_scan":
            transaction.on_commit(lambda: notify.scan_returned(row))
    scan.__dict__.update({k: getattr(row, k) for k in ("state", "verified", "method", "reason", "confirmed_at",
                                                        "return_reason", "returned_at")})
    return row


def confirm_stamp(*, user, scan: Scan, ip: str | None = None) -> Scan:
    """Funder staff confirm the stamp on a scan whose QR matched the version: now it is 已核验."""
    return _decide_scan(user=user, scan=scan, action="confirm_stamp", ip=ip)


def return_scan(*, user, scan: Scan, reason: str, ip: str | None = None) -> Scan:
    """Funder staff return a scan (stamp missing or unreadable, wrong pages …) with the reason the clerk
    reads; the clerk uploads again."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise NotAllowed(_("请写明退回扫描件的理由（不少于4个字）"))
    return _decide_scan(user=user, scan=scan, action="return_scan", reason=reason, ip=ip)


def accept_scan_manually(*, user, scan, reason: str, ip: str | None = None):
    """Funder staff accept a scan whose QR could not be read, with a written reason (audited): they
    checked the version and the stamp by hand, so it is 已核验."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise NotAllowed(_("请写明人工核验的理由（不少于4个字）"))
    current = Scan.objects.select_related("application").get(pk=scan.pk)
    if current.state == Scan.State.CONFIRMED:
        raise NotAllowed(_("该扫描件已核验"))
    return _decide_scan(user=user, scan=scan, action="accept_manually", reason=reason, ip=ip)


def accept_over_limit(*, user, application: Application, reason: str, ip: str | None = None) -> LimitAcceptance:
    """R-E3: the funder's staff accept an application beyond the call's soft per-unit limit (原则上不超过N个)
    with a written reason (audited). Refused when the call's limit is hard or the application is within it."""
    from shenbao.applications import selectors

    reason = (reason or "").strip()
    if len(reason) < 4:
        raise NotAllowed(_("请写明同意超额受理的理由（不少于4个字）"))
    with transaction.atomic():
        app = _lock(application)
        require(permissions.can_accept_over_limit(user, app))
        state = selectors.limit_state(app)
        if state is None or not state.soft or not state.over:
            raise NotAllowed(_("该申报未超出本通知的每单位申报数量，无须同意超额受理"))
        if state.accepted:
            raise NotAllowed(_("已同意超额受理"))
        row = LimitAcceptance.objects.create(application=app, reason=reason, accepted_by=user,
                                             accepted_at=timezone.now())
        audit.record(actor=user, action="application.over_limit_accepted", obj=app,
                     before={"over_limit": state.position, "max": state.limit, "accepted": False},
                     after={"over_limit": state.position, "max": state.limit, "accepted": True, "reason": reason},
                     note=reason, ip=ip)
    return row


# --- attachments (form fields of kind attachment) -------------------------------------------------------------

class AttachmentRefused(ScanRefused):
    """The attached file is not kept (wrong type, too large, too many); the draft's value is unchanged."""


def _attachment_fields(app: Application) -> dict[str, schema.FormField]:
    form = formdata.form_of(app)
    return {k: f for k, f in (form.fields_by_key().items() if form else []) if f.kind == "attachment"}


def resolve_attachments(app: Application, values: dict) -> dict:
    """`values` with each attachment field's value rebuilt from the uploads it names (name, id, hash, size,
    pages, type), so a draft can only name files uploaded to this application for this field. An id that
    is not one raises InputRefused (nothing is stored)."""
    fields = _attachment_fields(app)
    out = dict(values)
    errors: dict[str, list[str]] = {}
    for key, f in fields.items():
        raw = values.get(key)
        if raw in (None, "", [], {}):
            continue
        items = raw if isinstance(raw, list) else [raw]
        refs = []
        for item in items:
            if not isinstance(item, dict) or item.get("document_id") in (None, ""):
                continue
            try:
                doc_id = int(item.get("document_id"))
            except (TypeError, ValueError):
                doc_id = None
            row = Attachment.objects.filter(pk=doc_id, application=app, field_key=key).first() if doc_id else None
            if row is None:
                errors.setdefault(key, []).append(
                    _("附件 %(id)s 不是本申报“%(label)s”一栏上传的文件") % {"id": str(item.get("document_id"))[:20],
                                                                   "label": f.label})
                continue
            refs.append(row.ref())
        if refs:
            out[key] = refs if isinstance(raw, list) or f.max_files > 1 else refs[0]
        else:
            out.pop(key, None)
    if errors:
        raise InputRefused(errors)
    return out


def upload_attachment(*, user, application: Application, field_key: str, upload, ip: str | None = None) -> Attachment:
    """Keep a file for an attachment field of the draft. It is streamed to a temporary name, checked (size,
    type sniffed from the content and allowed by the field, pixel and page limits of the scan upload) and
    only then moved to its place by content hash: a refused or interrupted upload changes nothing (the
    field keeps its previous file). The caller puts the returned file into the draft's value."""
    import os
    import uuid

    from django.conf import settings

    from shenbao.documents import attachments, scans, uploads

    app = Application.objects.select_related("call", "project_type").get(pk=application.pk)
    require(permissions.can_edit(user, app))
    f = _attachment_fields(app).get(field_key)
    limit = getattr(settings, "SHENBAO_MAX_ATTACHMENTS_PER_APPLICATION", 200)
    tmp = None
    try:
        if f is None:
            raise AttachmentRefused(gettext_noop("申报表中没有这个附件栏目"), "field")
        max_bytes = (f.max_mb or MAX_SCAN_BYTES // 1024 // 1024) * 1024 * 1024
        accept = f.accept or attachments.DEFAULT_ACCEPT
        if Attachment.objects.filter(application=app).count() >= limit:  # R-S84: as many as scans allow
            raise AttachmentRefused(gettext_noop("本申报已上传 %(n)s 个附件，已达上限，不能再上传"), "too_many",
                                    {"n": limit})
        size = getattr(upload, "size", None)
        if getattr(upload, "too_large", False) or (size is not None and size > max_bytes):
            raise AttachmentRefused(gettext_noop("文件过大（%(size)s MB）：%(label)s不能超过 %(max)s MB"), "too_large",
                                    {"size": f"{(size or 0) / 1024 / 1024:.1f}", "label": f.label,
                                     "max": max_bytes // 1024 // 1024})
        folder = attachments.folder()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / uploads.incoming_name(uuid.uuid4().hex, "part")
        digest, total = hashlib.sha256(), 0
        with open(tmp, "wb") as out:
            for chunk in upload.chunks():
                total += len(chunk)
                if total > max_bytes:
                    raise AttachmentRefused(gettext_noop("文件过大：%(label)s不能超过 %(max)s MB"), "too_large",
                                            {"label": f.label, "max": max_bytes // 1024 // 1024})
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if total == 0:
            raise AttachmentRefused(gettext_noop("文件是空的"), "empty")
        kind = attachments.sniff(tmp)
        if kind not in accept:
            raise AttachmentRefused(gettext_noop("%(label)s只接受 %(types)s 格式的文件（按文件内容识别，不看扩展名）"),
                                    "type", {"label": f.label, "types": "、".join(a.upper() for a in accept)})
        try:
            scans.inspect(tmp, kind)  # R-S80, R-S81: the pixel and page-size limits of the scan upload
        except scans.ScanTooLarge as exc:
            raise AttachmentRefused(exc.message, exc.code, exc.params) from None
        sha = digest.hexdigest()
        n_pages = attachments.pages(tmp, kind)
        name = attachments.store(tmp, sha, kind)
        with transaction.atomic():
            row = Attachment.objects.create(
                application=app, field_key=field_key, file=name,
                original_name=(getattr(upload, "name", "") or "")[-200:], kind=kind,
                content_type=attachments.CONTENT_TYPES[kind], size=total, sha256=sha, pages=n_pages, uploaded_by=user)
            audit.record(actor=user, action="application.attachment_uploaded", obj=app,
                         after={"attachment": row.pk, "field": field_key, "sha256": sha, "size": total,
                                "type": kind, "name": row.original_name}, ip=ip)
        return row
    except AttachmentRefused as exc:
        with transaction.atomic():
            audit.record(actor=user, action="application.attachment_refused", obj=app, note=exc.chinese,
                         after={"code": exc.code, "field": str(field_key)[:64]}, ip=ip)
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
