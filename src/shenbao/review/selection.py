"""Selection (拟立项) under quota and money, staff adjustments, and the confirmation of the result (R-V1).

**The proposal** of one project type is computed with OR-Tools CP-SAT over the type's ranked applications
(review/ranking.py). Groups: the type, and each track that has its own quota or a funding total. Per group:

- the number selected within the quota's bounds (`count_bounds`): exactly n → n..n; at_most n → 0..n;
  about n → n±tolerance (the quota's `tolerance`; else ±20% of n, at least 1; a "≤N"/"不超过N" in its note
  caps the upper side; its own min/max win); range → min..max; unstated → no bound. Quotas are plans
  (R-V2): the upper bound is never exceeded, the lower bound is met when enough applications and money
  allow (the solver first minimises the shortfall below it, and the page says by how much it fell short);
- the money: each selected application's award within its rule (`award_rule`: fixed amount; the tier
  whose `when` holds on the application's facts, R-C5; a range's min..max, at most what was asked; a cap
  or pool: what was asked, at most the cap), and the group's `funding.total` never exceeded.

Objective, lexicographic (one CP-SAT solve per level, each level's optimum fixed for the next): the least
shortfall below the lower bounds; the greatest total score (scores × 1000, integers); better-ranked
applications among equal totals; the most money (up to what each asked) where amounts may vary.

Each application gets a `Decision` (proposed / not_selected) with its score, rank (in its quota group: the
track's when the track has its own quota, else the type's), amount and an explanation of why it is in or
out; applications with the same score as the last one selected in their group but left out are marked
`tie` (并列) and said so.

**Staff** move an application in or out with a reason and set amounts; the platform refuses an amount or a
move that breaks the application's rule, its group's quota upper bound or pool (with the reason).
**Confirmation** (R-V1): the funder's (funder staff or leader of the issuer), and finance's when the call
says `review.finance_confirms` (a user with the finance role in the issuer or in an organisation named in
`review.confirm_by`), each by a different person; while a confirmation stands, decisions cannot change;
revoking it (with a reason) reopens them. Every change is audited.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.calls import schema
from shenbao.core import audit, jobs
from shenbao.core.decisions import NotAllowed, require

SCALE = 1000  # scores have 3 decimals: integers for CP-SAT
MAX_AMOUNT = 100_000_000  # one award of at most 1亿元: a typo of many zeros is refused, not stored
ABOUT_DEFAULT = Decimal("0.2")
_NOTE_CAP = re.compile(r"(?:≤|<=|不超过|不多于|最多)\s*(\d+)")


# --- rules: quota bounds and award amounts --------------------------------------------------------------


def about_tolerance(quota: schema.Quota) -> int:
    if quota.tolerance is not None:
        return quota.tolerance
    return max(1, int(Decimal(quota.n) * ABOUT_DEFAULT + Decimal("0.5")))


def count_bounds(quota: schema.Quota | None) -> tuple[int, int | None]:
    """The least and the most applications the quota allows (None: no upper bound)."""
    if quota is None or quota.kind == "unstated":
        return 0, None
    if quota.kind == "exactly":
        return quota.n, quota.n
    if quota.kind == "at_most":
        return 0, quota.n
    if quota.kind == "range":
        return quota.min, quota.max
    tol = about_tolerance(quota)
    lo = quota.min if quota.min is not None else max(0, quota.n - tol)
    hi = quota.max if quota.max is not None else quota.n + tol
    if quota.max is None and quota.tolerance is None:
        caps = [int(m) for m in _NOTE_CAP.findall(quota.note or "")]
        if caps:
            hi = min(hi, min(caps))
    return min(lo, hi), hi


def bounds_text(lo: int, hi: int | None) -> str:
    if hi is None:
        return _("不限数量") if lo == 0 else _("至少%(lo)s个") % {"lo": lo}
    if lo == hi:
        return _("%(n)s个") % {"n": hi}
    return _("%(lo)s—%(hi)s个") % {"lo": lo, "hi": hi}


def yuan(amount: int | None) -> str:
    return "—" if amount is None else f"{amount:,}元"


@dataclass
class AwardRule:
    """What one application may be awarded: lo..hi yuan (hi None: unknown until staff set it)."""

    kind: str
    lo: int | None
    hi: int | None
    basis: str          # how the amount is found (shown in the explanation)
    allowed_lo: int     # the least staff may set
    allowed_hi: int | None  # the most staff may set (None: no per-application limit)
    exact: int | None = None  # fixed and tiered: the one amount allowed

    def check(self, amount: int) -> str | None:
        """Why `amount` breaks the rule, else None."""
        if self.exact is not None and amount != self.exact:
            return _("%(basis)s，资助金额须为%(amount)s") % {"basis": self.basis, "amount": yuan(self.exact)}
        if amount < self.allowed_lo:
            return _("资助金额不得低于%(lo)s（%(basis)s）") % {"lo": yuan(self.allowed_lo), "basis": self.basis}
        if self.allowed_hi is not None and amount > self.allowed_hi:
            return _("资助金额不得超过%(hi)s（%(basis)s）") % {"hi": yuan(self.allowed_hi), "basis": self.basis}
        return None


def project_facts(form: schema.FormTemplate | None, values: dict) -> dict:
    """`project`: the answers of the form's `fact: true` fields (absent when blank, so `has()` tests them)."""
    out = {}
    for f in form.all_fields() if form is not None else []:
        if f.fact and values.get(f.key) not in (None, "", [], {}):
            out[f.key] = values[f.key]
    return out


