"""Who may apply to what: ONE function (`check`) that the 可申报项目 page and submission both use.

Every rule comes from the call's data (the typed document: `eligibility`, `joint`, `exclusions`,
`named_applicants`, `max_applications_per_unit`, `opens_at`, `deadline`) and from the platform's records
(the organisation tree and its dated attributes, applications, and the unit's record of awarded projects
and bars, which `projects` keeps and answers through the hook in record.py). No rule here
knows a particular call. Each refusal is a `Reason` with a code and a sentence a clerk understands.

Reason codes: deadline, not_open, unit_status, barred, named_only, category, condition, quota_per_unit,
unfinished, deferral, joint, repeat. `category` also covers `within_issuer` (detail["rule"]).

Rules (IDs of REQUIREMENTS.md):
- R-E1 categories: the unit's category or one of its parent categories is listed by a group;
  `within_issuer`: the unit sits under the issuer in the organisation tree.
- R-E2 a group's CEL `when` (society grade, yearly rating …) with its `unmet` sentence.
- R-C9 `conditions`: CEL expressions that must all hold.
- R-C7 `named_applicants`: the type accepts only the named units (matched by registered name or short
  name, with “科学技术协会” read as “科协”); the naming replaces the category and tree rules.
- R-E3 `max_applications_per_unit`: the unit's applications to the call that are not drafts and not
  withdrawn, other than the one being checked, must be fewer than the maximum. A draft does not count;
  at submission the submitted ones plus this one make the number. With `per_unit_limit: soft`
  (原则上不超过N个) going over is a note, not a refusal: the clerk is warned and the funder decides
  (services.accept_over_limit records its reason).
- R-E4 `joint`: at most `max_units` units in all (lead included). With `outsiders_only` (柳州, 广西 2026:
  “如不在所列申报主体范围的，可联合申报”) a unit outside the listed categories may take part as a
  participant of an eligible lead; without it every unit of a joint application is an applicant unit and
  must itself be in the listed categories (and under the issuer when `within_issuer`). The lead is always
  the applicant of record and must be eligible on its own. No `joint` block: single applicants only.
- R-E5 `unfinished` / `pending_deferral`: projects of the same funder's programme left
  unfinished without cause, or whose acceptance is deferred and not yet done.
- R-E6 `repeat_years`, `repeat_exempt`, `repeat_similarity`: the title and content are compared with the
  unit's projects that the same funder supported in the past N years (重复申报: the unit applying again
  for what it already got; similarity.py); the most similar one is shown. Exempt when the type's kind, or
  the basis on which the unit is named, is listed in `repeat_exempt`.
- R-E10 bars: a Bar of the unit (for this funder or for all) that covers the day of the check.
- R-E7 the deadline and `opens_at` are instants: compared as such and shown in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shenbao.applications import record
from shenbao.applications.models import Application
from shenbao.applications.similarity import best_match
from shenbao.calls import schema
from shenbao.calls.models import Call, ProjectType, Track
from shenbao.core.decisions import ALLOW, Decision, deny
from shenbao.core.expressions import ExpressionError, compile_expression
from shenbao.orgs.models import Category, Organisation
from shenbao.orgs.selectors import eligibility_context, is_within

SHANGHAI = schema.SHANGHAI

CODES = (
    "deadline", "not_open", "unit_status", "barred", "named_only", "category", "condition", "quota_per_unit",
    "unfinished", "deferral", "joint", "repeat",
)
# applications that do not count toward max_applications_per_unit: drafts (a withdrawn application is a
# draft again) and drafts given up; everything sent on (awaiting endorsement, submitted, returned) counts
NOT_COUNTED = ("draft", "discarded", "withdrawn")
BASIS_TEXT = {"commissioned": gettext_lazy("定向委托"), "continued": gettext_lazy("连续支持"),
              "named": gettext_lazy("指定单位")}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Verdict:
    """ok when no reason refuses. `notes` inform without refusing (a repeat that an exempt kind allows,
    the way open to a unit outside the categories)."""

    ok: bool
    reasons: list[Reason]
    notes: list[Reason] = field(default_factory=list)

    @classmethod
    def of(cls, reasons: list[Reason], notes: list[Reason] | None = None) -> Verdict:
        return cls(ok=not reasons, reasons=reasons, notes=notes or [])

    def __bool__(self) -> bool:
        return self.ok

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def message(self) -> str:
        return _("；").join(r.message for r in self.reasons)

    def decision(self) -> Decision:
        """For `core.decisions.require` in services."""
        return ALLOW if self.ok else deny(self.message)


@dataclass(frozen=True)
class Offer:
    call: Call
    project_type: ProjectType
    track: Track | None
    verdict: Verdict


# --- words ---------------------------------------------------------------------------------------------


def local_text(moment: dt.datetime) -> str:
    """2026年3月31日17:00 in Asia/Shanghai, whatever the server's zone; the end of a day shows as the day."""
    t = moment.astimezone(SHANGHAI)
    if (t.hour, t.minute) == (23, 59):
        return _day_text(t)
    return dateformat.format(t, _("Y年n月j日H:i"))


