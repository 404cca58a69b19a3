"""The 公示 list as PDF (ReportLab, the embedded CJK font of documents/fonts.py) and DOCX (python-docx):
title, period, the frozen list (number, type, title, unit, amount) and where objections go."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from shenbao.review.models import PublicNotice

HEAD = ["序号", "申报编号", "项目类型", "项目名称", "申报单位", "拟资助金额（元）"]


def rows(notice: PublicNotice) -> list[list[str]]:
    out = []
    for i, e in enumerate(notice.entries, 1):
        kind = e.get("type", "") + (f"（{e['track']}）" if e.get("track") else "")
        out.append([str(i), e.get("number") or "", kind, e.get("title") or "", e.get("unit") or "",
                    f"{e['amount']:,}" if isinstance(e.get("amount"), int) else ""])
    return out


def _lines(notice: PublicNotice) -> list[str]:
    from shenbao.review.notice import period_text

    lines = [f"公示期：{period_text(notice)}"]
    if notice.text:
        lines.append(notice.text)
    lines.append("对公示名单如有异议，请在公示期内通过平台公示页面实名提出，并留下联系方式。")
    lines.append(f"{notice.call.issuer.name}　{notice.published_at:%Y年%m月%d日}")
    return lines


def notice_pdf(notice: PublicNotice) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from shenbao.documents.fonts import cjk_font

    font = cjk_font()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=24, alignment=TA_CENTER, wordWrap="CJK")
    body = ParagraphStyle("b", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    cell = ParagraphStyle("c", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=notice.title,
                            author=notice.call.issuer.name)
    data = [[Paragraph(escape(h), cell) for h in HEAD]]
    data += [[Paragraph(escape(v), cell) for v in r] for r in rows(notice)]
    widths = [12 * mm, 38 * mm, 45 * mm, 80 * mm, 60 * mm, 32 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story = [Paragraph(escape(notice.title), title), Spacer(1, 4 * mm)]
    story += [Paragraph(escape(line), body) for line in _lines(notice)[:-1]]
    story += [Spacer(1, 4 * mm), table, Spacer(1, 6 * mm), Paragraph(escape(_lines(notice)[-1]), body)]
    doc.build(story)
    return buf.getvalue()


def notice_docx(notice: PublicNotice) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    d = Document()
    section = d.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for m in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, m, Mm(15))
    style = d.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(10.5)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    p = d.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(notice.title)
    run.font.size, run.font.bold = Pt(16), True
    lines = _lines(notice)
    for line in lines[:-1]:
        d.add_paragraph(line)
    table = d.add_table(rows=1, cols=len(HEAD))
    table.style = "Table Grid"
    for c, h in zip(table.rows[0].cells, HEAD, strict=True):
        c.text = h
        c.paragraphs[0].runs[0].font.bold = True
    for r in rows(notice):
        for c, v in zip(table.add_row().cells, r, strict=True):
            c.text = v
    end = d.add_paragraph(lines[-1])
    end.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
