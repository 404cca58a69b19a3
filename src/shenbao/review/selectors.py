"""Reads of the review stage, one block per sub-stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# --- selection and confirmation ---


def active_confirmations(call) -> list:
    from shenbao.review.models import Confirmation

    return list(Confirmation.objects.filter(call=call, revoked_at__isnull=True).select_related("by").order_by("at"))


def confirmation_missing(call) -> list[str]:
    """What the call's result still lacks before it may be announced (公示): empty when confirmed (R-V1) —
    a proposal, the funder's confirmation and, where `review.finance_confirms`, finance's."""
    from shenbao.review.models import Decision

    missing = []
    if not Decision.objects.filter(application__call=call).exists():
        missing.append(_("尚未生成立项建议名单"))
    parties = {c.party for c in active_confirmations(call)}
    if "funder" not in parties:
        missing.append(_("主办方尚未确认评审结果"))
    if call.document.review.finance_confirms and "finance" not in parties:
        missing.append(_("财务部门尚未确认评审结果"))
    return missing


def decisions_of(project_type) -> dict:
    from shenbao.review.models import Decision

    return {d.application_id: d for d in Decision.objects.filter(application__project_type=project_type)
            .select_related("decided_by")}


def type_problems(ts, decisions: dict) -> list[str]:
    """What breaks the rules in a type's current decisions: an amount outside its rule or missing, a group
    over its quota's upper bound or its pool."""
    from shenbao.review.selection import bounds_text, yuan

    out = []
    chosen = {a: d for a, d in decisions.items() if d.state == "proposed"}
    for a, d in chosen.items():
        e = ts.entries.get(a)
        label = d.application.number or f"#{a}"
        if e is None:
            out.append(_("%(app)s 已不在评审范围，却仍为拟立项") % {"app": label})
            continue
        if d.amount is None:
            out.append(_("%(app)s 未确定资助金额") % {"app": label})
            continue
        problem = e.rule.check(d.amount)
        if problem:
            out.append(f"{label}：{problem}")
    for key, g in ts.groups.items():
        mem = [a for a in ts.members(key) if a in chosen]
        if g.count_hi is not None and len(mem) > g.count_hi:
            out.append(_("%(group)s计划立项%(plan)s，拟立项%(n)s个") % {
                "group": g.label, "plan": bounds_text(g.count_lo, g.count_hi), "n": len(mem)})
        used = sum(chosen[a].amount or 0 for a in mem)
        if g.pool is not None and used > g.pool:
            out.append(_("%(group)s资金总额%(pool)s，拟资助合计%(used)s") % {
                "group": g.label, "pool": yuan(g.pool), "used": yuan(used)})
    return out


def decision_problems(call) -> list[str]:
    from shenbao.review.selection import iter_types, type_selection

    out = []
    for ptype in iter_types(call):
        decisions = decisions_of(ptype)
        if decisions:
            out += type_problems(type_selection(call, ptype), decisions)
    return out


@dataclass
class TypeView:
    """One project type on the selection page."""

    project_type: object
    ts: object
    rows: list = field(default_factory=list)   # (ranking row, entry, decision)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    selected: int = 0
    money: int = 0
    incomplete: int = 0
    ties: int = 0

    @property
    def groups(self):
        return list(self.ts.groups.values())


def selection_view(call, project_type) -> TypeView:
    from shenbao.review.selection import type_selection, warnings

    ts = type_selection(call, project_type)
    decisions = decisions_of(project_type)
    tv = TypeView(project_type, ts)
    for a in ts.order:
        e = ts.entries[a]
        d = decisions.get(a)
        tv.rows.append((e.row, e, d))
        if d is not None and d.state == "proposed":
            tv.selected += 1
            tv.money += d.amount or 0
        if d is not None and d.tie:
            tv.ties += 1
        if not e.row.complete:
            tv.incomplete += 1
    if decisions:
        tv.problems = type_problems(ts, decisions)
        tv.warnings = warnings(ts, decisions)
    return tv


def calls_to_select(user):
    """The calls whose ranking and selection the user may see: the user's funder calls, and the calls
    whose finance confirmation the user gives."""
    from shenbao.calls.models import Call
    from shenbao.orgs.models import Role, RoleAssignment
    from shenbao.review.permissions import can_view_selection

    orgs = set(RoleAssignment.objects.filter(user=user, role__in=[Role.FUNDER_STAFF, Role.FUNDER_LEADER, Role.FINANCE])
               .values_list("organisation_id", flat=True))
    if getattr(user, "organisation_id", None):
        orgs.add(user.organisation_id)
    calls = Call.objects.select_related("issuer").order_by("-deadline", "id")
    finance = RoleAssignment.objects.filter(user=user, role=Role.FINANCE).exists()
    if not finance:
        calls = calls.filter(issuer_id__in=orgs)
    return [c for c in calls if can_view_selection(user, c)]