def _day_text(d: dt.date) -> str:
    return dateformat.format(d, _("Y年n月j日"))


def _percent(score: float) -> int:
    return round(score * 100)


_NAME_FOLD = (("科学技术协会", "科协"), ("（", "("), ("）", ")"), (" ", ""), ("\u3000", ""))


def _fold_name(name: str) -> str:
    name = (name or "").strip()
    for a, b in _NAME_FOLD:
        name = name.replace(a, b)
    return name


def names_match(org: Organisation, name: str) -> bool:
    """The organisation is the unit a notice names: its registered name or short name, read leniently
    only where writing varies (科学技术协会 = 科协, full- or half-width brackets, spaces)."""
    wanted = _fold_name(name)
    return bool(wanted) and wanted in {_fold_name(org.name), _fold_name(org.short_name)} - {""}


# --- the facts a check needs, read once -----------------------------------------------------------------


class _Facts:
    """The applicant's facts as of one instant, shared by the checks of one page. Each is read when a rule
    first needs it (the attributes only for a CEL expression, the category names only for a refusal's words).
    `applications`: the unit's applications when the caller has read them already (all but discarded ones
    at least: a discarded one counts for no rule)."""

    def __init__(self, org: Organisation, at: dt.datetime, applications: Iterable[Application] | None = None):
        self.org = org
        self.at = at
        self.day = at.astimezone(SHANGHAI).date()
        if applications is not None:
            self.applications = [(a.call_id, a.pk, a.status) for a in applications if a.applicant_id == org.pk]

    @cached_property
    def context(self) -> dict[str, Any]:
        return eligibility_context(self.org, on=self.day)

    @cached_property
    def lineage(self) -> list[str]:
        return self.org.category.lineage()

    @cached_property
    def bars(self) -> list[Any]:
        return record.keeper().bars(self.org, self.day)

    @cached_property
    def applications(self) -> list[tuple[int, int, str]]:
        """(call id, application id, status) of every application the unit leads: one query for a page."""
        return list(Application.objects.filter(applicant=self.org).values_list("call_id", "pk", "status"))

    @cached_property
    def projects(self) -> list[Any]:
        return record.keeper().projects(self.org)

    def category_names(self, doc: schema.Call) -> dict[str, str]:
        if not hasattr(self, "_names"):
            self._names = dict(Category.objects.values_list("code", "name"))
        return {**self._names, **{c.code: c.name for c in doc.categories}}

    def names_of(self, doc: schema.Call) -> Callable[[], dict[str, str]]:
        """The category names of `doc`'s rules, read when a refusal first words a group without a label."""
        return lambda: self.category_names(doc)

    def env_of(self, doc: schema.Call) -> Callable[[], dict[str, Any]]:
        """The CEL environment of `doc`'s expressions, read when the first expression is evaluated."""
        return cache(lambda: {"org": self.context, "call": {"code": doc.code, "year": doc.year}})

    def counted_applications(self, call: Call, exclude: Application | None) -> int:
        skip = exclude.pk if exclude is not None else None
        return sum(1 for c, pk, status in self.applications
                   if c == call.pk and status not in NOT_COUNTED and pk != skip)

    def drafts(self, call: Call) -> int:
        return sum(1 for c, _pk, status in self.applications if c == call.pk and status == "draft")


