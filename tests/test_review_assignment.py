"""Assignment of applications to experts on a real call (issue 8 item 4): the automatic, exact assignment as
a background job with progress (k experts each, loads, never a conflicted pair, the optimum checked against
CP-SAT on the same affinities, the outside-region rule, the reason when it cannot assign), re-runs that
keep manual and scored assignments, the screening rule, adjustments by hand (a conflicted pair refused with
its cause, removal with a reason keeps the row, swap all-or-nothing), all audited; pages and API."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from django.urls import reverse
from django.utils import timezone

from shenbao.applications.models import Application, Snapshot
from shenbao.applications.samples import sample_values
from shenbao.calls import services as call_services
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent, Job
from shenbao.orgs.models import Role
from shenbao.review import affinity, assignment
from shenbao.review.conflicts import conflicts_between
from shenbao.review.models import Assignment, AssignmentRun, Expert, ScoreSheet, Screening
from tests.conftest import CALL_FILES, CALLS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]

SUBJECTS = [
    ("螺蛳粉产业科普讲座", "螺蛳粉发酵工艺与食品安全科普，面向市民宣讲食品安全知识"),
    ("新能源汽车智能制造学术交流", "新能源汽车电池技术与智能制造学术报告会"),
    ("乡村振兴农业技术推广", "组织农业技术专家下乡推广水稻种植与病虫害防治"),
    ("青少年人工智能科普营", "人工智能与机器人编程科普活动，面向中小学生"),
    ("柳州工业遗产与机械工程史", "机械工程学科史料整理与工业遗产保护"),
    ("中医药健康科普进社区", "中医药养生与慢性病防治健康讲座"),
]
EXPERTS = [
    ("食品专家", ["食品科学"], ["螺蛳粉", "发酵", "食品安全"], "柳州市"),
    ("汽车专家", ["机械工程"], ["新能源汽车", "智能制造", "电池"], "南宁市"),
    ("农业专家", ["农学"], ["农业技术", "水稻", "病虫害"], "柳州市"),
    ("信息专家", ["计算机"], ["人工智能", "机器人", "编程"], "桂林市"),
    ("机械专家", ["机械工程"], ["机械工程", "工业遗产"], "柳州市"),
    ("医学专家", ["中医药"], ["中医药", "健康", "慢性病"], "南宁市"),
    ("综合专家", ["科普"], ["科普", "学术交流"], "梧州市"),
]


def variant(name: str, suffix: str, **review):
    """A real call's document with review fields changed (its own code), loaded and published."""
    data = yaml.safe_load((CALLS / CALL_FILES[name]).read_text("utf-8"))
    data["code"] = f"{data['code']}-{suffix}"
    data["title"] = f"{data['title']}（{suffix}）"
    data["review"] = {**data.get("review", {}), **review}
    return call_services.load_call(text=yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                   filename=f"{suffix}.yaml", publish=True).call


def submitted(call, org, title: str, content: str, n: int, type_code: str = "2026-1") -> Application:
    """A submitted application with the form filled by the sample filler, its title and plan replaced."""
    ptype = call.types.get(code=type_code)
    form = call.document.form_for(ptype.document)
    track = ptype.document.tracks[0].code if ptype.document.tracks else None
    values = sample_values(form=form, type_doc=ptype.document, org_name=org.name, track=track,
                           today=timezone.localdate())
    for f in form.all_fields():
        if f.kind == "long_text":
            values[f.key] = content
        if f.title:
            values[f.key] = title
    now = timezone.now()
    number = f"{call.year}-{type_code[-1]}-{n:04d}"
    app = Application.objects.create(call=call, project_type=ptype, applicant=org, title=title, number=number,
                                     status="submitted", submitted_at=now, data=values)
    snap = Snapshot.objects.create(application=app, number=1, draft_version=1, fingerprint=f"{app.pk:064x}",
                                   submitted_at=now, values={"values": values, "title": title,
                                                             "application_number": number, "participants": []})
    app.current_snapshot = snap
    app.save(update_fields=["current_snapshot"])
    return app


