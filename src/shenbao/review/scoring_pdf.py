"""An expert's score sheets (专家评分表) as one PDF: a page per sheet with the call, the application (its
identity hidden in blind review), each criterion with its range, weight and value, the weighted total, the
comment and a signature line (专家签名、日期). ReportLab with the embedded CJK font (documents/fonts.py)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shenbao.documents.fonts import cjk_font
from shenbao.review import scoring
from shenbao.review.models import Expert, ScoreSheet

WIDTH = A4[0] - 40 * mm


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "body": body,
        "title": ParagraphStyle("title", parent=body, fontSize=16, leading=24, alignment=TA_CENTER, spaceAfter=6),
        "sub": ParagraphStyle("sub", parent=body, alignment=TA_CENTER, textColor=colors.Color(.35, .35, .35)),
    }


def _p(text: str, style) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _grid(rows, widths) -> Table:
    t = Table(rows, colWidths=widths)
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return t


def _sheet_story(sheet: ScoreSheet, st) -> list:
    a = sheet.assignment
    app = a.application
    rubric = scoring.rubric_of(app)
    call = app.call
    story = [_p("专家评分表", st["title"]), _p(call.title, st["sub"]), Spacer(1, 4 * mm)]
    info = [
        [_p("项目类型", st["body"]), _p(f"{app.project_type.code} {app.project_type.name}", st["body"])],
        [_p("申报编号", st["body"]), _p(app.number or "—", st["body"])],
        [_p("项目名称", st["body"]), _p(scoring.shown_title(app), st["body"])],
    ]
    if not scoring.blind(app):
        info.append([_p("申报单位", st["body"]), _p(app.applicant.name, st["body"])])
    info.append([_p("评审专家", st["body"]), _p(f"{a.expert.name}（{a.expert.organisation_name}）", st["body"])])
    story += [_grid(info, [WIDTH * .22, WIDTH * .78]), Spacer(1, 4 * mm)]
    rows = [[_p(h, st["body"]) for h in ("评分项", "分值范围", "权重", "得分")]]
    for c in rubric.criteria:
        v = (sheet.values or {}).get(c.key)
        rows.append([_p(c.name + (f"\n{c.description}" if c.description else ""), st["body"]),
                     _p(scoring.criterion_range(c), st["body"]), _p(scoring._num(c.weight), st["body"]),
                     _p(v if v not in (None, "") else "", st["body"])])
    total = "" if sheet.total is None else scoring._num(sheet.total)
    rows.append([_p(f"总分（加权合计，满分 {scoring._num(scoring.max_total(rubric))}）", st["body"]), "", "",
                 _p(total, st["body"])])
    t = _grid(rows, [WIDTH * .46, WIDTH * .2, WIDTH * .12, WIDTH * .22])
    t.setStyle(TableStyle([("SPAN", (0, len(rows) - 1), (2, len(rows) - 1))]))
    story += [t, Spacer(1, 4 * mm)]
    state = sheet.get_state_display()
    when = timezone.localtime(sheet.submitted_at).strftime("%Y-%m-%d %H:%M") if sheet.submitted_at else ""
    story += [_grid([[_p("评审意见", st["body"])],
                     [_p(sheet.comment or "", st["body"])]], [WIDTH]), Spacer(1, 3 * mm),
              _p(f"状态：{state}" + (f"　提交时间：{when}" if when and sheet.state == "submitted" else ""), st["body"]),
              Spacer(1, 14 * mm),
              _p("专家签名：＿＿＿＿＿＿＿＿＿＿　　　　日期：＿＿＿＿年＿＿月＿＿日", st["body"])]
    return story


def sheets_pdf(expert: Expert, sheets: list[ScoreSheet]) -> bytes:
    """All of `sheets` (an expert's) in one PDF, a page each."""
    font = cjk_font()
    st = _styles(font)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"专家评分表 {expert.name}", author=expert.name,
                            creator="Shenbao 申报", invariant=1, initialFontName=font)
    story: list = []
    for i, sheet in enumerate(sheets):
        if i:
            story.append(PageBreak())
        story += _sheet_story(sheet, st)
    if not story:
        story = [_p("专家评分表", st["title"]), _p("暂无评分表", st["body"])]
    doc.build(story)
    return buf.getvalue()