# --- the rules ------------------------------------------------------------------------------------------


Env = Callable[[], dict[str, Any]]  # the CEL environment, built when an expression first needs it
Names = Callable[[], dict[str, str]]  # category code → name, read when a refusal first needs one


def _cel_holds(source: str, env: Env) -> tuple[bool, str]:
    try:
        return compile_expression(source).holds(env()), ""
    except ExpressionError as exc:
        return False, str(exc)


def _group_label(group: schema.EligibleGroup, names: Names) -> str:
    return group.label or "、".join(names().get(c, c) for c in group.categories)


def _in_groups(lineage: Sequence[str], groups: list[schema.EligibleGroup]) -> list[schema.EligibleGroup]:
    return [g for g in groups if set(g.categories) & set(lineage)]


def _when_holds(group: schema.EligibleGroup, env: Env) -> tuple[bool, str]:
    if not group.when:
        return True, ""
    return _cel_holds(group.when, env)


def _who_rules(*, org: Organisation, lineage: Sequence[str], env: Env, call: Call,
               doc: schema.Call, elig: schema.Eligibility | None, joint: schema.Joint | None,
               names: Names, as_participant: bool = False) -> list[Reason]:
    """R-E1, R-E2 and within_issuer for one unit (the applicant, or a participant of a joint application)."""
    out: list[Reason] = []
    subject = _("参与单位%(name)s") % {"name": org.name} if as_participant else _("贵单位")
    groups = (elig.groups if elig else None) or []
    if groups:
        listed = _in_groups(lineage, groups)
        if not listed:
            who = "、".join(dict.fromkeys(_group_label(g, names) for g in groups))
            message = _("本类型限%(who)s申报，%(subject)s类别为%(category)s") % {
                "who": who, "subject": subject, "category": org.category.name}
            detail: dict[str, Any] = {"rule": "groups", "category": org.category.code}
            if not as_participant and joint and joint.allowed and joint.outsiders_only:
                message += _("（不在申报主体范围的单位可作为参与单位，与符合条件的牵头单位联合申报）")
                detail["joint_possible"] = True
            out.append(Reason("category", message, detail))
        else:
            results = [(g, *_when_holds(g, env)) for g in listed]
            if not any(ok for _g, ok, _err in results):
                unmet = list(dict.fromkeys(g.unmet or _("不符合“%(group)s”的条件") % {"group": _group_label(g, names)}
                                           for g, _ok, _err in results))
                errors = [err for _g, _ok, err in results if err]
                message = "；".join(unmet)
                if as_participant:
                    message = _("%(subject)s：%(message)s") % {"subject": subject, "message": message}
                out.append(Reason("condition", message, {"rule": "groups.when", "errors": errors}))
    if elig and elig.within_issuer and not is_within(org, call.issuer_id):
        issuer = doc.issuer.short_name or doc.issuer.name
        out.append(Reason("category", _("本通知限%(issuer)s所属单位申报，%(subject)s未登记在%(issuer)s之下")
                          % {"issuer": issuer, "subject": subject},
                          {"rule": "within_issuer", "issuer": call.issuer.name}))
    return out


def _named_rule(org: Organisation, ptype: schema.ProjectType,
                env: Env) -> tuple[list[Reason], schema.NamedApplicant | None]:
    """R-C7: commissioned and continued items accept only the units they name (by name, or by a role
    that a CEL condition on the unit's attributes identifies)."""
    named = ptype.named_applicants
    if not named:
        return [], None

    def matches(a: schema.NamedApplicant) -> bool:
        return _cel_holds(a.when, env)[0] if a.when else names_match(org, a.name)

    found = next((a for a in named if matches(a)), None)
    if found is not None:
        return [], found
    bases = {a.basis for a in named}
    if len(bases) == 1 and "named" not in bases:
        message = _("本项目为%(basis)s项目，仅限%(names)s申报") % {
            "basis": BASIS_TEXT[bases.pop()], "names": "、".join(a.name for a in named)}
    else:
        shown = [a.name + (f"（{BASIS_TEXT[a.basis]}）" if a.basis != "named" else "") for a in named]
        message = _("本项目仅限%(names)s申报") % {"names": "、".join(shown)}
    return [Reason("named_only", message, {"names": [a.name for a in named]})], None


