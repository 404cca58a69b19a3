"""What the audit log's hash chain costs: one event written with the chain against the same insert without it,
alone and inside a transaction that also changes a row (as services do), and `audit-verify` over the log.

    .venv/bin/python bench/bench_audit.py [--events 500]
    SHENBAO_DATABASE_URL=postgres://… .venv/bin/python bench/bench_audit.py   (a database it may fill)

Prints the median (min / max) per event of:
- chained: `core.audit.record` (locks the chain head, hashes, inserts, moves the head);
- plain: the same row inserted without the chain (what `record` did before: one INSERT);
- the SQL queries each writes;
- `shenbao audit-verify` over all events written (events per second).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from benchlib import setup_django


def line(label: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return f"{label:<52} median {statistics.median(ms):7.2f} ms   min {min(ms):7.2f}   max {max(ms):7.2f}   (n={len(ms)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bench-audit-") as tmp:
        setup_django(tmp, fast_hashing=True)
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from shenbao.core import audit
        from shenbao.core.models import AuditChainHead, AuditEvent
        from shenbao.core.verify import verify

        payload = {"status": "draft", "data": {f"field_{i}": "申报内容" * 20 for i in range(40)}}
        changed = {**payload, "data": {**payload["data"], "field_3": "改过的内容"}}

        def chained():
            audit.record(action="bench.save", before=payload, after=changed, ip="192.0.2.1", user_agent="bench")

        def plain():  # the row as record() wrote it before the chain: no lock, no hash, both sides whole
            AuditEvent.objects.create(at=timezone.now(), action="bench.save", before=payload, after=changed,
                                      ip="192.0.2.1", user_agent="bench")

        variants = (("plain insert (no chain, before+after whole)", plain), ("chained record (diff)", chained))
        results = {label: ([], [], 0) for label, _ in variants}
        for _ in range(args.events):  # interleaved, so that the machine's load falls on both alike
            for label, fn in variants:
                t = time.perf_counter()
                fn()
                results[label][0].append(time.perf_counter() - t)
                t = time.perf_counter()
                with transaction.atomic():
                    AuditChainHead.objects.filter(pk=1).exists()  # a read, then the write, as a service does
                    fn()
                results[label][1].append(time.perf_counter() - t)
        for label, fn in variants:
            with CaptureQueriesContext(connection) as q:
                fn()
            results[label] = (*results[label][:2], len(q.captured_queries))
        print(f"Shenbao audit benchmark · {connection.vendor} · {args.events} events each")
        for label, (alone, in_tx, queries) in results.items():
            print(line(f"{label}, own transaction", alone))
            print(line(f"{label}, in a service's transaction", in_tx))
            print(f"{'':<52} {queries} SQL queries per event")
        # the plain rows are outside the chain: remove them (raw SQL; the application never deletes events)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditevent WHERE seq IS NULL")
        total = AuditEvent.objects.count()
        t = time.perf_counter()
        verdict = verify()
        elapsed = time.perf_counter() - t
        print(f"audit-verify over {total} events: {elapsed:.2f} s ({total / elapsed:,.0f} events/s) → "
              f"{'OK' if verdict.ok else verdict.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
