"""Application forms (附表 / 申报书) printed as PDF and DOCX from every call file in calls/.

The expected strings are written here from the values the test puts in (a money value of 12000 yuan is
"1.2万元" in a 万元 field), not taken from the renderer.
"""

from __future__ import annotations

import io
import itertools
import re
import subprocess
from pathlib import Path

import pypdf
import pytest
from django.conf import settings
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from shenbao.calls import schema, services
from shenbao.documents import render

pytestmark = pytest.mark.django_db

CALLS = Path(settings.CALLS_DIR)
CALL_PATHS = sorted(p for p in CALLS.glob("*.yaml") if not p.name.startswith("catalogue"))
A4_PT = (595.2756, 841.8898)
ALLOWED_PT = {16.0, 12.0, 10.5, 9.0}  # title, header lines and section titles, body, page furniture
WS = re.compile(r"[\s\u00a0\u3000]+")


def flat(text: str) -> str:
    """Text without any white space: CJK wraps anywhere, so a label may be cut over lines."""
    return WS.sub("", text)


def pdf_pages(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages]


FURNITURE = re.compile(r"第\d+页共\d+页")


def pdf_body(data: bytes) -> str:
    """The flat text of all pages without the page numbers, so that a text run over a page reads on."""
    return "".join(FURNITURE.sub("", flat(t)) for t in pdf_pages(data))


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "".join(t.text or "" for t in doc.element.body.iter(qn("w:t")))


def form_labels(form: schema.FormTemplate) -> list[str]:
    """Every label a form prints: fields, follow-up fields, table columns."""
    out = []

    def add(f):
        out.append(f.label)
        out.extend(c.label for c in f.columns)
        for o in f.options:
            out.append(o.label)
            if o.follow_up:
                add(o.follow_up)

    for f in form.printed_fields():  # a section marked `print: false` is asked on the page only
        add(f)
    return out


def forms_of(call) -> list[tuple]:
    """(type row, form template) for every type of the call that has a form."""
    out = []
    for t in call.types.filter(retired=False):
        form = call.document.form_for(t.document)
        if form is not None:
            out.append((t, form))
    return out


@pytest.fixture(params=[p.name for p in CALL_PATHS], ids=[p.stem for p in CALL_PATHS])
def call(request, load_call):
    return load_call(request.param)


# --- blank forms ----------------------------------------------------------------------------------------


def test_every_call_file_is_covered():
    # the parametrised tests below run over whatever is in calls/; the five notices are there
    assert len(CALL_PATHS) >= 1
    assert any(p.name == "liuzhou-2026-kcfn.yaml" for p in CALL_PATHS)


def test_blank_pdf_of_every_form(call):
    # R-F1 R-F2 R-F3: each type's own form, with every block of its template, opinions included
    # R-F4: A4, one embedded TrueType font, a fixed set of sizes
    pairs = forms_of(call)
    assert pairs, f"{call.code} has no form"
    for ptype, form in pairs:
        data = render.blank_form_pdf(call=call, project_type=ptype)
        reader = pypdf.PdfReader(io.BytesIO(data))
        text = flat("".join(p.extract_text() for p in reader.pages))
        where = f"{call.code} {ptype.code} {form.code}"
        assert flat(form.title) in text, where
        if form.show_type_code:
            assert f"项目编号：{ptype.code}号" in text, where
        if form.label:
            assert flat(form.label) in text, where
        missing = [lb for lb in form_labels(form) if flat(lb) not in text]
        assert not missing, f"{where}: labels not printed: {missing}"
        if form.maker:
            assert flat(form.maker) in text, where
        # R-F3: every opinion block with its signer line(s) and stamp
        for f in form.all_fields():
            if f.kind == "opinion":
                for signer in [f.signer, *f.co_signers]:
                    if signer:
                        assert flat(f"{signer}：") in text, f"{where}: {f.key} signer {signer}"
                if f.stamp_label:
                    assert flat(f.stamp_label) in text, f"{where}: {f.key} stamp"

        base_fonts = set()
        sizes = set()
        for n, page in enumerate(reader.pages, 1):
            assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == \
                (round(A4_PT[0], 2), round(A4_PT[1], 2)), f"{where}: page {n} is not A4"
            for ref in page["/Resources"]["/Font"].values():
                font = ref.get_object()
                assert font["/Subtype"] == "/TrueType", f"{where}: {font['/BaseFont']} is not TrueType"
                descriptor = font["/FontDescriptor"].get_object()
                assert "/FontFile2" in descriptor, f"{where}: {font['/BaseFont']} is not embedded"
                base_fonts.add(str(font["/BaseFont"]).split("+", 1)[1])
            page.extract_text(visitor_text=lambda t, cm, tm, fd, fs, sizes=sizes: sizes.add(float(fs))
                              if t.strip() else None)
            assert flat(f"第 {n} 页 共 {len(reader.pages)} 页") in flat(page.extract_text()), where
        assert len(base_fonts) == 1, f"{where}: fonts {base_fonts}"
        # the font is the configured CJK font, not a stand-in
        assert any(k in next(iter(base_fonts)).lower() for k in ("uming", "wenquanyi", "wqy", "droid")), base_fonts
        assert sizes <= ALLOWED_PT, f"{where}: sizes {sorted(sizes)}"
        assert {16.0, 10.5} <= sizes, where