def _history_rules(*, facts: _Facts, call: Call, doc: schema.Call,
                   excl: schema.Exclusions | None) -> list[Reason]:
    """R-E5: unfinished projects and pending acceptance deferrals of the same funder's programme."""
    if excl is None or not (excl.unfinished or excl.pending_deferral):
        return []

    def same_programme(p) -> bool:
        """The same programme is the same programme code of the same funder (notices rename it yearly)."""
        if p.call_id == call.pk:
            return False
        if p.funder_id is not None and p.funder_id != call.issuer_id:
            return False
        return p.programme == doc.programme_code

    out: list[Reason] = []
    for p in facts.projects:
        if not same_programme(p):
            continue
        if excl.unfinished and p.status == record.UNFINISHED:
            out.append(Reason("unfinished", _("贵单位有未完成的%(programme)s《%(title)s》（%(year)s年度），不得申报")
                              % {"programme": doc.programme, "title": p.title, "year": p.year},
                              {"project_id": p.pk, "title": p.title, "year": p.year}))
        elif excl.pending_deferral and p.status == record.DEFERRED:
            out.append(Reason("deferral", _("贵单位%(year)s年度项目《%(title)s》已申请延期验收，完成验收后方可申报")
                              % {"year": p.year, "title": p.title},
                              {"project_id": p.pk, "title": p.title, "year": p.year}))
    return out


def _repeat_rule(*, facts: _Facts, call: Call, doc: schema.Call, ptype: schema.ProjectType,
                 excl: schema.Exclusions | None, named: schema.NamedApplicant | None,
                 title: str, content: str) -> tuple[list[Reason], list[Reason]]:
    """R-E6: content funded in the past N years may not be applied for again, except exempt kinds."""
    if excl is None or not excl.repeat_years:
        return [], []
    text = "\n".join(t for t in (title, content) if t)
    if not text.strip():
        return [], []
    earliest = doc.year - excl.repeat_years
    candidates = [(p, f"{p.title}\n{p.content}") for p in facts.projects
                  if earliest <= p.year <= doc.year and p.call_id != call.pk
                  and p.funder_id in (None, call.issuer_id)]
    match = best_match(text, candidates)
    if match is None or match.score < float(excl.repeat_similarity):
        return [], []
    p = match.item
    pct = _percent(match.score)
    detail = {"project_id": p.pk, "title": p.title, "year": p.year, "score": round(match.score, 4)}
    message = _("与%(year)s年已获支持的项目《%(title)s》内容重复（相似度%(pct)s%%）") % {
        "year": p.year, "title": p.title, "pct": pct}
    kinds = (ptype.kind, named.basis if named else None)
    exempt_as = next((k for k in kinds if k in excl.repeat_exempt), None)
    if exempt_as:
        note = _("%(message)s；本项目为%(basis)s项目，不受重复申报限制") % {
            "message": message, "basis": BASIS_TEXT[exempt_as]}
        return [], [Reason("repeat", note, {**detail, "exempt": exempt_as})]
    return [Reason("repeat", message, detail)], []


