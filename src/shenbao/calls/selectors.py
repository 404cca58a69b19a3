"""Reads of calls for the portal, the funder's pages and the API."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count, Q
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shenbao.calls import schema
from shenbao.calls.models import Call, ProjectType
from shenbao.orgs.models import Category, Organisation, Role

PHASES = ("open", "upcoming", "closed")
PHASE_ORDER = {p: i for i, p in enumerate(PHASES)}


def public_calls():
    return Call.objects.filter(status=Call.Status.PUBLISHED).select_related("issuer").order_by("-deadline")


def phase_q(phase: str, now: dt.datetime | None = None) -> Q:
    """The database filter equal to `Call.phase == phase` at `now`."""
    now = now or timezone.now()
    if phase == "upcoming":
        return Q(opens_at__gt=now)
    not_upcoming = Q(opens_at__isnull=True) | Q(opens_at__lte=now)
    if phase == "open":
        return not_upcoming & Q(deadline__gt=now)
    if phase == "closed":
        return not_upcoming & Q(deadline__lte=now)
    raise ValueError(f"unknown phase {phase!r}")


def filter_calls(*, issuer: str | None = None, phase: str | None = None, now=None):
    """Published calls, optionally of one issuer (full or short name) and in one phase."""
    qs = public_calls()
    if issuer:
        qs = qs.filter(Q(issuer__name=issuer) | Q(issuer__short_name=issuer))
    if phase:
        qs = qs.filter(phase_q(phase, now))
    return qs


@dataclass
class FunderGroup:
    issuer: Organisation
    calls: list[Call]

    @property
    def open_count(self) -> int:
        return sum(1 for c in self.calls if c.phase == "open")


def portal_groups(phase: str | None = None) -> list[FunderGroup]:
    """Published calls (of one phase, if given) grouped by issuer; within a funder open calls first, then
    upcoming, then closed."""
    qs = public_calls().annotate(type_count=Count("types", filter=Q(types__retired=False)))
    if phase in PHASES:
        qs = qs.filter(phase_q(phase))
    calls = list(qs)
    calls.sort(key=lambda c: (c.issuer.name, c.issuer_id))
    groups = []
    for _issuer, items in groupby(calls, key=lambda c: c.issuer_id):
        items = list(items)
        open_first = sorted(items, key=lambda c: (PHASE_ORDER[c.phase], _deadline_key(c)))
        groups.append(FunderGroup(issuer=items[0].issuer, calls=open_first))
    # funders with open calls first, then by their nearest deadline
    groups.sort(key=lambda g: (-g.open_count, PHASE_ORDER[g.calls[0].phase], _deadline_key(g.calls[0])))
    return groups


def phase_counts() -> dict[str, int]:
    now = timezone.now()
    return {p: public_calls().filter(phase_q(p, now)).count() for p in PHASES}


def _deadline_key(call: Call) -> float:
    """Open and upcoming calls: nearest deadline first; closed calls: most recent first."""
    ts = call.deadline.timestamp()
    return -ts if call.phase == "closed" else ts


def get_call(key: str | int, *, published_only: bool = True) -> Call | None:
    """A call by numeric id or by code."""
    qs = public_calls() if published_only else Call.objects.select_related("issuer")
    key = str(key)
    if key.isdigit():
        found = qs.filter(pk=int(key)).first()
        if found is not None:
            return found
    return qs.filter(code=key).first()


def funder_organisations(user) -> list[Organisation]:
    """The organisations in which the user acts as funder staff or leader."""
    if not getattr(user, "is_authenticated", False):
        return []
    ids = user.roles.filter(role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER]).values_list("organisation", flat=True)
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def funder_calls(user):
    """The calls of the user's funder organisation(s), with counts, newest deadline first."""
    orgs = funder_organisations(user)
    return (
        Call.objects.filter(issuer__in=orgs)
        .select_related("issuer")
        .annotate(
            type_count=Count("types", filter=Q(types__retired=False), distinct=True),
            application_count=Count("applications", distinct=True),
            submitted_count=Count("applications", filter=~Q(applications__status="draft"), distinct=True),
        )
        .order_by("-deadline", "id")
    )