def tier_context(app, values: dict, type_doc: schema.ProjectType, track_doc: schema.Track | None) -> dict:
    """The names a tier's `when` may use (calls/schema PROJECT_ROOTS): `project` (facts), `form`, `type`,
    `track`, `call` — the form checks' context (forms.validation.cel_form_context) plus the facts."""
    from shenbao.forms.validation import cel_form_context

    doc = app.call.document
    form = doc.form_for(type_doc)
    if form is not None:
        ctx = cel_form_context(form, values, type_doc, track_doc, call_doc=doc, applicant=app.applicant)
    else:
        ctx = {"form": {}, "type": {"code": type_doc.code, "name": type_doc.name},
               "track": {"code": track_doc.code if track_doc else ""}, "call": {"code": doc.code, "year": doc.year}}
    ctx["project"] = project_facts(form, values)
    return {k: ctx[k] for k in ("project", "form", "type", "track", "call")}


def tier_for(funding: schema.Funding, context: dict) -> schema.Tier | None:
    """The first tier whose `when` holds (tiers are not cumulative, R-C5); None: the funding's `amount`."""
    from shenbao.core.expressions import compile_expression

    for tier in funding.tiers:
        if compile_expression(tier.when).holds(context):
            return tier
    return None


def award_rule(funding: schema.Funding, asked: int | None, context: dict | None = None) -> AwardRule:
    f = funding
    if f.kind == "fixed":
        return AwardRule("fixed", f.amount, f.amount, _("固定资助"), f.amount, f.amount, exact=f.amount)
    if f.kind == "tiered":
        tier = tier_for(f, context or {"project": {}})
        amount = tier.amount if tier else f.amount
        basis = _("分档：%(label)s") % {"label": tier.label} if tier else _("分档：其他")
        return AwardRule("tiered", amount, amount, basis, amount, amount, exact=amount)
    if f.kind == "range":
        hi = f.max if asked is None else max(f.min, min(asked, f.max))
        return AwardRule("range", f.min, hi, _("每项%(lo)s—%(hi)s") % {"lo": yuan(f.min), "hi": yuan(f.max)},
                         f.min, f.max)
    if f.kind == "cap":
        hi = f.max if asked is None else min(asked, f.max)
        return AwardRule("cap", hi, hi, _("每项不超过%(hi)s") % {"hi": yuan(f.max)}, 1, f.max)
    # pool / by_review: what was asked, at most the funding's max if it has one
    hi = asked if f.max is None or asked is None else min(asked, f.max)
    basis = _("按申请金额") if f.max is None else _("按申请金额，每项不超过%(hi)s") % {"hi": yuan(f.max)}
    return AwardRule(f.kind, hi, hi, basis, 1, f.max)