def _joint_rules(*, org: Organisation, participants: Sequence[Organisation], call: Call, doc: schema.Call,
                 elig: schema.Eligibility | None, joint: schema.Joint | None, names: Names,
                 at: dt.datetime) -> list[Reason]:
    """R-E4."""
    if not participants:
        return []
    if joint is None or not joint.allowed:
        return [Reason("joint", _("本类型不接受联合申报，须由一个单位单独申报"), {"rule": "not_allowed"})]
    out: list[Reason] = []
    ids = [p.pk for p in participants]
    if org.pk in ids:
        out.append(Reason("joint", _("牵头单位不能同时作为参与单位"), {"rule": "lead_is_participant"}))
    if len(set(ids)) != len(ids):
        out.append(Reason("joint", _("参与单位重复"), {"rule": "duplicate"}))
    units = 1 + len(set(ids) - {org.pk})
    if joint.max_units is not None and units > joint.max_units:
        out.append(Reason("joint", _("联合申报单位数量不超过%(max)s个，本申报共%(units)s个单位（含牵头单位）")
                          % {"max": joint.max_units, "units": units},
                          {"rule": "max_units", "max": joint.max_units, "units": units}))
    for partner in dict.fromkeys(p for p in participants if p.pk != org.pk):
        pf = _Facts(partner, at)
        for bar in pf.bars:
            if bar.funder_id is None or bar.funder_id == call.issuer_id:
                out.append(Reason("joint", _("参与单位%(name)s因%(reason)s被取消申报资格至%(until)s")
                                  % {"name": partner.name, "reason": bar.reason, "until": _day_text(bar.ends_on)},
                                  {"rule": "participant_barred", "organisation_id": partner.pk}))
        if not joint.outsiders_only:
            for r in _who_rules(org=partner, lineage=pf.lineage, env=pf.env_of(doc), call=call, doc=doc, elig=elig,
                                joint=joint, names=names, as_participant=True):
                out.append(Reason("joint", r.message, {**r.detail, "organisation_id": partner.pk}))
    return out


def _resolve(call: Call, project_type: ProjectType | str, track: Track | str | None):
    if isinstance(project_type, str):
        project_type = call.types.get(code=project_type)
    ptype = next((t for t in call.document.project_types if t.code == project_type.code), None)
    if ptype is None:
        raise ValueError(f"项目类型 {project_type.code} 不在通知 {call.code} 中")
    if isinstance(track, str):
        track = project_type.tracks.get(code=track)
    if track is not None and track.code not in {t.code for t in ptype.tracks}:
        raise ValueError(f"申报类型 {track.code} 不属于项目类型 {ptype.code}")
    return project_type, ptype, track


def _named_participants(application: Application) -> list[Organisation]:
    """The participant units a joint application names (those not removed)."""
    rows = getattr(application, "participants", None)
    if rows is None:
        return []
    active = rows.filter(removed_at__isnull=True).select_related("organisation", "organisation__category")
    return [p.organisation for p in active]


def _instant(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):  # a wall-clock time without zone is read as Asia/Shanghai, never the server's
        return at.replace(tzinfo=SHANGHAI)
    return at


def application_text(call: Call, project_type: ProjectType | str, values: dict[str, Any]) -> str:
    """The content of an application for R-E6: the answers to the form's long-text fields, in form order."""
    _row, ptype, _track = _resolve(call, project_type, None)
    form = call.document.application_form_for(ptype)
    if form is None or not isinstance(values, dict):
        return ""
    parts = []
    for f in form.all_fields():
        v = values.get(f.key)
        if f.kind == "long_text" and isinstance(v, str) and v.strip():
            parts.append(v.strip())
    return "\n".join(parts)