def test_blank_docx_of_every_form(call):
    # R-F1 R-F4: every label, A4, East Asian font set so that Word shows Chinese in 宋体
    for ptype, form in forms_of(call):
        data = render.blank_form_docx(call=call, project_type=ptype)
        doc = Document(io.BytesIO(data))
        text = flat(docx_text(data))
        where = f"{call.code} {ptype.code} {form.code}"
        assert flat(form.title) in text, where
        missing = [lb for lb in form_labels(form) if flat(lb) not in text]
        assert not missing, f"{where}: labels not in the DOCX: {missing}"
        section = doc.sections[0]
        assert abs(section.page_width - Mm(210)) < Mm(0.5) and abs(section.page_height - Mm(297)) < Mm(0.5)
        fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == "宋体"
        runs = list(doc.element.body.iter(qn("w:r")))
        assert runs
        for r in runs:
            rfonts = r.find(qn("w:rPr") + "/" + qn("w:rFonts"))
            if r.find(qn("w:t")) is not None:
                assert rfonts is not None and rfonts.get(qn("w:eastAsia")) == "宋体", where
        sizes = {int(s.get(qn("w:val"))) / 2 for s in doc.element.body.iter(qn("w:sz"))}
        assert sizes <= ALLOWED_PT, f"{where}: sizes {sorted(sizes)}"
        assert {16.0, 10.5} <= sizes, where
        footer = "".join(t.text or "" for t in section.footer._element.iter(qn("w:t")))
        assert flat(footer) == "第1页共1页"  # PAGE / NUMPAGES fields with their placeholders
        instrs = [f.get(qn("w:instr")) for f in section.footer._element.iter(qn("w:fldSimple"))]
        assert instrs == ["PAGE", "NUMPAGES"]