def combined_rule(rules: list[AwardRule]) -> AwardRule:
    """Several tracks ticked together (叠加申报): the amounts add up."""
    def total(values):
        return None if any(v is None for v in values) else sum(values)

    exact = total([r.exact for r in rules])
    return AwardRule("combined", total([r.lo for r in rules]), total([r.hi for r in rules]),
                     " + ".join(r.basis for r in rules), sum(r.allowed_lo for r in rules),
                     total([r.allowed_hi for r in rules]), exact=exact)


# --- the optimiser --------------------------------------------------------------------------------------


@dataclass
class Group:
    key: str
    label: str
    count_lo: int = 0
    count_hi: int | None = None
    pool: int | None = None
    quota_text: str = ""


@dataclass
class Item:
    key: int
    score: int              # scaled to an integer
    lo: int
    hi: int
    groups: tuple[str, ...]
    order: int = 0          # position in the ranking (0 = best): the tie-break among equal totals


@dataclass
class Solution:
    selected: set
    amounts: dict
    shortfall: int
    score: int
    optimal: bool


def solve(items: Sequence[Item], groups: Sequence[Group], *, time_limit: float = 10.0) -> Solution:
    """The selection of `items` that meets every group's upper count and pool, falls short of the lower
    counts as little as possible, then has the greatest total score; then prefers better-ranked items and
    more money (see the module text)."""
    from ortools.sat.python import cp_model

    if not items:
        return Solution(set(), {}, sum(g.count_lo for g in groups), 0, True)
    model = cp_model.CpModel()
    x = {it.key: model.new_bool_var(f"x{it.key}") for it in items}
    a = {}
    for it in items:
        a[it.key] = model.new_int_var(0, it.hi, f"a{it.key}")
        model.add(a[it.key] >= it.lo * x[it.key])
        model.add(a[it.key] <= it.hi * x[it.key])
    members: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        for g in it.groups:
            members[g].append(it)
    shorts = []
    for g in groups:
        its = members.get(g.key, [])
        count = sum(x[it.key] for it in its)
        if g.count_hi is not None:
            model.add(count <= g.count_hi)
        if g.count_lo > 0:
            s = model.new_int_var(0, g.count_lo, f"short_{g.key}")
            model.add(count + s >= g.count_lo)
            shorts.append(s)
        if g.pool is not None and its:
            model.add(sum(a[it.key] for it in its) <= g.pool)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    optimal = True

    def run(objective, maximise: bool) -> int:
        nonlocal optimal
        if maximise:
            model.maximize(objective)
        else:
            model.minimize(objective)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise RuntimeError(f"CP-SAT: {solver.status_name(status)}")
        optimal = optimal and status == cp_model.OPTIMAL
        value = round(solver.objective_value)
        model.clear_hints()
        for it in items:
            model.add_hint(x[it.key], solver.value(x[it.key]))
        return value

    shortfall = 0
    if shorts:
        shortfall = run(sum(shorts), maximise=False)
        model.add(sum(shorts) <= shortfall)
    score_expr = sum(it.score * x[it.key] for it in items)
    best = run(score_expr, maximise=True)
    model.add(score_expr >= best)
    n = len(items)
    order_expr = sum((n - it.order) * x[it.key] for it in items)
    best_order = run(order_expr, maximise=True)
    model.add(order_expr >= best_order)
    if any(it.lo != it.hi for it in items):
        run(sum(a.values()), maximise=True)
    selected = {it.key for it in items if solver.value(x[it.key])}
    amounts = {k: int(solver.value(a[k])) for k in selected}
    return Solution(selected, amounts, shortfall, best, optimal)


def brute_force(items: Sequence[Item], groups: Sequence[Group]) -> tuple[int, int]:
    """(least shortfall, greatest total score) over every subset: the reference for tests on tiny instances."""
    best: tuple[int, int] | None = None
    for r in range(len(items) + 1):
        for subset in combinations(items, r):
            ok, short = True, 0
            for g in groups:
                its = [it for it in subset if g.key in it.groups]
                if g.count_hi is not None and len(its) > g.count_hi:
                    ok = False
                    break
                if g.pool is not None and sum(it.lo for it in its) > g.pool:
                    ok = False
                    break
                short += max(0, g.count_lo - len(its))
            if ok:
                cand = (short, -sum(it.score for it in subset))
                best = cand if best is None or cand < best else best
    assert best is not None
    return best[0], -best[1]


