"""A `FormLayout` as DOCX (python-docx): the same blocks as the PDF, A4 portrait, 宋体 for East Asian text.

Sizes as in the PDF: title 16pt (三号), header lines and section titles 12pt (小四), body 10.5pt (五号),
page furniture 9pt. Every page's footer carries "第 N 页 共 M 页" (Word fields), and, when given, the
footer line and the QR code.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from shenbao.documents import layout as L

EAST_ASIA_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_PT, HEAD_PT, BODY_PT, SMALL_PT = 16, 12, 10.5, 9
LINE_PT = 16
WIDTH_MM = 170.0
GRID = [0.25, 0.15, 0.225, 0.15, 0.225]
GREY = RGBColor(0x59, 0x59, 0x59)
CENTER, LEFT, RIGHT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT


def _fonts(rpr_owner) -> None:
    """Set ascii/hAnsi to the Latin font and eastAsia to 宋体 on a style or run (w:rFonts)."""
    rpr = rpr_owner.element.get_or_add_rPr() if hasattr(rpr_owner, "element") else rpr_owner
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr, name in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:eastAsia", EAST_ASIA_FONT),
                       ("w:cs", LATIN_FONT)):
        fonts.set(qn(attr), name)


def _run(par, text: str, *, size: float = BODY_PT, bold: bool = False, grey: bool = False,
         underline: bool = False):
    run = par.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold or None
    run.font.underline = underline or None
    if grey:
        run.font.color.rgb = GREY
    _fonts(run._element.get_or_add_rPr())
    return run


def _para(container, text: str = "", *, size: float = BODY_PT, bold: bool = False, align=LEFT,
          grey: bool = False, before: float = 0, after: float = 0, first: bool = False):
    """A paragraph in a document or cell; `first` reuses the cell's empty first paragraph."""
    par = container.paragraphs[0] if first and container.paragraphs and not container.paragraphs[0].text \
        else container.add_paragraph()
    par.alignment = align
    fmt = par.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing = Pt(max(LINE_PT, size * 1.5))
    if text:
        lines = text.split("\n")
        for i, line in enumerate(lines):
            run = _run(par, line, size=size, bold=bold, grey=grey)
            if i < len(lines) - 1:
                run.add_break()
    return par


