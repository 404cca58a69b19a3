"""How long a submission and the printed form of a submitted application take.

    .venv/bin/python bench/bench_submit.py [--runs 20]
    SHENBAO_DATABASE_URL=postgres://… .venv/bin/python bench/bench_submit.py   (a database it may fill)

Sets Django up on a temporary data dir (SQLite unless SHENBAO_DATABASE_URL says otherwise), loads the
catalogue and 柳州 2026, opens it, and prints the median (min / max) of N runs of:

- submit: `services.submit` of a complete draft of 2026-2 (lock, own approval and participants, the form
  validated in full, every eligibility rule, the snapshot frozen and fingerprinted, the audit event);
- a retried submit of the same draft (idempotent: finds the snapshot, creates nothing);
- the PDF and the DOCX of a submitted version (fingerprint footer and QR code on every page);
- reading the QR back from that PDF (pdftoppm + zxing-cpp), as a scan upload does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import setup_django


def line(label: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return f"{label:<44} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f}   max {max(ms):8.1f}   (n={len(ms)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bench-submit-") as tmp:
        setup_django(tmp, fast_hashing=True)
        from django.conf import settings
        from django.utils import timezone

        from shenbao.applications import printing, services
        from shenbao.applications.samples import sample_values
        from shenbao.calls import services as calls
        from shenbao.calls.models import Call
        from shenbao.documents import scans
        from shenbao.orgs.models import Category, Organisation, Role, RoleAssignment, User

        calls_dir = Path(settings.CALLS_DIR)
        calls.load_path(path=calls_dir / "catalogue.yaml")
        calls.load_path(path=calls_dir / "liuzhou-2026-kcfn.yaml", publish=True)
        call = Call.objects.get(code="liuzhou-2026-kcfn")
        Call.objects.filter(pk=call.pk).update(deadline=timezone.now() + dt.timedelta(days=30))
        call = Call.objects.get(pk=call.pk)
        ptype = call.types.get(code="2026-2")
        form = call.document.form_for(ptype.document)

        def fresh_clerk(n: int):
            from stdnum.cn import uscc

            base = f"5145{n:013d}"
            org = Organisation.objects.create(name=f"柳州市基准学会{n}", category=Category.objects.get(code="city_society"),
                                              parent=call.issuer, credit_code=base + uscc.calc_check_digit(base))
            user = User.objects.create_user(username=f"bench{n}", password="Bench#2026x", organisation=org,
                                            must_change_password=False)
            RoleAssignment.objects.create(user=user, role=Role.APPLICANT_CLERK, organisation=org)
            return user

        def draft(user):
            app = services.create_draft(user=user, project_type=ptype)
            values = sample_values(form=form, type_doc=ptype.document, org_name=user.organisation.name,
                                   today=timezone.localdate())
            services.save_draft(user=user, application=app, values=values, expected_version=app.version)
            app.refresh_from_db()
            return app

        stamp = int(time.time() * 10) % 10**9 * 100  # fresh names, also in a database used before
        submit_t, retry_t, snaps = [], [], []
        for i in range(args.runs):
            user = fresh_clerk(stamp + i)  # a unit per run: 柳州 allows two applications per unit (R-E3)
            app = draft(user)
            t0 = time.perf_counter()
            result = services.submit(user=user, application=app, expected_version=app.version)
            submit_t.append(time.perf_counter() - t0)
            assert result.created
            t0 = time.perf_counter()
            again = services.submit(user=user, application=app, expected_version=app.version)
            retry_t.append(time.perf_counter() - t0)
            assert not again.created
            snaps.append(result.snapshot)

        snap = snaps[0]
        pdf_t, docx_t, qr_t = [], [], []
        pdf = b""
        for _ in range(args.runs):
            t0 = time.perf_counter()
            pdf = printing.pdf(snap)
            pdf_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            printing.docx(snap)
            docx_t.append(time.perf_counter() - t0)
        path = Path(tmp) / "print.pdf"
        path.write_bytes(pdf)
        expected = scans.qr_text(snap.application_id, snap.number, snap.fingerprint)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            texts = scans.read_qr(path, "pdf", want=lambda t: t == expected)
            qr_t.append(time.perf_counter() - t0)
            assert expected in texts

        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"Shenbao submission benchmark · {db} · 柳州 2026-2 (附表2) · {args.runs} runs")
        print(line("submit (new snapshot)", submit_t))
        print(line("submit again (idempotent, no new snapshot)", retry_t))
        print(line("PDF of the submitted version", pdf_t))
        print(line("DOCX of the submitted version", docx_t))
        print(line("read the QR back from the PDF (scan check)", qr_t))
        print(f"PDF size {len(pdf) / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