# --- one project type: groups, rules, ranking ------------------------------------------------------------


@dataclass
class Entry:
    row: object                     # ranking.Row
    rule: AwardRule
    track: schema.Track | None
    groups: tuple[str, ...]
    quota_group: str
    group_rank: int | None = None


@dataclass
class TypeSelection:
    """The facts the proposal and the checks of one type read."""

    call: object
    project_type: object            # calls.ProjectType row
    doc: schema.ProjectType
    groups: dict[str, Group]
    entries: dict[int, Entry]       # application id → entry
    order: list[int] = field(default_factory=list)  # ranking order

    def members(self, key: str) -> list[int]:
        return [a for a, e in self.entries.items() if key in e.groups]


def _effective_funding(doc: schema.ProjectType, track: schema.Track | None) -> schema.Funding:
    if track is not None and track.funding is not None:
        return track.funding
    if doc.funding is not None:
        return doc.funding
    # the type has no funding of its own: each track has (schema); one without takes no money
    return schema.Funding(kind="by_review")


def type_selection(call, project_type, rows=None) -> TypeSelection:
    from shenbao.review import ranking

    doc = project_type.document
    if rows is None:
        rows = ranking.rank(call, project_type).get(project_type.code, [])
    groups: dict[str, Group] = {}
    lo, hi = count_bounds(doc.quota)
    total = doc.funding.total if doc.funding is not None else None
    groups["type"] = Group("type", f"{doc.code} {doc.name}", lo, hi, total, doc.quota.text() if doc.quota else "")
    for t in doc.tracks:
        t_total = t.funding.total if t.funding is not None else None
        if t.quota is not None or t_total is not None:
            tlo, thi = count_bounds(t.quota)
            groups[f"track:{t.code}"] = Group(f"track:{t.code}", t.name, tlo, thi, t_total,
                                              t.quota.text() if t.quota else "")
    entries: dict[int, Entry] = {}
    for row in rows:
        app = row.application
        codes = row.track_codes or ([row.track_code] if row.track_code else [])
        tracks = [t for t in doc.tracks if t.code in codes]
        track = tracks[0] if tracks else None
        values = (app.current_snapshot.values.get("values") or {}) if app.current_snapshot_id else {}
        rules = []
        # 可单独或叠加申报 (multiple_tracks): each ticked track's rule, the amounts added up
        for t in tracks if len(tracks) > 1 else [track]:
            funding = _effective_funding(doc, t)
            ctx = tier_context(app, values, doc, t) if funding.kind == "tiered" else None
            rules.append(award_rule(funding, app.amount_asked if len(tracks) <= 1 else None, ctx))
        rule = rules[0] if len(rules) == 1 else combined_rule(rules)
        keys = ["type", *(f"track:{t.code}" for t in tracks if f"track:{t.code}" in groups)]
        with_quota = [t for t in tracks if t.quota is not None]
        quota_group = (f"track:{with_quota[0].code}" if with_quota else "type" if doc.quota is not None else keys[-1])
        entries[app.pk] = Entry(row, rule, track, tuple(keys), quota_group)
    ts = TypeSelection(call, project_type, doc, groups, entries, [r.application.pk for r in rows])
    for key in groups:
        done = [(a, e) for a, e in entries.items() if e.quota_group == key and e.row.complete]
        ranks = ranking.competition_ranks([e.row.score for _a, e in done])
        for (_a, e), k in zip(done, ranks, strict=True):
            e.group_rank = k
    return ts


def _scaled(score: Decimal) -> int:
    return int((score * SCALE).to_integral_value())


