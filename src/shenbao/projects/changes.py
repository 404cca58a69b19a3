"""Change requests (变更申请, R-P4): once the contract is signed, the plan (budget lines, schedule, content)
changes only through a request filed BEFORE the fact (its effective date later than the filing date) with a
reason, approved or refused by the funder. An approval makes the next plan version; the versions are the
history (`history`). Budget changes pass the same spending rules as the plan (R-P3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shenbao.core import audit
from shenbao.core.decisions import require
from shenbao.projects import contracts, permissions
from shenbao.projects.models import ChangeRequest, PlanVersion, Project
from shenbao.projects.workflow import CHANGE_REQUEST

WHAT = {"budget": gettext_lazy("经费预算"), "schedule": gettext_lazy("进度安排"), "content": gettext_lazy("实施内容")}


def today() -> dt.date:
    return timezone.localdate()


def file_change(*, actor, project: Project, reason: str, effective_on: dt.date, budget=None, schedule=None,
                content: str | None = None, ip: str | None = None, filed_on: dt.date | None = None) -> ChangeRequest:
    """File a change request. What is given (budget lines, schedule, content) is what changes; the rest of the
    plan stays. Refused: no reason, nothing changed, an effective date not later than the filing (事后变更),
    a budget against the call's spending rules."""
    with transaction.atomic():
        project = Project.objects.select_for_update(of=("self",)).select_related("applicant", "funder", "call", "project_type").get(
            pk=project.pk)
        require(permissions.can_file_change(actor, project))
        filed_on = filed_on or today()
        problems = []
        reason = (reason or "").strip()
        if not reason:
            problems.append(_("请写明变更理由"))
        if effective_on is None:
            problems.append(_("请填写变更拟生效日期"))
        elif effective_on <= filed_on:
            problems.append(_("变更须事前申请：拟生效日期 %(eff)s 不晚于申请日期 %(filed)s，属事后变更，不予受理。"
                              "请在变更发生前提交申请") % {"eff": effective_on.isoformat(), "filed": filed_on.isoformat()})
        base = contracts.current_plan(project)
        if base is None:
            problems.append(_("项目还没有计划，无从变更"))
        proposed, changes = {}, []
        if budget is not None:
            lines = contracts.clean_lines(budget)
            problems += contracts.spending_problems(project, lines)
            proposed["budget"] = [ln.__dict__ for ln in lines]
            changes.append("budget")
        if schedule is not None:
            proposed["schedule"] = contracts.clean_schedule(schedule)
            changes.append("schedule")
        if content is not None and content.strip() != (base.content if base else ""):
            proposed["content"] = content.strip()
            changes.append("content")
        if base is not None and not problems:
            if "budget" in proposed and _lines_key(proposed["budget"]) == _lines_key(
                    [{"category": b.category, "item": b.item, "amount": b.amount, "note": b.note}
                     for b in base.budget_lines.all()]):
                del proposed["budget"]
                changes.remove("budget")
            if "schedule" in proposed and proposed["schedule"] == (base.schedule or []):
                del proposed["schedule"]
                changes.remove("schedule")
            if not changes:
                problems.append(_("变更后的内容与现行计划相同，没有需要变更的内容"))
        if not problems:
            row = ChangeRequest.objects.create(project=project, based_on=base, changes=changes, reason=reason,
                                               effective_on=effective_on, proposed=proposed, filed_by=actor,
                                               filed_at=timezone.now())
            audit.record(actor=actor, action="change_request.file", obj=row, ip=ip,
                         after={"project": project.pk, "changes": changes, "effective_on": effective_on,
                                "based_on": base.number, "reason": reason, "proposed": proposed})
            return row
    with transaction.atomic():  # the refusal is audited, nothing else is kept
        audit.record(actor=actor, action="change_request.refused", obj=project, note="；".join(problems), ip=ip,
                     after={"effective_on": effective_on, "filed_on": filed_on})
    raise contracts.Refused(problems)


