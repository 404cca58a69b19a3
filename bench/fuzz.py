"""A longer fuzzing run than the test suite's (tests/test_fuzz.py): the API from its OpenAPI document
(schemathesis) and the pages' forms (hypothesis values), as each role and anonymously, on a throw-away
data dir (SQLite there, or SHENBAO_DATABASE_URL). Prints the requests per role, the statuses seen and
every 500 found; exits 1 when there is one.

    .venv/bin/python bench/fuzz.py [--examples 200] [--data-dir /tmp/sb-fuzz] [--only api|forms] [--roles clerk,home]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import setup_django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200, help="examples per role and fuzzer")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--only", choices=["api", "forms"], default=None)
    parser.add_argument("--roles", default=None, help="comma separated (default: every role and anonymous)")
    args = parser.parse_args()
    setup_django(args.data_dir or tempfile.mkdtemp(prefix="sb-fuzz-"), fast_hashing=True)

    from tests import fuzzing

    world = fuzzing.build_world()
    report = fuzzing.Report()
    print(f"fuzzing with {args.examples} examples per role and fuzzer")
    print(f"{'role':<10} {'api':>6} {'forms':>6} {'seconds':>8}")
    for role in args.roles.split(",") if args.roles else fuzzing.ROLES:
        started = time.monotonic()
        before = report.requests[role]
        if args.only != "forms":
            fuzzing.fuzz_api(role, world, report, examples=args.examples)
        api = report.requests[role] - before
        if args.only != "api":
            fuzzing.fuzz_forms(role, world, report, examples=args.examples)
        forms = report.requests[role] - before - api
        print(f"{role:<10} {api:>6} {forms:>6} {time.monotonic() - started:>8.1f}", flush=True)
    print(f"requests: {sum(report.requests.values())}; statuses: "
          + ", ".join(f"{k}×{v}" for k, v in sorted(report.statuses.items())))
    print(f"500s found: {len(report.errors)}")
    for line in report.errors:
        print("  " + line)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