def call_counts(call: Call) -> dict[str, int]:
    """What withdrawing a call touches: its applications received (not drafts nor discarded) and drafts."""
    statuses = dict(call.applications.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    drafts = statuses.get("draft", 0)
    return {"submitted": sum(n for s, n in statuses.items() if s not in ("draft", "discarded")), "drafts": drafts}


# --- the call page: what a reader of the notice needs, from the typed document -------------------------


def category_names(codes) -> dict[str, str]:
    return dict(Category.objects.filter(code__in=list(codes)).values_list("code", "name"))


def call_category_names(document: schema.Call) -> dict[str, str]:
    """Names of every category the call refers to: the catalogue's, and the call's own new ones."""
    codes = {code for _path, code in document.referenced_categories()}
    return category_names(codes) | {c.code: c.name for c in document.categories}


@dataclass
class TypeView:
    """One project type as the page shows it: the document's own values with the call's defaults merged."""

    doc: schema.ProjectType
    row: ProjectType | None
    who: list[str]
    eligibility: schema.Eligibility | None
    joint: schema.Joint | None
    exclusions: schema.Exclusions | None
    own_approval: schema.OwnApproval | None
    routing: list[schema.Routing]
    completion_by: dt.date | None
    completion_text: str
    acceptance: schema.Acceptance | None
    post_award: schema.PostAward | None
    contacts: list[schema.Contact]
    own_contacts: bool
    form: schema.FormTemplate | None
    quota_text: str
    results_form: bool  # `form` is the post-funded type's results form, handed in with the results
    funding_text: str
    tracks: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    procedure: list[tuple[str, str]] = field(default_factory=list)
    post_award_lines: list[tuple[str, str]] = field(default_factory=list)
    acceptance_view: dict | None = None

    @property
    def code(self) -> str:
        return self.doc.code

    @property
    def anchor(self) -> str:
        return "type-" + self.doc.code.replace(".", "-")


def who_may_apply(document: schema.Call, ptype: schema.ProjectType, names: dict[str, str]) -> list[str]:
    """The eligible applicants as the notice names them: each group's label, else its categories' names;
    the named applicants of a commissioned or continued item."""
    if ptype.named_applicants:
        return [a.name for a in ptype.named_applicants]
    elig = document.effective(ptype, "eligibility")
    out: list[str] = []
    for g in (elig.groups if elig and elig.groups else []):
        out.append(g.label or "、".join(names.get(c, c) for c in g.categories))
    return out


def _quota_text(ptype: schema.ProjectType) -> str:
    if ptype.quota:
        return ptype.quota.text()
    return "；".join(f"{t.name}{t.quota.text()}" for t in ptype.tracks if t.quota and t.quota.stated)


def _funding_text(ptype: schema.ProjectType) -> str:
    if ptype.funding:
        return ptype.funding.text()
    return "；".join(f"{t.name}{t.funding.text()}" for t in ptype.tracks if t.funding)


def type_views(call: Call) -> list[TypeView]:
    document = call.document
    names = call_category_names(document)
    rows = {r.code: r for r in call.types.filter(retired=False)}
    out = []
    for t in document.project_types:
        contacts = document.effective(t, "contacts")
        out.append(TypeView(
            doc=t,
            row=rows.get(t.code),
            who=who_may_apply(document, t, names),
            eligibility=document.effective(t, "eligibility"),
            joint=document.effective(t, "joint"),
            exclusions=document.effective(t, "exclusions"),
            own_approval=document.effective(t, "own_approval"),
            routing=document.effective(t, "routing") or [],
            completion_by=document.effective(t, "completion_by"),
            completion_text=document.effective(t, "completion_text") or "",
            acceptance=document.effective(t, "acceptance"),
            post_award=document.effective(t, "post_award"),
            contacts=contacts if contacts else list(document.contacts),
            own_contacts=bool(contacts),
            form=document.form_for(t) or document.results_form_for(t),
            results_form=document.form_for(t) is None and document.results_form_for(t) is not None,
            quota_text=_quota_text(t),
            funding_text=_funding_text(t),
            tracks=[
                {"doc": tr, "quota_text": tr.quota.text() if tr.quota else "",
                 "funding_text": (tr.funding or t.funding).text() if (tr.funding or t.funding) else "",
                 "tasks": task_views(tr.tasks)}
                for tr in t.tracks
            ],
            tasks=task_views(t.tasks),
            # what the type says beyond the call's common rules (those are shown once for the call)
            requirements=requirement_lines(t, document.programme),
            procedure=procedure_lines(t, names) if (t.own_approval or t.routing) else [],
            post_award_lines=post_award_lines(document.effective(t, "post_award")) if t.post_award else [],
            acceptance_view=acceptance_view(document.effective(t, "acceptance"),
                                            {tr.code: tr.name for tr in t.tracks}),
        ))
    return out


# --- words for the values of the format (display only; unknown values show as they are) ----------------

TYPE_KINDS = {
    "post_funded": gettext_lazy("后资助"),
    "commissioned": gettext_lazy("定向委托"),
    "continued": gettext_lazy("连续支持"),
}
CHANNELS = {
    "online": gettext_lazy("网上申报"),
    "email": gettext_lazy("电子邮件"),
    "post": gettext_lazy("邮寄"),
    "in_person": gettext_lazy("现场报送"),
}
CONTRACTS = {
    "contract": gettext_lazy("签订项目合同书后拨款"),
    "task_book": gettext_lazy("签订项目任务书后拨款"),
}
DISBURSEMENT = {
    "one_off": gettext_lazy("一次性拨付"),
    "by_progress": gettext_lazy("按工作进度拨付"),
    "per_contract": gettext_lazy("按合同约定拨付"),
    "after_evaluation": gettext_lazy("评估后拨付"),
}
SPENDING = {
    "fixed_assets": gettext_lazy("购买固定资产"),
    "investment": gettext_lazy("对外投资"),
    "donation": gettext_lazy("捐款"),
    "sponsorship": gettext_lazy("赞助"),
    "labour": gettext_lazy("工作劳务"),
    "rewards": gettext_lazy("人员奖励"),
    "assets": gettext_lazy("资产购置"),
}
ROUTES = {
    "home_association": gettext_lazy("属地科协"),
    "university_association": gettext_lazy("高校科协"),
    "home_or_university_association": gettext_lazy("属地科协或高校科协"),
}


def _num(v) -> str:
    return f"{v:g}" if v is not None else ""


def measure_names() -> dict[str, str]:
    """Display names of task measures, from the catalogue and the call files (data, not code)."""
    from shenbao.calls.models import Measure

    english = translation.get_language() == "en"
    return {m.key: (m.name_en if english and m.name_en else m.name) for m in Measure.objects.all()}


def task_views(tasks: list[schema.Task], names: dict[str, str] | None = None) -> list[dict]:
    names = measure_names() if names is None and any(t.minimums for t in tasks) else (names or {})
    return [
        {"text": t.text,
         "minimums": [(names.get(k, k), _num(v)) for k, v in t.minimums.items()],
         "naming": t.naming,
         "signage": t.signage,
         "check": t.check.message if t.check else ""}
        for t in tasks
    ]


def requirement_lines(ptype: schema.ProjectType, programme: str = "") -> list[str]:
    """申报要求 the type itself states (its own eligibility conditions, exclusions, joint rule)."""
    out: list[str] = []
    if ptype.requirements:
        out.append(ptype.requirements)
    if ptype.eligibility and ptype.eligibility.conditions:
        out.extend(c.message for c in ptype.eligibility.conditions)
    if ptype.joint:
        out.extend(joint_lines(ptype.joint))
    if ptype.exclusions:
        out.extend(exclusion_lines(ptype.exclusions, programme))
    return out


def joint_lines(joint: schema.Joint | None) -> list[str]:
    if joint is None:
        return []
    if joint.note:
        return [joint.note]
    if not joint.allowed:
        return [_("不接受联合申报")]
    text = _("可联合申报，联合申报单位不超过 %(n)s 个") % {"n": joint.max_units}
    if joint.outsiders_only:
        text += _("（限不在申报主体范围的单位）")
    return [text]


def exclusion_lines(ex: schema.Exclusions | None, programme: str = "") -> list[str]:
    if ex is None:
        return []
    out = []
    if ex.unfinished:
        out.append(_("无故未完成以往%(p)s的单位不得申报") % {"p": programme or _("同类项目")})
    if ex.pending_deferral:
        out.append(_("已获准延期验收的单位，须完成验收后方可申报"))
    if ex.repeat_years:
        text = _("近 %(n)s 年已获支持的相同内容不得重复申报") % {"n": ex.repeat_years}
        if ex.repeat_exempt:
            text += "（" + _("、").join(str(TYPE_KINDS[k]) for k in ex.repeat_exempt) + _("项目除外") + "）"
        out.append(text)
    if ex.subcontracting_forbidden:
        out.append(_("严禁转包"))
    if ex.ban_years:
        out.append(_("弄虚作假或转包的单位 %(n)s 年内不得申报") % {"n": ex.ban_years})
    if ex.note:
        out.append(ex.note)
    return out


BLANK_RE = re.compile(r"\{[a-z_]+\}")


def fill_blanks(text: str) -> str:
    """A call text with the placeholders the applicant fills later (经{meeting}审议通过) shown as a blank to
    fill, as on paper: raw template text never reaches a page."""
    return BLANK_RE.sub("________", text or "")


def procedure_lines(common: schema.Common, names: dict[str, str]) -> list[tuple[str, str]]:
    """Own approval (E8) and routing (E9) as (label, text)."""
    out: list[tuple[str, str]] = []
    if common.own_approval:
        for m in common.own_approval.meetings:
            who = "、".join(names.get(c, c) for c in m.categories) if m.categories else _("其他申报单位")
            text = _("%(subject)s：%(message)s") % {"subject": who, "message": "或".join(m.kinds)}
            out.append((_("内部审议"), text))
        out.append((_("承诺"), fill_blanks(common.own_approval.commitment)))
    for r in common.routing or []:
        who = "、".join(names.get(c, c) for c in r.categories) if r.categories else _("所有申报单位")
        text = _("%(subject)s：%(message)s") % {"subject": who, "message": r.label}
        if r.with_finance:
            text += _("（含财务审核）")
        out.append((_("推荐审核"), text))
    return out


def post_award_lines(pa: schema.PostAward | None) -> list[tuple[str, str]]:
    if pa is None:
        return []
    out: list[tuple[str, str]] = []
    if pa.contract:
        out.append((_("合同"), str(CONTRACTS[pa.contract])))
    if pa.disbursement:
        out.append((_("经费拨付"), pa.disbursement.note or str(DISBURSEMENT[pa.disbursement.mode])))
    if pa.spending:
        sp = pa.spending
        text = sp.note or (_("不得用于") + _("、").join(str(SPENDING[i]) for i in sp.forbidden) + _("等支出"))
        if sp.travel_max_share and not sp.note:
            text += _("；差旅费不超过预算的 %(p)s%%") % {"p": _num(sp.travel_max_share * 100)}
        out.append((_("经费使用"), text))
    if pa.change_requests:
        out.append((_("项目变更"), pa.change_requests))
    checks = []
    if pa.spot_checks:
        checks.append(_("实施期间不定期抽查、追踪问效"))
    if pa.recovery:
        checks.append(_("对不按要求或实施效果较差的项目追回相关款项"))
    if checks:
        out.append((_("监督检查"), "；".join(checks)))
    for f in pa.filings or []:
        verb = _("报批") if f.approval else _("备案")
        text = _("%(who)s：须报%(authorities)s%(verb)s") % {"who": f.applies_to, "authorities": "、".join(f.authorities),
                                                      "verb": verb}
        if f.note:
            text += f"（{f.note}）"
        out.append((_("活动备案"), text))
    if pa.news:
        out.append((_("新闻报送"), "、".join(pa.news)))
    return out


def acceptance_view(acc: schema.Acceptance | None, track_names: dict[str, str] | None = None) -> dict | None:
    if acc is None:
        return None
    due = ""
    if acc.due:
        if acc.due.text:
            due = acc.due.text
        elif acc.due.date:
            due = _("%(d)s 前提交") % {"d": dateformat.format(acc.due.date, _("Y年n月j日"))}
        else:
            due = _("每次活动结束后 %(n)s 个工作日内提交") % {"n": acc.due.working_days_after_event}
    copies = []
    if acc.paper_copies:
        copies.append(_("纸质版 %(n)s 份") % {"n": acc.paper_copies})
    if acc.electronic_copies:
        copies.append(_("电子版 %(n)s 份") % {"n": acc.electronic_copies})
    return {
        "due": due,
        "materials": [
            {"name": m.name, "required": m.required, "max_count": m.max_count,
             "min_count": getattr(m, "min_count", None), "note": m.note,
             "tracks": [(track_names or {}).get(c, c) for c in getattr(m, "tracks", [])], "kinds": [(k.name, k.min) for k in m.kinds]}
            for m in acc.materials
        ],
        "copies": "，".join(copies),
        "checks": [c.message for c in acc.checks],
        "note": acc.note,
    }


def per_unit_limit_text(document: schema.Call) -> str:
    """The per-unit limit as the notice words it: 最多不超过N个 (hard) or 原则上不超过N个 (soft)."""
    n = document.max_applications_per_unit
    if document.per_unit_limit == "soft":
        return _("同一单位申报项目原则上不超过 %(n)s 个") % {"n": n}
    return _("每个单位申报项目最多不超过 %(n)s 个") % {"n": n}


def call_common(call: Call) -> dict:
    """The rules the call states once for every type (its defaults), plus submission and review."""
    document = call.document
    d = document.defaults
    names = call_category_names(document)
    requirements = []
    if d.eligibility and d.eligibility.conditions:
        requirements.extend(c.message for c in d.eligibility.conditions)
    if d.eligibility and d.eligibility.within_issuer:
        requirements.append(_("申报单位须为%(issuer)s所属或属地范围内的单位") % {"issuer": call.issuer.name})
    if document.max_applications_per_unit:
        requirements.append(per_unit_limit_text(document))
    requirements.extend(joint_lines(d.joint))
    requirements.extend(exclusion_lines(d.exclusions, document.programme))
    sub = document.submission
    submission = []
    if sub.paper_copies:
        submission.append(_("纸质材料 %(n)s 份") % {"n": sub.paper_copies}
                          + (_("，加盖申报单位公章") if sub.stamped else ""))
    if sub.upload_stamped_scan:
        submission.append(_("上传盖章页扫描件"))
    if sub.electronic_equals_paper:
        submission.append(_("电子版与纸质版内容须一致"))
    if sub.typed_only:
        submission.append(_("须打印填写，不受理手写"))
    if sub.paper_size:  # only when the notice says so
        submission.append(_("%(size)s 纸张") % {"size": sub.paper_size})
    review = document.review
    review_lines = []
    if review.by == "third_party" and review.third_party:
        review_lines.append(_("委托%(who)s组织评审") % {"who": review.third_party})
    steps = [*review.funder_levels, *review.levels]
    if steps:
        review_lines.append(_("评审程序：") + " → ".join(steps))
    if review.confirm_by:
        review_lines.append(_("结果确定：") + "、".join(review.confirm_by))
    if review.public_notice:
        review_lines.append(_("评审结果公示后确定立项"))
    if review.note:
        review_lines.append(review.note)
    return {
        "requirements": requirements,
        "preferences": (d.eligibility.preferences or []) if d.eligibility else [],
        "procedure": procedure_lines(d, names),
        "post_award": post_award_lines(d.post_award),
        "channels": [{"kind": CHANNELS.get(c.kind, c.kind), "code": c.kind, "target": c.target, "note": c.note}
                     for c in sub.channels],
        "submission": submission,
        "submission_note": sub.note,
        "review": review_lines,
        "completion_text": d.completion_text or "",
        "completion_by": d.completion_by,
    }


def deadline_local(call: Call) -> dt.datetime:
    """The deadline in Asia/Shanghai, whatever the server's zone."""
    return call.deadline.astimezone(schema.SHANGHAI)


def opens_local(call: Call) -> dt.datetime | None:
    return call.opens_at.astimezone(schema.SHANGHAI) if call.opens_at else None


def remaining_text(call: Call, now: dt.datetime | None = None) -> str:
    """The countdown as the server renders it before the page's script takes over."""
    now = now or timezone.now()
    if call.opens_at and now < call.opens_at:
        return _("距开始") + " " + _span(call.opens_at - now)
    return remaining_until(call.deadline, now)


def remaining_until(deadline: dt.datetime, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if now >= deadline:
        return _("已截止")
    return _("距截止") + " " + _span(deadline - now)


def _span(delta: dt.timedelta) -> str:
    secs = int(delta.total_seconds())
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} {_('天')} {hours} {_('小时')} {minutes} {_('分')}"
    return f"{hours} {_('小时')} {minutes} {_('分')} {seconds} {_('秒')}"
