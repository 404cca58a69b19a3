"""Reads of applications for the dashboard, the endorsement and funder lists, history and printing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from shenbao.applications import permissions
from shenbao.applications.models import (
    Application,
    ApplicationParticipant,
    Endorsement,
    LimitAcceptance,
    OwnApproval,
    Scan,
    Snapshot,
)
from shenbao.core import audit
from shenbao.documents import scans
from shenbao.orgs.models import Role
from shenbao.orgs.selectors import role_orgs, unit_with_lineage

ACTION_LABELS = {
    "application.create": pgettext_lazy("history", "创建草稿"),
    "application.save": pgettext_lazy("history", "保存"),
    "application.autosave": pgettext_lazy("history", "自动保存"),
    "application.submit": pgettext_lazy("history", "提交"),
    "application.submit_routed": pgettext_lazy("history", "提交（待推荐单位审核）"),
    "application.resubmit": pgettext_lazy("history", "修改后重新提交"),
    "application.resubmit_routed": pgettext_lazy("history", "修改后重新提交（待推荐单位审核）"),
    "application.withdraw": pgettext_lazy("history", "撤回"),
    "application.return_for_revision": pgettext_lazy("history", "主办方退回修改"),
    "application.endorse": pgettext_lazy("history", "推荐单位同意推荐"),
    "application.return": pgettext_lazy("history", "推荐单位退回修改"),
    "application.discard": pgettext_lazy("history", "放弃草稿"),
    "application.own_approval": pgettext_lazy("history", "登记单位审议会议"),
    "application.commitment_accepted": pgettext_lazy("history", "单位负责人确认承诺"),
    "application.participant_added": pgettext_lazy("history", "添加参与单位"),
    "application.participant_removed": pgettext_lazy("history", "移除参与单位"),
    "application.participant_confirmed": pgettext_lazy("history", "参与单位确认参与"),
    "application.scan_verified": pgettext_lazy("history", "上传盖章扫描件（二维码核验通过）"),
    "application.scan_unreadable": pgettext_lazy("history", "上传盖章扫描件（未识别二维码，待人工核验）"),
    "application.scan_refused": pgettext_lazy("history", "上传盖章扫描件被拒绝"),
    "application.scan_accepted_manually": pgettext_lazy("history", "主办方人工核验扫描件"),
    "application.over_limit_accepted": pgettext_lazy("history", "主办方同意超额受理"),
    "scan.accept_manually": pgettext_lazy("history", "主办方人工核验扫描件"),
    "scan.confirm_stamp": pgettext_lazy("history", "主办方确认盖章（已核验）"),
    "scan.return_scan": pgettext_lazy("history", "主办方退回盖章扫描件"),
}


def _org_ids(user, roles) -> set[int]:
    """The organisations where the user holds one of `roles`: those the roles name, and the user's own for a
    role given without one (from the user's roles as the permission checks read them: once a request)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return role_orgs(user, roles, own_unit=True, keep=True)


def _base() -> QuerySet[Application]:
    return Application.objects.select_related("call", "call__issuer", "project_type", "track", "applicant",
                                              "current_snapshot", "endorser")


def for_user(user) -> QuerySet[Application]:
    """The applications of the user's unit(s), as lead or as participant; discarded drafts last."""
    orgs = _org_ids(user, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))
    # the joint applications by a subquery, not a join: no duplicate rows to remove with DISTINCT (which on
    # PostgreSQL sorted every column of every row, and planned for 10-20 ms)
    joint = ApplicationParticipant.objects.filter(organisation_id__in=orgs, removed_at__isnull=True)
    return (_base().filter(Q(applicant_id__in=orgs) | Q(pk__in=joint.values("application_id")))
            .annotate(gone=Case(When(status="discarded", then=Value(1)), default=Value(0),
                                           output_field=IntegerField()))
            .order_by("gone", "-updated_at"))


def pending_participations(user) -> QuerySet[ApplicationParticipant]:
    """Invitations to take part in another unit's joint application, not yet confirmed."""
    orgs = _org_ids(user, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))
    return (ApplicationParticipant.objects.filter(organisation_id__in=orgs, removed_at__isnull=True,
                                                  confirmed_at__isnull=True,
                                                  application__status__in=permissions.EDITABLE)
            .select_related("application", "application__applicant", "application__project_type", "organisation"))


