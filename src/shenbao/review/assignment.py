"""Assignment of applications to experts (评审分配): the automatic, exact one as a background job, and the
staff's adjustments by hand afterwards (add, remove with a reason, swap), conflicts always refused.

Which applications: those of the call (and type) that are submitted; once the call's screening has begun
(a `Screening` row exists for one of them) only those whose screening is accepted (形式审查通过).
Which experts: the active experts of the call's issuer's pool.
Settings from the call's `review` block: `experts_per_application` (k), `max_load` (applications per
expert in the call; when the call leaves it open: the even spread ⌈P·k / R⌉ over the call's eligible
applications), `outside_region` (at least one expert from outside the applicant's region; regions
compared as written, ignoring spaces; unknown regions never count as "outside").

A run keeps what it must not touch: manual assignments, and automatic ones whose score sheet is submitted;
they count towards k and the loads. The other live automatic assignments of those applications are
replaced (a pair chosen again keeps its row; the others are removed with `REPLACED_REASON`, kept as
rows). Pairs staff removed by hand are not proposed again. The optimiser (`assignment_solver`) maximises
the total affinity (`affinity`, jieba + TF-IDF) over the allowed pairs (conflicts from
`conflicts.conflicts_between` left out); the run records the objective and its bound, or the reason it
could not assign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.core import audit, jobs
from shenbao.core.decisions import NotAllowed, require
from shenbao.review import affinity, permissions
from shenbao.review.assignment_solver import Infeasible, Problem, solve
from shenbao.review.conflicts import conflict_causes, conflicts_between
from shenbao.review.models import Assignment, AssignmentRun, Expert, ScoreSheet, Screening

REPLACED_REASON = "重新自动分配时替换"
#: pools up to this many experts: every allowed pair is offered to the optimiser; beyond, each
#: application's top-K (`candidate_count`), and all pairs again if the sparse list cannot be assigned
DENSE_POOL = 300
DENSE_PAIRS = 3_000_000


# --- selectors ------------------------------------------------------------------------------------------


def eligible_applications(call: Call, project_type=None):
    """The applications to assign: submitted; once screening has begun, only those it accepted."""
    qs = Application.objects.filter(call=call, status=Application.Status.SUBMITTED)
    if Screening.objects.filter(application__call=call).exists():
        qs = qs.filter(screening__state=Screening.State.ACCEPTED)
    if project_type is not None:
        qs = qs.filter(project_type=project_type)
    return qs.order_by("id")


def expert_pool(call: Call):
    return Expert.objects.filter(funder_id=call.issuer_id, active=True).order_by("id")


def live(call: Call):
    return Assignment.objects.filter(application__call=call, removed_at__isnull=True)


@dataclass
class Settings:
    k: int
    max_load: int
    outside_region: bool


def settings_for(call: Call, *, n_applications: int | None = None, n_experts: int | None = None) -> Settings:
    review = call.document.review
    k = int(review.experts_per_application)
    max_load = review.max_load
    if max_load is None:
        p = eligible_applications(call).count() if n_applications is None else n_applications
        r = expert_pool(call).count() if n_experts is None else n_experts
        max_load = max(1, math.ceil(p * k / r)) if r else 0
    return Settings(k=k, max_load=int(max_load), outside_region=bool(review.outside_region))


def load_of(call: Call) -> dict[int, int]:
    """{expert id: live assignments in the call}."""
    return dict(live(call).values_list("expert_id").annotate(n=Count("id")).values_list("expert_id", "n"))


def region_key(text: str) -> str:
    return "".join((text or "").split())


def _region_codes(apps, experts):
    """Integer region codes (−1: unknown) of the applicants and the experts."""
    from shenbao.orgs.selectors import region_of

    cache: dict[int, str] = {}

    def of_org(org) -> str:
        if org is None:
            return ""
        if org.pk not in cache:
            cache[org.pk] = region_key(region_of(org))
        return cache[org.pk]

    codes: dict[str, int] = {}

    def code(key: str) -> int:
        return codes.setdefault(key, len(codes)) if key else -1

    app_regions = np.array([code(of_org(a.applicant)) for a in apps], dtype=np.int64)
    exp_regions = np.array([code(region_key(e.region) or of_org(e.organisation)) for e in experts], dtype=np.int64)
    return app_regions, exp_regions


# --- the automatic assignment ---------------------------------------------------------------------------


def start_run(*, actor, call: Call, project_type=None, ip: str | None = None):
    """Queue an automatic assignment of the call (one type, or every type) as a background job; the job's
    page shows its progress. A run of the call still going is returned instead of a second one."""
    require(permissions.can_run_assignment(actor, call))
    if project_type is not None and project_type.call_id != call.pk:
        raise NotAllowed(_("该项目类型不属于本通知"))
    with transaction.atomic():
        Call.objects.select_for_update().filter(pk=call.pk).first()
        going = (AssignmentRun.objects.filter(call=call, state=AssignmentRun.State.RUNNING)
                 .select_related("job").first())
        if going is not None and going.job is not None and not going.job.finished:
            return going.job
        if going is not None:  # its job ended without saying so (worker lost): close it
            AssignmentRun.objects.filter(pk=going.pk).update(state=AssignmentRun.State.FAILED,
                                                             finished_at=timezone.now())
        if not eligible_applications(call, project_type).exists():
            raise NotAllowed(_("没有可分配的申报（须已提交，开始形式审查后须审查通过）"))
        if not expert_pool(call).exists():
            raise NotAllowed(_("专家库中没有在库专家，请先导入专家"))
        run = AssignmentRun.objects.create(call=call, project_type=project_type, started_by=actor)
        label = _("评审专家自动分配：%(call)s") % {"call": call.title[:60]}
        if project_type is not None:
            label += f"（{project_type.code} {project_type.name[:40]}）"
        job = jobs.start(assign_job, user=actor, label=label, run_id=run.pk)
        AssignmentRun.objects.filter(pk=run.pk).update(job=job)
        run.job = job
        audit.record(actor=actor, action="assignment.run", obj=run, ip=ip,
                     after={"call": call.code, "project_type": project_type.code if project_type else None,
                            "job": job.pk})
    return job


@task()
@jobs.tracked
def assign_job(job, *, run_id: int) -> dict | None:
    run = AssignmentRun.objects.select_related("call", "project_type", "started_by").filter(pk=run_id).first()
    if run is None or run.state != AssignmentRun.State.RUNNING:
        return None

    def progress(step: int, message: str) -> None:
        jobs.report(job, step, STEPS, message)

    try:
        outcome = execute(run, progress=progress)
    except Exception:
        AssignmentRun.objects.filter(pk=run.pk, state=AssignmentRun.State.RUNNING).update(
            state=AssignmentRun.State.FAILED, finished_at=timezone.now())
        raise
    url = reverse("review:assignment", args=[run.call.code])
    if run.project_type_id:
        url += f"?type={run.project_type_id}"
    if outcome.state != AssignmentRun.State.DONE:
        jobs.finish(job, url=url, name=_("查看分配页面"))
        raise jobs.JobError(outcome.message)
    values = {"n": outcome.assigned, "obj": outcome.objective or 0, "bound": outcome.bound or 0}
    if (outcome.gap or 0) <= 1e-9:
        text = _("已分配 %(n)d 人次；总匹配度 %(obj).4f，上界 %(bound).4f（最优）") % values
    else:  # affinities rounded for the flow: the optimum lies within the gap
        text = _("已分配 %(n)d 人次；总匹配度 %(obj).4f，上界 %(bound).4f（与最优解之差不超过两者之差）") % values
    jobs.finish(job, url=url, name=_("查看分配结果"), message=text)
    return {"run": run.pk, "objective": outcome.objective, "bound": outcome.bound}


STEPS = 5


def _reason(bad: Infeasible, apps: list) -> str:
    """The solver's reason in the user's language, naming the applications concerned (a few)."""
    named = [apps[i] for i in bad.apps[:5] if i < len(apps)]
    names = "、".join(f"{a.number or a.pk}《{a.title[:30]}》" for a in named)
    more = _("等 %(n)d 份") % {"n": len(bad.apps)} if len(bad.apps) > len(named) else ""
    d = bad.detail
    if bad.code == "few_candidates":
        text = _("%(n)d 份申报可选（无回避）的专家少于所需人数") % {"n": len(bad.apps)}
    elif bad.code == "no_outside":
        text = _("%(n)d 份申报没有可选的外地专家（本通知要求每份申报至少一位申报单位所在地区以外的专家）") % {
            "n": len(bad.apps)}
    elif bad.code == "capacity":
        text = _("专家总评审容量 %(cap)d 人次少于所需的 %(need)d 人次，请增加专家或提高每位专家的评审上限") % {
            "cap": d.get("capacity", 0), "need": d.get("demand", 0)}
    elif bad.code == "cut":
        text = _("%(n)d 份申报可选的专家评审容量不足：最多可分配 %(flow)d 人次，需要 %(need)d 人次") % {
            "n": len(bad.apps), "flow": d.get("max_flow", 0), "need": d.get("demand", 0)}
    elif bad.code == "min_load":
        text = _("无法满足专家的最低评审数")
    else:
        text = _("无法完成分配：%(why)s") % {"why": bad.message}
    if names:
        text += _("：%(names)s%(more)s") % {"names": names, "more": more}
    return text


def execute(run: AssignmentRun, *, progress=lambda step, message: None) -> AssignmentRun:
    """Compute and save one run (the job's body; callable directly). Returns the run, updated."""
    call, ptype = run.call, run.project_type
    progress(0, _("正在读取申报与专家"))
    apps = list(eligible_applications(call, ptype).select_related("applicant__parent", "current_snapshot"))
    types = {t.pk: t for t in call.types.all()}
    for t in types.values():
        t.call = call
    for a in apps:
        # one call row (and its document) for all, not a query and a parse per application
        a.call = call
        a.project_type = types[a.project_type_id]
    experts = list(expert_pool(call).select_related("organisation__parent"))
    cfg = settings_for(call, n_experts=len(experts))
    P, R = len(apps), len(experts)
    app_index = {a.pk: i for i, a in enumerate(apps)}
    exp_index = {e.pk: j for j, e in enumerate(experts)}

    # what stays: live assignments in the call that are manual, or scored, or of other applications
    submitted = set(ScoreSheet.objects.filter(assignment__application__call=call,
                                              state=ScoreSheet.State.SUBMITTED).values_list("assignment_id", flat=True))
    replaceable: dict[tuple[int, int], Assignment] = {}
    kept_pairs: set[tuple[int, int]] = set()
    kept_per_app = np.zeros(P, dtype=np.int64)
    kept_load = np.zeros(R, dtype=np.int64)
    for a in live(call).only("id", "application_id", "expert_id", "source", "affinity"):
        mine = a.application_id in app_index
        if mine and a.source == Assignment.Source.AUTO and a.pk not in submitted:
            replaceable[(a.application_id, a.expert_id)] = a
            continue
        kept_pairs.add((a.application_id, a.expert_id))
        if mine:
            kept_per_app[app_index[a.application_id]] += 1
        if a.expert_id in exp_index:
            kept_load[exp_index[a.expert_id]] += 1
    # pairs staff removed by hand are not proposed again
    by_hand = set(Assignment.objects.filter(application_id__in=app_index, removed_at__isnull=False)
                  .exclude(removed_reason=REPLACED_REASON).values_list("application_id", "expert_id"))

    progress(1, _("正在计算回避关系（%(p)d 份申报 × %(r)d 位专家）") % {"p": P, "r": R})
    conflicted = conflicts_between(apps, experts)
    progress(2, _("正在计算申报内容与专家研究方向的匹配度"))
    excluded = set(conflicted) | kept_pairs | by_hand
    texts = affinity.application_texts(apps)
    profiles = affinity.expert_profiles(experts)
    dense = R <= DENSE_POOL or P * R <= 200_000
    top_k = 0 if dense else candidate_count(cfg.k)
    cands = affinity.candidates(texts, profiles, top_k=top_k, exclude=excluded)

    need = np.maximum(0, cfg.k - kept_per_app)
    cap = np.maximum(0, cfg.max_load - kept_load)
    regions = _region_codes(apps, experts) if cfg.outside_region else (None, None)
    if cfg.outside_region:
        # an application that already keeps an outside expert needs no other
        has_outside = np.zeros(P, dtype=bool)
        for (aid, eid) in kept_pairs:
            i, j = app_index.get(aid), exp_index.get(eid)
            if i is not None and j is not None and regions[0][i] >= 0 and regions[1][j] >= 0 \
                    and regions[0][i] != regions[1][j]:
                has_outside[i] = True
        regions = (np.where(has_outside, -1, regions[0]), regions[1])

    def problem(c) -> Problem:
        return Problem(n_apps=P, n_experts=R, pair_app=c.app, pair_expert=c.expert, affinity=c.score, k=need,
                       max_load=cap, app_region=regions[0], expert_region=regions[1])

    progress(3, _("正在求解最优分配（%(n)d 个可选配对）") % {"n": len(cands.score)})
    result = solve(problem(cands))
    if not result.feasible and not dense and P * R <= DENSE_PAIRS:
        cands = affinity.candidates(texts, profiles, top_k=0, exclude=excluded)
        result = solve(problem(cands))

    run.applications, run.experts = P, R
    run.conflicts = len(conflicted)
    run.candidates = len(cands.score)
    run.kept = sum(1 for p in kept_pairs if p[0] in app_index)
    run.experts_per_application, run.max_load, run.outside_region = cfg.k, cfg.max_load, cfg.outside_region
    run.topk_bound = result.topk_bound
    if not result.feasible:
        run.state = AssignmentRun.State.INFEASIBLE
        run.message = _reason(result.infeasible, apps)
        run.problem_applications = [apps[i].pk for i in result.infeasible.apps[:200] if i < P]
        run.finished_at = timezone.now()
        run.save()
        audit.record(actor=run.started_by, action="assignment.infeasible", obj=run, note=run.message)
        return run

    progress(4, _("正在保存分配结果"))
    new_pairs = {(apps[i].pk, experts[j].pk): float(w)
                 for i, j, w in zip(result.app.tolist(), result.expert.tolist(), result.affinity.tolist(),
                                    strict=True)}
    now = timezone.now()
    with transaction.atomic():
        if not jobs.once(f"assignment-run:{run.pk}"):
            run.refresh_from_db()
            return run
        reused, removed = [], []
        for pair, row in replaceable.items():
            if pair in new_pairs:
                reused.append(pair)
                if row.affinity != new_pairs[pair]:
                    Assignment.objects.filter(pk=row.pk).update(affinity=new_pairs[pair])
            else:
                removed.append(row.pk)
        Assignment.objects.filter(pk__in=removed, removed_at__isnull=True).update(
            removed_at=now, removed_by=run.started_by, removed_reason=REPLACED_REASON)
        fresh = [Assignment(application_id=a, expert_id=e, source=Assignment.Source.AUTO, affinity=w,
                            created_by=run.started_by)
                 for (a, e), w in new_pairs.items() if (a, e) not in replaceable]
        Assignment.objects.bulk_create(fresh, batch_size=1000)
        run.assigned = len(new_pairs)
        run.replaced = len(removed)
        run.objective = result.objective
        run.bound = result.bound
        run.state = AssignmentRun.State.DONE
        run.finished_at = timezone.now()
        run.save()
        audit.record(actor=run.started_by, action="assignment.auto", obj=run, after={
            "assigned": run.assigned, "kept": run.kept, "replaced": run.replaced, "objective": run.objective,
            "bound": run.bound, "pairs": sorted([a, e] for a, e in new_pairs)})
    progress(STEPS, _("分配完成"))
    return run


def candidate_count(k: int) -> int:
    """How many candidate experts each application offers the optimiser in a large pool."""
    return max(20 * k, 100)


# --- adjustments by hand -------------------------------------------------------------------------------


def _clean_reason(reason: str, *, required: bool) -> str:
    text = " ".join((reason or "").split())
    if required and not text:
        raise NotAllowed(_("请填写理由"))
    if len(text) > 200:
        raise NotAllowed(_("理由最多 200 字"))
    return text


def _pair_affinity(application, expert) -> float:
    c = affinity.candidates(affinity.application_texts([application]), affinity.expert_profiles([expert]), top_k=0)
    return float(c.score[0]) if len(c.score) else 0.0


def _no_run_going(call: Call) -> None:
    """Adjustments wait for a running automatic assignment of the call (it would replace them)."""
    going = AssignmentRun.objects.filter(call=call, state=AssignmentRun.State.RUNNING).select_related("job").first()
    if going is not None and going.job is not None and not going.job.finished:
        raise NotAllowed(_("本通知的自动分配正在进行，请完成后再调整"))


def _check_add(application, expert, *, ignoring: Assignment | None = None) -> None:
    call = application.call
    _no_run_going(call)
    if expert.funder_id != call.issuer_id:
        raise NotAllowed(_("该专家不在本通知主办方的专家库中"))
    if not expert.active:
        raise NotAllowed(_("该专家已不在专家库中"))
    if not eligible_applications(call).filter(pk=application.pk).exists():
        raise NotAllowed(_("该申报不在可分配之列（须已提交，开始形式审查后须审查通过）"))
    causes = conflict_causes(application, expert)
    if causes:
        raise NotAllowed(_("%(name)s 须回避该申报，不能分配：%(causes)s") % {
            "name": expert.name, "causes": "；".join(c.text for c in causes)})
    cfg = settings_for(call)
    current = live(call).filter(expert=expert)
    if ignoring is not None:
        current = current.exclude(pk=ignoring.pk)
    if cfg.max_load and current.count() >= cfg.max_load:
        raise NotAllowed(_("%(name)s 在本通知已分配 %(n)d 份，达到每位专家的评审上限 %(max)d 份") % {
            "name": expert.name, "n": current.count(), "max": cfg.max_load})
    on_app = Assignment.objects.filter(application=application, removed_at__isnull=True)
    if ignoring is not None:
        on_app = on_app.exclude(pk=ignoring.pk)
    if on_app.count() >= cfg.k:
        raise NotAllowed(_("该申报已有 %(k)d 位评审专家，请先移除一位或使用替换") % {"k": cfg.k})


def _lock_application(application) -> Application:
    return Application.objects.select_for_update().select_related("call").get(pk=application.pk)


def add(*, actor, application, expert, reason: str = "", ip: str | None = None) -> Assignment:
    """Assign `expert` to `application` by hand. A conflicted pair is refused with its cause; the same pair
    again returns the live assignment (a double submit is harmless)."""
    require(permissions.can_adjust_assignment(actor, application.call))
    note = _clean_reason(reason, required=False)
    with transaction.atomic():
        app = _lock_application(application)
        existing = Assignment.objects.filter(application=app, expert=expert, removed_at__isnull=True).first()
        if existing is not None:
            return existing
        _check_add(app, expert)
        row = Assignment.objects.create(application=app, expert=expert, source=Assignment.Source.MANUAL,
                                        affinity=_pair_affinity(app, expert), created_by=actor)
        audit.record(actor=actor, action="assignment.add", obj=row, ip=ip, note=note,
                     after={"application": app.pk, "expert": expert.pk, "affinity": row.affinity})
    return row


def remove(*, actor, assignment: Assignment, reason: str, ip: str | None = None) -> Assignment:
    """Take an expert off an application, with a reason; the row is kept (`removed_at`). An assignment
    whose score sheet is submitted is not removed."""
    require(permissions.can_adjust_assignment(actor, assignment.application.call))
    text = _clean_reason(reason, required=True)
    with transaction.atomic():
        row = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if row.removed_at is not None:
            return row
        if ScoreSheet.objects.filter(assignment=row, state=ScoreSheet.State.SUBMITTED).exists():
            raise NotAllowed(_("该专家已提交评分表，不能移除"))
        _no_run_going(assignment.application.call)
        row.removed_at, row.removed_by, row.removed_reason = timezone.now(), actor, text
        row.save(update_fields=["removed_at", "removed_by", "removed_reason"])
        audit.record(actor=actor, action="assignment.remove", obj=row, ip=ip, note=text,
                     before={"removed_at": None}, after={"removed_at": row.removed_at, "reason": text})
    return row


def swap(*, actor, assignment: Assignment, expert, reason: str, ip: str | None = None) -> Assignment:
    """Replace the expert of an assignment by another (removal with the reason, then a manual assignment),
    all or nothing: a conflicted or overloaded new expert leaves everything as it was."""
    require(permissions.can_adjust_assignment(actor, assignment.application.call))
    text = _clean_reason(reason, required=True)
    with transaction.atomic():
        app = _lock_application(assignment.application)
        row = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if row.removed_at is not None:
            replacement = Assignment.objects.filter(application=app, expert=expert, removed_at__isnull=True).first()
            if replacement is not None:
                return replacement  # the same swap submitted twice
            raise NotAllowed(_("该分配已被移除"))
        if row.expert_id == expert.pk:
            raise NotAllowed(_("替换的专家与原专家相同"))
        if Assignment.objects.filter(application=app, expert=expert, removed_at__isnull=True).exists():
            raise NotAllowed(_("%(name)s 已分配给该申报") % {"name": expert.name})
        if ScoreSheet.objects.filter(assignment=row, state=ScoreSheet.State.SUBMITTED).exists():
            raise NotAllowed(_("该专家已提交评分表，不能替换"))
        _check_add(app, expert, ignoring=row)
        row.removed_at, row.removed_by, row.removed_reason = timezone.now(), actor, text
        row.save(update_fields=["removed_at", "removed_by", "removed_reason"])
        new = Assignment.objects.create(application=app, expert=expert, source=Assignment.Source.MANUAL,
                                        affinity=_pair_affinity(app, expert), created_by=actor)
        audit.record(actor=actor, action="assignment.swap", obj=new, ip=ip, note=text,
                     before={"expert": row.expert_id, "assignment": row.pk},
                     after={"expert": expert.pk, "assignment": new.pk, "affinity": new.affinity})
    return new


# --- what the pages show -------------------------------------------------------------------------------


def overview(call: Call, project_type=None) -> dict:
    """Per eligible application: its live assignments (expert, affinity, source) and any conflict that
    arose since (a conflicted live pair is flagged with its causes); the latest run."""
    apps = list(eligible_applications(call, project_type).select_related("applicant", "project_type"))
    rows = list(Assignment.objects.filter(application__in=apps, removed_at__isnull=True)
                .select_related("expert").order_by("application_id", "-affinity", "id"))
    experts = {r.expert_id: r.expert for r in rows}
    flagged = conflicts_between(apps, list(experts.values())) if rows else {}
    by_app: dict[int, list] = {a.pk: [] for a in apps}
    for r in rows:
        r.conflict_causes = flagged.get((r.application_id, r.expert_id), [])
        by_app[r.application_id].append(r)
    cfg = settings_for(call)
    loads = load_of(call)
    runs = AssignmentRun.objects.filter(call=call).select_related("project_type", "job")
    if project_type is not None:
        runs = runs.filter(Q(project_type=project_type) | Q(project_type__isnull=True))
    return {
        "applications": [{"application": a, "assignments": by_app[a.pk],
                          "total": sum(r.affinity for r in by_app[a.pk]),
                          "short": len(by_app[a.pk]) < cfg.k,
                          "conflicted": any(r.conflict_causes for r in by_app[a.pk])} for a in apps],
        "settings": cfg,
        "loads": loads,
        "expert_loads": sorted(({"expert": e, "load": loads.get(e.pk, 0)} for e in expert_pool(call)),
                               key=lambda x: (-x["load"], x["expert"].name, x["expert"].pk)),
        "runs": list(runs[:10]),
        "latest": runs.first(),
        "conflicted_live": sum(1 for r in rows if r.conflict_causes),
        "assigned": len(rows),
    }


def options_for(application) -> list[dict]:
    """The pool's experts for one application, best match first, each with its conflict causes (shown,
    not offered) and its load in the call."""
    call = application.call
    experts = list(expert_pool(call).select_related("organisation"))
    if not experts:
        return []
    causes = conflicts_between([application], experts)
    c = affinity.candidates(affinity.application_texts([application]), affinity.expert_profiles(experts), top_k=0)
    score = dict(zip(c.expert.tolist(), c.score.tolist(), strict=True))
    loads = load_of(call)
    assigned = set(Assignment.objects.filter(application=application, removed_at__isnull=True)
                   .values_list("expert_id", flat=True))
    out = [{"expert": e, "affinity": score.get(j, 0.0), "causes": causes.get((application.pk, e.pk), []),
            "load": loads.get(e.pk, 0), "assigned": e.pk in assigned} for j, e in enumerate(experts)]
    out.sort(key=lambda o: (bool(o["causes"]), -o["affinity"], o["expert"].pk))
    return out