def compute(ts: TypeSelection) -> tuple[Solution, dict[int, tuple[str, int | None, str, bool]]]:
    """Solve the type and explain: application id → (state, amount, explanation, tie)."""
    items = []
    order = {a: i for i, a in enumerate(ts.order)}
    for a, e in ts.entries.items():
        if not e.row.complete:
            continue
        lo = e.rule.lo or 0
        hi = e.rule.hi if e.rule.hi is not None else 0
        items.append(Item(a, _scaled(e.row.score), lo, max(lo, hi), e.groups, order.get(a, 0)))
    sol = solve(items, list(ts.groups.values()))
    out: dict[int, tuple[str, int | None, str, bool]] = {}
    # the last selected score and what is left of each group
    min_sel: dict[str, Decimal] = {}
    count: dict[str, int] = defaultdict(int)
    spent: dict[str, int] = defaultdict(int)
    for a in sol.selected:
        e = ts.entries[a]
        for g in e.groups:
            count[g] += 1
            spent[g] += sol.amounts.get(a, 0)
        q = e.quota_group
        min_sel[q] = min(min_sel.get(q, e.row.score), e.row.score)
    for a, e in ts.entries.items():
        r = e.row
        if not r.complete:
            out[a] = ("not_selected", None, _("评分未完成（已提交%(s)s份评分表，需%(n)s份），未参与排名")
                      % {"s": r.sheets, "n": r.needed}, False)
            continue
        rank_text = _("得分%(score)s，第%(rank)s名") % {"score": r.score, "rank": e.group_rank}
        g = ts.groups[e.quota_group]
        if a in sol.selected:
            amount = sol.amounts.get(a) if e.rule.hi is not None else None
            parts = [rank_text + _("，名额内")]
            if g.count_hi is not None:
                parts.append(_("%(group)s计划%(plan)s") % {"group": g.label, "plan": bounds_text(g.count_lo, g.count_hi)})
            parts.append(_("%(basis)s：%(amount)s") % {"basis": e.rule.basis, "amount": yuan(amount)}
                         if amount is not None else _("资助金额待定，请填写（%(basis)s）") % {"basis": e.rule.basis})
            tie = any(b != a and ts.entries[b].quota_group == e.quota_group and ts.entries[b].row.complete
                      and ts.entries[b].row.score == r.score and b not in sol.selected for b in ts.entries)
            if tie:
                parts.append(_("与未入选的申报并列"))
            out[a] = ("proposed", amount, "；".join(parts), tie)
            continue
        reasons = []
        for key in e.groups:
            grp = ts.groups[key]
            if grp.count_hi is not None and count[key] >= grp.count_hi:
                reasons.append(_("名额已满（%(group)s计划%(plan)s，已选%(n)s个）")
                               % {"group": grp.label, "plan": bounds_text(grp.count_lo, grp.count_hi), "n": count[key]})
            if grp.pool is not None and grp.pool - spent[key] < (e.rule.lo or 0):
                reasons.append(_("资金池已用尽（%(group)s共%(pool)s，剩余%(left)s，本项至少需%(need)s）")
                               % {"group": grp.label, "pool": yuan(grp.pool), "left": yuan(grp.pool - spent[key]),
                                  "need": yuan(e.rule.lo or 0)})
        low = min_sel.get(e.quota_group)
        tie = low is not None and r.score == low
        head = rank_text
        if tie:
            head += _("，与入选的最低分并列")
        elif low is not None and r.score < low:
            head += _("，低于入选的最低分%(low)s") % {"low": low}
        elif low is not None:
            head += _("，高于入选的最低分，但资金或名额组合所限")
        if not reasons:
            reasons.append(_("使总分最高的组合不含此项"))
        out[a] = ("not_selected", None, head + "；" + "；".join(reasons), tie)
    return sol, out


# --- services --------------------------------------------------------------------------------------------


def _locked(call) -> str | None:
    from shenbao.review.models import Confirmation, Decision

    if Confirmation.objects.filter(call=call, revoked_at__isnull=True).exists():
        return _("评审结果已确认，不能再修改立项决定；如需修改，须先撤销确认")
    if Decision.objects.filter(application__call=call, state__in=["awarded", "withdrawn"]).exists():
        return _("已发布立项名单，不能再修改立项决定")
    return None


def _decision_facts(d) -> dict:
    return {"state": d.state, "score": d.score, "rank": d.rank, "amount": d.amount, "tie": d.tie,
            "explanation": d.explanation, "source": d.source, "staff_reason": d.staff_reason}


@dataclass
class Proposal:
    project_type: object
    selected: int
    total_score: Decimal
    shortfall: int
    optimal: bool
    incomplete: int
    ties: list[int]


def _may_propose(user, call, project_type) -> None:
    from shenbao.review import permissions

    require(permissions.can_select(user, call))
    if project_type.call_id != call.pk:
        raise NotAllowed(_("项目类型不属于此通知"))
    reason = _locked(call)
    if reason:
        raise NotAllowed(reason)