def endorsement_queue(user) -> QuerySet[Application]:
    orgs = _org_ids(user, (Role.HOME_REVIEWER,))
    return _base().filter(endorser_id__in=orgs, status="awaiting_endorsement").order_by("submitted_at")


def endorsed_by(user) -> QuerySet[Application]:
    orgs = _org_ids(user, (Role.HOME_REVIEWER,))
    return (_base().filter(endorser_id__in=orgs, endorsements__isnull=False).exclude(status="awaiting_endorsement")
            .distinct().order_by("-updated_at"))


def received(user, *, call=None) -> QuerySet[Application]:
    """What reached the funder: submitted (after endorsement where routed) or returned by it."""
    orgs = _org_ids(user, (Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    qs = _base().filter(call__issuer_id__in=orgs, current_snapshot__isnull=False,
                        status__in=["submitted", "returned"])
    if call is not None:
        qs = qs.filter(call=call)
    return qs.order_by("call", "project_type__order", "submitted_at")


# --- the funder's desk: 收到的申报 with filters, sorting and paging ------------------------------------------

DESK_SORTS = {
    "number": ("number", "id"), "unit": ("applicant__name", "id"), "type": ("call_id", "project_type__order", "id"),
    "track": ("track__order", "id"), "amount": ("amount_asked", "id"), "submitted": ("submitted_at", "id"),
}
SCAN_FILTERS = ("none", "unread", "matched", "confirmed", "returned")
ENDORSEMENT_FILTERS = ("endorsed", "direct")


@dataclass
class DeskFilter:
    """What the funder chose on 收到的申报 (all optional); `from_query` reads it from the GET parameters
    and ignores what it does not understand."""

    call: str = ""
    type: int | None = None
    track: int | None = None
    status: str = ""
    endorsement: str = ""
    scan: str = ""
    q: str = ""
    sort: str = "-submitted"

    @classmethod
    def from_query(cls, params) -> DeskFilter:
        def number(key):
            value = str(params.get(key) or "").strip()
            return int(value) if value.isdigit() else None

        sort = params.get("sort") or "-submitted"
        return cls(call=(params.get("call") or "").strip()[:40], type=number("type"), track=number("track"),
                   status=params.get("status") if params.get("status") in ("submitted", "returned") else "",
                   endorsement=params.get("endorsement") if params.get("endorsement") in ENDORSEMENT_FILTERS else "",
                   scan=params.get("scan") if params.get("scan") in SCAN_FILTERS else "",
                   q=(params.get("q") or "").strip()[:100],
                   sort=sort if sort.lstrip("-") in DESK_SORTS else "-submitted")

    def query(self, **change) -> str:
        """The GET parameters of this filter (with `change` applied), for links that keep the selection."""
        from urllib.parse import urlencode

        values = {"call": self.call, "type": self.type, "track": self.track, "status": self.status,
                  "endorsement": self.endorsement, "scan": self.scan, "q": self.q, "sort": self.sort} | change
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def desk(user, f: DeskFilter | None = None) -> QuerySet[Application]:
    """收到的申报 of the user's funder organisation(s), filtered and sorted, each row annotated with the
    state of its scan (`scan_state`: confirmed, else the last uploaded; None when none) and whether its
    endorser recommended the current version (`endorsed`, `endorsement_opinion`). One query for a page."""
    from django.db.models import Exists, OuterRef, Subquery

    from shenbao.applications.models import Endorsement

    f = f or DeskFilter()
    scans_of_version = (Scan.objects.filter(snapshot_id=OuterRef("current_snapshot_id"))
                        .annotate(rank=Case(When(state=Scan.State.CONFIRMED, then=Value(0)), default=Value(1),
                                            output_field=IntegerField()))
                        .order_by("rank", "-uploaded_at", "-id"))
    endorsements = Endorsement.objects.filter(application=OuterRef("pk"), snapshot_id=OuterRef("current_snapshot_id"),
                                              decision=Endorsement.Decision.ENDORSE).order_by("-at", "-id")
    qs = (received(user).select_related("applicant__category")
          .annotate(scan_state=Subquery(scans_of_version.values("state")[:1]),
                    endorsed=Exists(endorsements),
                    endorsement_opinion=Subquery(endorsements.values("opinion")[:1])))
    if f.call:
        qs = qs.filter(call__code=f.call)
    if f.type:
        qs = qs.filter(project_type_id=f.type)
    if f.track:
        qs = qs.filter(track_id=f.track)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.endorsement == "endorsed":
        qs = qs.filter(endorsed=True)
    elif f.endorsement == "direct":
        qs = qs.filter(endorser__isnull=True)
    if f.scan == "none":
        qs = qs.filter(scan_state__isnull=True)
    elif f.scan:
        qs = qs.filter(scan_state=f.scan)
    if f.q:
        # the submitted title, not the draft's (R-S70: the funder reads only submitted versions)
        qs = qs.filter(Q(number__icontains=f.q) | Q(applicant__name__icontains=f.q)
                       | Q(current_snapshot__values__title__icontains=f.q))
    key = f.sort.lstrip("-")
    order = DESK_SORTS[key]
    if f.sort.startswith("-"):
        order = tuple(f"-{o}" for o in order)
    return qs.order_by(*order)


def desk_choices(user) -> dict:
    """The filter menus of 收到的申报: the funder's calls, their types and tracks (three queries)."""
    from shenbao.calls.models import Call, ProjectType, Track

    orgs = _org_ids(user, (Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    calls = list(Call.objects.filter(issuer_id__in=orgs).order_by("-deadline", "id").values("code", "title"))
    types = list(ProjectType.objects.filter(call__issuer_id__in=orgs, retired=False)
                 .order_by("call__deadline", "call_id", "order").values("id", "code", "name", "call__code"))
    tracks = list(Track.objects.filter(project_type__call__issuer_id__in=orgs, retired=False)
                  .order_by("project_type_id", "order").values("id", "name", "project_type__code", "project_type__call__code"))
    return {"calls": calls, "types": types, "tracks": tracks}


# --- the work bench: to-do lists with counts ----------------------------------------------------------------


@dataclass
class Todo:
    key: str
    label: str
    count: int
    url: str


# What later stages add to the work bench (review: 待形式审查). This stage knows none of them: a stage appends
# a callable `hook(user) -> list[Todo]` in its AppConfig.ready (review/apps.py); `todo` shows their items after
# the funder's 待受理 and 盖章待确认, in the order registered. A hook answers [] for a user it has nothing for,
# asking the database nothing then, and a fixed number of queries otherwise (whatever the number of calls
# or applications).
TODO_HOOKS: list[Callable[..., list[Todo]]] = []


def register_todo(hook: Callable[..., list[Todo]]) -> None:
    """Called once by each later stage that has to-do counts for the work bench (idempotent)."""
    if hook not in TODO_HOOKS:
        TODO_HOOKS.append(hook)


def _awaiting_scan(orgs) -> int:
    """Submitted applications of `orgs` whose call asks for a stamped scan and whose current version has
    none that stands (none uploaded, or only returned ones). Two queries whatever the number."""
    from django.db.models import Exists, OuterRef

    from shenbao.calls.models import Call

    standing = Scan.objects.filter(snapshot_id=OuterRef("current_snapshot_id")).exclude(state=Scan.State.RETURNED)
    rows = list(Application.objects.filter(applicant_id__in=orgs, status__in=["submitted", "awaiting_endorsement"],
                                           current_snapshot__isnull=False)
                .annotate(has_scan=Exists(standing)).filter(has_scan=False).values_list("call_id", flat=True))
    if not rows:
        return 0
    stamped = {c.pk for c in Call.objects.filter(pk__in=set(rows)) if c.document.submission.stamped}
    return sum(1 for call_id in rows if call_id in stamped)


def todo(user) -> list[Todo]:
    """What waits for the user, by role, with counts (each count one or two queries): the clerk's drafts,
    applications missing a stamped scan and those returned; the home reviewer's 待推荐 and registrations;
    the funder's 待受理, stamps to confirm, what later stages add (`TODO_HOOKS`: review's 待形式审查) and
    registrations."""
    from django.urls import reverse

    from shenbao.orgs import selectors as org_selectors

    out: list[Todo] = []
    clerk_orgs = _org_ids(user, (Role.APPLICANT_CLERK,))
    if clerk_orgs:
        mine = reverse("applications:mine")
        counts = dict(Application.objects.filter(applicant_id__in=clerk_orgs, status__in=["draft", "returned"])
                      .order_by().values_list("status").annotate(n=models.Count("id")).values_list("status", "n"))
        out += [Todo("drafts", _("草稿"), counts.get("draft", 0), mine),
                Todo("missing_scans", _("待上传盖章扫描件"), _awaiting_scan(clerk_orgs), mine),
                Todo("returned", _("退回修改"), counts.get("returned", 0), mine)]
    reviewer_orgs = _org_ids(user, (Role.HOME_REVIEWER,))
    funder_orgs = _org_ids(user, (Role.FUNDER_STAFF, Role.FUNDER_LEADER))
    if reviewer_orgs:
        out.append(Todo("to_endorse", _("待推荐"), endorsement_queue(user).count(), reverse("applications:endorse")))
    if funder_orgs:
        received_url = reverse("applications:received")
        at_funder = received(user).filter(status="submitted")
        out.append(Todo("to_accept", _("待受理"), at_funder.count(), f"{received_url}?status=submitted"))
        stamps = at_funder.filter(current_snapshot__scans__state__in=[Scan.State.MATCHED, Scan.State.UNREAD]).exclude(
            current_snapshot__scans__state=Scan.State.CONFIRMED).distinct().count()
        out.append(Todo("stamps", _("盖章待确认"), stamps, f"{received_url}?status=submitted&scan=matched"))
    for hook in TODO_HOOKS:
        out += hook(user)
    if reviewer_orgs or funder_orgs:
        pending = org_selectors.registration_counts(user).get("pending", 0)
        out.append(Todo("registrations", _("注册待审核"), pending, reverse("orgs:registrations") + "?status=pending"))
    return out


def current_scan(snapshot: Snapshot | None) -> Scan | None:
    """The scan of this version the funder confirmed (已核验), if any."""
    if snapshot is None:
        return None
    # read through .all() so that a page which prefetched the version's scans asks the database once
    confirmed = [s for s in snapshot.scans.all() if s.state == Scan.State.CONFIRMED]
    return max(confirmed, key=lambda s: (s.confirmed_at or s.uploaded_at, s.id), default=None)


def latest_scan(snapshot: Snapshot | None) -> Scan | None:
    """The scan of this version that stands: the confirmed one, else the last uploaded (whatever its state:
    版本一致待确认, 待人工核验 or 已退回)."""
    if snapshot is None:
        return None
    return current_scan(snapshot) or max(snapshot.scans.all(), key=lambda s: (s.uploaded_at, s.id), default=None)


def unit_application_of_type(org, project_type) -> Application | None:
    """The unit's latest application of this project type that still counts (not discarded), if any."""
    return (Application.objects.filter(applicant=org, project_type=project_type).exclude(status="discarded")
            .order_by("-updated_at", "-id").first())


def scans_of(application: Application) -> QuerySet[Scan]:
    return application.scans.select_related("snapshot", "uploaded_by", "verified_by").order_by("-uploaded_at", "-id")


def hold_scans(snapshot: Snapshot, scans: list[Scan]) -> None:
    """Give `snapshot` its scans as already read (all of them: the application's scans of this version), so
    that `snapshot.scans.all()` in the selectors below asks nothing (as a prefetch would, without its query)."""
    qs = snapshot.scans.all()
    qs._result_cache = list(scans)
    qs._prefetch_done = True
    snapshot._prefetched_objects_cache = {**getattr(snapshot, "_prefetched_objects_cache", {}), "scans": qs}


# The application page reads its own approval and an accepted excess over the per-unit limit with the
# application (one-to-one rows, absent as often as not): `own_approval` and `limit_state` take them from there.
DETAIL_RELATED = ("own_approval__accepted_by", "own_approval__recorded_by", "limit_acceptance__accepted_by")


def _read_with(application: Application, name: str):
    """(True, the one-to-one row `name` or None) when it was read with the application, else (False, None)."""
    rel = Application._meta.get_field(name)
    if rel.is_cached(application):
        return True, rel.get_cached_value(application)
    return False, None


def own_approval(application: Application) -> OwnApproval | None:
    held, row = _read_with(application, "own_approval")
    if held:
        return row
    return OwnApproval.objects.filter(application=application).select_related("accepted_by", "recorded_by").first()


# --- R-E3: the per-unit limit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitState:
    """Where an application stands against its call's per-unit limit: the `position`-th of the unit's
    applications sent on to the call (by submission time), of `count`; `over` beyond `limit`."""

    limit: int
    soft: bool
    position: int
    count: int
    accepted: LimitAcceptance | None

    @property
    def over(self) -> bool:
        return self.position > self.limit


def limit_state(application: Application) -> LimitState | None:
    """None when the call sets no per-unit limit or the application is not sent on (a draft)."""
    from shenbao.applications.eligibility import NOT_COUNTED

    doc = application.call.document
    limit = doc.max_applications_per_unit
    if not limit or application.status in NOT_COUNTED:
        return None
    sent = list(Application.objects.filter(call_id=application.call_id, applicant_id=application.applicant_id)
                .exclude(status__in=NOT_COUNTED).order_by("submitted_at", "pk").values_list("pk", flat=True))
    position = sent.index(application.pk) + 1 if application.pk in sent else len(sent) + 1
    held, accepted = _read_with(application, "limit_acceptance")
    if not held:
        accepted = LimitAcceptance.objects.filter(application=application).select_related("accepted_by").first()
    return LimitState(limit=limit, soft=doc.per_unit_limit == "soft", position=position, count=len(sent),
                      accepted=accepted)


def unsubmittable(applications: list[Application], user, now: dt.datetime | None = None) -> dict[int, list]:
    """The drafts (and returned applications) of the user's own unit that can no longer be submitted,
    with the reasons (deadline passed, the hard per-unit limit used up, the unit no longer eligible …):
    {application id: [Reason]}. The unit (with its lineage and parents) and its facts are read once for the
    whole list."""
    from shenbao.applications.eligibility import _Facts, check

    out: dict[int, list] = {}
    now = now or timezone.now()
    own = getattr(user, "organisation_id", None)
    drafts = [a for a in applications if a.status in permissions.EDITABLE and a.applicant_id == own]
    if not drafts:
        return out
    unit = unit_with_lineage(own)
    facts = _Facts(unit, now)
    for a in drafts:
        # participants=[]: the joint rules' reasons are not shown here (below), so their units are not read
        verdict = check(org=unit, call=a.call, project_type=a.project_type, track=a.track, at=now,
                        application=a, participants=[], _facts=facts)
        # what the clerk cannot fix by editing the form (a repeat is about the text: shown at submission)
        reasons = [r for r in verdict.reasons if r.code not in ("repeat", "joint")]
        if reasons:
            out[a.pk] = reasons
    return out


# --- the dashboard ---------------------------------------------------------------------------------------


@dataclass
class Deadline:
    label: str
    at: dt.datetime
    passed: bool
    placeholder: bool = False  # the notice states no deadline: provisional, flagged wherever shown

    @property
    def remaining(self) -> str:
        """距截止 … as the server renders it; the page's countdown script keeps it ticking."""
        from shenbao.calls.selectors import remaining_until

        return remaining_until(self.at)


def deadlines(application: Application, now: dt.datetime | None = None) -> list[Deadline]:
    now = now or timezone.now()
    deadline = application.project_type.own_deadline or application.call.deadline
    out = [Deadline(_("申报截止"), deadline, now >= deadline,
                    placeholder=application.call.document.deadline_placeholder)]
    if application.revision_deadline:
        out.append(Deadline(_("修改后提交截止"), application.revision_deadline, now >= application.revision_deadline))
    return out


def next_step(application: Application, user=None) -> str:
    """What the applicant has to do next, in one sentence."""
    from shenbao.applications import services

    s = application.status
    if s == "discarded":
        return _("已放弃")
    if s in ("draft", "returned"):
        if timezone.now() >= application.deadline:
            return _("已过截止时间，不能再提交")
        steps = []
        if s == "returned":
            steps.append(_("按退回理由修改"))
        if services.own_approval_rule(application) and services.own_approval_problems(application):
            steps.append(_("登记单位审议会议并由负责人确认承诺"))
        if services.participant_problems(application):
            steps.append(_("等待参与单位确认"))
        steps.append(_("填写完整后提交"))
        return _("；").join(steps)
    if s == "awaiting_endorsement":
        who = application.endorser.name if application.endorser_id else _("推荐单位")
        return _("等待%(who)s审核推荐") % {"who": who}
    if s == "submitted":
        snap = application.current_snapshot
        needs_scan = application.call.document.submission.stamped
        if needs_scan and current_scan(snap) is None:
            latest = latest_scan(snap)
            if latest is None:
                return _("打印申报表，签字盖章后上传扫描件")
            if latest.state == Scan.State.RETURNED:
                return _("主办方退回了盖章扫描件（%(reason)s），请重新盖章扫描后上传") % {"reason": latest.return_reason}
            if latest.state == Scan.State.MATCHED:
                return _("版本一致，盖章待主办方确认")
            return _("扫描件未识别出二维码，等待主办方人工核验")
        return _("已报送主办方，等待评审")
    return ""


@dataclass
class Step:
    key: str
    label: str
    state: str  # done, now, todo, waiting (someone else's turn)
    note: str = ""


def progress(application: Application) -> list[Step]:
    """The steps after submission, as the applicant meets them: print, stamp, upload, endorsement (when the
    call routes it), the funder. Exactly one step is current (`now` or `waiting`) until the funder has it."""
    snap = application.current_snapshot
    if snap is None or application.status not in ("submitted", "awaiting_endorsement"):
        return []
    stamped = application.call.document.submission.stamped
    steps = [Step("submit", str(_("提交")), "done", _("第 %(n)s 版") % {"n": snap.number})]
    if stamped:
        scans = [s for s in snap.scans.all() if s.state != Scan.State.RETURNED]  # a returned scan does not stand
        confirmed = any(s.state == Scan.State.CONFIRMED for s in scans)
        matched = any(s.state == Scan.State.MATCHED for s in scans)
        uploaded = bool(scans)
        note = ""
        if not confirmed and uploaded:
            note = str(_("版本一致，盖章待主办方确认")) if matched else str(_("待主办方人工核验"))
        steps += [
            Step("print", str(_("打印申报表")), "done" if uploaded else "now"),
            Step("stamp", str(_("签字盖章")), "done" if uploaded else "todo"),
            Step("upload", str(_("上传扫描件")), "done" if confirmed else ("waiting" if uploaded else "todo"), note),
        ]
    if application.endorser_id or application.status == "awaiting_endorsement":
        who = application.endorser.name if application.endorser_id else str(_("推荐单位"))
        endorsed = application.status == "submitted"
        steps.append(Step("endorse", str(_("%(who)s推荐") % {"who": who}), "done" if endorsed else "todo"))
    steps.append(Step("funder", str(_("主办方受理评审")), "todo"))
    # the first step not done is the current one; someone else's step is "waiting"
    for st in steps:
        if st.state == "done":
            continue
        if st.state == "todo":
            st.state = "waiting" if st.key in ("endorse", "funder") else "now"
        break
    return steps


@dataclass
class HistoryRow:
    at: dt.datetime
    who: str
    label: str
    note: str
    after: dict | None


def history(application: Application, *, scans: list[Scan] | None = None) -> list[HistoryRow]:
    """Who did what when: every audit event of the application, oldest first. `scans`: the application's
    scans when the caller has read them all already."""
    from shenbao.core.models import AuditEvent

    pks = [s.pk for s in scans] if scans is not None else application.scans.values_list("pk", flat=True)
    scan_ids = [str(pk) for pk in pks]
    events = list(audit.history(application))
    if scan_ids:  # the scans' own transitions (workflow.SCAN) belong to the application's record
        events += list(AuditEvent.objects.filter(object_type=Scan._meta.label_lower, object_id__in=scan_ids))
        events.sort(key=lambda e: (e.at, e.pk))
    rows = []
    for e in events:
        rows.append(HistoryRow(at=e.at, who=e.actor_name or _("系统"), label=str(ACTION_LABELS.get(e.action, e.action)),
                               note=e.note, after=e.after))
    return rows


# --- printing -----------------------------------------------------------------------------------------------


def as_submitted(application: Application, user) -> Application:
    """The application as `user` may read it (R-S70): inside the applicant unit as it is now; outside it,
    the title and track of the current submitted version (set on the object in memory, never saved), so a
    page or the API never shows edits made after a withdrawal or a return. See `visible_values`."""
    if permissions.sees_draft(user, application) or not application.current_snapshot_id:
        return application  # never submitted: only participant units see it, by the title they were invited to
    frozen = application.current_snapshot.values
    application.title = frozen.get("title") or ""
    code = (frozen.get("track") or {}).get("code")
    if application.track_id and code != application.track.code:
        application.track = application.project_type.tracks.filter(code=code).first() if code else None
    return application


def visible_values(application: Application, user) -> dict:
    """The form values `user` may read: the draft inside the applicant unit, else the submitted version's
    (with the endorsement opinion), or nothing before the first submission (R-S70)."""
    if permissions.sees_draft(user, application):
        return application.data
    snap = application.current_snapshot
    return display_values(snap) if snap is not None else {}


def print_values(snapshot: Snapshot) -> dict:
    """The values printed on the form of a snapshot: the frozen values, with the participants of a joint
    application named beside the lead unit (the form template has no field for them)."""
    frozen = snapshot.values
    values = dict(frozen.get("values") or {})
    participants = [p["name"] for p in frozen.get("participants") or []]
    if participants and isinstance(values.get("applicant_unit"), str):
        values["applicant_unit"] = f"{values['applicant_unit']}（牵头单位）；参与单位：{'、'.join(participants)}"
    return values


ENDORSER_OPINIONS = ("home_association", "university_association", "home_or_university_association")


def display_values(snapshot: Snapshot, *, endorsements: list[Endorsement] | None = None) -> dict:
    """The values shown on screen for a submitted version: the printed ones, with the endorsing
    association's opinion in the form's opinion block for it (R-E9: the funder sees the endorsement).
    `endorsements`: the application's endorsements (with their reviewers) when the caller has read them."""
    values = print_values(snapshot)
    if endorsements is not None:
        endorsement = max((e for e in endorsements if e.snapshot_id == snapshot.pk and e.decision == "endorse"),
                          key=lambda e: (e.at, e.pk), default=None)
    else:
        endorsement = (snapshot.endorsements.filter(decision="endorse").select_related("reviewer")
                       .order_by("-at").first())
    if endorsement is None:
        return values
    app = snapshot.application
    form = app.call.document.application_form_for(app.project_type.document)
    for f in form.all_fields() if form else []:
        if f.kind == "opinion" and f.by in ENDORSER_OPINIONS:
            values[f.key] = {"text": endorsement.opinion, "signer": str(endorsement.reviewer or ""),
                             "date": timezone.localtime(endorsement.at).date().isoformat()}
    return values


def print_footer(snapshot: Snapshot) -> str:
    number = (snapshot.values or {}).get("application_number") or snapshot.application.number
    return f"申报编号 {number} 第 {snapshot.number} 版 · 版本指纹 {snapshot.short_fingerprint}…"


def print_qr(snapshot: Snapshot) -> str:
    return scans.qr_text(snapshot.application_id, snapshot.number, snapshot.fingerprint)


def print_filename(snapshot: Snapshot, ext: str) -> str:
    app = snapshot.application
    name = (app.title or app.project_type.name)[:40]
    return f"{app.project_type.code}-{name}-第{snapshot.number}版.{ext}"
