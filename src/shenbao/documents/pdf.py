"""A `FormLayout` as PDF: ReportLab platypus, A4 portrait, one embedded TrueType CJK font.

Sizes: title 16pt; header lines and section titles 12pt; body 10.5pt; page furniture (page numbers, the
footer line) 9pt. Bold is the same font drawn with fill + stroke, so that the form keeps one font.
Every page carries "第 N 页 共 M 页", and, when given, the footer line and a QR code (drawn in the page
template's onPage callback).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from shenbao.documents import layout as L
from shenbao.documents.fonts import cjk_font

PAGE_W, PAGE_H = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 18 * mm
MARGIN_BOTTOM = 28 * mm
WIDTH = PAGE_W - 2 * MARGIN_X
GRID = [0.25, 0.15, 0.225, 0.15, 0.225]
QR_SIZE = 22 * mm  # top at 26 mm: 2 mm of quiet zone below the frame (28 mm)
QR_Y = 4 * mm
PAGE_NO_Y = 15 * mm
FOOTER_TOP = 11 * mm

TITLE_PT, HEAD_PT, BODY_PT, SMALL_PT = 16, 12, 10.5, 9
LEADING = 16
PAD = 4
GREY = colors.Color(0.35, 0.35, 0.35)


class Bold(Paragraph):
    """A paragraph drawn with fill + stroke (text render mode 2): bold without a second font."""

    def draw(self):
        c = self.canv
        c.saveState()
        c.setLineWidth(self.style.fontSize * 0.035)
        c.setStrokeColor(self.style.textColor)
        c._code.append("2 Tr")
        super().draw()
        c._code.append("0 Tr")
        c.restoreState()


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=BODY_PT, leading=LEADING, wordWrap="CJK")
    return {
        "body": base,
        "label": ParagraphStyle("label", parent=base, alignment=TA_CENTER),
        "help": ParagraphStyle("help", parent=base, textColor=GREY),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=TITLE_PT, leading=24, alignment=TA_CENTER,
                                spaceBefore=6, spaceAfter=4),
        "formlabel": ParagraphStyle("formlabel", parent=base, fontSize=HEAD_PT, leading=18),
        "head": ParagraphStyle("head", parent=base, fontSize=HEAD_PT, leading=18, alignment=TA_CENTER),
        "head_right": ParagraphStyle("head_right", parent=base, fontSize=HEAD_PT, leading=18, alignment=TA_RIGHT,
                                     spaceAfter=4),
        "section": ParagraphStyle("section", parent=base, fontSize=HEAD_PT, leading=18),
        "cover_label": ParagraphStyle("cover_label", parent=base, fontSize=HEAD_PT, leading=15,
                                      alignment=TA_LEFT),
        "cover_value": ParagraphStyle("cover_value", parent=base, fontSize=HEAD_PT, leading=15),
        "small": ParagraphStyle("small", parent=base, fontSize=SMALL_PT, leading=11),
    }


def _p(text: str, style: ParagraphStyle, cls=Paragraph) -> Paragraph:
    # ideographic spaces are blanks to write in (　　年　　月): keep their width (paragraphs collapse spaces)
    return cls(escape(text).replace("\n", "<br/>").replace("　", "&nbsp;&nbsp;"), style)


def _grid_style(extra: list | None = None) -> TableStyle:
    cmds = [
        ("FONT", (0, 0), (-1, -1), cjk_font(), BODY_PT),
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), PAD),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD),
    ]
    return TableStyle(cmds + (extra or []))


def _grid_table(rows, extra=None) -> RLTable:
    """The five columns of a person block: label | part | value | part | value."""
    return RLTable(rows, colWidths=[WIDTH * g for g in GRID], style=_grid_style(extra))


LONG = 300  # characters: a value this long may break over pages inside its cell


def _pair(label, cell, extra=None, split: bool = False) -> RLTable:
    """label | value (a quarter and three quarters of the width), or one full-width cell when label is None.
    With `split` the row may break over pages inside its cell (a long filled text); then both cells are
    top-aligned so that the label stands at the start. No spans here: ReportLab splits spans badly."""
    extra = list(extra or [])
    if split:
        extra.append(("VALIGN", (0, 0), (-1, -1), "TOP"))
    if label is None:
        return RLTable([[cell]], colWidths=[WIDTH], style=_grid_style(extra), splitInRow=int(split))
    return RLTable([[label, cell]], colWidths=[WIDTH * GRID[0], WIDTH * (1 - GRID[0])],
                   style=_grid_style(extra), splitInRow=int(split))


class _Renderer:
    def __init__(self, font: str):
        self.font = font
        self.s = _styles(font)

    # blocks ------------------------------------------------------------------------------------------

    def section(self, b: L.Section):
        return _pair(None, _p(b.title, self.s["section"], Bold))

    def line(self, b: L.Line):
        cell = []
        if b.help:
            cell.append(_p(b.help, self.s["help"]))
        if b.value:
            cell.append(_p(b.value, self.s["body"]))
        if b.lines > 1 and not b.value:
            cell.append(Spacer(1, (b.lines - (1 if b.help else 0)) * LEADING))
        label = None if b.bare else _p(b.label, self.s["label"])
        extra = [("VALIGN", (-1, 0), (-1, 0), "TOP")] if b.lines > 1 or b.bare else []
        return _pair(label, cell or "", extra, split=len(b.value) > LONG)

    def person(self, b: L.Person):
        rows, extra = [], []
        for i, sub in enumerate(b.sub_rows()):
            label = _p(b.label, self.s["label"]) if i == 0 else ""
            if len(sub) == 1 and sub[0].options:
                text = "　".join(f"{L.TICKED if on else L.UNTICKED} {o}" for o, on in sub[0].options)
                rows.append([label, _p(text, self.s["body"]), "", "", ""])
                extra.append(("SPAN", (1, i), (-1, i)))
            elif len(sub) == 1:
                rows.append([label, _p(sub[0].label, self.s["label"]), _p(sub[0].value, self.s["body"]), "", ""])
                extra.append(("SPAN", (2, i), (-1, i)))
            else:
                a, c = sub
                rows.append([label, _p(a.label, self.s["label"]), _p(a.value, self.s["body"]),
                             _p(c.label, self.s["label"]), _p(c.value, self.s["body"])])
        if len(rows) > 1:
            extra.append(("SPAN", (0, 0), (0, len(rows) - 1)))
        return _grid_table(rows, extra)

    def choice(self, b: L.Choice):
        cell = [_p(b.text(), self.s["body"])]
        if b.help:
            cell.append(_p(b.help, self.s["help"]))
        return _pair(_p(b.label, self.s["label"]), cell)

    def table(self, b: L.Table) -> list:
        """The label (and help) row, then the table: header row (repeated on each page), rows, total row.
        The label stands in a table of its own so that the table has no span and a long cell may break
        over pages."""
        out = []
        head = [] if b.bare else [_p(b.label, self.s["body"])]
        if b.help:
            head.append(_p(b.help, self.s["help"]))
        if head:
            out.append(_pair(None, head))
        total_w = sum(b.widths)
        widths = [WIDTH * w / total_w for w in b.widths]
        rows = [[_p(h, self.s["center"]) for h in b.headers]]
        for r in b.rows:
            rows.append([_p(v, self.s["right"] if b.numeric[i] else self.s["body"]) if v else ""
                         for i, v in enumerate(r)])
        if b.total:
            rows.append([_p(v, self.s["right"] if b.numeric[i] and v != b.total[0] else self.s["center"])
                         if v else "" for i, v in enumerate(b.total)])
        blank_h = LEADING + 2 * PAD + 2
        heights = [None] + [None if any(r) else blank_h for r in b.rows]
        if b.total:
            heights.append(None if any(b.total) else blank_h)
        split = any(len(v) > LONG for r in b.rows for v in r)
        style = _grid_style([("VALIGN", (0, 1), (-1, -1), "TOP")] if split else [])
        out.append(RLTable(rows, colWidths=widths, rowHeights=heights, style=style, repeatRows=1,
                           splitInRow=int(split)))
        return out

    def opinion(self, b: L.Opinion):
        cell = []
        if b.text:
            cell.append(_p(b.text, self.s["body"]))
        if b.value:
            cell.append(_p(b.value, self.s["body"]))
        cell.append(Spacer(1, (b.lines if not b.value else 1) * LEADING))
        for signer, right in b.signatures():
            if signer:
                cell.append(_p(signer, self.s["body"]))
            cell.extend(_p(t + "　　", self.s["right"]) for t in right)
        return _pair(_p(b.label, self.s["label"]), cell, split=len(b.value) > LONG)

    def note(self, b: L.Note):
        text = f"{b.label}：{b.text}" if b.text else b.label
        return _pair(None, _p(text, self.s["body"]))

    def block(self, b: L.Block) -> list:
        """The flowables of a block (tables, drawn edge to edge)."""
        out = {
            L.Section: self.section, L.Line: self.line, L.Person: self.person, L.Choice: self.choice,
            L.Table: self.table, L.Opinion: self.opinion, L.Note: self.note,
        }[type(b)](b)
        return out if isinstance(out, list) else [out]

    # pages -------------------------------------------------------------------------------------------

    def cover_fields(self, cover: L.Cover, *, centred: bool) -> RLTable:
        """label：value lines, the value underlined."""
        s = self.s
        labels = [f.label if f.label.endswith("：") else f"{f.label}：" for f in cover.fields]
        label_w = max(stringWidth(x, self.font, HEAD_PT) for x in labels) + 14
        value_w = (125 * mm if centred else WIDTH * 0.6) - label_w
        rows = [[_p(x, s["cover_label"]), _p(f.value, s["cover_value"])] for x, f in zip(labels, cover.fields,
                                                                                         strict=True)]
        return RLTable(rows, colWidths=[label_w, value_w], hAlign="CENTER" if centred else "LEFT",
                       style=TableStyle([
                           ("FONT", (0, 0), (-1, -1), self.font, HEAD_PT),
                           ("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
                           ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                           ("LEFTPADDING", (0, 0), (0, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 9 if centred else 3),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                       ]))

    def cover(self, lay: L.FormLayout) -> list:
        s = self.s
        out: list = []
        if lay.label:
            out.append(_p(lay.label, s["formlabel"]))
        out.append(Spacer(1, 45 * mm))
        if lay.cover.programme:
            out.append(_p(lay.cover.programme, s["head"]))
            out.append(Spacer(1, 4 * mm))
        out.append(_p(lay.title, s["title"], Bold))
        if lay.code_line:
            out.append(_p(lay.code_line, s["head"]))
        out.append(Spacer(1, 35 * mm))
        out.append(self.cover_fields(lay.cover, centred=True))
        if lay.cover.maker:
            out.append(Spacer(1, 45 * mm))
            out.append(_p(lay.cover.maker, s["head"]))
        out.append(PageBreak())
        return out

    def story(self, lay: L.FormLayout) -> list:
        s = self.s
        out: list = []
        if lay.cover and lay.cover.page:
            out.extend(self.cover(lay))
            if lay.fill_date:
                out.append(_p(lay.fill_date, s["head_right"]))
        else:
            if lay.label:
                out.append(_p(lay.label, s["formlabel"]))
            out.append(_p(lay.title, s["title"], Bold))
            if lay.code_line:
                out.append(_p(lay.code_line, s["head"]))
            if lay.cover and lay.cover.fields:
                out.append(self.cover_fields(lay.cover, centred=False))
                out.append(Spacer(1, 8))
            elif lay.fill_date:
                out.append(_p(lay.fill_date, s["head_right"]))
            else:
                out.append(Spacer(1, 4))
            if lay.cover and lay.cover.fields and lay.fill_date:
                out.append(_p(lay.fill_date, s["head_right"]))
        pending: list = []  # section titles wait for the block under them
        for b in lay.blocks:
            flows = self.block(b)
            if isinstance(b, L.Section):
                pending.extend(flows)
                continue
            if pending:
                # never a section title alone at the foot of a page: keep room for the titles and the
                # block under them (its first rows when it can break over pages)
                need = sum(f.wrap(WIDTH, PAGE_H)[1] for f in pending)
                h = sum(f.wrap(WIDTH, PAGE_H)[1] for f in flows)
                need += min(h, 110) if _splits(b) else h
                out.append(CondPageBreak(need))
                out.extend(pending)
                pending = []
            out.extend(flows)
        out.extend(pending)
        if lay.note:
            out.append(Spacer(1, 6))
            out.append(_p(lay.note, s["body"]))
        if lay.maker:
            out.append(Spacer(1, 12))
            out.append(_p(lay.maker, s["right"]))
        return out


def _splits(b: L.Block) -> bool:
    """Whether a block's table may break over pages (a long filled text; a repeating table by rows)."""
    return isinstance(b, L.Table) or (isinstance(b, (L.Line, L.Opinion)) and len(b.value) > LONG)