def start_proposal(*, user, call, project_type):
    """The proposal as a background job (core.jobs) with progress: a type may have hundreds of applications,
    each written with its audit event. Refusals come at once; the job page links back to the ranking."""
    _may_propose(user, call, project_type)
    label = _("生成立项建议：%(call)s（%(type)s）") % {"call": call.title[:60], "type": project_type.code}
    job = jobs.start(proposal_job, user=user, label=label, user_id=user.pk, call_id=call.pk,
                     type_id=project_type.pk)
    audit.record(actor=user, action="review.selection.start", obj=call, after={"type": project_type.code, "job": job.pk})
    return job


@task()
@jobs.tracked
def proposal_job(job, *, user_id: int, call_id: int, type_id: int) -> dict:
    from django.urls import reverse

    from shenbao.calls.models import Call
    from shenbao.orgs.models import User

    call = Call.objects.select_related("issuer").get(pk=call_id)
    ptype = call.types.get(pk=type_id)
    user = User.objects.get(pk=user_id)
    try:
        r = propose(user=user, call=call, project_type=ptype,
                    progress=lambda done, total, msg: jobs.report(job, done, total, msg))
    except NotAllowed as exc:
        raise jobs.JobError(exc.reason) from None
    text = _("拟立项%(n)s个，总分%(score)s") % {"n": r.selected, "score": r.total_score}
    if r.shortfall:
        text += _("；资金或合格申报不足，比计划少%(n)s个") % {"n": r.shortfall}
    if r.incomplete:
        text += _("；%(n)s份申报评分未完成，未参与排名") % {"n": r.incomplete}
    if r.ties:
        text += _("；有%(n)s份申报与入选最低分并列，请核对") % {"n": len(r.ties)}
    jobs.finish(job, url=reverse("review:selection_type", args=[call.code, ptype.code]), name=_("查看立项建议"),
                message=text)
    return {"selected": r.selected, "total_score": str(r.total_score), "shortfall": r.shortfall}


def propose(*, user, call, project_type, progress=None) -> Proposal:
    """Compute the type's proposal and store a Decision for each of its applications (replacing earlier
    proposals and staff moves, which the audit log keeps). `progress(done, total, message)` is told how far
    it got (a job's bar)."""
    from shenbao.review.models import Decision

    _may_propose(user, call, project_type)
    with transaction.atomic():
        reason = _locked(call)
        if reason:
            raise NotAllowed(reason)
        if progress:
            progress(0, None, _("正在计算排名与最优组合"))
        ts = type_selection(call, project_type)
        sol, out = compute(ts)
        now = timezone.now()
        existing = {d.application_id: d for d in
                    Decision.objects.select_for_update().filter(application__project_type=project_type)}
        total = len(out)
        for i, (a, (state, amount, text, tie)) in enumerate(out.items(), start=1):
            if progress and (i % 50 == 0 or i == total):
                progress(i, total, _("已写入 %(i)s / %(n)s 份立项决定") % {"i": i, "n": total})
            e = ts.entries[a]
            d = existing.pop(a, None)
            before = _decision_facts(d) if d else None
            if d is None:
                d = Decision(application_id=a)
            d.state, d.amount, d.explanation, d.tie = state, amount, text, tie
            d.score, d.rank, d.sheets = e.row.score, e.group_rank, e.row.sheets
            d.source, d.staff_reason, d.decided_by, d.proposed_at = "optimiser", "", user, now
            d.save()
            audit.record(actor=user, action="review.decision.propose", obj=d, before=before, after=_decision_facts(d))
        for d in existing.values():  # no longer in the review (withdrawn, rejected at screening …)
            before = _decision_facts(d)
            d.state, d.amount, d.tie, d.rank = "not_selected", None, False, None
            d.explanation, d.source, d.decided_by, d.proposed_at = _("已不在评审范围"), "optimiser", user, now
            d.save()
            audit.record(actor=user, action="review.decision.propose", obj=d, before=before, after=_decision_facts(d))
        result = Proposal(project_type, len(sol.selected), Decimal(sol.score) / SCALE, sol.shortfall, sol.optimal,
                          sum(1 for e in ts.entries.values() if not e.row.complete),
                          sorted(a for a, v in out.items() if v[3]))
        audit.record(actor=user, action="review.selection.propose", obj=call,
                     after={"type": project_type.code, "selected": sorted(sol.selected),
                            "amounts": {str(k): v for k, v in sol.amounts.items()},
                            "total_score": str(result.total_score), "shortfall": sol.shortfall,
                            "optimal": sol.optimal})
    return result


