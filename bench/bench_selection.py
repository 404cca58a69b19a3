"""Ranking and the CP-SAT proposal of one project type at scale: N scored applications of 广西 2026-1
(at most 20 in all and 30万; two tracks with their own quotas and caps), k sheets each from a pool of
experts, scores normalised per expert.

    .venv/bin/python bench/bench_selection.py [--apps 500] [--experts 80] [--sheets 3]

Prints the time of: the ranking (sheets read, z-scores, aggregates), the solver alone (every lexicographic
level), the whole proposal service (ranking, tiers and rules, solve, one Decision and one audit event per
application), and the selection page's data.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from decimal import Decimal

from benchlib import ROOT, setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=500)
    parser.add_argument("--experts", type=int, default=80)
    parser.add_argument("--sheets", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bench-selection-") as tmp:
        setup_django(tmp, fast_hashing=True)
        from django.utils import timezone

        from shenbao.applications.models import Application, Snapshot
        from shenbao.calls import services as calls
        from shenbao.calls.models import Call
        from shenbao.orgs.models import Category, Organisation, Role, RoleAssignment, User
        from shenbao.review import ranking, selection, selectors
        from shenbao.review.models import Assignment, Expert, ScoreSheet

        calls.load_path(path=ROOT / "calls" / "catalogue.yaml")
        call = calls.load_path(path=ROOT / "calls" / "guangxi-2026-tzzx.yaml", publish=True).call
        spec = dict(call.spec)
        spec["review"] = {**spec["review"], "normalise": True, "experts_per_application": args.sheets}
        Call.objects.filter(pk=call.pk).update(spec=spec, content_hash="bench-normalised")
        call = Call.objects.get(pk=call.pk)
        ptype = call.types.get(code="2026-1")
        tracks = {t.code: t for t in ptype.tracks.all()}
        rng = random.Random(7)
        cat = Category.objects.get(code="city_society")
        orgs = Organisation.objects.bulk_create([Organisation(name=f"基准学会{i:04d}", category=cat, parent=call.issuer,
                                                              status="active") for i in range(args.apps)])
        now = timezone.now()
        apps = Application.objects.bulk_create([
            Application(call=call, project_type=ptype, applicant=orgs[i], status="submitted", number=f"B-{i:05d}",
                        track=tracks["service" if i % 25 == 0 else "lecture"], title=f"基准项目{i}",
                        amount_asked=rng.choice([8000, 10000, 12000, 15000, 40000]), submitted_at=now)
            for i in range(args.apps)])
        snaps = Snapshot.objects.bulk_create([
            Snapshot(application=a, number=1, draft_version=1, fingerprint=f"{a.pk:064x}", submitted_at=now,
                     values={"title": a.title, "values": {"track": a.track.code}}) for a in apps])
        for a, s in zip(apps, snaps, strict=True):
            a.current_snapshot = s
        Application.objects.bulk_update(apps, ["current_snapshot"])
        experts = Expert.objects.bulk_create([Expert(funder=call.issuer, name=f"专家{i}", organisation_name="广西大学")
                                              for i in range(args.experts)])
        bias = {e.pk: rng.uniform(-10, 10) for e in experts}
        assignments = []
        for a in apps:
            for e in rng.sample(experts, args.sheets):
                assignments.append(Assignment(application=a, expert=e))
        assignments = Assignment.objects.bulk_create(assignments)
        quality = {a.pk: rng.uniform(55, 95) for a in apps}
        ScoreSheet.objects.bulk_create([
            ScoreSheet(assignment=x, state="submitted", submitted_at=now,
                       total=Decimal(str(round(min(100, max(0, quality[x.application_id] + bias[x.expert_id])), 1))))
            for x in assignments])
        staff = User.objects.create_user(username="bench_staff", password="x", organisation=call.issuer)
        RoleAssignment.objects.create(user=staff, role=Role.FUNDER_STAFF, organisation=call.issuer)

        from ortools.sat.python import cp_model  # noqa: F401  (imported once per process: not timed)

        t = time.perf_counter()
        rows = ranking.rank(call, ptype)[ptype.code]
        t_rank = time.perf_counter() - t
        ts = selection.type_selection(call, ptype, rows)
        t = time.perf_counter()
        sol, _out = selection.compute(ts)
        t_solve = time.perf_counter() - t
        t = time.perf_counter()
        result = selection.propose(user=staff, call=call, project_type=ptype)
        t_propose = time.perf_counter() - t
        t = time.perf_counter()
        selectors.selection_view(call, ptype)
        t_view = time.perf_counter() - t
        print(f"applications {args.apps}, sheets {args.apps * args.sheets}, experts {args.experts} (normalised)")
        print(f"ranking                       {t_rank * 1000:8.1f} ms")
        print(f"solve + explain (CP-SAT)      {t_solve * 1000:8.1f} ms   optimal={sol.optimal}")
        print(f"propose (service, all writes) {t_propose * 1000:8.1f} ms   selected={result.selected} "
              f"total score={result.total_score} ties={len(result.ties)}")
        print(f"selection page data           {t_view * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