def _numbered_canvas(font: str):
    class NumberedCanvas(Canvas):
        """Defers each page so that "第 N 页 共 M 页" can be drawn once the page count is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, SMALL_PT)
                self.setFillColor(colors.black)
                self.drawCentredString(PAGE_W / 2, PAGE_NO_Y, f"第 {self._pageNumber} 页 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


def _qr_matrix(text: str):
    import segno

    return segno.make(text, error="m", micro=False).matrix


def _draw_qr(c: Canvas, matrix, x: float, y: float, size: float) -> None:
    n = len(matrix)
    m = size / n
    c.saveState()
    c.setFillColor(colors.black)
    for r, row in enumerate(matrix):
        top = y + size - (r + 1) * m
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                c.rect(x + start * m, top, (col - start) * m, m, stroke=0, fill=1)
            else:
                col += 1
    c.restoreState()


def render_pdf(lay: L.FormLayout, *, footer: str | None = None, qr_text: str | None = None) -> bytes:
    font = cjk_font()
    r = _Renderer(font)
    matrix = _qr_matrix(qr_text) if qr_text else None
    footer_style = ParagraphStyle("footer", fontName=font, fontSize=SMALL_PT, leading=11, wordWrap="CJK")

    def furniture(c: Canvas, doc) -> None:
        if matrix is not None:
            _draw_qr(c, matrix, PAGE_W - MARGIN_X - QR_SIZE, QR_Y, QR_SIZE)
        if footer:
            width = WIDTH - (QR_SIZE + 4 * mm if matrix is not None else 0)
            p = _p(footer, footer_style)
            _, h = p.wrap(width, FOOTER_TOP)
            p.drawOn(c, MARGIN_X, FOOTER_TOP - h)

    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=lay.title, author=lay.author, subject=lay.subject,
        creator="Shenbao 申报", invariant=1, initialFontName=font, initialFontSize=BODY_PT,
    )
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="form", frames=[frame], onPage=furniture, pagesize=A4)])
    doc.build(r.story(lay), canvasmaker=_numbered_canvas(font))
    return buf.getvalue()