def _selected_after(ts: TypeSelection, decisions: dict[int, object], change: int, state: str,
                    amount: int | None) -> tuple[dict[int, bool], dict[int, int]]:
    sel = {a: d.state == "proposed" for a, d in decisions.items()}
    amt = {a: d.amount or 0 for a, d in decisions.items() if d.state == "proposed"}
    sel[change] = state == "proposed"
    if state == "proposed":
        amt[change] = amount or 0
    else:
        amt.pop(change, None)
    return sel, amt


def check_change(ts: TypeSelection, decisions: dict[int, object], app_id: int, state: str,
                 amount: int | None) -> str | None:
    """Why putting application `app_id` in `state` with `amount` breaks the rules, else None."""
    e = ts.entries.get(app_id)
    if e is None:
        return _("此申报不在本项目类型的评审范围内")
    if state == "proposed":
        if amount is not None and not 0 < amount <= MAX_AMOUNT:
            return _("资助金额须在1元至%(max)s之间") % {"max": yuan(MAX_AMOUNT)}
        if not e.row.complete:
            return _("此申报评分未完成（已提交%(s)s份评分表，需%(n)s份），不能入选") % {"s": e.row.sheets, "n": e.row.needed}
        if amount is None:
            return _("请填写资助金额")
        problem = e.rule.check(amount)
        if problem:
            return problem
    sel, amt = _selected_after(ts, decisions, app_id, state, amount)
    for key in e.groups:
        g = ts.groups[key]
        mem = ts.members(key)
        n = sum(1 for a in mem if sel.get(a))
        if state == "proposed" and g.count_hi is not None and n > g.count_hi:
            return _("%(group)s计划立项%(plan)s，已选%(n)s个，不能再增加；请先调出其他申报") % {
                "group": g.label, "plan": bounds_text(g.count_lo, g.count_hi), "n": n - 1}
        if state == "proposed" and g.pool is not None:
            used = sum(amt.get(a, 0) for a in mem)
            if used > g.pool:
                return _("%(group)s资金总额%(pool)s，调整后合计%(used)s，超出%(over)s") % {
                    "group": g.label, "pool": yuan(g.pool), "used": yuan(used), "over": yuan(used - g.pool)}
    return None


def warnings(ts: TypeSelection, decisions: dict[int, object]) -> list[str]:
    """What the current decisions leave short of the plan (R-V2: quotas are plans, so a warning only)."""
    out = []
    for key, g in ts.groups.items():
        n = sum(1 for a in ts.members(key) if getattr(decisions.get(a), "state", "") == "proposed")
        if n < g.count_lo:
            out.append(_("%(group)s计划立项%(plan)s，当前拟立项%(n)s个") % {
                "group": g.label, "plan": bounds_text(g.count_lo, g.count_hi), "n": n})
    missing = [a for a, d in decisions.items() if d.state == "proposed" and d.amount is None]
    if missing:
        out.append(_("%(n)s个拟立项申报尚未确定资助金额") % {"n": len(missing)})
    return out


def _change(*, user, decision, state: str, amount: int | None, reason: str, action: str):
    from shenbao.review import permissions
    from shenbao.review.models import Decision

    call = decision.application.call
    require(permissions.can_select(user, call))
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _locked(call)
        if locked:
            raise NotAllowed(locked)
        ptype = decision.application.project_type
        # every decision of the type locked: two people moving two applications in at once cannot both
        # pass the quota or the pool
        decisions = {x.application_id: x for x in
                     Decision.objects.select_for_update().filter(application__project_type=ptype)}
        d = next((x for x in decisions.values() if x.pk == decision.pk), None)
        if d is None:
            raise NotAllowed(_("此申报不在本项目类型的评审范围内"))
        ts = type_selection(call, ptype)
        problem = check_change(ts, decisions, d.application_id, state, amount)
        if problem:
            raise NotAllowed(problem)
        before = _decision_facts(d)
        moved = d.state != state
        d.state = state
        d.amount = amount if state == "proposed" else None
        if moved:
            d.source = "staff"
            d.tie = False
            label = _("人工调入") if state == "proposed" else _("人工调出")
            d.explanation = f"{label}：{reason}"
            d.staff_reason = reason
        elif reason:
            d.staff_reason = reason
        d.decided_by = user
        d.save()
        audit.record(actor=user, action=action, obj=d, before=before, after=_decision_facts(d), note=reason)
    decision.refresh_from_db()
    return decision


