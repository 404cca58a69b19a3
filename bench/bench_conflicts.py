"""What computing conflicts of interest costs for a whole call: `review.conflicts.conflicts_between` over
N submitted applications × M experts of the funder's pool (units in a tree under the issuer, joint units,
users with mail addresses, experts at some of the units or only named, overrides), with the home-association
rule on.

    .venv/bin/python bench/bench_conflicts.py [--apps 5000] [--experts 500] [--runs 5]
    SHENBAO_DATABASE_URL=postgres://… .venv/bin/python bench/bench_conflicts.py   (a database it may fill)

Prints the median (min / max) wall time, the SQL queries, the number of conflicted pairs and of pairs in all.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--experts", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bench-conflicts-") as tmp:
        setup_django(tmp, fast_hashing=True)
        from django.conf import settings
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from shenbao.applications.models import Application, ApplicationParticipant
        from shenbao.calls import services as call_services
        from shenbao.orgs.models import Category, Organisation, User
        from shenbao.review.conflicts import conflicts_between
        from shenbao.review.models import ConflictOverride, Expert

        calls = Path(settings.CALLS_DIR)
        call_services.load_path(path=calls / "catalogue.yaml")
        call = call_services.load_path(path=calls / "liuzhou-2026-kcfn.yaml", publish=True).call
        doc = call.document.model_copy(update={"review": call.document.review.model_copy(
            update={"same_home_association_conflict": True})})
        rnd = random.Random(7)
        county = Category.objects.get(code="county_association")
        society = Category.objects.get(code="city_society")
        homes = [call.issuer, *Organisation.objects.bulk_create([
            Organisation(name=f"区县科协{i:02d}", category=county, parent=call.issuer) for i in range(10)])]
        units = Organisation.objects.bulk_create([
            Organisation(name=f"生成单位{i:04d}", category=society, parent=homes[i % len(homes)],
                         email=f"office@unit{i:04d}.org.cn") for i in range(max(50, args.apps // 5))])
        User.objects.bulk_create([User(username=f"u{i}", organisation=units[i % len(units)],
                                       email=f"u{i}@{'qq.com' if i % 2 else f'unit{i % len(units):04d}.org.cn'}")
                                  for i in range(len(units) * 2)])
        ptype = call.types.first()
        apps = Application.objects.bulk_create([
            Application(call=call, project_type=ptype, applicant=units[rnd.randrange(len(units))], title=f"项目{i}",
                        status="submitted", submitted_at=timezone.now()) for i in range(args.apps)])
        ApplicationParticipant.objects.bulk_create([
            ApplicationParticipant(application=a, organisation=units[rnd.randrange(len(units))])
            for a in apps[::10]], ignore_conflicts=True)
        experts = Expert.objects.bulk_create([
            Expert(funder=call.issuer, name=f"专家{i}", organisation=units[rnd.randrange(len(units))] if i % 3 else None,
                   organisation_name=f"某研究院{i}", email=f"e{i}@{'163.com' if i % 4 else 'unit0001.org.cn'}",
                   phone=f"138{i:08d}") for i in range(args.experts)])
        ConflictOverride.objects.bulk_create([
            ConflictOverride(expert=experts[rnd.randrange(len(experts))], application=apps[rnd.randrange(len(apps))],
                             kind=rnd.choice(["declared", "pinned", "lifted"]), reason="bench")
            for _ in range(args.experts)])

        app_qs = Application.objects.filter(call=call)
        times, found, queries = [], {}, 0
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                found = conflicts_between(list(app_qs), list(Expert.objects.filter(funder=call.issuer)),
                                          call_document=doc)
                times.append(time.perf_counter() - t)
            queries = len(ctx.captured_queries)
        ms = [t * 1000 for t in times]
        print(f"database: {connection.vendor}")
        print(f"{args.apps} applications × {args.experts} experts = {args.apps * args.experts} pairs; "
              f"{len(found)} conflicted ({len(found) / (args.apps * args.experts):.2%})")
        print(f"conflicts_between (loading the rows included): median {statistics.median(ms):.0f} ms, "
              f"min {min(ms):.0f}, max {max(ms):.0f} (n={len(ms)}); {queries} SQL queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