def check(*, org: Organisation, call: Call, project_type: ProjectType | str, track: Track | str | None = None,
          at: dt.datetime | None = None, application: Application | None = None,
          participants: Iterable[Organisation] | None = None, title: str = "", content: str = "",
          _facts: _Facts | None = None) -> Verdict:
    """May `org` apply to `project_type` of `call` at the instant `at` (default: now)?

    `application`: the one being submitted (it does not count against the per-unit maximum; its title, its
    long-text answers and its participants are used when `title`, `content`, `participants` are not given).
    `participants`: the other units of a joint application (an empty list: none; not given: the
    application's). Every rule is evaluated, so that the clerk sees all reasons at once.

    What it reads: give `org` with `orgs.selectors.unit_related()` joined (its category's lineage and its
    parents), `call` with its row's issuer id: nothing else of them is read.
    """
    at = _instant(at)
    _row, ptype, _track = _resolve(call, project_type, track)
    facts = _facts if _facts is not None and _facts.org.pk == org.pk and _facts.at == at else _Facts(org, at)
    doc = call.document
    elig = doc.effective(ptype, "eligibility")
    joint = doc.effective(ptype, "joint")
    excl = doc.effective(ptype, "exclusions")
    names = facts.names_of(doc)
    given = participants is not None
    participants = list(participants or ())
    if application is not None and application.pk:
        title = title or application.title
        if not content and isinstance(application.data, dict):
            content = application_text(call, _row, application.data)
        if not given:
            participants = _named_participants(application)

    reasons: list[Reason] = []
    notes: list[Reason] = []

    # R-E7: instants compared; shown in Asia/Shanghai
    if call.opens_at and at < call.opens_at:
        reasons.append(Reason("not_open", _("申报将于%(at)s开始") % {"at": local_text(call.opens_at)},
                              {"opens_at": call.opens_at}))
    revision_deadline = None
    if application is not None and application.status == "returned":
        revision_deadline = getattr(application, "revision_deadline", None)
    if revision_deadline is not None:  # returned for revision (退回修改) with its own new deadline
        if at >= revision_deadline:
            reasons.append(Reason("deadline", _("退回修改后的提交已于%(at)s截止") % {"at": local_text(revision_deadline)},
                                  {"deadline": revision_deadline, "revision": True}))
    elif at >= (deadline := _row.own_deadline or call.deadline):
        message = _("申报已于%(at)s截止") % {"at": local_text(deadline)}
        reasons.append(Reason("deadline", message,
                              {"deadline": deadline, "placeholder": doc.deadline_placeholder}))

    if org.status != Organisation.Status.ACTIVE:
        reasons.append(Reason("unit_status", _("贵单位注册信息尚未审核通过，审核通过后方可申报"),
                              {"status": org.status}))

    # R-E10
    for bar in facts.bars:
        if bar.funder_id is None or bar.funder_id == call.issuer_id:
            reasons.append(Reason("barred", _("贵单位因%(reason)s被取消申报资格至%(until)s")
                                  % {"reason": bar.reason, "until": _day_text(bar.ends_on)},
                                  {"bar_id": bar.pk, "ends_on": bar.ends_on}))

    env = facts.env_of(doc)
    # R-C7, else R-E1 / R-E2 / within_issuer
    named_reasons, named = _named_rule(org, ptype, env)
    if ptype.named_applicants:
        reasons.extend(named_reasons)
    else:
        reasons.extend(_who_rules(org=org, lineage=facts.lineage, env=env, call=call, doc=doc, elig=elig,
                                  joint=joint, names=names))
    # R-C9
    for cond in (elig.conditions if elig else None) or []:
        holds, error = _cel_holds(cond.expr, env)
        if not holds:
            reasons.append(Reason("condition", cond.message, {"rule": "conditions", "expr": cond.expr,
                                                             "error": error}))

    # R-E3
    limit = doc.max_applications_per_unit
    if limit:
        n = facts.counted_applications(call, application)
        if n >= limit and doc.per_unit_limit == "soft":
            notes.append(Reason("quota_per_unit", _("贵单位本通知已提交%(n)s项申报，通知要求每个单位原则上不超过%(max)s项："
                                                    "再提交的申报须经主办方同意方可受理") % {"n": n, "max": limit},
                                {"count": n, "max": limit, "soft": True}))
        elif n >= limit:
            reasons.append(Reason("quota_per_unit", _("贵单位本通知已提交%(n)s项申报，每个单位最多%(max)s项")
                                  % {"n": n, "max": limit},
                                  {"count": n, "max": limit}))

    # R-E5
    reasons.extend(_history_rules(facts=facts, call=call, doc=doc, excl=excl))
    # R-E4
    reasons.extend(_joint_rules(org=org, participants=participants, call=call, doc=doc, elig=elig,
                                joint=joint, names=names, at=at))
    # R-E6
    repeat, repeat_notes = _repeat_rule(facts=facts, call=call, doc=doc, ptype=ptype, excl=excl, named=named,
                                        title=title, content=content)
    reasons.extend(repeat)
    notes.extend(repeat_notes)
    return Verdict.of(reasons, notes)