def move(*, user, decision, selected: bool, reason: str, amount: int | None = None):
    """Staff move an application in (with an amount: given, else its rule's) or out, with a reason."""
    if not (reason or "").strip():
        raise NotAllowed(_("调入或调出须填写理由"))
    if selected and amount is None:
        call = decision.application.call
        ts = type_selection(call, decision.application.project_type)
        e = ts.entries.get(decision.application_id)
        amount = e.rule.hi if e is not None else None
    return _change(user=user, decision=decision, state="proposed" if selected else "not_selected",
                   amount=amount, reason=reason, action="review.decision.move_in" if selected else "review.decision.move_out")


def set_amount(*, user, decision, amount, reason: str = ""):
    """Staff set the final amount of a proposed application, within its rule and its groups' pools."""
    try:
        amount = int(str(amount).strip())
    except (TypeError, ValueError):
        raise NotAllowed(_("资助金额须为整数（元）")) from None
    if amount <= 0:
        raise NotAllowed(_("资助金额须大于0"))
    if decision.state != "proposed":
        raise NotAllowed(_("只有拟立项的申报可以设定资助金额"))
    return _change(user=user, decision=decision, state="proposed", amount=amount, reason=reason,
                   action="review.decision.amount")


# --- confirmation (R-V1) -----------------------------------------------------------------------------------


def confirm(*, user, call, party: str, note: str = ""):
    """Record the funder's or finance's confirmation of the call's result; each by a different person."""
    from shenbao.review import permissions, selectors
    from shenbao.review.models import Confirmation, Decision

    require(permissions.can_confirm(user, call, party))
    with transaction.atomic():
        active = list(Confirmation.objects.select_for_update().filter(call=call, revoked_at__isnull=True))
        if any(c.party == party for c in active):
            raise NotAllowed(_("%(party)s已记录，无需重复确认") % {"party": _(dict(Confirmation.Party.choices)[party])})
        if any(c.by_id == user.pk for c in active):
            raise NotAllowed(_("您已代表另一方确认了评审结果；主办方确认与财务部门确认须由不同人员分别进行"))
        if not Decision.objects.filter(application__call=call).exists():
            raise NotAllowed(_("尚未生成立项建议名单，不能确认"))
        problems = selectors.decision_problems(call)
        if problems:
            raise NotAllowed(_("立项决定尚有问题，不能确认：%(p)s") % {"p": "；".join(problems)})
        c = Confirmation.objects.create(call=call, party=party, by=user, at=timezone.now(), note=(note or "").strip())
        audit.record(actor=user, action="review.confirmation.confirm", obj=c,
                     after={"call": call.code, "party": party, "note": c.note})
    return c


def revoke_confirmation(*, user, confirmation, reason: str):
    from shenbao.review import permissions
    from shenbao.review.models import Confirmation

    require(permissions.can_revoke_confirmation(user, confirmation))
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed(_("撤销确认须填写理由"))
    with transaction.atomic():
        c = Confirmation.objects.select_for_update().get(pk=confirmation.pk)
        if c.revoked_at is not None:
            raise NotAllowed(_("此确认已撤销"))
        c.revoked_at, c.revoked_by, c.revoke_reason = timezone.now(), user, reason
        c.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit.record(actor=user, action="review.confirmation.revoke", obj=c,
                     before={"revoked_at": None}, after={"revoked_at": c.revoked_at, "reason": reason}, note=reason)
    return c


def iter_types(call) -> Iterable:
    return call.types.filter(retired=False).order_by("order", "id")