def _borders(table, size: int = 4) -> None:
    """Single black borders on every edge of a table (not relying on a named style)."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _cell_bottom_border(cell) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    el = OxmlElement("w:bottom")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), "6")
    el.set(qn("w:color"), "000000")
    borders.append(el)
    tc_pr.append(borders)


def _new_table(doc, widths_mm: list[float], rows: int = 0):
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _borders(table)
    table._widths = widths_mm  # used by _add_row
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(Mm(w).twips)))
    return table


def _add_row(table, *, min_pt: float | None = None):
    row = table.add_row()
    for cell, w in zip(row.cells, table._widths, strict=True):
        cell.width = Mm(w)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if min_pt:
        row.height = Pt(min_pt)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    return row


def _cant_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))


class _Writer:
    def __init__(self, doc):
        self.doc = doc
        self.grid = None  # the current 5-column table

    def _grid(self):
        if self.grid is None:
            self.grid = _new_table(self.doc, [WIDTH_MM * g for g in GRID])
        return self.grid

    def _end_grid(self):
        if self.grid is not None:
            # tables must be separated by a paragraph in Word; keep it tiny
            _para(self.doc, "", size=1).paragraph_format.line_spacing = Pt(1)
            self.grid = None

    def _label_value_row(self, label: str, *, min_pt: float | None = None, keep: bool = True):
        row = _add_row(self._grid(), min_pt=min_pt)
        if keep:
            _cant_split(row)
        _para(row.cells[0], label, align=CENTER, first=True)
        value = row.cells[1].merge(row.cells[4])
        return row, value

    def section(self, b: L.Section):
        row = _add_row(self._grid())
        cell = row.cells[0].merge(row.cells[4])
        _para(cell, b.title, size=HEAD_PT, bold=True, first=True)

    def line(self, b: L.Line):
        lines = b.lines if not b.value else 1
        min_pt = (lines * LINE_PT + 8) if lines > 1 else None
        if b.bare:
            row = _add_row(self._grid(), min_pt=min_pt)
            if len(b.value) <= 300:
                _cant_split(row)
            cell = row.cells[0].merge(row.cells[4])
        else:
            _, cell = self._label_value_row(b.label, min_pt=min_pt, keep=len(b.value) <= 300)
        if lines > 1:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
        first = True
        if b.help:
            _para(cell, b.help, grey=True, first=first)
            first = False
        if b.value or first:
            _para(cell, b.value, first=first)

    def person(self, b: L.Person):
        subs = b.sub_rows()
        rows = []
        for sub in subs:
            row = _add_row(self._grid())
            _cant_split(row)
            rows.append(row)
            cells = row.cells
            if len(sub) == 1 and sub[0].options:
                cell = cells[1].merge(cells[4])
                _para(cell, "　".join(f"{L.TICKED if on else L.UNTICKED} {o}" for o, on in sub[0].options),
                      first=True)
            elif len(sub) == 1:
                _para(cells[1], sub[0].label, align=CENTER, first=True)
                _para(cells[2].merge(cells[4]), sub[0].value, first=True)
            else:
                a, c = sub
                _para(cells[1], a.label, align=CENTER, first=True)
                _para(cells[2], a.value, first=True)
                _para(cells[3], c.label, align=CENTER, first=True)
                _para(cells[4], c.value, first=True)
        label = rows[0].cells[0].merge(rows[-1].cells[0]) if len(rows) > 1 else rows[0].cells[0]
        _para(label, b.label, align=CENTER, first=True)

    def choice(self, b: L.Choice):
        _, cell = self._label_value_row(b.label)
        _para(cell, b.text(), first=True)
        if b.help:
            _para(cell, b.help, grey=True)

    def table(self, b: L.Table):
        self._end_grid()
        total = sum(b.widths)
        t = _new_table(self.doc, [WIDTH_MM * w / total for w in b.widths])
        if not b.bare or b.help:
            head = _add_row(t)
            _repeat_header(head)
            cell = head.cells[0].merge(head.cells[-1])
            if not b.bare:
                _para(cell, b.label, first=True)
            if b.help:
                _para(cell, b.help, grey=True, first=b.bare)
        hdr = _add_row(t)
        _repeat_header(hdr)
        for c, h in zip(hdr.cells, b.headers, strict=True):
            _para(c, h, align=CENTER, first=True)
        for r in [*b.rows, *([b.total] if b.total else [])]:
            row = _add_row(t, min_pt=LINE_PT + 8)
            _cant_split(row)
            is_total = r is b.total
            for i, (c, v) in enumerate(zip(row.cells, r, strict=True)):
                align = RIGHT if b.numeric[i] and not (is_total and v == b.total[0]) else LEFT
                if is_total and v and not b.numeric[i]:
                    align = CENTER
                _para(c, v, align=align, first=True)
        _para(self.doc, "", size=1).paragraph_format.line_spacing = Pt(1)

    def opinion(self, b: L.Opinion):
        _, cell = self._label_value_row(b.label)
        first = True
        for text in (b.text, b.value):
            if text:
                _para(cell, text, first=first)
                first = False
        for _ in range(b.lines if not b.value else 1):
            _para(cell, "", first=first)
            first = False
        for signer, right in b.signatures():
            if signer:
                _para(cell, signer)
            for t in right:
                _para(cell, t + "　　", align=RIGHT)

    def note(self, b: L.Note):
        row = _add_row(self._grid())
        cell = row.cells[0].merge(row.cells[4])
        _para(cell, f"{b.label}：{b.text}" if b.text else b.label, first=True)

    def block(self, b: L.Block):
        {
            L.Section: self.section, L.Line: self.line, L.Person: self.person, L.Choice: self.choice,
            L.Table: self.table, L.Opinion: self.opinion, L.Note: self.note,
        }[type(b)](b)


def _field(par, instr: str, placeholder: str = "1") -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    r = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), str(int(SMALL_PT * 2)))
    rpr.append(sz)
    _fonts(rpr)
    r.append(rpr)
    t = OxmlElement("w:t")
    t.text = placeholder
    r.append(t)
    fld.append(r)
    par._p.append(fld)


def _footer(section, footer: str | None, qr_text: str | None) -> None:
    ft = section.footer
    ft.is_linked_to_previous = False
    par = ft.paragraphs[0]
    par.alignment = CENTER
    _run(par, "第 ", size=SMALL_PT)
    _field(par, "PAGE")
    _run(par, " 页 共 ", size=SMALL_PT)
    _field(par, "NUMPAGES")
    _run(par, " 页", size=SMALL_PT)
    if not footer and not qr_text:
        return
    t = ft.add_table(rows=1, cols=2, width=Mm(WIDTH_MM))
    _no_borders(t)
    left, right = t.rows[0].cells
    left.width, right.width = Mm(WIDTH_MM - 26), Mm(26)
    left.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
    if footer:
        _para(left, footer, size=SMALL_PT, first=True)
    if qr_text:
        import segno

        png = io.BytesIO()
        segno.make(qr_text, error="m", micro=False).save(png, kind="png", scale=8, border=2)
        png.seek(0)
        p = _para(right, "", align=RIGHT, first=True)
        p.add_run().add_picture(png, width=Mm(22))


def _cover_fields(doc, cover: L.Cover, *, centred: bool) -> None:
    """label：value lines, the value underlined."""
    if not cover.fields:
        return
    labels = [f.label if f.label.endswith("：") else f"{f.label}：" for f in cover.fields]
    label_mm = max(len(x) for x in labels) * HEAD_PT * 0.3528 + 4
    value_mm = (125 if centred else WIDTH_MM * 0.6) - label_mm
    t = doc.add_table(rows=0, cols=2)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER if centred else WD_TABLE_ALIGNMENT.LEFT
    t.autofit = False
    _no_borders(t)
    for label, f in zip(labels, cover.fields, strict=True):
        row = t.add_row()
        row.height = Pt(30 if centred else 22)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        a, b = row.cells
        a.width, b.width = Mm(label_mm), Mm(value_mm)
        a.vertical_alignment = b.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        _para(a, label, size=HEAD_PT, first=True)
        _para(b, f.value, size=HEAD_PT, first=True)
        _cell_bottom_border(b)
    _para(doc, "", size=1).paragraph_format.line_spacing = Pt(1)


def _cover(doc, lay: L.FormLayout) -> None:
    if lay.label:
        _para(doc, lay.label, size=HEAD_PT)
    _para(doc, "", size=HEAD_PT, before=120)
    if lay.cover.programme:
        _para(doc, lay.cover.programme, size=HEAD_PT, align=CENTER, after=6)
    _para(doc, lay.title, size=TITLE_PT, bold=True, align=CENTER)
    if lay.code_line:
        _para(doc, lay.code_line, size=HEAD_PT, align=CENTER)
    _para(doc, "", size=HEAD_PT, before=90)
    _cover_fields(doc, lay.cover, centred=True)
    if lay.cover.maker:
        _para(doc, "", size=HEAD_PT, before=120)
        _para(doc, lay.cover.maker, size=HEAD_PT, align=CENTER)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def render_docx(lay: L.FormLayout, *, footer: str | None = None, qr_text: str | None = None) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr())
    props = doc.core_properties
    props.title, props.author, props.subject = lay.title, lay.author, lay.subject
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(18), Mm(25)
    section.footer_distance = Mm(6)
    _footer(section, footer, qr_text)

    if lay.cover and lay.cover.page:
        _cover(doc, lay)
    else:
        if lay.label:
            _para(doc, lay.label, size=HEAD_PT, first=True)
        _para(doc, lay.title, size=TITLE_PT, bold=True, align=CENTER, before=6, after=4)
        if lay.code_line:
            _para(doc, lay.code_line, size=HEAD_PT, align=CENTER)
        if lay.cover:
            _cover_fields(doc, lay.cover, centred=False)
    if lay.fill_date:
        _para(doc, lay.fill_date, size=HEAD_PT, align=RIGHT, after=4)
    w = _Writer(doc)
    for b in lay.blocks:
        w.block(b)
    w._end_grid()
    if lay.note:
        _para(doc, lay.note, before=6)
    if lay.maker:
        _para(doc, lay.maker, align=RIGHT, before=12)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