def eligible_offers(*, org: Organisation, at: dt.datetime | None = None, only_eligible: bool = False,
                    applications: Iterable[Application] | None = None) -> list[Offer]:
    """What the unit may apply for: every type of every published call whose deadline has not passed
    (open, or not yet open), each with its verdict; nearest deadline first, types in the call's order.
    `only_eligible` keeps the offers whose verdict is ok. `applications`: the unit's applications when the
    caller has read them (all but discarded ones at least; else they are read here, once)."""
    at = _instant(at)
    facts = _Facts(org, at, applications)
    # a call whose deadline passed still offers a type with its own later deadline (post-funded results);
    # the types are read with their calls (one query): a call without an open type offers nothing
    open_ids = ProjectType.objects.filter(own_deadline__gt=at, retired=False).values("call_id")
    rows = (ProjectType.objects
            .filter(Q(call__deadline__gt=at) | Q(call_id__in=open_ids), call__status=Call.Status.PUBLISHED,
                    retired=False)
            .select_related("call", "call__issuer")
            .order_by("call__deadline", "call_id", "order", "id")
            .prefetch_related(Prefetch("tracks", queryset=Track.objects.filter(retired=False).order_by("order", "id"),
                                       to_attr="open_tracks")))
    calls: dict[int, Call] = {}
    offers: list[Offer] = []
    for row in rows:
        call = calls.setdefault(row.call_id, row.call)
        if (row.own_deadline or call.deadline) <= at:
            continue  # this type is closed (the call stays open for a type with its own deadline)
        row.call = call  # one instance per call: its document is read once for all its types
        verdict = check(org=org, call=call, project_type=row, at=at, _facts=facts)
        if verdict.ok or not only_eligible:
            offers.append(Offer(call=call, project_type=row, track=None, verdict=verdict))
    return offers


def start_verdict(*, org: Organisation, call: Call, project_type: ProjectType, track: Track | None = None,
                  at: dt.datetime | None = None) -> Verdict:
    """May the unit start a draft of this type? Refused when the draft could never be submitted: the
    reasons `check` gives before anything is written (the unit's status and category, named applicants,
    bars, the hard per-unit limit, unfinished projects, the deadline). Not refused for what may still
    change before submission: that the call has not opened yet, or a condition on the unit's attributes
    (a party branch founded, a rating recorded) — those are shown on the page and checked at submission."""
    verdict = check(org=org, call=call, project_type=project_type, track=track, at=at)
    return Verdict.of([r for r in verdict.reasons if r.code not in START_LATER], verdict.notes)


START_LATER = ("not_open", "condition")


@dataclass(frozen=True)
class Usage:
    """The unit's applications to one call against its per-unit limit (已用 1/2 项，另有草稿 1 份)."""

    used: int  # sent on (submitted, awaiting endorsement, returned): what the limit counts
    drafts: int
    limit: int | None
    soft: bool

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def drafts_fill_it(self) -> bool:
        """The drafts already take every place left: another draft could not be submitted with them all."""
        return self.limit is not None and not self.full and self.used + self.drafts >= self.limit


def usage(*, call: Call, applications: Iterable[Application]) -> Usage:
    """Usage of `call` from the unit's applications (any calls; read once by the page)."""
    statuses = [a.status for a in applications if a.call_id == call.pk]
    doc = call.document
    return Usage(used=sum(1 for s in statuses if s not in NOT_COUNTED), drafts=statuses.count("draft"),
                 limit=doc.max_applications_per_unit, soft=doc.per_unit_limit == "soft")


def submit_decision(**kwargs) -> Decision:
    """`check(...)` as a Decision, for `require(...)` in the submission service."""
    return check(**kwargs).decision()


__all__ = [
    "CODES", "Offer", "Reason", "Usage", "Verdict", "application_text", "check", "eligible_offers", "local_text",
    "names_match", "start_verdict", "submit_decision", "usage",
]