def test_type_without_form_is_refused(load_call):
    text = (CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8")
    text = text.replace("code: liuzhou-2026-kcfn", "code: test-no-form", 1)
    text, n = re.subn(r"^(\s+)form: F1\s*$", "", text, count=1, flags=re.M)
    assert n == 1
    load_call("liuzhou2026")  # the catalogue and the real call are in place
    call = services.load_call(text=text, filename="no-form.yaml", publish=True).call
    ptype = call.types.get(code="2026-1")
    with pytest.raises(render.NoFormError, match="2026-1"):
        render.blank_form_pdf(call=call, project_type=ptype)
    with pytest.raises(render.NoFormError):
        render.blank_form_docx(call=call, project_type=ptype)


# --- filled forms ----------------------------------------------------------------------------------------

MONEY_YUAN = 12000
MONEY_TEXT = {"yuan": "12000元", "wan": "1.2万元"}
ROW_MONEY = (3500, 7000)
ROW_MONEY_TEXT = {"yuan": ("3500", "7000"), "wan": ("0.35", "0.7")}
ROW_TOTAL_TEXT = {"yuan": "10500", "wan": "1.05"}


def fill(form: schema.FormTemplate, ptype: schema.ProjectType) -> tuple[dict, list[str]]:
    """Values for every field of a form, and the strings the printed form must then show."""
    values: dict = {"_fill_date": "2026-03-20"}
    expect: list[str] = []
    n = itertools.count(1)

    def one(f: schema.FormField):
        i = next(n)
        k = f.kind
        if k in ("text", "phone", "mobile", "email", "url"):
            values[f.key] = f"甲{i}号填写内容"
            expect.append(values[f.key])
        elif k == "long_text":
            values[f.key] = f"第{i}段：组织专家深入企业开展技术服务，形成调研报告。"
            expect.append(values[f.key])
        elif k in ("integer", "number"):
            values[f.key] = 40 + i
            expect.append(str(40 + i))
        elif k == "money":
            values[f.key] = MONEY_YUAN
            expect.append(MONEY_TEXT[f.unit])
        elif k == "date":
            values[f.key] = "2026-06-30"
            expect.append("2026年6月30日")
        elif k == "period":
            values[f.key] = {"start": "2026-04-01", "end": "2026-11-30"}
            expect.append("2026年4月1日至2026年11月30日")
        elif k in ("choice_one", "choice_many"):
            opts = [(t.code, t.name) for t in ptype.tracks] if f.options_from else \
                [(o.value, o.label) for o in f.options]
            if opts:
                picked = opts[-1:] if k == "choice_one" else opts[:2]
                values[f.key] = picked[0][0] if k == "choice_one" else [v for v, _ in picked]
                expect.extend(f"☑{label}" for _, label in picked)
                expect.extend(f"☐{label}" for o in opts if o not in picked for label in [o[1]])
            for o in f.options:
                if o.follow_up:
                    one(o.follow_up)
        elif k == "person":
            person = {}
            for part in f.parts:
                if part == "full_time":
                    person[part] = "full_time"
                    expect.extend(["☑专职", "☐兼职"])
                else:
                    person[part] = f"王{i}{part[:2]}"
                    expect.append(person[part])
            values[f.key] = person
        elif k == "table":
            rows = []
            for r, money in enumerate(ROW_MONEY):
                row = {}
                for ci, c in enumerate(f.columns):
                    if ci == 0 and f.fixed_first_column:
                        continue
                    if c.kind == "money":
                        row[c.key] = money
                        expect.append(ROW_MONEY_TEXT[c.unit][r])
                    elif c.kind in ("integer", "number"):
                        row[c.key] = r + 7
                        expect.append(str(r + 7))
                    elif c.kind == "date":
                        row[c.key] = f"2026-0{r + 5}-01"
                        expect.append(f"2026年{r + 5}月1日")
                    else:
                        row[c.key] = f"第{r + 1}行乙{i}{ci}"
                        expect.append(row[c.key])
                rows.append(row)
            values[f.key] = rows
            expect.extend(f.fixed_first_column)
            for t in f.totals:
                col = next(c for c in f.columns if c.key == t.column)
                expect.append(t.label)
                if col.kind == "money":
                    expect.append(ROW_TOTAL_TEXT[col.unit])
        elif k == "attachment":
            values[f.key] = [f"实施方案{i}.pdf"]
            expect.append(f"实施方案{i}.pdf")
        elif k == "opinion":
            values[f.key] = {"text": f"同意申报{i}，情况属实。", "signer": f"赵{i}", "date": f"2026-03-2{i % 10}"}
            expect.append(values[f.key]["text"])
            if f.signer:
                expect.append(f"{f.signer}：赵{i}")
            if f.date:
                expect.append(f"2026年3月2{i % 10}日")

    for f in form.printed_fields():
        one(f)
    if form.fill_date:
        expect.append("填表时间：2026年3月20日")
    return values, expect


def test_filled_forms_show_every_value(call):
    # R-F1 R-F2: Chinese text, money in the field's unit, person parts, table rows and totals, ticked options
    for ptype, form in forms_of(call):
        values, expect = fill(form, ptype.document)
        where = f"{call.code} {ptype.code} {form.code}"
        pdf_text = pdf_body(render.form_pdf(call=call, project_type=ptype, values=values))
        missing = [e for e in expect if flat(e) not in pdf_text]
        assert not missing, f"{where}: PDF lacks {missing}"
        docx = flat(docx_text(render.form_docx(call=call, project_type=ptype, values=values)))
        missing = [e for e in expect if flat(e) not in docx]
        assert not missing, f"{where}: DOCX lacks {missing}"


def test_filled_form_specific_values(load_call):
    """One form read closely: 柳州 附表1 (学会改革与发展项目申报表)."""
    call = load_call("liuzhou2026")
    ptype = call.types.get(code="2026-1")
    values = {
        "applicant_unit": "柳州市机械工程学会",
        "secretary_general": {"name": "李香慧", "phone": "0772-2629066", "full_time": "part_time"},
        "project_contact": {"name": "陈彤", "phone": "17344255505", "wechat": "chentong_lz"},
        "work_summary": "学会坚持党建引领，" * 60,  # 540 characters: wraps over many lines
    }
    text = pdf_body(render.form_pdf(call=call, project_type=ptype, values=values))
    assert "项目承担单位柳州市机械工程学会" in text
    assert "学会秘书长姓名李香慧联系电话0772-2629066☐专职☑兼职" in text  # R-F2 full-/part-time
    assert "微信号chentong_lz" in text
    assert ("学会坚持党建引领，" * 60) in text
    # a blank value stays blank: no "None" printed
    assert "None" not in text


def test_long_text_runs_over_pages(load_call):
    call = load_call("liuzhou2026")
    ptype = call.types.get(code="2026-1")
    essay = "".join(f"第{i}句：学会组织专家开展科技咨询服务。" for i in range(400))  # ~8000 characters
    pdf = render.form_pdf(call=call, project_type=ptype, values={"plan": essay})
    assert len(pdf_pages(pdf)) >= 4
    assert essay in pdf_body(pdf)


def test_money_in_units(load_call):
    # money is whole yuan in the data; a 万元 field prints 万元 (常德's budget), a table column its unit
    call = load_call("changde2022")
    found = False
    for ptype, form in forms_of(call):
        wan = [f for f in form.all_fields() if f.kind == "money" and f.unit == "wan"]
        if not wan:
            continue
        found = True
        values = {f.key: 15000 for f in wan}
        text = pdf_body(render.form_pdf(call=call, project_type=ptype, values=values))
        assert "1.5万元" in text
        assert "15000" not in text
    assert found


# --- footer, QR, page numbers ------------------------------------------------------------------------------

QR = "SB1|申报 LZ-2026-0001|sha256:4f0c9d3b2a1e8f7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605"


def decode_pages(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    import zxingcpp
    from PIL import Image

    src = tmp_path / "form.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(src), str(tmp_path / "page")], check=True)
    out = []
    for png in sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1])):
        out.append([r.text for r in zxingcpp.read_barcodes(Image.open(png))])
    return out