def build(call, make_org, make_user, *, n_apps: int = 6):
    staff = make_user(f"staff_{call.pk}", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    regions = ["柳州市", "南宁市", "柳州市", "桂林市", "柳州市", "南宁市"]
    orgs = [make_org(f"测试学会{call.pk}-{i}", "city_society", parent=call.issuer, region=regions[i % 6])
            for i in range(n_apps)]
    apps = [submitted(call, orgs[i], *SUBJECTS[i % 6], n=i + 1) for i in range(n_apps)]
    experts = [Expert.objects.create(funder=call.issuer, name=name, organisation_name="某研究院", fields=fields,
                                     keywords=kws, region=region)
               for name, fields, kws, region in EXPERTS]
    # 食品专家 works at the unit of application 0: a conflict (same unit)
    experts[0].organisation = orgs[0]
    experts[0].organisation_name = orgs[0].name
    experts[0].save()
    return staff, orgs, apps, experts


@pytest.fixture
def scene(load_call, make_org, make_user):
    call = variant("liuzhou2026", "asg", experts_per_application=3, max_load=3)
    staff, orgs, apps, experts = build(call, make_org, make_user)
    return call, staff, orgs, apps, experts


def run_now(call, staff, capture, project_type=None) -> tuple[Job, AssignmentRun]:
    with capture(execute=True):
        job = assignment.start_run(actor=staff, call=call, project_type=project_type)
    job.refresh_from_db()
    return job, AssignmentRun.objects.get(job=job)


def live_pairs(call) -> set[tuple[int, int]]:
    return set(assignment.live(call).values_list("application_id", "expert_id"))


def cp_sat_optimum(apps, experts, k, max_load, excluded, regions=None) -> float:
    """The optimum by CP-SAT over the same affinities (independent of the flow)."""
    from ortools.sat.python import cp_model

    c = affinity.candidates(affinity.application_texts(apps), affinity.expert_profiles(experts), top_k=0,
                            exclude=excluded)
    m = cp_model.CpModel()
    x = {(int(i), int(j)): (m.new_bool_var(f"x{i}_{j}"), float(s))
         for i, j, s in zip(c.app, c.expert, c.score, strict=True)}
    for i in range(len(apps)):
        m.add(sum(v for (a, _), (v, _) in x.items() if a == i) == k)
        if regions is not None and regions[0][i] >= 0:
            m.add(sum(v for (a, j), (v, _) in x.items()
                      if a == i and regions[1][j] >= 0 and regions[1][j] != regions[0][i]) >= 1)
    for j in range(len(experts)):
        m.add(sum(v for (_, e), (v, _) in x.items() if e == j) <= max_load)
    m.maximize(sum(round(s * 1e6) * v for (v, s) in x.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(m) == cp_model.OPTIMAL
    return solver.objective_value / 1e6


# --- the automatic assignment -----------------------------------------------------------------------------


def test_run_assigns_k_each_within_loads_without_conflicts_at_the_optimum(scene, django_capture_on_commit_callbacks):
    # R-V1: the funder's staff run the expert review's assignment
    call, staff, _orgs, apps, experts = scene
    conflicted = conflicts_between(apps, experts)
    assert (apps[0].pk, experts[0].pk) in conflicted  # the same unit
    job, run = run_now(call, staff, django_capture_on_commit_callbacks)

    assert job.state == Job.State.DONE and job.done == job.total == assignment.STEPS  # progress recorded
    assert job.result_url == reverse("review:assignment", args=[call.code])
    assert run.state == AssignmentRun.State.DONE
    rows = list(assignment.live(call))
    per_app = {a.pk: 0 for a in apps}
    load = {e.pk: 0 for e in experts}
    for r in rows:
        per_app[r.application_id] += 1
        load[r.expert_id] += 1
        assert (r.application_id, r.expert_id) not in conflicted  # never a conflicted pair
        assert r.source == Assignment.Source.AUTO
    assert set(per_app.values()) == {3}  # exactly k
    assert max(load.values()) <= 3  # loads respected
    # the objective is the total affinity saved, and it is the optimum (CP-SAT on the same affinities)
    assert run.objective == pytest.approx(sum(r.affinity for r in rows))
    assert run.bound == pytest.approx(run.objective) and run.topk_bound >= run.objective
    assert run.objective == pytest.approx(cp_sat_optimum(apps, experts, 3, 3, set(conflicted)), abs=1e-6)
    # the best match is taken where the loads allow: 汽车专家 reviews the car application
    assert (apps[1].pk, experts[1].pk) in live_pairs(call)
    assert AuditEvent.objects.filter(action="assignment.auto", object_id=str(run.pk)).exists()
    assert AuditEvent.objects.filter(action="assignment.run", object_id=str(run.pk)).exists()


def test_outside_region_rule_held(load_call, make_org, make_user, django_capture_on_commit_callbacks):
    call = variant("liuzhou2026", "region", experts_per_application=2, max_load=2, outside_region=True)
    staff, _orgs, apps, experts = build(call, make_org, make_user)
    _job, run = run_now(call, staff, django_capture_on_commit_callbacks)
    assert run.state == AssignmentRun.State.DONE and run.outside_region
    region = {e.pk: e.region for e in experts}
    for app in apps:
        mine = assignment.live(call).filter(application=app).values_list("expert_id", flat=True)
        assert len(mine) == 2
        assert any(region[e] != app.applicant.region for e in mine), app.title
    app_regions, exp_regions = assignment._region_codes(apps, experts)
    ref = cp_sat_optimum(apps, experts, 2, 2, set(conflicts_between(apps, experts)), (app_regions, exp_regions))
    assert run.objective == pytest.approx(ref, abs=1e-6)


def test_infeasible_run_says_why_and_changes_nothing(load_call, make_org, make_user,
                                                     django_capture_on_commit_callbacks):
    # 7 experts, 7 per application: application 0 loses 食品专家 to the conflict
    call = variant("liuzhou2026", "tight", experts_per_application=7, max_load=6)
    staff, _orgs, apps, _experts = build(call, make_org, make_user)
    job, run = run_now(call, staff, django_capture_on_commit_callbacks)
    assert run.state == AssignmentRun.State.INFEASIBLE
    assert run.problem_applications == [apps[0].pk]
    assert "可选（无回避）的专家少于所需人数" in run.message and apps[0].number in run.message
    assert job.state == Job.State.FAILED and job.error == run.message
    assert not assignment.live(call).exists()


def test_capacity_shortage_is_explained(load_call, make_org, make_user, django_capture_on_commit_callbacks):
    call = variant("liuzhou2026", "cap", experts_per_application=3, max_load=2)
    staff, _orgs, _apps, _experts = build(call, make_org, make_user)
    _job, run = run_now(call, staff, django_capture_on_commit_callbacks)
    assert run.state == AssignmentRun.State.INFEASIBLE
    assert "专家总评审容量 14 人次少于所需的 18 人次" in run.message


def test_rerun_keeps_manual_and_scored_and_never_proposes_a_pair_removed_by_hand(
        scene, django_capture_on_commit_callbacks):
    call, staff, _orgs, _apps, _experts = scene
    run_now(call, staff, django_capture_on_commit_callbacks)
    first = list(assignment.live(call).order_by("id"))
    scored = first[0]
    ScoreSheet.objects.create(assignment=scored, state=ScoreSheet.State.SUBMITTED, submitted_at=timezone.now())
    dropped = next(a for a in first if a.application_id != scored.application_id)
    assignment.remove(actor=staff, assignment=dropped, reason="专家临时出差")
    _job, run = run_now(call, staff, django_capture_on_commit_callbacks)
    assert run.state == AssignmentRun.State.DONE
    pairs = live_pairs(call)
    assert (scored.application_id, scored.expert_id) in pairs  # a submitted sheet stays
    assert (dropped.application_id, dropped.expert_id) not in pairs  # removed by hand: not again
    assert run.kept == 1
    per_app = {}
    for a, _ in pairs:
        per_app[a] = per_app.get(a, 0) + 1
    assert set(per_app.values()) == {3}
    # removed rows are kept, with their reasons
    assert Assignment.objects.filter(pk=dropped.pk, removed_reason="专家临时出差").exists()
    assert all(r.removed_reason == assignment.REPLACED_REASON
               for r in Assignment.objects.filter(application__call=call, removed_at__isnull=False)
               .exclude(pk=dropped.pk))


def test_screening_decides_which_applications(scene, django_capture_on_commit_callbacks):
    call, staff, _orgs, apps, _experts = scene
    assert list(assignment.eligible_applications(call)) == apps  # no screening yet: every submitted one
    Screening.objects.create(application=apps[0], state=Screening.State.ACCEPTED)
    Screening.objects.create(application=apps[1], state=Screening.State.RETURNED)
    assert list(assignment.eligible_applications(call)) == [apps[0]]
    _job, run = run_now(call, staff, django_capture_on_commit_callbacks)
    assert run.applications == 1
    assert {a for a, _ in live_pairs(call)} == {apps[0].pk}


def test_only_the_issuers_staff_runs(scene, make_user, make_org):
    # R-V1: the funder runs the expert review; an applicant's clerk may not
    call, _staff, orgs, _apps, _experts = scene
    clerk = make_user("clerk_asg", org=orgs[0], roles=(Role.APPLICANT_CLERK,))
    with pytest.raises(NotAllowed, match="只有主办方业务人员可以进行评审分配"):
        assignment.start_run(actor=clerk, call=call)
    assert not AssignmentRun.objects.exists()


def test_a_second_run_while_one_is_queued_returns_the_same_job(scene, db_queue):
    call, staff, _orgs, _apps, _experts = scene
    job = assignment.start_run(actor=staff, call=call)
    again = assignment.start_run(actor=staff, call=call)
    assert again.pk == job.pk and AssignmentRun.objects.count() == 1


# --- adjustments by hand ----------------------------------------------------------------------------------


def test_conflicted_pair_refused_on_manual_add_with_its_cause(scene):
    _call, staff, _orgs, apps, experts = scene
    with pytest.raises(NotAllowed) as e:
        assignment.add(actor=staff, application=apps[0], expert=experts[0])
    assert "须回避" in e.value.reason and "专家所在单位与申报单位相同" in e.value.reason
    assert not Assignment.objects.exists()


def test_add_remove_swap_audited_and_double_submit_harmless(scene):
    _call, staff, _orgs, apps, experts = scene
    row = assignment.add(actor=staff, application=apps[1], expert=experts[1], reason="补充")
    assert row.source == Assignment.Source.MANUAL and row.affinity > 0
    assert assignment.add(actor=staff, application=apps[1], expert=experts[1]).pk == row.pk
    assert Assignment.objects.count() == 1

    with pytest.raises(NotAllowed, match="请填写理由"):
        assignment.remove(actor=staff, assignment=row, reason="  ")
    # a swap to a conflicted expert changes nothing
    other = assignment.add(actor=staff, application=apps[0], expert=experts[2])
    with pytest.raises(NotAllowed, match="须回避"):
        assignment.swap(actor=staff, assignment=other, expert=experts[0], reason="调整")
    other.refresh_from_db()
    assert other.removed_at is None and not Assignment.objects.filter(expert=experts[0]).exists()

    new = assignment.swap(actor=staff, assignment=other, expert=experts[4], reason="专业更对口")
    other.refresh_from_db()
    assert other.removed_at is not None and other.removed_reason == "专业更对口"
    assert new.expert_id == experts[4].pk and new.removed_at is None
    assert assignment.swap(actor=staff, assignment=other, expert=experts[4], reason="专业更对口").pk == new.pk

    removed = assignment.remove(actor=staff, assignment=row, reason="专家回避")
    assert removed.removed_at is not None and Assignment.objects.filter(pk=row.pk).exists()  # kept
    actions = list(AuditEvent.objects.filter(action__startswith="assignment.").values_list("action", flat=True))
    assert actions.count("assignment.add") == 2 and "assignment.swap" in actions and "assignment.remove" in actions


def test_manual_add_respects_load_and_k(scene):
    _call, staff, _orgs, apps, experts = scene  # k = 3, max load 3
    for app in apps[1:4]:
        assignment.add(actor=staff, application=app, expert=experts[6])
    with pytest.raises(NotAllowed, match="达到每位专家的评审上限 3 份"):
        assignment.add(actor=staff, application=apps[4], expert=experts[6])
    for e in experts[1:3]:
        assignment.add(actor=staff, application=apps[1], expert=e)
    with pytest.raises(NotAllowed, match="已有 3 位评审专家"):
        assignment.add(actor=staff, application=apps[1], expert=experts[3])


def test_removing_a_scored_assignment_is_refused(scene):
    _call, staff, _orgs, apps, experts = scene
    row = assignment.add(actor=staff, application=apps[1], expert=experts[1])
    ScoreSheet.objects.create(assignment=row, state=ScoreSheet.State.SUBMITTED, submitted_at=timezone.now())
    with pytest.raises(NotAllowed, match="已提交评分表"):
        assignment.remove(actor=staff, assignment=row, reason="不需要了")


# --- pages and API ----------------------------------------------------------------------------------------


def test_pages_run_show_and_refuse_a_conflicted_add(scene, client, make_user, django_capture_on_commit_callbacks):
    call, staff, orgs, apps, experts = scene
    client.force_login(staff)
    desk = client.get(reverse("applications:received") + f"?call={call.code}").content.decode()
    assert reverse("review:assignment", args=[call.code]) in desk  # the desk links to the call's assignment
    page = client.get(reverse("review:assignment", args=[call.code]))
    assert page.status_code == 200 and "自动分配（全部类型）" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("review:assignment_run", args=[call.code]), {"type": ""})
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == job.get_absolute_url()
    html = client.get(reverse("review:assignment", args=[call.code])).content.decode()
    run = AssignmentRun.objects.get()
    assert "总匹配度" in html and f"{run.objective:.4f}" in html
    assert run.gap <= 1e-9 and "最优解" in html  # 6-decimal affinities: the flow optimum is exact
    for e in experts:  # each expert's load, as saved
        n = Assignment.objects.filter(expert=e, removed_at__isnull=True).count()
        assert f'<span class="chip" data-expert="{e.pk}">{e.name} {n}</span>' in html
    detail = client.get(reverse("review:assignment_application", args=[apps[0].pk])).content.decode()
    assert "专家所在单位与申报单位相同" in detail  # the cause shown beside the expert
    r = client.post(reverse("review:assignment_add", args=[apps[0].pk]), {"expert": experts[0].pk}, follow=True)
    assert "须回避" in r.content.decode()
    assert not Assignment.objects.filter(application=apps[0], expert=experts[0]).exists()

    clerk = make_user("clerk_pages", org=orgs[0], roles=(Role.APPLICANT_CLERK,))
    client.force_login(clerk)
    assert client.get(reverse("review:assignment", args=[call.code])).status_code == 403


def test_api_run_overview_and_refused_add(scene, client, django_capture_on_commit_callbacks):
    call, staff, _orgs, apps, experts = scene
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/api/v1/review/assignment/calls/{call.code}/run", {}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert Job.objects.get(pk=r.json()["job"]).state == Job.State.DONE
    data = client.get(f"/api/v1/review/assignment/calls/{call.code}").json()
    assert data["latest_run"]["state"] == "done" and data["experts_per_application"] == 3
    assert all(len(a["experts"]) == 3 for a in data["applications"])
    total = sum(e["affinity"] for a in data["applications"] for e in a["experts"])
    assert data["latest_run"]["objective"] == pytest.approx(total)
    r = client.post("/api/v1/review/assignment/assignments",
                    {"application": apps[0].pk, "expert": experts[0].pk}, content_type="application/json")
    assert r.status_code == 403 and "须回避" in r.json()["detail"]
    some = data["applications"][1]["experts"][0]["id"]
    r = client.post(f"/api/v1/review/assignment/assignments/{some}/remove", {"reason": "调整"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["removed_at"]


def test_guangxi_call_with_the_default_load(load_call, make_org, make_user, django_capture_on_commit_callbacks):
    """guangxi 2026 leaves max_load open: the even spread ⌈P·k/R⌉ is used."""
    call = load_call("guangxi2026")
    ptype = call.types.order_by("order").first()
    staff = make_user("gx_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    orgs = [make_org(f"广西测试学会{i}", "city_society", parent=call.issuer) for i in range(5)]
    for i in range(5):
        submitted(call, orgs[i], *SUBJECTS[i], n=i + 1, type_code=ptype.code)
    for name, fields, kws, region in EXPERTS:
        Expert.objects.create(funder=call.issuer, name=name, organisation_name="某大学", fields=fields,
                              keywords=kws, region=region)
    k = call.document.review.experts_per_application
    cfg = assignment.settings_for(call)
    assert cfg.max_load == int(np.ceil(5 * k / 7))
    _job, run = run_now(call, staff, django_capture_on_commit_callbacks)
    assert run.state == AssignmentRun.State.DONE, run.message
    assert len(live_pairs(call)) == 5 * k


def test_openapi_lists_the_assignment_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in ("/api/v1/review/assignment/calls/{code}/run", "/api/v1/review/assignment/calls/{code}",
              "/api/v1/review/assignment/calls/{code}/runs", "/api/v1/review/assignment/assignments",
              "/api/v1/review/assignment/assignments/{pk}/remove", "/api/v1/review/assignment/assignments/{pk}/swap"):
        assert p in paths, p


def test_random_pinned_conflicts_never_assigned_and_the_optimum_kept(scene, django_capture_on_commit_callbacks):
    """Random conflicts pinned by staff (several draws): every run leaves them all out, gives each application
    exactly k experts within the loads, and reaches the CP-SAT optimum of the same affinities."""
    from shenbao.review import conflicts

    call, staff, _orgs, apps, experts = scene
    rng = np.random.default_rng(2026)
    feasible = 0
    for _draw in range(3):
        pins = []
        for app in apps:
            for e in experts:
                if rng.random() < 0.2:
                    pins.append(conflicts.pin(actor=staff, expert=e, application=app, reason="随机回避"))
        _job, run = run_now(call, staff, django_capture_on_commit_callbacks)
        conflicted = set(conflicts_between(apps, experts))
        if run.state == AssignmentRun.State.INFEASIBLE:
            assert run.message and run.problem_applications  # said why, with the applications
        else:
            feasible += 1
            pairs = live_pairs(call)
            assert not pairs & conflicted
            counts = np.bincount([a for a, _ in pairs], minlength=max(a.pk for a in apps) + 1)
            assert all(counts[a.pk] == 3 for a in apps)
            assert max(np.bincount([e for _, e in pairs])) <= 3
            assert run.objective == pytest.approx(cp_sat_optimum(apps, experts, 3, 3, conflicted), abs=1e-6)
        for p in pins:
            conflicts.revoke(actor=staff, override=p)
        Assignment.objects.filter(application__call=call, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_reason=assignment.REPLACED_REASON)
    assert feasible >= 1


def test_a_run_takes_a_fixed_number_of_queries(scene, make_org):
    """Twice the applications, the same number of queries (the conflicts and texts are read in bulk)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call, staff, _orgs, _apps, _experts = scene

    def count() -> int:
        run = AssignmentRun.objects.create(call=call, started_by=staff)
        Assignment.objects.filter(application__call=call).update(removed_at=timezone.now(),
                                                                 removed_reason=assignment.REPLACED_REASON)
        with CaptureQueriesContext(connection) as q:
            assignment.execute(run)
        assert AssignmentRun.objects.get(pk=run.pk).state == AssignmentRun.State.DONE
        return len(q.captured_queries)

    small = count()
    more = [make_org(f"扩充学会{i}", "city_society", parent=call.issuer, region="柳州市") for i in range(6)]
    for i, org in enumerate(more):
        submitted(call, org, *SUBJECTS[i], n=20 + i)
    Expert.objects.bulk_create([Expert(funder=call.issuer, name=f"补充专家{j}", organisation_name="某大学",
                                       keywords=["科普"]) for j in range(6)])
    assert count() == small


def test_adjustments_wait_for_a_running_assignment(scene, db_queue):
    call, staff, _orgs, apps, experts = scene
    row = assignment.add(actor=staff, application=apps[1], expert=experts[1])
    assignment.start_run(actor=staff, call=call)  # queued, not run (database queue, no worker)
    with pytest.raises(NotAllowed, match="自动分配正在进行"):
        assignment.add(actor=staff, application=apps[2], expert=experts[2])
    with pytest.raises(NotAllowed, match="自动分配正在进行"):
        assignment.remove(actor=staff, assignment=row, reason="调整")
    assert Assignment.objects.filter(removed_at__isnull=True).count() == 1
