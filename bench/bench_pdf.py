"""How long printing an application form takes (PDF and DOCX).

    .venv/bin/python bench/bench_pdf.py [--runs 20]

Sets Django up on a temporary SQLite data dir, loads the catalogue and every call in calls/, then prints the
median (and min / max) of N runs of:

- the blank form of 柳州 2026-1 (附表1) as PDF and DOCX;
- a filled form of 40 rows: 柳州's 附表1 with a 40-row table added (序号, 活动名称, 活动内容, 金额（万元）, 备注),
  every field and every row filled with Chinese text, with the fingerprint footer and the QR code on every
  page, as PDF and DOCX;
- every blank form of every call, as PDF (one run each; the total).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import setup_django


def load_calls():
    from django.conf import settings

    from shenbao.calls import services

    calls_dir = Path(settings.CALLS_DIR)
    services.load_path(path=calls_dir / "catalogue.yaml")
    out = []
    for p in sorted(calls_dir.glob("*.yaml")):
        if not p.name.startswith("catalogue"):
            out.append(services.load_path(path=p, publish=True).call)
    return out


def timed(fn, runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def report(name: str, times: list[float], data: bytes, pages: int | None = None) -> None:
    ms = [t * 1000 for t in times]
    extra = f", {pages} pages" if pages is not None else ""
    print(f"{name:<44} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f}   max {max(ms):8.1f}"
          f"   ({len(data) / 1024:.0f} KiB{extra})")


def pdf_pages(data: bytes) -> int:
    import io

    import pypdf

    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def forty_row_form(call_doc, type_doc):
    """柳州 附表1 with a 40-row table section added, and its values (every field filled in Chinese)."""
    from shenbao.calls.schema import FormTemplate

    base = call_doc.form_for(type_doc)
    spec = base.model_dump(mode="json")
    spec["sections"].append({
        "title": "活动安排",
        "fields": [{
            "key": "activities", "label": "项目活动安排", "kind": "table", "rows": 40,
            "columns": [
                {"key": "no", "label": "序号", "kind": "integer"},
                {"key": "name", "label": "活动名称", "kind": "text"},
                {"key": "content", "label": "活动内容", "kind": "long_text"},
                {"key": "amount", "label": "金额", "kind": "money", "unit": "wan"},
                {"key": "note", "label": "备注", "kind": "text"},
            ],
            "totals": [{"column": "amount"}],
        }],
    })
    form = FormTemplate.model_validate(spec)
    values: dict = {"_fill_date": "2026-03-20"}
    for f in form.all_fields():
        if f.kind == "person":
            values[f.key] = {p: ("full_time" if p == "full_time" else f"柳州{p}") for p in f.parts}
        elif f.kind == "long_text":
            values[f.key] = "围绕产业技术需求组织专家深入企业开展技术服务，形成服务总结和调研报告。" * 8
        elif f.kind == "opinion":
            values[f.key] = {"text": "同意申报，所填内容真实。", "signer": "李香慧", "date": "2026-03-25"}
        elif f.kind == "table":
            values[f.key] = [
                {"no": i + 1, "name": f"第{i + 1}场专家入企赋能活动", "amount": 500 + 10 * i,
                 "content": "组织学会专家赴柳州企业开展技术诊断、座谈交流和成果对接，服务企业技术攻关。",
                 "note": "柳州市科协学会部"}
                for i in range(40)
            ]
        else:
            values[f.key] = f"{f.label}：柳州市机械工程学会"
    return form, values


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shenbao-bench-") as data_dir:
        setup_django(data_dir)
        calls = load_calls()
        from django.conf import settings

        from shenbao.documents import render
        from shenbao.documents.fonts import cjk_font
        from shenbao.documents.layout import build_layout
        from shenbao.documents.pdf import render_pdf
        from shenbao.documents.word import render_docx

        font_path = next(p for p in settings.SHENBAO_CJK_FONTS if Path(p).is_file())
        t0 = time.perf_counter()
        cjk_font()
        print(f"font: {font_path} (registered in {(time.perf_counter() - t0) * 1000:.0f} ms, once per process)")
        print(f"calls loaded: {', '.join(c.code for c in calls)}; runs: {args.runs}\n")

        call = next(c for c in calls if c.code == "liuzhou-2026-kcfn")
        ptype = call.types.get(code="2026-1")
        times, data = timed(lambda: render.blank_form_pdf(call=call, project_type=ptype), args.runs)
        report("blank form PDF (柳州 附表1)", times, data, pdf_pages(data))
        times, data = timed(lambda: render.blank_form_docx(call=call, project_type=ptype), args.runs)
        report("blank form DOCX (柳州 附表1)", times, data)

        form, values = forty_row_form(call.document, ptype.document)
        footer = "版本指纹 4f0c9d3b2a1e8f7d… · 申报编号 123 第 1 版"
        qr = "SB1|123|1|4f0c9d3b2a1e8f7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605"

        def layout():
            return build_layout(call=call.document, project_type=ptype.document, form=form, values=values)

        times, _ = timed(layout, args.runs)
        print(f"{'  layout only (40 rows)':<44} median {statistics.median(times) * 1000:8.1f} ms")
        times, data = timed(lambda: render_pdf(layout(), footer=footer, qr_text=qr), args.runs)
        report("filled 40-row form PDF (footer + QR)", times, data, pdf_pages(data))
        times, data = timed(lambda: render_docx(layout(), footer=footer, qr_text=qr), args.runs)
        report("filled 40-row form DOCX (footer + QR)", times, data)

        n, total, pages = 0, 0.0, 0
        for c in calls:
            for t in c.types.filter(retired=False):
                if c.document.form_for(t.document) is None:
                    continue
                t0 = time.perf_counter()
                data = render.blank_form_pdf(call=c, project_type=t)
                total += time.perf_counter() - t0
                pages += pdf_pages(data)
                n += 1
        print(f"\nevery blank form of every call as PDF: {n} forms, {pages} pages, {total * 1000:.0f} ms in all "
              f"({total * 1000 / max(n, 1):.1f} ms a form)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