@pytest.mark.parametrize("name,code", [("liuzhou2026", "2026-1"), ("changde2022", "2-1")])
def test_qr_and_footer_on_every_page(load_call, tmp_path, name, code, artifacts):
    call = load_call(name)
    ptype = call.types.get(code=code)
    form = call.document.form_for(ptype.document)
    values, _ = fill(form, ptype.document)
    for f in form.all_fields():
        if f.kind == "long_text":
            values[f.key] = "学会组织专家深入企业开展技术服务。" * 50  # long enough for several pages
    footer = "申报编号 LZ-2026-0001 · 指纹 sha256:4f0c9d3b2a1e8f7d"
    pdf = render.form_pdf(call=call, project_type=ptype, values=values, footer=footer, qr_text=QR)
    (artifacts / f"form-{name}-{code}-qr.pdf").write_bytes(pdf)
    pages = pdf_pages(pdf)
    assert len(pages) >= 3
    decoded = decode_pages(pdf, tmp_path)
    assert len(decoded) == len(pages)
    for n, (found, text) in enumerate(zip(decoded, pages, strict=True), 1):
        assert found == [QR], f"page {n}: {found}"
        assert flat(footer) in flat(text), f"page {n}"
        assert flat(f"第 {n} 页 共 {len(pages)} 页") in flat(text)
    # without qr_text there is no QR code
    plain = render.form_pdf(call=call, project_type=ptype, values=values)
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    assert decode_pages(plain, plain_dir) == [[] for _ in pdf_pages(plain)]


def test_docx_footer_and_qr(load_call):
    call = load_call("liuzhou2026")
    ptype = call.types.get(code="2026-2")
    data = render.form_docx(call=call, project_type=ptype, footer="申报编号 LZ-2026-0002", qr_text=QR)
    doc = Document(io.BytesIO(data))
    footer = doc.sections[0].footer
    assert "申报编号LZ-2026-0002" in flat("".join(t.text or "" for t in footer._element.iter(qn("w:t"))))
    images = [r for r in footer.part.rels.values() if "image" in r.reltype]
    assert len(images) == 1
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(images[0].target_part.blob)))
    assert [r.text for r in found] == [QR]


def test_pdf_is_deterministic(load_call):
    # the same form and values give the same bytes: a fingerprint of the printed form can be checked again
    call = load_call("liuzhou2026")
    ptype = call.types.get(code="2026-3")
    form = call.document.form_for(ptype.document)
    values, _ = fill(form, ptype.document)
    a = render.form_pdf(call=call, project_type=ptype, values=values, footer="x", qr_text="y")
    b = render.form_pdf(call=call, project_type=ptype, values=values, footer="x", qr_text="y")
    assert a == b