def _lines_key(lines: list[dict]) -> list[tuple]:
    return sorted((d["category"], d.get("item", ""), int(d["amount"]), d.get("note", "")) for d in lines)


def decide(*, actor, change: ChangeRequest, approve: bool, note: str = "", ip: str | None = None) -> ChangeRequest:
    """The funder's decision. Approve: the next plan version, made from the version the request was based on
    with the requested parts replaced (refused if another change was approved meanwhile). Refuse: with a
    reason. Deciding twice the same way is harmless."""
    with transaction.atomic():
        row = ChangeRequest.objects.select_for_update(of=("self",)).select_related("project", "based_on").get(pk=change.pk)
        wanted = ChangeRequest.Status.APPROVED if approve else ChangeRequest.Status.REFUSED
        if row.status == wanted:
            return row
        action = "approve" if approve else "refuse"
        require(CHANGE_REQUEST.can(actor, row, action))
        note = (note or "").strip()
        if not approve and not note:
            raise contracts.Refused(_("不予批准须写明理由"))
        project = Project.objects.select_for_update().get(pk=row.project_id)
        plan = None
        if approve:
            current = contracts.current_plan(project)
            if current.pk != row.based_on_id:
                raise contracts.Refused(_("申请依据的是第 %(base)s 版计划，现行为第 %(current)s 版（其间已有变更获批）："
                                          "请单位依据现行计划重新申请") % {"base": row.based_on.number,
                                                                     "current": current.number})
            base = row.based_on
            p = row.proposed
            lines = ([contracts.LineIn(**d) for d in p["budget"]] if "budget" in p else
                     [contracts.LineIn(category=b.category, item=b.item, amount=b.amount, note=b.note)
                      for b in base.budget_lines.all()])
            plan = contracts.new_plan_version(actor=actor, project=project, lines=lines,
                                              schedule=p.get("schedule", base.schedule),
                                              content=p.get("content", base.content), change_request=row)
            row.result = plan
        row.decided_by, row.decided_at, row.decision_note = actor, timezone.now(), note
        row.save(update_fields=["result", "decided_by", "decided_at", "decision_note"])
        row = CHANGE_REQUEST.perform(user=actor, obj=row, action=action, note=note,
                                     extra_after={"plan": plan.number if plan else None})
    return row


def withdraw(*, actor, change: ChangeRequest, ip: str | None = None) -> ChangeRequest:
    if change.status == ChangeRequest.Status.WITHDRAWN:
        return change
    return CHANGE_REQUEST.perform(user=actor, obj=change, action="withdraw")


@dataclass
class VersionRow:
    plan: PlanVersion
    change: ChangeRequest | None
    total: int
    budget_diff: list[tuple[str, int, int]]  # (category label, before, after) for the categories that moved
    schedule_changed: bool
    content_changed: bool


def history(project: Project) -> list[VersionRow]:
    """Every plan version, newest first, with what changed from the one before and the approved request."""
    versions = list(PlanVersion.objects.filter(project=project).prefetch_related("budget_lines")
                    .select_related("change_request", "created_by").order_by("number"))
    out, prev = [], None
    for v in versions:
        lines = list(v.budget_lines.all())
        diff = []
        if prev is not None:
            before = _by_category(list(prev.budget_lines.all()))
            after = _by_category(lines)
            for cat in sorted(set(before) | set(after), key=lambda c: list(contracts.CATEGORIES).index(c)
                              if c in contracts.CATEGORIES else 99):
                if before.get(cat, 0) != after.get(cat, 0):
                    diff.append((str(contracts.CATEGORIES.get(cat, cat)), before.get(cat, 0), after.get(cat, 0)))
        out.append(VersionRow(plan=v, change=v.change_request, total=sum(b.amount for b in lines), budget_diff=diff,
                              schedule_changed=prev is not None and prev.schedule != v.schedule,
                              content_changed=prev is not None and prev.content != v.content))
        prev = v
    return list(reversed(out))


def _by_category(lines) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in lines:
        out[b.category] = out.get(b.category, 0) + b.amount
    return out
